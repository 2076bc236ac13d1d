"""A real Varnish with xkey (Debian's varnish and varnish-modules) in front of the app, running docs/varnish/clinic.vcl:
pages kept for an hour, and gone the moment a change that touches them commits, while the rest stay cached.
"""

import time
import urllib.error
import urllib.request

import pytest

from articles import workflow
from articles.models import Article, Disclaimer, EdgePurge
from tests import servers
from tests.factories import TopicFactory, live_article, member_of
from tests.tools import missing, varnish_missing

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def varnish(live_server, settings, tmp_path, roles):
    if reason := varnish_missing():
        missing(reason)
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.PUBLIC_CACHE_SECONDS = 3600
    settings.EDGE_PURGE_ECHO_SECONDS = 0
    with servers.Servers() as run:
        edge = run.add(servers.varnish(live_server.url, tmp_path))
        settings.EDGE_PURGERS = [{"BACKEND": "varnish", "URL": edge.url}]
        yield edge


def read(edge, path: str) -> tuple[int, str, bytes]:
    status, headers, body = servers.get(edge.url + path)
    return status, headers.get("X-Cache", ""), body


def cached(edge, path: str) -> bytes:
    """Read `path` through Varnish until it is served from the cache; return the page."""
    read(edge, path)
    status, cache, body = read(edge, path)
    assert (status, cache) == (200, "HIT"), path
    return body


def test_an_unpublished_article_is_gone_through_the_edge_at_once_and_other_pages_stay_cached(varnish):
    article = live_article(topics=[TopicFactory()])
    unrelated = live_article(title="Sunscreen and skin", topics=[TopicFactory()])
    cached(varnish, article.get_absolute_url())
    cached(varnish, unrelated.get_absolute_url())
    assert article.title.encode() in cached(varnish, "/articles/")

    workflow.unpublish(Article.objects.get(pk=article.pk), by=member_of("Editors"), reason="A dose was wrong.")
    # As soon as the call returns: the purge went out after the commit.
    assert read(varnish, article.get_absolute_url())[:2] == (404, "MISS")
    assert article.title.encode() not in read(varnish, "/articles/")[2]
    assert read(varnish, unrelated.get_absolute_url())[:2] == (200, "HIT")  # it shows nothing that changed
    assert not EdgePurge.objects.pending().exists()
    counters = servers.varnish_counters(varnish, "MAIN.cache_hit", "MAIN.cache_miss")
    assert counters["MAIN.cache_hit"] >= 4


def test_a_published_article_shows_on_the_lists_and_at_a_once_missing_address_at_once(varnish):
    live_article()
    cached(varnish, "/articles/")
    assert read(varnish, "/articles/soon-to-be-written/")[0] == 404
    assert read(varnish, "/articles/soon-to-be-written/")[:2] == (404, "HIT")  # a 404 is kept too

    newest = live_article(title="Soon to be written", slug="soon-to-be-written")
    assert read(varnish, newest.get_absolute_url())[0] == 200
    assert b"Soon to be written" in read(varnish, "/articles/")[2]


def test_a_disclaimer_change_reaches_every_article_page_in_its_language(varnish):
    article = live_article()
    page = cached(varnish, article.get_absolute_url())
    disclaimer = Disclaimer.objects.filter(language="en", is_active=True).first()
    assert disclaimer.title.encode() in page
    disclaimer.title = "Talk to your doctor first"
    disclaimer.save()
    status, cache, page = read(varnish, article.get_absolute_url())
    assert (status, cache) == (200, "MISS")
    assert b"Talk to your doctor first" in page


def test_staff_pages_pass_through_and_purges_need_an_allowed_address(varnish):
    assert read(varnish, "/admin/login/")[1] == "MISS"
    assert read(varnish, "/admin/login/")[1] == "MISS"  # never kept
    request = urllib.request.Request(varnish.url + "/", method="PURGE")  # noqa: S310 - loopback; no tags named
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310 - loopback
    assert refused.value.code == 400


def test_the_echo_purge_follows_each_purge(varnish, settings):
    settings.EDGE_PURGE_ECHO_SECONDS = 0.3
    article = live_article()
    deadline = time.monotonic() + 20
    echo = EdgePurge.objects.filter(echo=True, tags__contains=[f"article-{article.pk}"])
    while not echo.filter(purged_at__isnull=False).exists():  # sent by the timer, in a thread of this process
        assert time.monotonic() < deadline, "the echo purge was never sent"
        time.sleep(0.1)
    assert not EdgePurge.objects.filter(echo=True, tags__contains=[f"article-{article.pk}"]).pending().exists()
    assert not EdgePurge.objects.filter(echo=True).filter(echo=True, attempts__gt=0).exists()
