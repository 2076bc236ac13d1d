"""The whole editorial story, end to end in Chromium, with the real demo accounts from `seed_demo`.

A writer drafts and submits an article, a reviewer sends it back, the writer revises it, the reviewer
grades every claim and signs off, an editor publishes it, and a patient reads it. Then the writer
edits the live article: patients keep the old text until the edit is reviewed and published again.
"""

import re

from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect

from articles.models import Article

PASSWORDS = {"writer": "writer-demo-pass", "reviewer": "reviewer-demo-pass", "editor": "editor-demo-pass"}

TITLE = "Wound healing: what the mouse studies show"
SLUG = "wound-healing-what-the-mouse-studies-show"
SUMMARY = "Early research in animals, and what it does not tell us about people."
MICE = "In mice, wounds closed faster [@hu2016]."
MICE_REVISED = "In a study in mice, not people, wounds closed faster [@hu2016]."
EXPERTS = "Experts say more studies in people are needed [@mahmoud2025]."
EXPERTS_REVISED = "Experts say more studies in people are needed before clinics offer it [@mahmoud2025]."
TITLE_REVISED = "Wound healing: what the mouse studies do and do not show"
STATEMENT_COMMENT = "Say plainly that this was in mice, not people."
SEND_BACK_COMMENT = "One claim needs rewording; see the comment on statement 1."


def new_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    return context.new_page()


def log_in(page, username):
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORDS[username])
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def type_body(page, *paragraphs):
    """Replace the whole body in the prose editor with these paragraphs, typed as a person would."""
    editor = page.locator(".field-body .prose-editor [contenteditable=true]")
    editor.click()
    expect(editor).to_be_focused()  # keys sent before the editor has the caret land elsewhere on a busy machine
    editor.press("Control+a")
    editor.press("Delete")
    for index, paragraph in enumerate(paragraphs):
        if index:
            editor.press("Enter")
        editor.press_sequentially(paragraph)
    expect(page.locator("#citation-live-check")).to_have_text("All 2 citation keys match a reference.")


def open_from_queue(page, section, title, *, live=False):
    """Open the article from one section of the review queue, as a reviewer or editor would."""
    page.goto("/review/")
    row = page.get_by_role("region", name=re.compile(f"^{section}")).get_by_role("row").filter(has_text=title)
    expect(row.locator(".badge")).to_have_text(["live"] if live else [])
    row.get_by_role("link", name=title, exact=True).click()
    expect(page.locator("h1")).to_have_text(title)


def statement_card(page, number):
    return page.locator(f"#statement-{number}")


def statement_badge(page, number):
    return statement_card(page, number).locator(".card-header .badge")


def desk_message(page, text):
    """The outcome message the review desk shows after a step (role="status")."""
    return page.get_by_role("status").filter(has_text=text)


def approve(page, number, *, level, certainty="low"):
    form = page.locator(f'form[aria-label="Approve statement {number}"]')
    form.locator(f'input[type=radio][name$="-evidence_level"][value="{level}"]').check()
    form.locator('select[name$="-certainty"]').select_option(certainty)
    form.get_by_role("button", name=f"Approve statement {number}").click()
    expect(desk_message(page, "Statement approved.")).to_be_visible()
    expect(statement_badge(page, number)).to_have_text(re.compile(f"^Approved: level {level},"))


def sign_off(page):
    confirm = page.get_by_label("I have read these warnings")
    if confirm.count():
        confirm.check()
    button = page.get_by_role("button", name="Sign off", exact=True)
    # The page has loaded (the caller saw its last step's outcome): no button means the desk refuses, so say why.
    assert button.count(), "No “Sign off” button. The desk says: " + page.locator("main").inner_text()[:3000]
    button.click()
    expect(desk_message(page, "Signed off.")).to_be_visible()
    expect(page.locator("#article-status")).to_have_text("Signed off")
    expect(page.locator("#blockers")).to_contain_text("Nothing blocks publication")


def publish(page):
    page.get_by_role("button", name="Publish now").click()
    expect(desk_message(page, "Published: patients now see this version.")).to_be_visible()
    expect(page.locator("#article-status")).to_have_text("Published")


