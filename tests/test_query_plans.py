"""The hot queries use the indexes made for them (migration 0009; tests/perf/scale.py measures the timings).

The tables here are tiny, so PostgreSQL would rightly read them whole. Each plan is made with the ways it
could do without an index turned off (`SET LOCAL enable_... = off`, inside a transaction that is rolled
back): a plan that still names no index of ours means none can serve the query, and the test fails.
"""

import pytest
from django.contrib.admin.sites import site
from django.db import connection, transaction
from django.test import RequestFactory

from articles import search, workflow
from articles.models import Article, PublishedSnapshot, Reference
from articles.views import IdsFirstPaginator
from tests.factories import ArticleFactory, ReferenceFactory, TopicFactory, member_of, publish_reviewed

pytestmark = pytest.mark.django_db


# The plain indexes on a snapshot's language (its db_index and Django's pattern-matching twin).
LANGUAGE_INDEXES = (
    "SELECT indexname FROM pg_indexes WHERE tablename = 'articles_publishedsnapshot'"
    " AND indexdef ~ '\\(language( varchar_pattern_ops)?\\)$'"
)


def drop_language_indexes(cursor) -> None:
    """Drop the plain language indexes until the transaction is rolled back.

    On a few rows PostgreSQL reads all of a language's snapshots from them, however rare the words; on a real site
    most snapshots share a language and it would not. Without them, a plan that names no search index of ours
    means none can serve the query.
    """
    cursor.execute(LANGUAGE_INDEXES)
    for (name,) in cursor.fetchall():
        cursor.execute(f"DROP INDEX {name}")


def drop_unique_live_snapshot(cursor) -> None:
    """Drop the one-to-one's unique index on the live snapshot until the transaction is rolled back.

    On a few rows it gives the live articles in snapshot order as cheaply as any; on a real site, where it holds
    every article of every language, the narrow live index of one language is what serves a topic's count.
    """
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'articles_article'::regclass AND contype = 'u'"
        " AND conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = 'articles_article'::regclass"
        " AND attname = 'live_snapshot_id')]"
    )
    names = [name for (name,) in cursor.fetchall()]
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's deferred checks first: no ALTER while they wait
    for name in names:
        cursor.execute(f"ALTER TABLE articles_article DROP CONSTRAINT {name}")


def plan(queryset, *, off=("seqscan",), search=False, prepare=None) -> str:
    """Return PostgreSQL's plan for the queryset, with the given ways of reading turned off (and, for a `search`,
    the plain language indexes; `prepare(cursor)` may drop others)."""
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        for way in off:
            cursor.execute(f"SET LOCAL enable_{way} = off")
        if search:
            drop_language_indexes(cursor)
        if prepare:
            prepare(cursor)
        cursor.execute(f"EXPLAIN {sql}", params)
        lines = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    return "\n".join(lines)


def by_topic_link_index(found: str) -> bool:
    """Whether the plan finds a topic's snapshots through an index on the topic links: ours (topic, snapshot), or
    Django's on the topic alone, which the planner may prefer by the statistics earlier tests left behind."""
    indexes = ("snapshot_topic_links", "articles_publishedsnapshot_topic_set_topic_id_")
    # "Index Scan using NAME on TABLE", "Index Only Scan using NAME ...", or "Bitmap Index Scan on NAME".
    return (
        any(f" using {index}" in found or f"Index Scan on {index}" in found for index in indexes)
        and "Seq Scan on articles_publishedsnapshot_topic" not in found
    )


@pytest.mark.parametrize(
    ("line", "by_index"),
    [
        (
            "Index Scan using articles_publishedsnapshot_topic_set_topic_id_1cdb0a20 on articles_publishedsnapshot_t",
            True,
        ),
        ("Index Only Scan using snapshot_topic_links on articles_publishedsnapshot_topic_set", True),
        ("Bitmap Index Scan on snapshot_topic_links", True),
        ("Seq Scan on articles_publishedsnapshot_topic_set", False),
        ("Index Scan using articles_publishedsnapshot_pkey on articles_publishedsnapshot", False),
    ],
)
def test_the_topic_link_check_reads_every_way_postgresql_names_an_index(line, by_index):
    # It once read only the bitmap form, so a plain index scan (the planner's choice on some runs) failed it.
    assert by_topic_link_index(line) is by_index


@pytest.fixture
def site_with_articles(editor):
    topic = TopicFactory(name="Scars", slug="scars")
    reference = ReferenceFactory()
    for number in range(3):
        article = ArticleFactory(
            title=f"Scar care part {number}",
            body=f"<p>In mice, scars were smaller [@{reference.citation_key}].</p>",
            topics=[topic],
        )
        publish_reviewed(article, editor=editor)
    ArticleFactory(title="A draft about scars")
    return topic, reference


def test_article_list_pages_find_their_ids_in_the_live_index(site_with_articles):
    for number in (1, 2):  # the first page, and one past it (an offset)
        page = IdsFirstPaginator(Article.objects.live().in_language("en").as_cards().newest_first(), 2).page(number)
        found = plan(page.object_list)
        assert "article_live_newest" in found
        assert "Seq Scan on articles_article" not in found


def test_topic_pages_count_from_the_topic_links_and_page_through_the_live_index(site_with_articles):
    topic, _reference = site_with_articles
    in_topic = Article.objects.live().in_language("en").published_under(topic)  # as views.TopicDetail asks
    # The topic's links read by topic (planned alone: joined to a few rows, the planner may as well start elsewhere).
    links = PublishedSnapshot.topic_set.through.objects.filter(topic=topic).values("publishedsnapshot")
    assert by_topic_link_index(plan(links))
    page = IdsFirstPaginator(in_topic.as_cards().newest_first(), 2).page(1)
    assert "article_live_newest" in plan(page.object_list, off=("seqscan", "sort"))


