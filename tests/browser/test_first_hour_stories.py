"""A new member of staff's first task, one story per role, through the real pages in Chromium.

With the demo content and accounts: the writer imports a record as an aggregator exports it (authors in the
Vancouver form "Shin KO"), cites it with the picker and submits; the reviewer approves one statement, asks for
changes to the other and sends the article back in one step; the writer fixes it; the reviewer approves and
signs off; the writer corrects the reference's record, confirming the approval it withdraws, and the reviewer
re-approves from the desk's section for such articles without a send-back; the editor publishes, then opens
the article's History page and compares two revisions. Every step saves a screenshot in
test-results/screenshots/first-hour/ to look at.
"""

import json
import re
from pathlib import Path

from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect

from articles.models import Article, Reference
from tests.browser.test_editorial_story import (
    approve,
    desk_message,
    log_in,
    new_page,
    open_from_queue,
    publish,
    sign_off,
    statement_badge,
    statement_card,
)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots" / "first-hour"

RECORD = {  # one line of an aggregator's export, as it writes it: authors a list in the Vancouver form
    "title": "Exosomes from Human Adipose Tissue-Derived Mesenchymal Stem Cells Promote Epidermal Barrier Repair "
    "by Inducing de Novo Synthesis of Ceramides in Atopic Dermatitis.",
    "authors": ["Shin KO", "Ha DH", "Kim JO", "Crumrine DA", "Meyer JM", "Wakefield JS", "Lee Y"],
    "doi": "10.3390/cells9030680",
    "abstract": "<p>In cultured skin cells and in a mouse model of atopic dermatitis, exosomes from adipose-derived "
    "stem cells increased ceramides and improved the skin barrier.</p>",
    "journal": {"name": "Cells", "volume": "9 3", "pages": "680"},
    "publicationDate": "2020-03-11",
    "publicationTypes": "Journal Article",
    "platform": "Semanticscholar",
}
AMA_AUTHORS = "Shin KO, Ha DH, Kim JO, et al."
TITLE = "Exosomes and the skin barrier: what lab studies show"
SUMMARY = "Early research in cells and mice, and what it does not tell us about people with eczema."
OVERSTATED = "Exosomes repair the skin barrier in people with eczema [@mahmoud2025]."
REWORDED = "Reviews say exosomes have not yet been shown to help people with eczema [@mahmoud2025]."
LAB_CLAIM = "In lab and mouse studies, exosomes helped rebuild the skin barrier."
STATEMENT_COMMENT = "This overstates the evidence: no study in people showed this."
OVERALL_COMMENT = "One claim needs rewording; the rest is ready."


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def writer_imports_the_record(writer) -> Reference:
    writer.goto("/admin/articles/reference/")
    writer.get_by_role("link", name="Import references").click()
    writer.get_by_label("Paste records").fill(json.dumps(RECORD))
    writer.get_by_role("button", name="Import").click()
    expect(writer.locator("#content")).to_contain_text("shin2020")  # the preview, nothing saved yet
    shot(writer, "1-writer-import-preview")
    assert not Reference.objects.filter(doi=RECORD["doi"]).exists()
    writer.get_by_role("button", name=re.compile("^Confirm")).click()
    expect(writer.locator(".messagelist .success")).to_contain_text("shin2020")
    reference = Reference.objects.get(doi=RECORD["doi"])
    assert reference.citation_key == "shin2020"
    assert reference.ama.startswith(AMA_AUTHORS), reference.ama
    expect(writer.locator("#result_list")).to_contain_text(AMA_AUTHORS)
    return reference


def writer_writes_cites_and_submits(writer) -> Article:
    writer.goto("/admin/articles/article/add/")
    writer.fill("#id_title", TITLE)
    writer.fill("#id_summary", SUMMARY)
    editor = writer.locator(".field-body .prose-editor [contenteditable=true]")
    editor.click()
    editor.press_sequentially(OVERSTATED)
    editor.press("Enter")
    editor.press_sequentially(LAB_CLAIM)
    search = writer.get_by_label("Cite a reference")
    search.fill("Shin")
    first = writer.locator("#citation-picker-results button").first
    expect(first).to_contain_text("[@shin2020]")
    search.press("ArrowDown")
    first.press("Enter")
    expect(writer.locator("#citation-live-check")).to_have_text("All 2 citation keys match a reference.")
    writer.select_option("#id_topics_from", label="Skin ageing")
    writer.click("#id_topics_add")
    shot(writer, "2-writer-cites-with-the-picker")
    writer.get_by_role("button", name="Save and submit for review").click()
    expect(writer.locator(".messagelist .success")).to_contain_text("Submitted for review")
    article = Article.objects.get(title=TITLE)
    assert article.status == Article.Status.IN_REVIEW
    assert article.citation_keys == ["mahmoud2025", "shin2020"]
    return article


