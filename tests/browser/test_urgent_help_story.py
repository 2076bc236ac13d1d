"""An editor adds a topic's "Get urgent help" box in the admin; a patient sees it, and related articles, on a phone
and a desktop; a writer can read the box in the admin but not change it.

Each page is photographed (/tmp/urgent-help-*.png) and checked with axe-core.
"""

import re
import tempfile
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from articles.models import UrgentHelp
from articles.models.urgent_help import PHONE_INVALID
from tests.browser.test_accessibility import AXE_OPTIONS, DESKTOP, PHONE, demo, describe_violations  # noqa: F401
from tests.browser.test_editorial_story import log_in

ARTICLE = "/articles/exosomes-wound-healing/"
HEADING = "Call us today about a wound that may be infected"
SHOTS = Path(tempfile.gettempdir())  # urgent-help-<page>-<width>.png, to look at after a run


def new_page(browser, live_server, viewport):
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(15_000)
    return context, context.new_page()


def check(page, name: str, *, only=None) -> None:
    """Photograph the page and assert that axe-core finds no WCAG A/AA problem on it (or in `only`)."""
    page.screenshot(path=SHOTS / f"urgent-help-{name}.png", full_page=True)
    context = {"include": [only]} if only else None
    violations = Axe().run(page, context=context, options=AXE_OPTIONS).response["violations"]
    assert not violations, f"{name}:\n{describe_violations(violations)}"


@pytest.mark.django_db(transaction=True)
def test_an_editor_adds_an_urgent_help_box_and_a_patient_sees_it_with_related_articles(
    browser,
    live_server,
    demo,  # noqa: F811
):
    UrgentHelp.objects.all().delete()  # the demo's box: the editor writes it again here
    context, page = new_page(browser, live_server, DESKTOP)
    log_in(page, "editor")
    page.goto("/admin/articles/urgenthelp/add/")
    page.get_by_label("Topic").select_option(label="Wound care")
    page.get_by_label("Heading").fill(HEADING)
    page.get_by_label("Call the same day if").fill(
        "Redness spreading around the wound\n<b>Pus</b> or a bad smell\n\nA temperature of 100.4°F (38°C) or higher"
    )
    page.get_by_label("Same-day phone number").fill("call reception")
    page.get_by_label("Call the emergency number now if").fill("Red streaks spreading from the wound")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text(PHONE_INVALID)).to_be_visible()  # a number nobody can dial is refused, saying why
    check(page, "admin-refused-1280", only="#content")
    page.get_by_label("Same-day phone number").fill("(555) 010-2040")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text(re.compile("was added successfully"))).to_be_visible()
    context.close()

    for name, viewport in [("390", PHONE), ("1280", DESKTOP)]:
        context, page = new_page(browser, live_server, viewport)
        page.goto(ARTICLE)
        box = page.get_by_role("region", name=HEADING)
        expect(box).to_be_visible()
        expect(box.get_by_role("list").first.get_by_role("listitem")).to_have_text(
            ["Redness spreading around the wound", "Pus or a bad smell", "A temperature of 100.4°F (38°C) or higher"]
        )
        expect(box.get_by_role("list").last).to_have_text("Red streaks spreading from the wound")
        expect(box.get_by_role("link", name="(555) 010-2040")).to_have_attribute("href", "tel:5550102040")
        expect(box.get_by_role("link", name="911")).to_have_attribute("href", "tel:911")
        assert page.evaluate(
            """() => document.querySelector('.urgent-help').compareDocumentPosition(document.querySelector('.prose'))
               & Node.DOCUMENT_POSITION_FOLLOWING"""
        )
        related = page.get_by_role("navigation", name="Related articles")
        related.scroll_into_view_if_needed()
        links = related.get_by_role("link")
        expect(links).to_have_count(2)  # the other live demo articles in exosome therapy
        expect(links.first).to_have_text(re.compile("hair loss|skin", re.IGNORECASE))
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        box.scroll_into_view_if_needed()
        check(page, f"article-{name}")
        context.close()

    context, page = new_page(browser, live_server, DESKTOP)
    log_in(page, "writer")
    page.goto("/admin/")
    page.get_by_role("link", name="Urgent help boxes").click()
    page.get_by_role("link", name="Wound care").click()
    expect(page.get_by_text(HEADING, exact=True)).to_be_visible()  # the heading, as read-only text
    expect(page.locator("input[name=heading]")).to_have_count(0)  # read-only for writers
    expect(page.get_by_role("button", name="Save", exact=True)).to_have_count(0)
    check(page, "admin-writer-1280", only="#content")
    assert page.goto("/admin/articles/urgenthelp/add/").status == 403
    context.close()