def test_a_topic_count_meets_the_topic_links_in_snapshot_order_from_the_narrow_live_index(site_with_articles):
    topic, _reference = site_with_articles
    in_topic = Article.objects.live().in_language("en").published_under(topic).values("live_snapshot")
    # What the count reads (migration 0029): the language's live articles in snapshot order, with no sort. Index
    # scans stay on (turning them off turns off index-only scans too, and leaves the planner a choice of penalties).
    ways = ("seqscan", "bitmapscan", "hashjoin", "nestloop", "sort")
    found = plan(in_topic.order_by(), off=ways, prepare=drop_unique_live_snapshot)
    assert "Merge" in found
    assert "article_live_by_snapshot" in found


def test_related_articles_come_from_the_topic_links_newest_first_through_the_live_index(site_with_articles):
    article = Article.objects.live().first()
    related = Article.objects.live().in_language("en").as_cards().related_to(article)  # as views.ArticleDetail asks
    sharing = PublishedSnapshot.topic_set.through.objects.filter(topic_id__in=article.live_snapshot.topic_ids)
    assert by_topic_link_index(plan(sharing.values("publishedsnapshot")))
    found = plan(related.newest_first()[:4], off=("seqscan", "sort"))
    assert "article_live_newest" in found
    assert "Seq Scan on articles_article" not in found


def test_search_finds_matches_with_the_full_text_index_or_newest_first_through_the_date_index(site_with_articles):
    assert search.find_matches("scars").count == 3
    newest = search.matching("scars").values_list("pk", flat=True)[: search.MAX_RANKED + 1]
    # A rare word: from the full-text index, then sorted. A word most articles use: the newest, tested in turn.
    assert "snapshot_search_vector" in plan(newest, off=("seqscan", "indexscan"), search=True)
    assert "snapshot_newest" in plan(newest, off=("seqscan", "sort"))
    ranked = search.search_live_snapshots("scars")
    assert "articles_publishedsnapshot_pkey" in plan(ranked)  # only the matches found, by their ids


def test_the_review_queue_reads_each_section_from_its_index(site_with_articles, reviewer):
    _topic, reference = site_with_articles
    waiting = Article.objects.in_review().order_by("updated_at", "pk")[:25]
    assert "article_status_updated" in plan(waiting, off=("seqscan", "sort"))
    overdue = Article.objects.review_overdue().select_related(None).order_by("live_review_due", "pk")[:25]
    assert "article_live_due" in plan(overdue, off=("seqscan", "sort"))
    out_of_date = Article.objects.out_of_date().select_related(None).order_by("source_changed_at", "pk")[:25]
    assert "article_source_changed" in plan(out_of_date, off=("seqscan", "sort"))
    assert "reference_retracted" in plan(Reference.objects.filter(is_retracted=True).order_by("citation_key"))
    citing = PublishedSnapshot.objects.filter(references__contains=[{"key": reference.citation_key}])
    assert "snapshot_references" in plan(citing, off=("seqscan", "indexscan"))
    assert list(Article.objects.live().citing_live(reference.citation_key)) == list(Article.objects.live())


def changelist_query(user, **params):
    request = RequestFactory().get("/admin/articles/article/", params)
    request.user = user
    changelist = site.get_model_admin(Article).get_changelist_instance(request)
    return changelist.queryset[:100]


def test_the_admin_article_list_sorts_filters_and_searches_with_indexes(site_with_articles, editor):
    topic, _reference = site_with_articles
    assert "article_updated" in plan(changelist_query(editor), off=("seqscan", "sort"))
    assert "article_status_updated" in plan(
        changelist_query(editor, status__exact="published"), off=("seqscan", "sort", "bitmapscan")
    )
    searched = plan(changelist_query(editor, q="scar care"), off=("seqscan", "indexscan"))
    assert "article_title_trigram" in searched
    assert "article_summary_trigram" in searched
    by_topic = plan(changelist_query(editor, topics__id__exact=str(topic.pk)), off=("seqscan", "sort"))
    assert "DISTINCT" not in changelist_query(editor, topics__id__exact=str(topic.pk)).query.__str__().upper()
    assert "Seq Scan on articles_article " not in by_topic


def test_the_article_page_finds_the_live_article_by_its_snapshots_slug(site_with_articles):
    found = plan(Article.objects.live().filter(live_snapshot__slug="scar-care-part-0"), off=("seqscan", "nestloop"))
    assert "articles_publishedsnapshot_slug" in found
    assert "Seq Scan" not in found


def test_an_unpublished_article_leaves_no_live_dates_behind(site_with_articles, editor):
    article = Article.objects.live().first()
    assert article.live_published_at == article.live_snapshot.published_at
    assert article.live_review_due == article.live_snapshot.next_review_due
    workflow.unpublish(article, by=member_of("Editors"), reason="Outdated")
    article.refresh_from_db()
    assert (article.live_snapshot, article.live_published_at, article.live_review_due) == (None, None, None)


def test_staff_bio_pages_find_a_persons_articles_by_the_byline_indexes(site_with_articles):
    profile = Article.objects.live().first().author.staff_profile
    written = plan(Article.objects.live().bylined_to(profile).as_cards().newest_first()[:12])
    assert "snapshot_author_slug" in plan(PublishedSnapshot.objects.filter(author__slug=profile.slug))
    assert "snapshot_reviewer_slug" in plan(PublishedSnapshot.objects.filter(reviewed_by__slug=profile.slug))
    assert "Seq Scan on articles_publishedsnapshot" not in written
