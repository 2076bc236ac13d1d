"""A writer adds a key point in the admin, a reviewer approves it on the desk, and patients read the labelled
"Key points" box and the "On this page" contents on a phone and a desktop.

Each page is photographed (/tmp/keypoints-*.png) and checked with axe-core.
"""

import re
import tempfile
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from articles.models import Article
from tests.browser.test_accessibility import AXE_OPTIONS, DESKTOP, PHONE, demo, describe_violations  # noqa: F401
from tests.browser.test_editorial_story import approve, log_in, new_page, open_from_queue, publish, sign_off

SLUG = "exosomes-wound-healing"
TITLE = "Exosomes for wound healing: what the research shows so far"
NEW_POINT = "In rats with diabetes, exosomes from platelets helped slow wounds grow new skin [@guo2017]."
SHOTS = Path(tempfile.gettempdir())


def check(page, name: str) -> None:
    """Photograph the page and assert that axe-core finds no WCAG A/AA problem on it."""
    page.screenshot(path=SHOTS / f"keypoints-{name}.png", full_page=True)
    violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    assert not violations, f"{name}:\n{describe_violations(violations)}"


@pytest.mark.django_db(transaction=True)
def test_a_key_point_is_written_approved_and_shown_labelled_with_the_contents(browser, live_server, demo):  # noqa: F811
    article = Article.objects.get(slug=SLUG)
    writer, reviewer, editor = (new_page(browser, live_server) for _ in range(3))

    # The writer adds a cited key point at the end of the box, above the body in the change form.
    log_in(writer, "writer")
    # Every script and editor module loaded first: the editors start from the textareas when their modules arrive.
    writer.goto(f"/admin/articles/article/{article.pk}/change/", wait_until="networkidle")
    box = writer.locator(".field-key_points .prose-editor [contenteditable=true]")
    expect(box).to_contain_text("Almost all of the research on exosomes")
    points_before = box.locator("li").count()
    box.click()
    expect(box).to_be_focused()  # keys sent before the editor has the caret land elsewhere on a busy machine
    box.press("Control+End")
    box.press("Enter")
    expect(box.locator("li")).to_have_count(points_before + 1)  # a new, empty point at the end of the list
    # One input event, as a paste or an input method sends it: key by key, a busy machine sometimes lost the new
    # point (its empty list item went with the first keys), which no person typing at a person's pace meets.
    writer.keyboard.insert_text(NEW_POINT)
    expect(box.locator("li").last).to_have_text(NEW_POINT)
    writer.set_viewport_size(PHONE)
    writer.locator(".field-key_points").scroll_into_view_if_needed()
    # Photographed only: Django's own admin pages are not axe-clean (breadcrumbs, the editor's toolbar); the
    # desk and the patient pages, which this project owns, are checked below.
    writer.screenshot(path=SHOTS / "keypoints-admin-390.png", full_page=True)
    writer.get_by_role("button", name="Save and submit for review").click()
    expect(writer.get_by_text("Submitted for review")).to_be_visible()
    article.refresh_from_db()
    assert NEW_POINT in article.key_points

    # The reviewer sees it among the statements, marked as a key point, approves it and signs off.
    log_in(reviewer, "reviewer")
    open_from_queue(reviewer, "Waiting for review", TITLE, live=True)
    card = reviewer.locator("article.statement").filter(has_text=NEW_POINT)
    expect(card.locator(".card-header")).to_contain_text("(in the key points)")
    number = int(card.get_attribute("id").removeprefix("statement-"))
    expect(reviewer.get_by_role("region", name="Key points")).to_contain_text(NEW_POINT)
    check(reviewer, "desk-1280")
    approve(reviewer, number, level="E")
    sign_off(reviewer)

    log_in(editor, "editor")
    open_from_queue(editor, "Signed off", TITLE, live=True)
    publish(editor)

    # Patients read the box, labelled, and jump to a section from the contents, on a phone and a desktop.
    for name, viewport in (("390", PHONE), ("1280", DESKTOP)):
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        patient = context.new_page()
        patient.goto(f"/articles/{SLUG}/")
        points = patient.get_by_role("region", name="Key points")
        expect(points.get_by_role("listitem").last).to_contain_text(
            re.compile(r"grow new skin\s*\d+\s*Evidence: Animal study")
        )
        contents = patient.get_by_role("navigation", name="On this page")
        expect(contents.get_by_role("link")).to_have_count(6)
        check(patient, f"article-{name}")
        contents.get_by_role("link", name="Risks and side effects").click()
        expect(patient).to_have_url(re.compile("#section-risks-and-side-effects$"))
        expect(patient.get_by_role("heading", name="Risks and side effects")).to_be_in_viewport()
        context.close()
