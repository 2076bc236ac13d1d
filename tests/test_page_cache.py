"""The page cache (articles/page_cache.py) against the local Redis: pages served without the database, and
made stale in every process by a publish, an unpublish or a disclaimer change."""

import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
import redis
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles import page_cache, workflow
from articles.models import Article, Page
from tests.factories import (
    PASSWORD,
    ArticleFactory,
    DisclaimerFactory,
    ReferenceFactory,
    TopicFactory,
    UrgentHelpFactory,
    admin_form_data,
    member_of,
    publish_reviewed,
)
from tests.servers import free_port
from tests.test_views import ARTICLE_PAGE_QUERIES
from tests.tools import REDIS_URL, missing, reachable

PROJECT = Path(__file__).resolve().parent.parent


def use_redis(settings, location: str) -> str:
    """Turn the page cache on against `location`, under a key prefix of its own, which it returns: runs sharing
    the Redis server never see each other's pages."""
    settings.PAGE_CACHE_REDIS_URL = location
    settings.PAGE_CACHE_KEY_PREFIX = f"test-{uuid.uuid4().hex}"
    settings.PAGE_CACHE_SECONDS = 60
    page_cache._unreachable_until = 0.0
    page_cache._process.forget()  # this process's copies belong to the previous test's cache server
    return settings.PAGE_CACHE_KEY_PREFIX


@pytest.fixture
def shared_cache(settings):
    address = urlparse(REDIS_URL)
    if not reachable(address.hostname, address.port or 6379):
        missing(f"Redis is not reachable at {REDIS_URL}; start redis-server or set TEST_REDIS_URL.")
    return {"KEY_PREFIX": use_redis(settings, REDIS_URL)}


def generation() -> int:
    """Return the generation as Redis holds it, read as another process would (a connection of its own)."""
    other = redis.Redis.from_url(REDIS_URL)
    try:
        return int(other.get(page_cache.key(page_cache.GENERATION_KEY)) or 0)
    finally:
        other.close()


def live_article(editor, *, title="Exosome therapy for hair loss", summary="What the research shows."):
    reference = ReferenceFactory()
    article = ArticleFactory(
        title=title, summary=summary, body=f"<p>Studies in mice found regrowth [@{reference.citation_key}].</p>"
    )
    publish_reviewed(article, editor=editor)
    article.refresh_from_db()
    return article


