"""A patient reads an article twice, the second time from the page cache, and both readings are counted; an editor
then reads the reach dashboard on a desktop and on a phone, sorts it and looks at one article's chart.

Each page is photographed (/tmp/reach-*.png) and checked with axe-core.
"""

import re
import tempfile
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from articles import page_cache
from articles.models import Article, ArticleDailyViews
from tests.browser.test_accessibility import AXE_OPTIONS, DESKTOP, PHONE, demo, describe_violations  # noqa: F401
from tests.browser.test_editorial_story import log_in
from tests.test_page_cache import use_redis
from tests.tools import REDIS_URL

ARTICLE = "/articles/exosomes-wound-healing/"
SHOTS = Path(tempfile.gettempdir())
# Headless Chromium says so in its user agent, and the counter rightly leaves it out; the patient's phone does not.
PATIENTS_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
)


def check(page, name: str) -> None:
    """Photograph the page and assert that axe-core finds no WCAG A/AA problem on it."""
    page.screenshot(path=SHOTS / f"reach-{name}.png", full_page=True)
    violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    assert not violations, f"{name}:\n{describe_violations(violations)}"


def read_article(page) -> None:
    """Open the article and wait until the browser has fetched its counting image."""
    with page.expect_response(re.compile(r"/reach/\d+\.gif$")) as beacon:
        page.goto(ARTICLE)
    assert beacon.value.status == 200
    assert "no-store" in beacon.value.headers["cache-control"]


@pytest.mark.django_db(transaction=True)
def test_a_patients_readings_are_counted_and_an_editor_sorts_the_dashboard(browser, live_server, demo, settings):  # noqa: F811
    use_redis(settings, REDIS_URL)  # the page cache on, as in production
    article = Article.objects.live().get(live_snapshot__slug="exosomes-wound-healing")
    before = sum(ArticleDailyViews.objects.filter(article=article).values_list("views", flat=True))

    context = browser.new_context(base_url=live_server.url, viewport=PHONE, user_agent=PATIENTS_PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    read_article(page)
    kept = len(page_cache._process.pages)
    assert kept >= 1  # the page was rendered and kept ...
    check(page, "article-390")
    read_article(page)  # ... and this time served from the cache, image and all
    assert len(page_cache._process.pages) == kept
    assert not context.cookies()
    context.close()
    after = sum(ArticleDailyViews.objects.filter(article=article).values_list("views", flat=True))
    assert after == before + 2

    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, "editor")
    page.goto("/review/")
    page.get_by_role("link", name="Reach", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reach: what patients read")
    expect(page.get_by_role("img", name="Daily views of the whole site")).to_be_visible()
    check(page, "dashboard-1280")
    page.get_by_role("link", name="Views, 30 days").click()
    header = page.get_by_role("columnheader", name=re.compile("Views, 30 days"))
    expect(header).to_have_attribute("aria-sort", "descending")
    views_30 = [int(text) for text in page.locator(".reach-table tbody tr td:nth-of-type(2)").all_inner_texts()]
    assert len(views_30) >= 2
    assert views_30 == sorted(views_30, reverse=True)
    check(page, "sorted-1280")
    page.get_by_role("link", name="Views, 30 days").click()  # again: the other way round
    expect(header).to_have_attribute("aria-sort", "ascending")
    page.locator(".reach-table tbody tr th a").first.click()
    expect(page.get_by_role("img", name=re.compile("^Daily views of “"))).to_be_visible()
    page.get_by_text("The numbers behind the chart").click()
    expect(page.get_by_role("region", name="Views by day")).to_be_visible()
    check(page, "article-chart-1280")

    page.set_viewport_size(PHONE)
    page.goto("/review/reach/?sort=due")
    expect(page.get_by_role("columnheader", name=re.compile("Review due"))).to_have_attribute("aria-sort", "ascending")
    check(page, "dashboard-390")
    # The page itself never scrolls sideways on a phone: the table scrolls in its own (focusable) box.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    table_box = page.get_by_role("region", name="Table of live articles")
    assert table_box.evaluate("box => box.scrollWidth > box.clientWidth")
    table_box.focus()
    page.keyboard.press("ArrowRight")
    context.close()