def reviewer_approves_one_and_sends_back_the_other(reviewer) -> None:
    open_from_queue(reviewer, "Waiting for review", TITLE)
    expect(statement_card(reviewer, 2).locator(".statement-text")).to_contain_text("[@shin2020]")
    expect(statement_card(reviewer, 2)).to_contain_text(AMA_AUTHORS)
    approve(reviewer, 2, level="F", certainty="very_low")
    send_back = reviewer.get_by_role("region", name="Send back to the writer")
    send_back.get_by_label("What needs to change overall").fill(OVERALL_COMMENT)
    statement_one = send_back.locator("fieldset").filter(has_text="Statement 1")
    statement_one.get_by_label("What needs to change in this statement").fill(STATEMENT_COMMENT)
    shot(reviewer, "3-reviewer-sends-back-in-one-step")
    send_back.get_by_role("button", name="Request changes").click()
    expect(desk_message(reviewer, "went back to its writer")).to_be_visible()
    expect(reviewer.locator("#article-status")).to_have_text("Changes requested")
    expect(statement_badge(reviewer, 1)).to_have_text("Changes requested")
    expect(statement_badge(reviewer, 2)).to_have_text(re.compile("^Approved: level F,"))


def writer_fixes_the_statement(writer, article) -> None:
    writer.goto("/admin/")
    expect(writer.locator("#content")).to_contain_text(STATEMENT_COMMENT)  # on the writer's desk
    writer.get_by_role("link", name=TITLE).first.click()
    expect(writer.locator("#content")).to_contain_text(STATEMENT_COMMENT)  # at the top of the change form
    shot(writer, "4-writer-reads-the-comment")
    editor = writer.locator(".field-body .prose-editor [contenteditable=true]")
    first_paragraph = editor.locator("p").first
    first_paragraph.click()
    writer.keyboard.press("Home")
    writer.keyboard.press("Shift+End")
    writer.keyboard.press("Delete")
    writer.keyboard.type(REWORDED)
    expect(writer.locator("#citation-live-check")).to_have_text("All 2 citation keys match a reference.")
    writer.get_by_role("button", name="Save and submit for review").click()
    expect(writer.locator(".messagelist .success")).to_contain_text("Submitted for review")
    article.refresh_from_db()
    assert article.status == Article.Status.IN_REVIEW
    assert REWORDED.removesuffix(" [@mahmoud2025].") in article.body


def reviewer_approves_and_signs_off(reviewer) -> None:
    open_from_queue(reviewer, "Waiting for review", TITLE)
    expect(reviewer.get_by_role("region", name="Changes since your last review")).to_be_visible()
    approve(reviewer, 1, level="F", certainty="low")
    sign_off(reviewer)
    shot(reviewer, "5-reviewer-signed-off")


def writer_corrects_the_reference(writer, reference) -> None:
    writer.goto(f"/admin/articles/reference/{reference.pk}/change/")
    writer.get_by_label("Pages").fill("680-695")
    writer.get_by_role("button", name="Save", exact=True).click()
    expect(writer.locator("#content")).to_contain_text(TITLE)  # the approval this change withdraws
    shot(writer, "6-writer-confirms-the-reference-change")
    writer.get_by_role("button", name=re.compile("^Yes, save")).click()
    expect(writer.locator(".messagelist .success")).to_be_visible()
    reference.refresh_from_db()
    assert reference.pages == "680-695"


def reviewer_reapproves_from_the_new_section(reviewer, article) -> None:
    open_from_queue(reviewer, "A cited reference changed after sign-off", TITLE)
    expect(statement_badge(reviewer, 2)).to_have_text("A cited reference changed after approval")
    expect(statement_badge(reviewer, 1)).to_have_text(re.compile("^Approved: level F,"))
    shot(reviewer, "7-reviewer-sees-the-withdrawn-approval")
    approve(reviewer, 2, level="F", certainty="very_low")
    sign_off(reviewer)
    article.refresh_from_db()
    assert article.status == Article.Status.SIGNED_OFF  # kept its place: no send-back, no resubmission


def editor_publishes_and_compares_revisions(editor, patient, article) -> None:
    open_from_queue(editor, "Signed off, ready to publish", TITLE)
    publish(editor)
    expect(editor.get_by_role("region", name="Still blocking publication")).to_have_count(0)
    shot(editor, "8-editor-published")
    patient.goto(article.get_absolute_url())
    expect(patient.locator("article h1")).to_have_text(TITLE)
    expect(patient.locator(".references")).to_contain_text(AMA_AUTHORS)
    expect(patient.locator(".references")).to_contain_text("680-695")

    editor.goto(f"/admin/articles/article/{article.pk}/change/")
    editor.get_by_role("link", name="History").click()
    expect(editor.locator("h1")).to_contain_text("Change history")
    shot(editor, "9-editor-history")
    editor.get_by_role("button", name="Compare").click()
    expect(editor.locator("h1")).to_contain_text("Compare revisions")
    expect(editor.locator("#content")).to_contain_text("Body")
    shot(editor, "10-editor-compares-revisions")


def test_each_role_does_its_first_task_through_the_real_pages(browser, live_server, roles):
    with override_settings(DEBUG=True):
        call_command("seed_demo", verbosity=0)
    pages = [new_page(browser, live_server) for _ in range(4)]
    writer, reviewer, editor, patient = pages
    try:
        for page, username in ((writer, "writer"), (reviewer, "reviewer"), (editor, "editor")):
            log_in(page, username)
        reference = writer_imports_the_record(writer)
        article = writer_writes_cites_and_submits(writer)
        reviewer_approves_one_and_sends_back_the_other(reviewer)
        writer_fixes_the_statement(writer, article)
        reviewer_approves_and_signs_off(reviewer)
        writer_corrects_the_reference(writer, reference)
        reviewer_reapproves_from_the_new_section(reviewer, article)
        editor_publishes_and_compares_revisions(editor, patient, article)
    finally:
        for page in pages:
            page.context.close()