@pytest.mark.django_db
def test_a_cached_page_is_served_without_the_database(client, editor, shared_cache, django_assert_num_queries):
    article = live_article(editor)
    first = client.get(article.get_absolute_url())
    with django_assert_num_queries(0):
        second = client.get(article.get_absolute_url())
    assert second.status_code == 200
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    assert second["Cache-Control"] == first["Cache-Control"]
    assert second["Content-Security-Policy"]  # the middleware's headers are still added on every response
    with django_assert_num_queries(0):
        again = client.get(article.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


@pytest.mark.django_db
def test_every_public_page_kind_is_cached(client, editor, shared_cache, django_assert_num_queries):
    article = live_article(editor)
    topic = article.topics.first()
    urls = [
        reverse("articles:home"),
        reverse("articles:article_list"),
        reverse("articles:topic_detail", args=[topic.slug]),
        reverse("articles:search") + "?q=exosome",
        reverse("articles:feed_rss"),
        reverse("articles:sitemap"),
    ]
    for url in urls:
        assert client.get(url).status_code == 200
    for url in urls:
        with django_assert_num_queries(0):
            assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_a_kept_page_is_answered_before_every_other_middleware_with_the_same_headers(
    client, editor, shared_cache, monkeypatch
):
    article = live_article(editor)
    topic = article.topics.first()
    urls = [
        reverse("articles:home"),
        reverse("articles:article_list"),
        article.get_absolute_url(),
        reverse("articles:topic_detail", args=[topic.slug]),
        reverse("articles:search") + "?q=exosome",
        reverse("articles:correction_list"),
        reverse("articles:feed_rss"),
        reverse("articles:topic_feed_atom", args=[topic.slug]),
        reverse("articles:sitemap"),
        reverse("articles:robots_txt"),
        reverse("articles:page", args=[Page.objects.filter(language="en").first().slug]),
        "/es/articles/",
    ]
    rendered = {url: client.get(url) for url in urls}
    from csp.middleware import CSPMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.middleware.common import CommonMiddleware
    from django.middleware.http import ConditionalGetMiddleware
    from django.middleware.security import SecurityMiddleware

    from articles.languages import LanguageMiddleware

    def never(name):
        def ran(self, request, *response):
            raise AssertionError(f"{name} ran for {request.path}")

        return ran

    for middleware, method in [
        (SecurityMiddleware, "process_request"),
        (LanguageMiddleware, "__call__"),
        (CommonMiddleware, "process_request"),
        (ConditionalGetMiddleware, "process_response"),
        (CSPMiddleware, "process_response"),
        (SessionMiddleware, "process_request"),
    ]:
        monkeypatch.setattr(middleware, method, never(middleware.__name__))
    for url, first in rendered.items():
        kept = client.get(url)
        assert kept.status_code == 200, url
        assert kept.content == first.content, url
        assert dict(kept.headers) == dict(first.headers), url  # CSP, HSTS, frame options, ETag, tags, language
        assert kept["Content-Security-Policy"], url
    client.force_login(editor)  # a staff member's session cookie changes nothing for a public page
    monkeypatch.undo()
    assert client.get(urls[2]).content == rendered[urls[2]].content


@pytest.mark.django_db
def test_different_queries_are_different_pages(client, editor, shared_cache):
    live_article(editor, title="Exosome therapy for hair loss")
    live_article(editor, title="Sunscreen every day", summary="Why broad-spectrum protection matters.")
    assert "Sunscreen" not in client.get(reverse("articles:search") + "?q=exosome").content.decode()
    assert "Sunscreen" in client.get(reverse("articles:search") + "?q=sunscreen").content.decode()


# The tests that change something after a page was kept commit for real (transaction=True): in one test-long
# transaction the first change's invalidation would still be pending, and it stands for every later one.


@pytest.mark.django_db
def test_a_browsers_check_of_a_kept_page_is_answered_304_by_its_etag(client, editor, shared_cache):
    url = live_article(editor).get_absolute_url()
    first = client.get(url)
    assert first.status_code == 200
    kept = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert kept.status_code == 304
    assert kept.content == b""
    assert kept["ETag"] == first["ETag"]
    assert client.get(url, headers={"If-None-Match": '"another"'}).content == first.content


@pytest.mark.django_db(transaction=True)
def test_republishing_an_edit_shows_at_once(client, roles, shared_cache):
    editor = member_of("Editors")
    article = live_article(editor)
    assert "Exosome therapy for hair loss" in client.get(article.get_absolute_url()).content.decode()
    article.title = "Exosome therapy for hair loss: what we know"
    article.save()
    publish_reviewed(article, editor=editor)
    assert "what we know" in client.get(article.get_absolute_url()).content.decode()


@pytest.mark.django_db(transaction=True)
def test_unpublishing_removes_the_page_and_its_listings(client, roles, shared_cache):
    editor = member_of("Editors")
    article = live_article(editor)
    assert article.title in client.get(reverse("articles:article_list")).content.decode()
    assert client.get(article.get_absolute_url()).status_code == 200
    workflow.unpublish(article, by=editor, reason="Outdated advice.")
    assert client.get(article.get_absolute_url()).status_code == 404
    assert article.title not in client.get(reverse("articles:article_list")).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_publish_leaves_the_pages_of_other_articles_cached(client, roles, shared_cache, django_assert_num_queries):
    editor = member_of("Editors")
    published = live_article(editor)
    unrelated = live_article(editor, title="Sunscreen every day")
    for url in (published.get_absolute_url(), unrelated.get_absolute_url(), reverse("articles:article_list")):
        client.get(url)
    published.title = "Exosome therapy for hair loss: what we know"
    published.save()
    publish_reviewed(Article.objects.get(pk=published.pk), editor=editor)
    with django_assert_num_queries(0):  # it shows nothing that changed
        assert client.get(unrelated.get_absolute_url()).status_code == 200
    assert "what we know" in client.get(published.get_absolute_url()).content.decode()
    assert "what we know" in client.get(reverse("articles:article_list")).content.decode()


@pytest.mark.django_db
def test_a_page_rendered_while_one_of_its_tags_changed_is_not_kept(
    client, editor, shared_cache, monkeypatch, django_assert_num_queries
):
    article = live_article(editor)
    url = article.get_absolute_url()
    view = page_cache._keep

    def change_meanwhile(page_key, changes, response):  # the change commits between the read and the keeping
        page_cache.invalidate({f"article-{article.pk}"})
        view(page_key, changes, response)

    monkeypatch.setattr(page_cache, "_keep", change_meanwhile)
    assert client.get(url).status_code == 200
    monkeypatch.setattr(page_cache, "_keep", view)
    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):  # not kept: rendered again
        assert client.get(url).status_code == 200
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_disclaimer_change_shows_on_cached_pages(client, roles, shared_cache):
    article = live_article(member_of("Editors"))
    assert "Talk to your own doctor" not in client.get(article.get_absolute_url()).content.decode()
    DisclaimerFactory(title="Talk to your own doctor")
    assert "Talk to your own doctor" in client.get(article.get_absolute_url()).content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_urgent_help_box_added_changed_or_retired_shows_on_cached_pages(client, roles, shared_cache):
    topic = TopicFactory()
    article = ArticleFactory(topics=[topic])
    publish_reviewed(article, editor=member_of("Editors"))
    assert 'class="urgent-help"' not in client.get(article.get_absolute_url()).content.decode()
    before = generation()
    box = UrgentHelpFactory(topic=topic, heading="Signs of a wound infection")
    assert generation() > before
    assert "Signs of a wound infection" in client.get(article.get_absolute_url()).content.decode()
    box.heading = "Call us today about your wound"
    box.save()
    assert "Call us today about your wound" in client.get(article.get_absolute_url()).content.decode()
    box.is_active = False
    box.save()
    assert 'class="urgent-help"' not in client.get(article.get_absolute_url()).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_related_article_taken_down_leaves_the_related_lists_of_cached_pages_at_once(client, roles, shared_cache):
    editor, topic = member_of("Editors"), TopicFactory()
    article = ArticleFactory(topics=[topic], title="Caring for a wound")
    publish_reviewed(article, editor=editor)
    related = ArticleFactory(topics=[topic], title="When a wound needs a doctor")
    publish_reviewed(related, editor=editor)
    page = client.get(article.get_absolute_url()).content.decode()
    assert "When a wound needs a doctor" in page[page.index("Related articles") :]
    before = generation()
    workflow.unpublish(Article.objects.get(pk=related.pk), by=editor, reason="Out of date.")
    assert generation() > before
    # A newly published related article shows once the page is next rendered (PAGE_CACHE_SECONDS); one taken
    # down goes at once, with the link to it (articles.edge.tags).
    assert "When a wound needs a doctor" not in client.get(article.get_absolute_url()).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_topic_rename_shows_on_cached_pages(client, roles, shared_cache):
    topic = TopicFactory(name="Hair loss")
    article = ArticleFactory(topics=[topic])
    publish_reviewed(article, editor=member_of("Editors"))
    url = reverse("articles:topic_detail", args=[topic.slug])
    assert "Hair loss" in client.get(url).content.decode()
    topic.name = "Hair thinning"
    topic.save()
    assert "Hair thinning" in client.get(url).content.decode()