def test_an_article_goes_from_draft_to_patients_and_an_edit_waits_for_review(browser, live_server, roles):
    with override_settings(DEBUG=True):
        call_command("seed_demo", verbosity=0)

    writer = new_page(browser, live_server)
    reviewer = new_page(browser, live_server)
    editor = new_page(browser, live_server)
    patient = new_page(browser, live_server)
    try:
        # 1. The writer drafts the article and submits it in one go.
        log_in(writer, "writer")
        writer.goto("/admin/articles/article/add/")
        writer.fill("#id_title", TITLE)
        writer.press("#id_title", "Tab")
        expect(writer.locator("#id_slug")).to_have_value(SLUG)  # filled in from the title
        writer.fill("#id_summary", SUMMARY)
        type_body(writer, MICE, EXPERTS)
        writer.select_option("#id_topics_from", label="Wound care")
        writer.click("#id_topics_add")
        writer.get_by_role("button", name="Save and submit for review").click()
        expect(writer.locator(".messagelist .success")).to_contain_text(
            "Submitted for review: the reviewers have been told."
        )
        article = Article.objects.get(slug=SLUG)
        assert article.status == Article.Status.IN_REVIEW
        assert article.author.username == "writer"

        # 2. The reviewer finds it in the queue, flags the mouse claim and sends the article back.
        log_in(reviewer, "reviewer")
        open_from_queue(reviewer, "Waiting for review", TITLE)
        expect(reviewer.locator("#article-status")).to_have_text("In review")
        expect(statement_card(reviewer, 1).locator(".statement-text")).to_have_text(MICE)
        expect(statement_card(reviewer, 2).locator(".statement-text")).to_have_text(EXPERTS)
        changes = reviewer.locator('form[aria-label="Request changes to statement 1"]')
        changes.locator("textarea").fill(STATEMENT_COMMENT)
        changes.get_by_role("button", name="Request changes to statement 1").click()
        expect(desk_message(reviewer, "Your comment on the statement is recorded.")).to_be_visible()
        expect(statement_badge(reviewer, 1)).to_have_text("Changes requested")
        send_back = reviewer.get_by_role("region", name="Send back to the writer")
        send_back.get_by_label("What needs to change overall").fill(SEND_BACK_COMMENT)
        send_back.get_by_role("button", name="Request changes").click()
        expect(desk_message(reviewer, "went back to its writer")).to_be_visible()
        expect(reviewer.locator("#article-status")).to_have_text("Changes requested")

        # 3. The writer reads the comment in the checklist, rewrites the claim and resubmits.
        writer.goto(f"/admin/articles/article/{article.pk}/change/")
        checklist = writer.locator(".publishing-checklist")
        expect(checklist).to_contain_text("State: Changes requested.")
        expect(checklist.locator(".statement-changes_requested")).to_contain_text(f"Reviewer: “{STATEMENT_COMMENT}”")
        expect(writer.locator(".audit-timeline")).to_contain_text(SEND_BACK_COMMENT)
        type_body(writer, MICE_REVISED, EXPERTS)
        writer.get_by_role("button", name="Save and submit for review").click()
        expect(writer.locator(".messagelist .success")).to_contain_text("Submitted for review")
        expect(writer.locator(".messagelist .error")).to_have_count(0)

        # 4. The reviewer grades both claims and signs the article off.
        open_from_queue(reviewer, "Waiting for review", TITLE)
        expect(reviewer.locator("#article-status")).to_have_text("In review")
        expect(statement_card(reviewer, 1).locator(".statement-text")).to_have_text(MICE_REVISED)
        expect(statement_badge(reviewer, 1)).to_have_text("Not yet approved")
        approve(reviewer, 1, level="E")
        approve(reviewer, 2, level="F")
        expect(reviewer.locator("#blockers")).to_contain_text("has not been signed off")
        sign_off(reviewer)
        assert patient.goto(f"/articles/{SLUG}/").status == 404  # signed off is not yet published

        # 5. The editor publishes it from the desk.
        log_in(editor, "editor")
        open_from_queue(editor, "Signed off, ready to publish", TITLE)
        expect(editor.locator("#article-status")).to_have_text("Signed off")
        publish(editor)

        # 6. A patient reads it, with the evidence labels and the reviewer's name.
        patient.goto(f"/articles/{SLUG}/")
        expect(patient.locator("article h1")).to_have_text(TITLE)
        labels = patient.locator(".prose .evidence-label")
        expect(labels).to_have_text(["Evidence: Animal study", "Evidence: Lab study or expert view"])
        expect(labels.first.locator(".visually-hidden")).to_have_text("Evidence: ")
        prose = patient.locator(".prose")
        expect(prose).to_contain_text("In a study in mice, not people, wounds closed faster")
        expect(prose).to_contain_text("Experts say more studies in people are needed")
        expect(prose).not_to_contain_text("[@")
        expect(patient.locator(".reviewed-by")).to_contain_text("Medically reviewed by Daniel Reyes")
        expect(patient.locator(".references li")).to_have_count(2)
        expect(patient.get_by_role("heading", name="Article history")).to_have_count(0)
        expect(patient.locator("article .topics")).to_have_text("Wound care")
        expect(patient.get_by_role("complementary", name="For education only")).to_be_visible()

        # 7. The writer edits the live article; patients keep the published version meanwhile.
        writer.goto(f"/admin/articles/article/{article.pk}/change/")
        writer.fill("#id_title", TITLE_REVISED)
        expect(writer.locator("#id_slug")).to_have_value(SLUG)
        type_body(writer, MICE_REVISED, EXPERTS_REVISED)
        writer.click("input[name=_continue]")
        expect(writer.locator(".messagelist .warning")).to_contain_text(
            "Patients still see the published version until this edit is reviewed and published."
        )
        patient.reload()
        expect(patient.locator("article h1")).to_have_text(TITLE)
        expect(patient.locator(".prose")).to_contain_text("Experts say more studies in people are needed")
        expect(patient.locator(".prose")).not_to_contain_text("before clinics offer it")
        patient.goto("/articles/")
        expect(patient.get_by_role("link", name=TITLE, exact=True)).to_be_visible()
        expect(patient.get_by_role("link", name=TITLE_REVISED)).to_have_count(0)
        patient.goto(f"/articles/{SLUG}/")
        writer.get_by_role("button", name="Save and submit for review").click()
        expect(writer.locator(".messagelist .success")).to_contain_text("Submitted for review")

        # 8. The reviewer re-approves the changed claim (the other one keeps its approval) and signs off again.
        open_from_queue(reviewer, "Waiting for review", TITLE_REVISED, live=True)
        expect(reviewer.locator("#article-status")).to_have_text("In review")
        expect(statement_badge(reviewer, 1)).to_have_text(re.compile("^Approved: level E,"))
        second = statement_card(reviewer, 2)
        expect(second.locator(".statement-text")).to_have_text(EXPERTS_REVISED)
        expect(statement_badge(reviewer, 2)).to_have_text("Edited after approval")
        expect(second.locator("del")).to_have_text(EXPERTS)
        expect(reviewer.get_by_role("region", name="Changes since the live version")).to_be_visible()
        approve(reviewer, 2, level="F")
        sign_off(reviewer)
        patient.reload()
        expect(patient.locator("article h1")).to_have_text(TITLE)  # still the old version until published

        # 9. The editor publishes the update; the patient now reads the new text and its history.
        open_from_queue(editor, "Signed off, ready to publish", TITLE_REVISED, live=True)
        publish(editor)
        patient.reload()
        expect(patient.locator("article h1")).to_have_text(TITLE_REVISED)
        prose = patient.locator(".prose")
        expect(prose).to_contain_text("Experts say more studies in people are needed before clinics offer it")
        expect(patient.locator(".prose .evidence-label")).to_have_text(
            ["Evidence: Animal study", "Evidence: Lab study or expert view"]
        )
        expect(patient.locator(".reviewed-by")).to_contain_text("Medically reviewed by Daniel Reyes")
        expect(patient.locator(".dates dt")).to_contain_text(["Published", "Updated"])
        history = patient.get_by_role("region", name="Article history")
        expect(history).to_be_visible()
        expect(history.locator("li")).to_have_count(2)
        expect(history.locator("li").first).to_contain_text("Updated on")
        expect(history.locator("li").last).to_contain_text("First published on")
    finally:
        for page in (writer, reviewer, editor, patient):
            page.context.close()
