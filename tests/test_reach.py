"""Counting readers (articles/reach.py): the beacon on the article page, what it counts and what it keeps."""

import datetime
import threading
import urllib.request

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles import reach
from articles.models import ArticleDailyViews, Page
from tests.factories import ArticleFactory, live_article
from tests.test_page_cache import shared_cache  # noqa: F401 - the fixture that turns the page cache on

pytestmark = pytest.mark.django_db

BROWSER = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
)
NOT_PEOPLE = [
    "",
    "   ",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "WhatsApp/2.23.20.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome-Lighthouse",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Go-http-client/2.0",
    "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
]
PEOPLE = [
    BROWSER,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile "
    "Safari/537.36",
]


@pytest.fixture
def article(db):
    return live_article(title="Exosomes and hair loss")


def beacon_url(article) -> str:
    return reverse("articles:reach_beacon", args=[article.pk])


def hit(client, article, user_agent: str = BROWSER, **headers):
    return client.get(beacon_url(article), HTTP_USER_AGENT=user_agent, **headers)


def views_of(article) -> int:
    return sum(ArticleDailyViews.objects.filter(article=article).values_list("views", flat=True))


def test_each_get_counts_one_view_for_today(client, article):
    for expected in (1, 2, 3):
        response = hit(client, article)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/gif"
        assert response.content == reach.PIXEL
        assert views_of(article) == expected
    assert ArticleDailyViews.objects.get().day == timezone.localdate()


def test_the_day_is_the_clinics_day_not_utc(article, settings):
    settings.TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: its date is ahead of UTC's most of the day
    with timezone.override("Pacific/Kiritimati"):
        reach.count_view(article.pk)
        assert ArticleDailyViews.objects.get().day == timezone.localdate()


def test_each_day_has_its_own_row(article):
    today = timezone.localdate()
    for day in (today - datetime.timedelta(days=1), today, today):
        assert reach.count_view(article.pk, day=day)
    assert dict(ArticleDailyViews.objects.values_list("day", "views")) == {
        today - datetime.timedelta(days=1): 1,
        today: 2,
    }


@pytest.mark.parametrize("user_agent", NOT_PEOPLE)
def test_bots_previews_and_headless_browsers_are_not_counted(client, article, user_agent):
    response = hit(client, article, user_agent)
    assert (response.status_code, response.content) == (200, reach.PIXEL)
    assert views_of(article) == 0


@pytest.mark.parametrize("user_agent", PEOPLE)
def test_peoples_browsers_are_counted(client, article, user_agent):
    hit(client, article, user_agent)
    assert views_of(article) == 1


@pytest.mark.parametrize(
    "header",
    [{"HTTP_SEC_PURPOSE": "prefetch"}, {"HTTP_SEC_PURPOSE": "prefetch;prerender"}, {"HTTP_PURPOSE": "prefetch"}],
)
def test_prefetches_and_prerenders_are_not_counted(client, article, header):
    assert hit(client, article, **header).status_code == 200
    assert views_of(article) == 0


def test_head_is_answered_but_not_counted_and_other_methods_are_refused(client, article):
    assert client.head(beacon_url(article), HTTP_USER_AGENT=BROWSER).status_code == 200
    for method in (client.post, client.put, client.delete):
        assert method(beacon_url(article), HTTP_USER_AGENT=BROWSER).status_code == 405
    assert views_of(article) == 0


def test_the_answer_is_never_stored_and_sets_no_cookie(client, article):
    response = hit(client, article)
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives
    assert "public" not in directives
    assert not response.cookies
    assert "Set-Cookie" not in str(response.serialize_headers())
    assert "ETag" not in response  # nothing for a browser to revalidate: each reading asks again
    assert not client.cookies


def test_a_logged_in_staff_members_reading_sets_no_cookie_either(client, article, editor):
    client.force_login(editor)
    response = hit(client, article)
    assert not response.cookies
    assert views_of(article) == 1


def test_unknown_unpublished_and_absurd_ids_get_the_image_and_count_nothing(client, article):
    draft = ArticleFactory()
    for pk in (draft.pk, 999_999, 2**63 - 1, 10**30):
        response = client.get(f"/reach/{pk}.gif", HTTP_USER_AGENT=BROWSER)
        assert (response.status_code, response.content) == (200, reach.PIXEL), pk
    assert client.get("/reach/abc.gif").status_code == 404  # not an id at all: no such address
    assert not ArticleDailyViews.objects.exists()


def test_nothing_about_the_reader_is_stored(article):
    columns = {field.column for field in ArticleDailyViews._meta.concrete_fields}
    assert columns == {"id", "article_id", "day", "views"}


def test_the_article_page_carries_the_beacon_for_everyone_alike(client, article):
    body = client.get(article.get_absolute_url()).content.decode()
    tag = body[body.index('<img class="reach-beacon"') :].split(">", 1)[0]
    assert f'src="{beacon_url(article)}"' in tag
    for attribute in ('width="1"', 'height="1"', 'alt=""', 'aria-hidden="true"', 'referrerpolicy="no-referrer"'):
        assert attribute in tag
    assert "loading=" not in tag  # fetched at once, not only when scrolled to
    assert views_of(article) == 0  # rendering the page counts nothing: the browser's request for the image does


def test_the_preview_has_no_beacon(client, editor):
    article = ArticleFactory()
    client.force_login(editor)
    body = client.get(reverse("admin:articles_article_preview", args=[article.pk])).content.decode()
    assert "Preview: not published" in body
    assert "reach-beacon" not in body


def test_the_sites_policy_allows_the_image(client, article):
    policy = client.get(article.get_absolute_url())["Content-Security-Policy"]
    image_sources = next(part for part in policy.split(";") if part.strip().startswith("img-src"))
    assert "'self'" in image_sources


def test_a_page_served_from_the_page_cache_still_counts_each_reading(
    client,
    article,
    shared_cache,  # noqa: F811
    django_assert_num_queries,
):
    first = client.get(article.get_absolute_url())
    with django_assert_num_queries(0):  # the second reading comes from Redis, no database at all
        second = client.get(article.get_absolute_url())
    assert second.content == first.content
    assert beacon_url(article) in second.content.decode()
    for _reading in (first, second):
        hit(client, article)  # what each reader's browser then asks for
    assert views_of(article) == 2


def test_fifty_readers_at_once_are_all_counted(article, live_server):
    errors, statuses = [], []
    url = live_server.url + beacon_url(article)
    barrier = threading.Barrier(50)

    def reader() -> None:
        try:
            barrier.wait(timeout=30)
            request = urllib.request.Request(url, headers={"User-Agent": BROWSER})  # noqa: S310 - http://, ours
            with urllib.request.urlopen(request) as answer:  # noqa: S310 - the live server
                statuses.append(answer.status)
        except Exception as error:
            errors.append(repr(error))

    threads = [threading.Thread(target=reader) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert statuses == [200] * 50
    assert views_of(article) == 50


def test_the_privacy_policy_says_how_views_are_counted(client):
    body = client.get(Page.objects.get(slug="privacy-policy").get_absolute_url()).content.decode()
    assert "We set no cookie for it" in body
    assert "do not keep your IP address or anything else" in body


def test_a_page_of_the_site_that_is_not_an_article_carries_no_beacon(client, article):
    assert "reach-beacon" not in client.get("/").content.decode()
    assert "reach-beacon" not in Client().get(reverse("articles:article_list")).content.decode()


def test_robots_are_asked_to_leave_the_counter_alone(client):
    assert "Disallow: /reach/" in client.get("/robots.txt").content.decode()
