"""The public site beyond the article page: search, feeds, sitemap, structured data, caching, policies, errors."""

import json
import re
import xml.etree.ElementTree as ET
from html import escape

import feedparser
import pytest
from django.urls import reverse

from articles import workflow
from articles.models import Article, Page, Reference
from articles.sanitize import EXTERNAL_LINK_REL
from tests.factories import (
    ArticleFactory,
    DisclaimerFactory,
    ReferenceFactory,
    TopicFactory,
    UserFactory,
    admin_form_data,
    member_of,
    publish_reviewed,
)
from tests.test_sanitize import LEAVE_THE_SITE, links_in

pytestmark = pytest.mark.django_db


def live_article(
    *,
    title="Exosomes and wound healing",
    summary="What studies show.",
    body=None,
    topics=None,
    reference=None,
    **fields,
):
    reference = reference or ReferenceFactory()
    body = body or f"<p>In mice, wounds closed faster [@{reference.citation_key}].</p>"
    article = ArticleFactory(title=title, summary=summary, body=body, topics=topics or [TopicFactory()], **fields)
    publish_reviewed(article)
    article.refresh_from_db()
    return article


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


# --- Topic pages list what was published under the topic -------------------------------------------------


def test_topic_pages_list_the_topics_an_article_was_published_under(client):
    old_topic, new_topic = TopicFactory(name="Old topic"), TopicFactory(name="New topic")
    article = live_article(title="Moving article", topics=[old_topic])
    article.topics.set([new_topic])  # an unpublished change of the working copy
    assert "Moving article" in client.get(old_topic.get_absolute_url()).content.decode()
    assert "Moving article" not in client.get(new_topic.get_absolute_url()).content.decode()


def test_home_shows_featured_newest_and_topics(client):
    featured = live_article(title="The featured one", is_featured=True)
    live_article(title="A newer one")
    page = client.get("/").content.decode()
    assert page.index("The featured one") < page.index("A newer one")
    assert featured.topics.first().name in page


# --- The article page: structured data, Open Graph, dates, prompt -----------------------------------------


def json_ld(page: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL)
    assert match, "no JSON-LD on the page"
    return json.loads(match.group(1))


def test_json_ld_describes_the_page_from_the_same_fields_as_the_visible_text(client, settings):
    reference = ReferenceFactory(doi="10.1038/srep32993", pmid="27615560", title="Adipose stem cell exosomes")
    article = live_article(title="Exosomes & wounds: 1 < 2", reference=reference)
    snapshot = article.live_snapshot
    page = client.get(article.get_absolute_url()).content.decode()
    data = json_ld(page)
    assert data["@type"] == "MedicalWebPage"
    assert data["name"] == snapshot.title == "Exosomes & wounds: 1 < 2"
    assert data["url"] == settings.SITE_URL + article.get_absolute_url()
    assert data["author"]["name"] == snapshot.author["name"]
    assert data["reviewedBy"]["name"] == snapshot.reviewed_by["name"]
    assert data["reviewedBy"]["honorificSuffix"] == snapshot.reviewed_by["credentials"]
    assert data["lastReviewed"] in page  # the visible "Last reviewed" date carries the same ISO date
    assert data["datePublished"] == snapshot.first_published_at.isoformat()
    assert data["dateModified"] == snapshot.published_at.isoformat()
    assert data["audience"] == {"@type": "Patient"}
    assert data["publisher"]["name"] == settings.CLINIC["name"]
    assert [topic["name"] for topic in data["about"]] == [topic["name"] for topic in snapshot.topics]
    (citation,) = data["citation"]
    assert citation["@type"] == "ScholarlyArticle"
    assert citation["identifier"]["value"] == "10.1038/srep32993"
    assert citation["sameAs"] == "https://doi.org/10.1038/srep32993"


def test_json_ld_cannot_be_broken_out_of():
    from articles.structured_data import as_script

    script = str(as_script({"name": "</script><script>alert(1)</script> & <!--"}))
    assert script.count("</script>") == 1
    assert "<!--" not in script
    assert json.loads(script.removeprefix('<script type="application/ld+json">').removesuffix("</script>")) == {
        "name": "</script><script>alert(1)</script> & <!--"
    }


def test_article_page_has_canonical_and_open_graph_from_site_url(client, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "other.example"]
    article = live_article()
    page = client.get(article.get_absolute_url(), HTTP_HOST="other.example").content.decode()
    url = settings.SITE_URL + article.get_absolute_url()
    assert f'<link rel="canonical" href="{url}">' in page
    assert f'<meta property="og:url" content="{url}">' in page
    assert f'<meta property="og:title" content="{article.live_snapshot.title}">' in page
    assert f'<meta name="description" content="{article.live_snapshot.summary}">' in page


