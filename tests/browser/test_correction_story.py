"""A correction, end to end in Chromium with the demo accounts (issue 15).

The writer corrects a live article and says what changed in one sentence, the reviewer reads that sentence on
the desk and signs the correction off, an editor publishes it, and a patient reads "Corrected on ..." below the
dates at a phone's and a desktop's width, and finds the correction on /corrections/. axe-core checks both pages.
"""

import os
import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import expect

from articles.models import Article
from tests.browser.test_accessibility import AXE_OPTIONS, DESKTOP, PHONE, SCREENSHOTS, describe_violations
from tests.browser.test_editorial_story import desk_message, log_in, new_page, open_from_queue, sign_off

# Where the photographs go: test-results/screenshots/ (git-ignored) unless SCREENSHOT_DIR says otherwise.
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", SCREENSHOTS))
SLUG = "exosomes-wound-healing"
SUMMARY = "What studies in mice show about exosomes and wound healing, and why no study in people shows it yet."
NOTE = "We said a study in people showed faster healing; it was a study in mice, and the summary now says so."


def test_a_correction_reaches_the_page_and_the_list_of_corrections(browser, live_server, roles):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with override_settings(DEBUG=True):
        call_command("seed_demo", verbosity=0)
    article = Article.objects.get(slug=SLUG)
    publish_correction(browser, live_server, article, summary=SUMMARY, note=NOTE, photograph=True)
    patient_reads_correction(browser, live_server, title=article.title, note=NOTE, summary=SUMMARY)


def publish_correction(browser, live_server, article, *, summary: str, note: str, photograph: bool = False) -> None:
    """The writer corrects the live article and says what changed, the reviewer signs it off, an editor publishes."""
    title = article.title
    writer, reviewer, editor = (new_page(browser, live_server) for _ in range(3))
    try:
        # 1. The writer corrects the live article and states what changed.
        log_in(writer, "writer")
        writer.goto(f"/admin/articles/article/{article.pk}/change/")
        expect(writer.get_by_label("What changed, for patients, in one sentence")).to_be_visible()
        writer.fill("#id_summary", summary)
        writer.fill("#id_correction_note", note)
        for viewport in (PHONE, DESKTOP) if photograph else ():
            writer.set_viewport_size(viewport)
            writer.locator("fieldset").filter(has=writer.locator("#id_correction_note")).screenshot(
                path=SHOTS / f"corrections-admin-field-{viewport['width']}.png"
            )
        writer.get_by_role("button", name="Save and submit for review").click()
        expect(writer.locator(".messagelist .success")).to_contain_text("Submitted for review")

        # 2. The reviewer reads the note on the desk and signs the correction off.
        log_in(reviewer, "reviewer")
        open_from_queue(reviewer, "Waiting for review", title, live=True)
        expect(reviewer.locator("#correction-note")).to_contain_text(f"This republication is a correction: “{note}”")
        for viewport in (PHONE, DESKTOP) if photograph else ():
            reviewer.set_viewport_size(viewport)
            reviewer.locator("#correction-note").scroll_into_view_if_needed()
            reviewer.screenshot(path=SHOTS / f"corrections-desk-{viewport['width']}.png")
        sign_off(reviewer)

        # 3. The editor sees it is a correction, and publishes it.
        log_in(editor, "editor")
        open_from_queue(editor, "Signed off, ready to publish", title, live=True)
        expect(editor.locator("#correction-note")).to_contain_text(note)
        editor.get_by_role("button", name="Publish now").click()
        expect(desk_message(editor, "Published: patients now see this version.")).to_be_visible()
    finally:
        for page in (writer, reviewer, editor):
            page.context.close()


def patient_reads_correction(browser, live_server, *, title: str, note: str, summary: str) -> None:
    """A patient reads the correction below the dates, and finds it on /corrections/, on a phone and a desktop."""
    today = f"{timezone.localdate():%-d %B %Y}"
    axe, failures = Axe(), []
    for viewport in (PHONE, DESKTOP):
        width = viewport["width"]
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        patient = context.new_page()
        try:
            patient.goto(f"/articles/{SLUG}/")
            corrections = patient.locator("article header .corrections")
            expect(corrections).to_have_text(re.compile(rf"Corrected on {today}:\s+{re.escape(note)}"))
            expect(patient.locator(".lead")).to_have_text(summary)
            box, dates = corrections.bounding_box(), patient.locator(".dates").bounding_box()
            assert box["y"] >= dates["y"] + dates["height"]  # below the dates
            assert box["x"] + box["width"] <= width  # and no wider than the phone
            corrections.scroll_into_view_if_needed()
            patient.screenshot(path=SHOTS / f"corrections-article-{width}.png", full_page=False)
            failures += [describe_violations(axe.run(patient, options=AXE_OPTIONS).response["violations"])]

            corrections.get_by_role("link", name="All our corrections").click()
            expect(patient.locator("h1")).to_have_text("Corrections")
            expect(patient.get_by_role("link", name="Corrections policy")).to_have_count(2)  # here and in the footer
            entry = patient.locator(".correction-list li").first
            expect(entry).to_contain_text(f"Corrected on {today}: {note}")
            patient.screenshot(path=SHOTS / f"corrections-list-{width}.png", full_page=True)
            failures += [describe_violations(axe.run(patient, options=AXE_OPTIONS).response["violations"])]
            entry.get_by_role("link", name=title).click()
            expect(patient).to_have_url(re.compile(f"/articles/{SLUG}/$"))
            footer = patient.get_by_role("contentinfo")
            expect(footer.get_by_role("link", name="Corrections we have made")).to_be_visible()
        finally:
            context.close()
    assert not any(failures), "axe found WCAG A/AA violations:\n" + "\n".join(filter(None, failures))