@pytest.mark.django_db
def test_an_uncommitted_change_does_not_invalidate(client, editor, shared_cache, django_assert_num_queries):
    # Invalidation waits for the commit: a reader re-rendering before it would cache the old page as new.
    article = live_article(editor)
    client.get(article.get_absolute_url())
    workflow.unpublish(article, by=editor, reason="Outdated advice.")  # the test's transaction never commits
    with django_assert_num_queries(0):
        assert client.get(article.get_absolute_url()).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_another_process_invalidates_this_ones_pages(client, roles, shared_cache):
    """Two app processes: this one caches the page, a second one (a real `manage.py shell`) unpublishes it."""
    editor = member_of("Editors")
    article = live_article(editor)
    assert client.get(article.get_absolute_url()).status_code == 200
    database = connection.settings_dict
    environment = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": shared_cache["KEY_PREFIX"],
        "PAGE_CACHE_SECONDS": "60",
    }
    code = (
        "from articles import workflow; from articles.models import Article;"
        " from django.contrib.auth.models import User;"
        f" workflow.unpublish(Article.objects.get(pk={article.pk}), by=User.objects.get(pk={editor.pk}), reason='Old')"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert Article.objects.get(pk=article.pk).live_snapshot_id is None
    assert client.get(article.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_pages_are_served_from_the_database_while_redis_is_down(client, editor, settings, caplog):
    use_redis(settings, f"redis://127.0.0.1:{free_port()}/0")
    article = live_article(editor)
    for _ in range(3):
        response = client.get(article.get_absolute_url())
        assert response.status_code == 200
        assert article.title in response.content.decode()
    assert [r.message for r in caplog.records if "Page cache unreachable" in r.message][:1]
    page_cache._unreachable_until = 0.0
    page_cache.invalidate()  # logged, never raised: the change that called it has already committed
    assert "Could not invalidate the page cache" in caplog.text
    page_cache._unreachable_until = 0.0


@pytest.mark.django_db
def test_the_page_cache_is_off_without_a_shared_cache(client, editor, settings, django_assert_num_queries):
    settings.PAGE_CACHE_SECONDS = 0
    article = live_article(editor)
    client.get(article.get_absolute_url())
    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):  # an article page, rendered
        client.get(article.get_absolute_url())


@pytest.mark.django_db
def test_staff_pages_are_never_kept_by_a_shared_cache(client, reviewer, editor):
    from django.http import HttpRequest

    article = live_article(editor)
    client.login(username=reviewer.username, password=PASSWORD, request=HttpRequest())
    for url in (reverse("articles:review_queue"), reverse("articles:review_article", args=[article.pk]), "/admin/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}, url


@pytest.mark.django_db
def test_a_gone_public_page_may_be_kept_briefly_by_a_shared_cache(client, editor, reviewer):
    """nginx refreshing an unpublished article's page must be able to keep the 404, or it serves the old page."""
    from django.http import HttpRequest

    article = live_article(editor)
    url = article.get_absolute_url()
    workflow.unpublish(article, by=editor, reason="Outdated advice.")
    for gone in (client.get(url), client.get("/articles/no-such-article/"), client.get("/topics/no-such-topic/")):
        assert gone.status_code == 404
        assert "public" in gone["Cache-Control"]
        assert "s-maxage=60" in gone["Cache-Control"]
    client.login(username=reviewer.username, password=PASSWORD, request=HttpRequest())
    staff_missing = client.get(reverse("articles:review_article", args=[999_999]))
    assert staff_missing.status_code == 404
    assert "public" not in staff_missing.get("Cache-Control", "")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["?utm_source=newsletter", "?page=01", "?page=1&page=1", "?page=0", "?q=", "?q=exosome&x=1", "?cachebuster=7"],
)
def test_a_query_string_the_page_does_not_read_is_served_but_not_kept(client, editor, shared_cache, query):
    article = live_article(editor)
    for url in (article.get_absolute_url() + query, reverse("articles:search") + query):
        first = client.get(url)
        assert first.status_code in (200, 404), url
        with CaptureQueriesContext(connection) as again:
            assert client.get(url).status_code == first.status_code
        assert len(again) > 0, f"{url} was kept"


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["?page=1", "?page=last", "?q=exosome", "?q=exosome&page=1"])
def test_the_query_strings_public_pages_read_are_kept(client, editor, shared_cache, django_assert_num_queries, query):
    live_article(editor)
    url = (reverse("articles:search") if "q=" in query else reverse("articles:article_list")) + query
    assert client.get(url).status_code == 200
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_each_host_gets_its_own_copy_of_a_page(client, editor, shared_cache, settings):
    settings.ALLOWED_HOSTS = ["clinic.example", "www.clinic.example"]
    live_article(editor)
    feed = reverse("articles:feed_rss")
    assert b"https://clinic.example/" in client.get(feed, HTTP_HOST="clinic.example", secure=True).content
    other = client.get(feed, HTTP_HOST="www.clinic.example", secure=True).content
    assert b"https://www.clinic.example/" in other
    assert b"https://clinic.example/" not in other