def test_article_page_prompts_a_talk_with_a_clinician(client, settings):
    settings.CLINIC = {**settings.CLINIC, "booking_url": "https://book.clinic.example/"}
    page = client.get(live_article().get_absolute_url()).content.decode()
    assert "Talk with a clinician" in page
    assert 'href="https://book.clinic.example/"' in page


# --- Feeds, sitemap, robots --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["articles:feed_rss", "articles:feed_atom"])
def test_feeds_list_live_articles(client, name):
    article = live_article(title="Feed me")
    ArticleFactory(title="Not live")
    feed = feedparser.parse(client.get(reverse(name)).content)
    assert not feed.bozo, feed.bozo_exception
    assert [entry.title for entry in feed.entries] == ["Feed me"]
    assert feed.entries[0].link.endswith(article.get_absolute_url())


def test_topic_feeds_list_only_that_topic(client):
    topic = TopicFactory(slug="hair-loss", name="Hair loss")
    live_article(title="About hair", topics=[topic])
    live_article(title="About skin")
    for name in ("articles:topic_feed_rss", "articles:topic_feed_atom"):
        feed = feedparser.parse(client.get(reverse(name, args=["hair-loss"])).content)
        assert [entry.title for entry in feed.entries] == ["About hair"]
    assert client.get(reverse("articles:topic_feed_rss", args=["no-such-topic"])).status_code == 404


def test_sitemap_lists_live_articles_with_lastmod_topics_and_pages(client, settings):
    article = live_article()
    ArticleFactory(slug="a-draft")
    root = ET.fromstring(client.get("/sitemap.xml").content)  # noqa: S314 - our own response
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    entries = {u.findtext("s:loc", namespaces=namespace): u.findtext("s:lastmod", namespaces=namespace) for u in root}
    url = settings.SITE_URL + article.get_absolute_url()
    assert entries[url].startswith(article.live_snapshot.published_at.date().isoformat()[:4])
    assert settings.SITE_URL + article.topics.first().get_absolute_url() in entries
    assert settings.SITE_URL + reverse("articles:page", args=["editorial-policy"]) in entries
    assert not any("a-draft" in loc for loc in entries)


def test_robots_txt(client, settings):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "Disallow: /admin/" in text
    assert "Disallow: /review/" in text
    assert f"Sitemap: {settings.SITE_URL}/sitemap.xml" in text


# --- Caching: conditional GET and a Cache-Control a shared cache may honour ---------------------------------


@pytest.mark.parametrize("url_name", ["home", "article_list", "article"])
def test_public_pages_answer_a_repeat_visit_with_304(client, url_name):
    article = live_article()
    url = article.get_absolute_url() if url_name == "article" else reverse(f"articles:{url_name}")
    first = client.get(url)
    assert first.status_code == 200
    assert first["ETag"]
    assert "public" in first["Cache-Control"]
    assert "s-maxage=" in first["Cache-Control"]
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


STAFF_AREAS = ("review/", "staff/")


def public_urls() -> dict[str, str]:
    """Return a URL of every public page of the URL conf, by name, with a live article to show."""
    from articles import urls

    topic = TopicFactory(slug="skin")
    article = live_article(topics=[topic])
    addresses = {
        "home": reverse("articles:home"),
        "article_list": reverse("articles:article_list"),
        "article_detail": article.get_absolute_url(),
        "topic_detail": topic.get_absolute_url(),
        "staff_bio": article.author.staff_profile.get_absolute_url(),
        "search": reverse("articles:search") + "?q=exosomes",
        "page": Page.objects.get(slug="privacy-policy").get_absolute_url(),
        "feed_rss": reverse("articles:feed_rss"),
        "feed_atom": reverse("articles:feed_atom"),
        "topic_feed_rss": reverse("articles:topic_feed_rss", args=["skin"]),
        "topic_feed_atom": reverse("articles:topic_feed_atom", args=["skin"]),
        "sitemap": reverse("articles:sitemap"),
        "robots_txt": reverse("articles:robots_txt"),
    }
    public = {entry.name for entry in urls.urlpatterns if not str(entry.pattern).startswith(STAFF_AREAS)}
    assert set(addresses) == public, "a public page this test does not visit, or one that is gone"
    return addresses


