"""A blocking claim check on the review desk, in Chromium: it stops sign-off until a reviewer records why.

A writer's article says a cream "cures" wounds (in mice). The reviewer approves the statement, reads the
red-flag warning under "Claim checks", is refused sign-off because of it, records why the wording is
acceptable, sees the reason on the finding and in the timeline, and then signs the article off.
"""

import re

from playwright.sync_api import expect

from articles import workflow
from articles.models import Article, AuditEvent, FindingJustification, RedFlagPhrase, ReviewSignOff
from tests.factories import PASSWORD, ArticleFactory, ReferenceFactory, TopicFactory, member_of, sitewide_disclaimer

SENTENCE = "In mice, the cream cures small wounds faster [@hu2016]."
WHY = "No treatment discussed here cures anything in people; the word promises more than any study shows."
INSTEAD = "Say what studies found and in whom: “in mice, wounds closed faster”."
REASON = "Quoting the study's own word; the sentence says it was in mice."
JUSTIFY_ACTION = "articles.finding.justify"


def log_in(page, user):
    page.goto("/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def desk_message(page, role, text):
    """An outcome message on the review desk: role="status" for success, role="alert" for an error."""
    return page.get_by_role(role).filter(has_text=text)


def test_a_red_flag_blocks_sign_off_until_a_reviewer_records_why_it_is_acceptable(page, roles):
    # A transactional test's flush removes the red-flag phrases migration 0007 seeded: make the one we need.
    RedFlagPhrase.objects.update_or_create(phrase="cure", defaults={"why": WHY, "instead": INSTEAD, "is_active": True})
    writer = member_of("Writers")
    reviewer = member_of("Reviewers")
    ReferenceFactory(citation_key="hu2016")
    sitewide_disclaimer()
    article = ArticleFactory(
        author=writer,
        title="Wound healing: what the mouse studies show",
        body=f"<p>{SENTENCE}</p>",
        topics=[TopicFactory(name="Wound care", slug="wound-care")],
    )
    workflow.submit_for_review(article, by=writer)
    article.refresh_from_db()
    assert article.status == Article.Status.IN_REVIEW

    log_in(page, reviewer)
    page.goto(f"/review/{article.pk}/")
    expect(page.locator("#article-status")).to_have_text("In review")
    statement = page.locator("#statement-1")
    expect(statement.locator(".statement-text")).to_have_text(SENTENCE)

    # The reviewer grades the statement: an animal study (E), low certainty.
    approve = page.locator('form[aria-label="Approve statement 1"]')
    approve.locator('input[type=radio][name$="-evidence_level"][value="E"]').check()
    approve.locator('select[name$="-certainty"]').select_option("low")
    approve.get_by_role("button", name="Approve statement 1").click()
    expect(desk_message(page, "status", "Statement approved.")).to_be_visible()
    expect(statement.locator(".card-header .badge")).to_have_text(re.compile(r"^Approved: level E,"))

    # The claim checks warn about "cures", say what to write instead, and say it blocks sign-off.
    checks = page.get_by_role("region", name="Claim checks")
    finding = checks.locator("li.finding-red_flag")
    expect(finding).to_have_count(1)
    expect(finding).to_have_class(re.compile(r"\bfinding-open\b"))
    expect(finding).to_contain_text("Red-flag wording")
    expect(finding).to_contain_text(f"“cures”: {WHY}")
    expect(finding.locator(".finding-text")).to_have_text(f"In: “{SENTENCE}”")
    expect(finding.locator(".finding-instead")).to_have_text(f"Instead: {INSTEAD}")
    expect(finding).to_contain_text("Blocks sign-off until it is changed or a reviewer records why it is acceptable.")
    expect(page.locator("#blockers")).to_contain_text("Claim check: “cures”")

    # The gate would refuse a sign-off because of the claim check, so the desk offers none.
    expect(page.get_by_role("button", name="Sign off", exact=True)).to_have_count(0)
    expect(page.locator("#blockers")).to_contain_text("record on the review desk why it is acceptable")
    expect(page.locator("#article-status")).to_have_text("In review")
    article.refresh_from_db()
    assert article.status == Article.Status.IN_REVIEW
    assert not ReviewSignOff.objects.filter(article=article).exists()

    # The reviewer records why the wording is acceptable as written.
    finding = page.get_by_role("region", name="Claim checks").locator("li.finding-red_flag")
    justify = finding.get_by_role("form", name="Record why this is acceptable")
    justify.get_by_label("Why it is acceptable as written").fill(REASON)
    justify.get_by_role("button", name="Record why it is acceptable").click()
    expect(
        desk_message(page, "status", "Your reason is recorded; the finding no longer blocks sign-off.")
    ).to_be_visible()

    # The finding now shows as accepted, with the reviewer's reason, and no longer offers the form.
    finding = page.get_by_role("region", name="Claim checks").locator("li.finding-red_flag")
    expect(finding).not_to_have_class(re.compile(r"\bfinding-open\b"))
    expect(finding.locator("em")).to_contain_text("Accepted by")
    expect(finding.locator("em")).to_contain_text(f"“{REASON}”")
    expect(finding).not_to_contain_text("Blocks sign-off")
    expect(finding.get_by_role("button", name="Record why it is acceptable")).to_have_count(0)
    expect(page.locator("#blockers")).not_to_contain_text("Claim check")

    # The timeline has the justification, with the reason.
    timeline = page.get_by_role("region", name="Timeline")
    entry = timeline.locator(".audit-timeline li").filter(has_text="accepted a claim-check finding")
    expect(entry).to_have_count(1)
    expect(entry.locator("details")).to_contain_text(JUSTIFY_ACTION)
    expect(entry.locator(".audit-message")).to_contain_text(f"Accepted because: {REASON}")

    # Now the reviewer can sign off.
    page.get_by_role("button", name="Sign off", exact=True).click()
    expect(desk_message(page, "status", "Signed off.")).to_be_visible()
    expect(page.locator("#article-status")).to_have_text("Signed off")
    expect(page.get_by_role("alert")).to_have_count(0)

    # The database holds the justification and its audit event.
    justification = FindingJustification.objects.get(article=article)
    assert justification.reason == REASON
    assert justification.rule == "red_flag"
    assert justification.phrase == "cure"
    assert justification.justified_by == reviewer
    event = AuditEvent.objects.get(article=article, action=JUSTIFY_ACTION)
    assert event.actor == reviewer
    assert REASON in event.message
    article.refresh_from_db()
    assert article.status == Article.Status.SIGNED_OFF
