"""A patient on a phone says a page did not help and reports a problem; the clinic corrects the page.

Both forms are plain HTML (no JavaScript needed) on the cached article page. The editor reads the report on the
review desk and goes to the article from it; the writer corrects the article, the reviewer signs the correction
off and the editor publishes it; the editor then closes the report as corrected, and the patient finds the
correction on the page and on /corrections/. Each page is photographed (/tmp/feedback-*.png, and the
correction story's photographs) and checked with axe-core.
"""

import re
import tempfile
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from articles import feedback as feedback_messages
from articles.models import Article, PageFeedback, ProblemReport
from tests.browser.test_accessibility import AXE_OPTIONS, DESKTOP, PHONE, demo, describe_violations  # noqa: F401
from tests.browser.test_correction_story import SLUG, patient_reads_correction, publish_correction
from tests.browser.test_editorial_story import log_in

ARTICLE = f"/articles/{SLUG}/"
COMMENT = "It does not say how long healing takes."
DESCRIPTION = "The second paragraph says <b>all</b> wounds heal faster; the study was only in mice."
EMAIL = "pat@example.com"
NOTE = "Reworded paragraph 2 to say the study was in mice."
SUMMARY = "What studies in mice show about exosomes and wound healing; no study in people shows faster healing."
CORRECTION = "We said wounds heal faster; that was seen only in mice, and the summary now says so."
SHOTS = Path(tempfile.gettempdir())  # feedback-<page>-<width>.png, to look at after a run


def new_page(browser, live_server, viewport):
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(15_000)
    return context, context.new_page()


def check(page, name: str) -> None:
    """Photograph the page and assert that axe-core finds no WCAG A/AA problem on it."""
    page.screenshot(path=SHOTS / f"feedback-{name}.png", full_page=True)
    violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    assert not violations, f"{name}:\n{describe_violations(violations)}"


@pytest.mark.django_db(transaction=True)
def test_a_patients_report_ends_in_a_correction_on_the_page(browser, live_server, demo):  # noqa: F811
    context, page = new_page(browser, live_server, PHONE)
    page.goto(ARTICLE)
    feedback = page.get_by_role("region", name="Was this page helpful?")
    feedback.scroll_into_view_if_needed()
    check(page, "article-390")
    page.locator("summary", has_text=re.compile("^No$")).click()
    page.get_by_label("What was missing or wrong? (optional)").fill(COMMENT)
    check(page, "no-open-390")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    check(page, "thanks-390")
    page.get_by_role("link", name="Back to the page").click()
    page.locator("summary", has_text="Report a problem with this page").click()
    page.get_by_label("Factual error").check()
    check(page, "report-open-390")
    # Sent without a description (as an old browser would, ignoring `required`): the form comes back, kind kept.
    page.locator("#report-description").evaluate("element => element.removeAttribute('required')")
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_text(feedback_messages.DESCRIBE_PROBLEM)).to_be_visible()
    expect(page.get_by_label("Factual error")).to_be_checked()
    check(page, "form-again-390")
    page.get_by_label("What is the problem?").fill(DESCRIPTION)
    page.get_by_label("Your email address").fill(EMAIL)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("We have your report")).to_be_visible()
    page.set_viewport_size(DESKTOP)
    page.goto(ARTICLE + "#feedback")
    check(page, "article-1280")
    context.close()
    assert PageFeedback.objects.filter(helpful=False, comment=COMMENT).count() == 1
    report = ProblemReport.objects.get(description=DESCRIPTION)
    assert report.email == EMAIL

    context, page = new_page(browser, live_server, DESKTOP)
    log_in(page, "editor")
    page.goto("/review/")
    reports = page.get_by_role("region", name=re.compile("^Problem reports"))
    check(page, "desk-queue-1280")
    reports.get_by_role("link", name="Factual error").first.click()
    expect(page.get_by_text(DESCRIPTION)).to_be_visible()  # shown as text: the <b> is not markup
    expect(page.get_by_role("link", name=re.compile("^Exosomes for wound healing"))).to_be_visible()
    check(page, "desk-report-1280")
    page.get_by_role("link", name=re.compile("^Exosomes for wound healing")).click()  # the article's desk page
    article = Article.objects.get(slug=SLUG)
    expect(page.locator("h1")).to_have_text(article.title)
    report_address = f"/review/reports/{report.pk}/"
    context.close()

    # The writer corrects the article, the reviewer signs the correction off, the editor publishes it.
    publish_correction(browser, live_server, article, summary=SUMMARY, note=CORRECTION)

    context, page = new_page(browser, live_server, DESKTOP)
    log_in(page, "editor")
    page.goto(report_address)
    corrections = page.get_by_role("region", name="Corrections published since this report arrived")
    expect(corrections).to_contain_text(CORRECTION)
    page.get_by_role("button", name="Close report").click()  # nothing chosen: the form says what is missing
    expect(page.get_by_text("Choose the outcome.")).to_be_visible()
    page.get_by_label("Corrected").check()
    page.get_by_label("Note").fill(NOTE)
    page.get_by_role("button", name="Close report").click()
    expect(page.get_by_text("Report closed as “Corrected”")).to_be_visible()
    expect(page.get_by_text(NOTE)).to_be_visible()
    check(page, "desk-closed-1280")
    page.set_viewport_size(PHONE)
    check(page, "desk-closed-390")
    context.close()
    report.refresh_from_db()
    assert (report.status, report.outcome, report.closing_note, report.email) == ("closed", "corrected", NOTE, "")

    # The patient finds the correction on the page and on /corrections/, on a phone and a desktop.
    patient_reads_correction(browser, live_server, title=article.title, note=CORRECTION, summary=SUMMARY)