MISSING = [
    "/no-such-page/",  # no pattern: the site's 404 handler
    "/articles/no-such-article/",
    "/topics/no-such-topic/",
    "/people/nobody/",
    "/about/no-such-policy/",
    "/feeds/topics/no-such-topic.rss",
    "/sitemap.xml?p=99",
]


def test_every_public_address_may_be_kept_by_a_shared_cache_and_carries_the_security_headers(client, settings):
    addresses = [*public_urls().values(), *MISSING]
    for url in addresses:
        response = client.get(url, secure=True)
        assert response.status_code == (404 if url in MISSING else 200), url
        directives = {part.strip() for part in response["Cache-Control"].split(",")}
        assert directives == {
            "public",
            "max-age=0",
            f"s-maxage={settings.PUBLIC_CACHE_SECONDS}",
            f"stale-while-revalidate={settings.PUBLIC_CACHE_SECONDS}",
        }, url
        assert response["Content-Security-Policy"], url
        assert response["Strict-Transport-Security"].startswith("max-age="), url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin", url
        assert response["X-Frame-Options"] == "DENY", url


def test_a_404_built_for_a_staff_member_is_not_kept_by_a_shared_cache(client, reviewer):
    client.force_login(reviewer)
    staff_pages = ["/review/no-such-page/", "/staff/two-factor/no-such-step/", "/admin/no-such-page/"]
    for url in [*staff_pages, reverse("articles:review_article", args=[999_999])]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "public" not in response.get("Cache-Control", ""), url