@pytest.mark.django_db
def test_a_cache_server_that_lost_a_tags_number_never_serves_a_page_kept_before(
    client, editor, shared_cache, django_assert_num_queries
):
    article = live_article(editor)
    url = article.get_absolute_url()
    client.get(url)
    # The counter alone lost: the page's tags still say it is current, and later numbers start past every old one.
    page_cache.server().delete(page_cache.key(page_cache.GENERATION_KEY))
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200
    # Evicted, or the server restarted with some keys kept: a change to it may be what was lost, so it is stale.
    page_cache.server().delete(page_cache.key(page_cache.TAG_KEY + f"article-{article.pk}"))
    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):  # an article page, rendered
        assert client.get(url).status_code == 200
    with django_assert_num_queries(0):  # and kept again
        assert client.get(url).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("private", ["reads the session", "sets a cookie", "issues a CSRF token", "varies by cookie"])
def test_a_page_meant_for_one_visitor_is_never_kept(rf, shared_cache, private):
    from django.contrib.sessions.backends.cache import SessionStore
    from django.http import HttpResponse
    from django.middleware.csrf import get_token
    from django.utils.cache import patch_vary_headers

    rendered = []

    def view(request):
        rendered.append(request)
        response = HttpResponse("For you only")
        if private == "reads the session":
            request.session.get("visits")
        elif private == "sets a cookie":
            response.set_cookie("seen", "1")
        elif private == "issues a CSRF token":
            get_token(request)
        else:
            patch_vary_headers(response, ["Cookie"])
        return response

    kept = page_cache.cached_page(view)
    for _ in range(2):
        request = rf.get("/private/")
        request.session = SessionStore()
        assert kept(request).status_code == 200
    assert len(rendered) == 2


