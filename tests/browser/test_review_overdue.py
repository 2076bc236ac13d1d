"""The overdue notice (issue #15, honest dates) in Chromium, at a phone width and a desktop width: visible near
the top, no sideways scrolling, and axe-core finds no WCAG A/AA problems."""

import datetime
import zoneinfo
from unittest import mock

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings

from tests.browser.test_accessibility import AXE_OPTIONS, DESKTOP, PHONE, SCREENSHOTS, describe_violations
from tests.factories import TopicFactory, live_article


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone-390", "desktop-1280"])
def test_an_overdue_page_says_so_near_the_top_and_stays_accessible(browser, live_server, roles, viewport):
    article = live_article(title="Exosomes for sun-damaged skin", topics=[TopicFactory(overdue_grace_days=30)])
    day_after = article.live_snapshot.next_review_due + datetime.timedelta(days=1)
    midday = datetime.datetime.combine(day_after, datetime.time(12), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        with mock.patch("django.utils.timezone.now", return_value=midday):  # the live server's thread too
            assert page.goto(article.get_absolute_url()).status == 200
        notice = page.get_by_role("complementary", name="This page is due for review.")
        assert notice.is_visible()
        assert "The information may be out of date." in notice.inner_text()
        assert notice.bounding_box()["y"] < page.locator(".prose").bounding_box()["y"]
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"review-overdue-{viewport['width']}.png", full_page=True)
        violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    finally:
        context.close()
    assert not violations, describe_violations(violations)