def test_article_page_has_last_modified_and_a_new_disclaimer_changes_it(client):
    from tests.factories import DisclaimerFactory

    article = live_article()
    first = client.get(article.get_absolute_url())
    assert client.get(article.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    DisclaimerFactory(title="A new warning for everyone")
    changed = client.get(article.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert "A new warning for everyone" in changed.content.decode()


def test_staff_pages_are_not_publicly_cacheable(client, reviewer):
    client.force_login(reviewer)
    response = client.get(reverse("articles:review_queue"))
    assert "public" not in response.get("Cache-Control", "")


# --- Links in what staff write ------------------------------------------------------------------------------

HOSTILE_LINKS = "".join(f'<p><a href="{escape(href)}">Link {n}</a></p>' for n, href in enumerate(LEAVE_THE_SITE))


def article_body_page(client) -> str:
    reference = ReferenceFactory()
    article = live_article(body=f"{HOSTILE_LINKS}<p>In mice, wounds closed faster [@{reference.citation_key}].</p>")
    return client.get(article.get_absolute_url()).content.decode()


def disclaimer_page(client) -> str:
    DisclaimerFactory(title="Not medical advice", text=HOSTILE_LINKS)
    return client.get(live_article().get_absolute_url()).content.decode()


def staff_bio_page(client) -> str:
    profile = UserFactory(profile__bio=HOSTILE_LINKS).staff_profile
    return client.get(profile.get_absolute_url()).content.decode()


def policy_page(client) -> str:
    page = Page.objects.get(slug="privacy-policy")
    page.body = HOSTILE_LINKS
    page.save()
    return client.get(page.get_absolute_url()).content.decode()


@pytest.mark.parametrize("page", [article_body_page, disclaimer_page, staff_bio_page, policy_page])
def test_every_link_in_staff_text_that_leaves_the_site_is_marked_external(client, settings, page):
    settings.SITE_URL = "https://clinic.example"
    links = links_in(page(client))
    for number, href in enumerate(LEAVE_THE_SITE):
        assert links[f"Link {number}"].get("rel") == EXTERNAL_LINK_REL, href


def test_reference_links_go_through_the_same_policy(client):
    reference = ReferenceFactory(pmcid="")
    Reference.objects.filter(pk=reference.pk).update(open_access_pdf="javascript:alert(1)")  # past the URL check
    reference.refresh_from_db()
    links = links_in(client.get(live_article(reference=reference).get_absolute_url()).content.decode())
    assert links["Free full text (PDF)"] == {}
    assert links[f"PubMed {reference.pmid}"]["rel"] == EXTERNAL_LINK_REL
    assert links[f"doi:{reference.doi}"]["rel"] == EXTERNAL_LINK_REL


# --- Policy pages ---------------------------------------------------------------------------------------------


def test_policy_pages_exist_and_every_page_links_them(client):
    for slug in ("editorial-policy", "corrections-policy", "privacy-policy"):
        page = Page.objects.get(slug=slug)
        assert client.get(page.get_absolute_url()).status_code == 200
    home = client.get("/").content.decode()
    assert 'href="/about/editorial-policy/"' in home
    assert 'href="/about/corrections-policy/"' in home
    assert 'href="/about/privacy-policy/"' in home


def test_editors_edit_policy_pages_and_their_text_is_sanitized(client, editor):
    page = Page.objects.get(slug="privacy-policy")
    client.force_login(editor)
    response = client.post(
        reverse("admin:articles_page_change", args=[page.pk]),
        {
            "title": "Privacy policy",
            "slug": "privacy-policy",
            "body": "<p>New text.</p><script>x()</script>",
            "show_in_footer": "on",
            "position": 2,
        },
    )
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.body == "<p>New text.</p>"


@pytest.mark.parametrize("role", ["writer", "reviewer"])
def test_writers_and_reviewers_cannot_edit_policy_pages(client, request, role):
    page = Page.objects.get(slug="privacy-policy")
    client.force_login(request.getfixturevalue(role))
    url = reverse("admin:articles_page_change", args=[page.pk])
    assert (
        client.post(url, {"title": "Hacked", "slug": "privacy-policy", "body": "x", "position": 0}).status_code == 403
    )


def test_only_editors_feature_articles(client, writer, editor):
    article = ArticleFactory(author=writer)
    client.force_login(writer)
    client.post(reverse("admin:articles_article_change", args=[article.pk]), admin_form_data(article, is_featured="on"))
    article.refresh_from_db()
    assert not article.is_featured
    client.force_login(editor)
    client.post(reverse("admin:articles_article_change", args=[article.pk]), admin_form_data(article, is_featured="on"))
    article.refresh_from_db()
    assert article.is_featured


# --- Errors ---------------------------------------------------------------------------------------------------


def test_404_page_is_friendly(client):
    response = client.get("/articles/no-such-article/")
    assert response.status_code == 404
    assert "We cannot find that page" in response.content.decode()


def test_an_archived_article_answers_410_and_an_unpublished_one_404(client, editor):
    archived = live_article(title="Old news")
    workflow.archive(archived, by=editor, reason="Replaced")
    slug = archived.snapshots.get().slug
    response = client.get(reverse("articles:article_detail", args=[slug]))
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()
    unpublished = live_article(title="Paused")
    workflow.unpublish(unpublished, by=editor, reason="Checking a study")
    assert client.get(reverse("articles:article_detail", args=[unpublished.slug])).status_code == 404


def test_500_page_is_friendly_and_needs_nothing_from_the_database():
    from django.template import loader

    html = loader.get_template("500.html").render()
    assert "Something went wrong on our side" in html


def test_the_working_copy_of_a_draft_is_never_served(client):
    draft = ArticleFactory(title="Secret draft")
    assert client.get(reverse("articles:article_detail", args=[draft.slug])).status_code == 404
    assert Article.objects.live().count() == 0


def test_css_is_small_and_served_with_a_hashed_name_and_far_future_caching(client):
    from django.templatetags.static import static

    url = static("articles/site.css")
    assert re.search(r"site\.[0-9a-f]{12}\.css$", url), url  # hashed by the manifest storage
    response = client.get(url)
    assert response.status_code == 200
    assert "max-age=315360000" in response["Cache-Control"]
    assert "immutable" in response["Cache-Control"]
    assert len(b"".join(response.streaming_content)) < 16_000
    page = client.get("/").content.decode()
    assert "https://" not in re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)[0]  # served by the app


@pytest.mark.parametrize("slug", ["no-such-page", "privacy-policy-", "x" * 300])
def test_unknown_policy_pages_are_404(client, slug):
    assert client.get(f"/about/{slug}/").status_code == 404


def test_the_admin_preview_of_an_unknown_article_is_404(client, editor):
    client.force_login(editor)
    assert client.get("/admin/articles/article/999999/preview/").status_code == 404


@pytest.mark.parametrize("phrase", ["-", "   ", "<b></b>", "\u2013"])
def test_a_red_flag_phrase_needs_a_word(client, editor, phrase):
    from articles.models import RedFlagPhrase

    client.force_login(editor)
    before = RedFlagPhrase.objects.count()
    response = client.post(
        reverse("admin:articles_redflagphrase_add"), {"phrase": phrase, "why": "x", "instead": "y", "is_active": "on"}
    )
    assert response.status_code == 200  # the form again, with the error
    assert RedFlagPhrase.objects.count() == before


def test_a_phrase_without_words_matches_nothing():
    from articles import claims

    assert claims.red_flags("Any text at all.", [claims.RedFlag("-", "x", "y")]) == []
