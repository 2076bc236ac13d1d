"""articles/search.py through the search page: ranking, stemming, typos, indexes, escaping, paging."""

import re

import pytest
from django.urls import reverse

from articles import workflow
from tests.factories import ArticleFactory, ReferenceFactory, live_article, member_of

pytestmark = pytest.mark.django_db


# --- Search ---------------------------------------------------------------------------------------------


def result_titles(client, query):
    response = client.get(reverse("articles:search"), {"q": query})
    assert response.status_code == 200
    return [snapshot.title for snapshot, _snippet in response.context["results"]]


def test_search_ranks_title_above_summary_above_body(client):
    live_article(
        title="Other things",
        summary="Nothing here.",
        body="<p>Scars fade slowly [@x].</p>".replace("[@x]", f"[@{ReferenceFactory().citation_key}]"),
    )
    live_article(title="Plain title", summary="About scars and skin.")
    live_article(title="Scars after surgery", summary="Healing skin.")
    assert result_titles(client, "scars") == ["Scars after surgery", "Plain title", "Other things"]


def test_search_stems_english_words(client):
    live_article(title="How wounds heal", summary="Slow healing and what helps.")
    assert result_titles(client, "healing") == ["How wounds heal"]
    assert result_titles(client, "heals") == ["How wounds heal"]


def test_search_tolerates_a_typo_in_a_title(client):
    live_article(title="Exosome therapy for thinning hair: what the studies show")
    live_article(title="Sun protection basics")
    assert result_titles(client, "exosme") == ["Exosome therapy for thinning hair: what the studies show"]
    assert result_titles(client, "thining hair") == ["Exosome therapy for thinning hair: what the studies show"]


def test_search_uses_the_full_text_and_trigram_indexes(client):
    from django.db import connection

    from articles.search import matching
    from tests.test_query_plans import drop_language_indexes

    for number in range(3):
        live_article(title=f"Scar care part {number}")
    plans = []
    # Words articles have; a typo, which only titles can match (search.find_matches tries it when none match).
    for found in [matching("scar care"), matching("scra care", typos=True)]:
        sql, params = found.query.sql_with_params()
        with connection.cursor() as cursor:
            # On three rows, scanning everything (or looking snapshots up one by one from the live articles)
            # is cheapest; with those ways off, only an index on the searched column can serve the query.
            for way in ("seqscan", "indexscan", "nestloop"):
                cursor.execute(f"SET LOCAL enable_{way} = off")
            drop_language_indexes(cursor)
            cursor.execute(f"EXPLAIN {sql}", params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    assert "snapshot_search_vector" in plans[0]
    assert "snapshot_title_trigram" in plans[1]


def test_the_stored_search_vector_is_the_search_expression(client):
    from articles.models import SEARCH_VECTOR, PublishedSnapshot
    from articles.search import StoredSearchVector

    live_article(title="Scar care", summary="Healing skin.", body=None)
    stored, computed = PublishedSnapshot.objects.annotate(
        stored=StoredSearchVector(), computed=SEARCH_VECTOR
    ).values_list("stored", "computed")[0]
    assert "'scar':1A" in stored
    assert stored == computed


def test_typo_tolerance_is_for_words_no_article_has(client):
    live_article(title="Hyperhidrosis: what helps")
    live_article(title="Rare conditions", summary="Chromhidrosis is coloured sweat.")
    assert result_titles(client, "chromhidrosis") == ["Rare conditions"]  # not the title with a similar word
    assert result_titles(client, "hyperhidrosis") == ["Hyperhidrosis: what helps"]
    assert result_titles(client, "hyperhidrossis") == ["Hyperhidrosis: what helps"]


def test_a_word_most_articles_use_ranks_the_newest_matches_and_says_there_are_more(client, monkeypatch):
    from articles import search

    monkeypatch.setattr(search, "MAX_RANKED", 3)
    for number in range(5):
        live_article(title=f"Scar care part {number}")
    page = client.get(reverse("articles:search"), {"q": "scar"}).content.decode()
    assert "More than 3 articles found" in page
    assert result_titles(client, "scar") == [f"Scar care part {number}" for number in (4, 3, 2)]


def test_search_highlights_the_match_and_escapes_the_text(client):
    reference = ReferenceFactory()
    body = f"<p>Ask about the Q&amp;A sheet and a &lt;b&gt;gentle&lt;/b&gt; cleanser [@{reference.citation_key}].</p>"
    live_article(body=body)
    page = client.get(reverse("articles:search"), {"q": "cleanser"}).content.decode()
    snippet = re.search(r'<p class="snippet">(.*?)</p>', page, re.DOTALL).group(1)
    assert "<mark>cleanser</mark>" in snippet
    assert "Q&amp;A" in snippet
    assert "<b>" not in snippet


def test_search_finds_only_live_articles(client):
    live_article(title="Live scars article")
    ArticleFactory(title="Draft scars article")
    unpublished = live_article(title="Withdrawn scars article")
    workflow.unpublish(unpublished, by=member_of("Editors"), reason="Outdated")
    assert result_titles(client, "scars") == ["Live scars article"]


def test_search_paginates_and_keeps_the_query(client):
    for number in range(14):
        live_article(title=f"Scar care part {number}")
    first = client.get(reverse("articles:search"), {"q": "scar"}).content.decode()
    assert "14 articles found" in first
    assert "?q=scar&amp;page=2" in first
    assert client.get(reverse("articles:search"), {"q": "scar", "page": 2}).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "!!! ??? ...",
        "'; DROP TABLE articles_article; --",
        "a & b | !c <-> (d",
        "<script>alert(1)</script>",
        "\x00nul byte",
        "x" * 10_240,
        "exosome " * 300,
        "ü" * 199 + "ß",
    ],
)
def test_absurd_queries_get_a_calm_page(client, query):
    live_article()
    response = client.get(reverse("articles:search"), {"q": query})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    if len(query) > 200:
        assert "Please use fewer words" in page


@pytest.mark.parametrize("articles", [1, 15])
def test_search_page_query_count_is_fixed(client, django_assert_num_queries, articles):
    for number in range(articles):
        live_article(title=f"Scar care part {number}")
    # The matches; the page of them ranked, with their highlighted passages; the footer pages.
    with django_assert_num_queries(3):
        assert client.get(reverse("articles:search"), {"q": "scar"}).status_code == 200
    with django_assert_num_queries(4):  # no word matches: titles with a word like one of them, one query more
        page = client.get(reverse("articles:search"), {"q": "sacr care"})
    assert "Scar care part" in page.content.decode()