@pytest.mark.django_db(transaction=True)
def test_featuring_an_article_shows_on_the_cached_home_page(client, roles, shared_cache):
    editor = member_of("Editors")
    article = live_article(editor, title="A plain guide to sunscreen")
    patient = Client()
    assert "Featured" not in patient.get(reverse("articles:home")).content.decode()  # now kept in the cache
    client.force_login(editor)
    response = client.post(
        reverse("admin:articles_article_change", args=[article.pk]), admin_form_data(article, is_featured="on")
    )
    assert response.status_code == 302
    home = patient.get(reverse("articles:home")).content.decode()
    assert home.index("A plain guide to sunscreen") < home.index("Newest")


@pytest.mark.django_db
def test_a_page_redis_evicted_is_rendered_again_not_served_from_an_older_copy(
    client, editor, shared_cache, django_assert_num_queries
):
    article = live_article(editor)
    url = article.get_absolute_url()
    client.get(url)
    page_key = next(iter(page_cache._process.pages))
    page_cache._process.keep(page_key, ("an older copy", b"old", {}, time.time() + 60))  # this process's own
    page_cache.server().delete(f"{page_key}:{page_cache.PAGE_KEY}")  # evicted, its stamp kept
    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):  # rendered, not the older copy
        assert client.get(url).content != b"old"


@pytest.mark.django_db
def test_a_popular_page_costs_one_round_trip_and_is_not_sent_again(client, editor, shared_cache, monkeypatch):
    article = live_article(editor)
    client.get(article.get_absolute_url())
    reads = []
    read = page_cache._read
    monkeypatch.setattr(page_cache, "_read", lambda *args: reads.append(read(*args)) or reads[-1])
    for _ in range(5):
        assert client.get(article.get_absolute_url()).status_code == 200
    # One read per request, of the page's tags alone: the page came from this process's memory.
    assert [(current, page) for _changes, current, page in reads] == [(True, None)] * 5


@pytest.mark.django_db
def test_another_processs_invalidation_reaches_this_one_at_once(
    client, editor, shared_cache, django_assert_num_queries
):
    article = live_article(editor)
    client.get(article.get_absolute_url())
    other = redis.Redis.from_url(REDIS_URL)  # another process's connection, unknown to this one
    other.incr(page_cache.key(page_cache.TAG_KEY + f"article-{article.pk}"))  # as its invalidation does
    other.close()
    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):  # an article page, rendered
        assert client.get(article.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_two_processes_see_an_invalidation_at_once_and_nothing_sleeps(
    client, editor, shared_cache, monkeypatch, django_assert_num_queries
):
    def no_sleeping(seconds):
        raise AssertionError(f"slept {seconds}s")

    monkeypatch.setattr(time, "sleep", no_sleeping)
    article = live_article(editor)
    url = article.get_absolute_url()
    first = (page_cache._process, page_cache._servers)
    second = (page_cache._ProcessCopy(), {})  # its own memory, its own connections to Redis

    def as_process(process):
        monkeypatch.setattr(page_cache, "_process", process[0])
        monkeypatch.setattr(page_cache, "_servers", process[1])

    client.get(url)
    as_process(second)
    with django_assert_num_queries(0):  # the first process's page, from Redis, now in the second's memory too
        assert client.get(url).status_code == 200
    page_cache.invalidate()
    as_process(first)
    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):  # an article page, rendered
        assert client.get(url).status_code == 200
    as_process(second)
    with django_assert_num_queries(0):  # the first process's new rendering
        assert client.get(url).status_code == 200


def test_the_process_keeps_at_most_its_byte_budget_of_pages(monkeypatch):
    copy = page_cache._ProcessCopy()
    monkeypatch.setattr(page_cache, "LOCAL_PAGE_BYTES", 250)
    for number in range(5):
        copy.keep(f"page-{number}", (1, b"x" * 100, {}))
    assert list(copy.pages) == ["page-3", "page-4"]  # the oldest went first
    assert copy.size == 200
    assert copy.page("page-4")[0] == 1  # the generation it was kept under
    assert copy.page("page-0") is None


@pytest.mark.django_db
def test_a_transaction_with_many_changes_invalidates_once(shared_cache, django_capture_on_commit_callbacks):
    page_cache.invalidate()
    before = generation()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for number in range(5):
            TopicFactory(name=f"Topic {number}")
        DisclaimerFactory()
    assert generation() == before + 1


def rolled_back_change() -> None:
    """Save a topic in a transaction (or savepoint) that then rolls back."""
    with contextlib.suppress(RuntimeError), transaction.atomic():
        TopicFactory()
        raise RuntimeError("rolled back")


@pytest.mark.django_db
def test_a_rolled_back_change_does_not_invalidate(shared_cache, django_capture_on_commit_callbacks):
    page_cache.invalidate()
    before = generation()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        rolled_back_change()
    assert callbacks == []
    assert generation() == before


@pytest.mark.django_db
@pytest.mark.parametrize("rolled_back_first", [True, False])
def test_a_change_committed_beside_a_rolled_back_one_still_invalidates(
    shared_cache, django_capture_on_commit_callbacks, rolled_back_first
):
    page_cache.invalidate()
    before = generation()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        if rolled_back_first:
            rolled_back_change()
        DisclaimerFactory()
        if not rolled_back_first:
            rolled_back_change()
    assert generation() == before + 1


@pytest.mark.django_db
def test_a_redis_server_that_does_not_know_the_read_script_is_taught_it(
    client, editor, shared_cache, monkeypatch, django_assert_num_queries
):
    article = live_article(editor)
    client.get(article.get_absolute_url())
    monkeypatch.setattr(page_cache, "READ_SCRIPT_SHA", "0" * 40)  # as a restarted server, which knows no script
    with django_assert_num_queries(0):
        assert client.get(article.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_a_read_connection_the_server_closed_is_opened_again_at_once(
    client, editor, shared_cache, django_assert_num_queries
):
    article = live_article(editor)
    client.get(article.get_absolute_url())
    reading = page_cache._reading.connection  # this thread's own, apart from the pool
    reading.send_command("CLIENT", "ID")
    other = redis.Redis.from_url(REDIS_URL)
    assert other.client_kill_filter(_id=reading.read_response()) == 1  # as a restarted server closes it
    other.close()
    with django_assert_num_queries(0):  # the kept page still, read through a new connection
        assert client.get(article.get_absolute_url()).status_code == 200
    assert page_cache._unreachable_until == 0.0  # and not taken for a server out of reach


@pytest.mark.django_db
def test_a_forked_process_reads_through_a_connection_of_its_own(client, editor, shared_cache):
    article = live_article(editor)
    client.get(article.get_absolute_url())
    inherited = page_cache._reading.connection
    page_cache._reading.pid = -1  # as if this connection had been made before a fork
    client.get(article.get_absolute_url())
    assert page_cache._reading.connection is not inherited
