"""The review desk (articles/desk.py): who may use it, what it shows, and every step.

Each step is posted the way the desk's own forms post it (prefixed fields, the hash the reviewer saw), and
each allowed step has its refused pair: wrong role, wrong state, stale form, malformed input.
"""

import datetime
import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from articles import desk, workflow
from articles.forms import CERTAINTY_REQUIRED, EVIDENCE_LEVEL_REQUIRED
from articles.models import (
    Article,
    AuditEvent,
    ChangeRequest,
    PublishedSnapshot,
    RedFlagPhrase,
    RetractionAcknowledgement,
    ReviewSignOff,
    StatementApproval,
)
from articles.workflow import ARTICLE_STEPS, STATEMENT_STEPS
from tests.factories import (
    ArticleFactory,
    ReferenceFactory,
    TopicFactory,
    deliver_queued_mail,
    member_of,
    publish_reviewed,
    review,
    sitewide_disclaimer,
)

pytestmark = pytest.mark.django_db

PUBLISH_AT_FORMAT = "%Y-%m-%dT%H:%M"


# --- Data ------------------------------------------------------------------------------------------


def cited_article(*, claims: int = 1, references=None, **fields) -> Article:
    """Return a never-submitted draft whose body makes `claims` statements, each citing its own reference."""
    references = references or ReferenceFactory.create_batch(claims)
    body = "".join(
        f"<p>Exosome claim number {number} is supported by a trial [@{ref.citation_key}].</p>"
        for number, ref in enumerate(references, start=1)
    )
    fields.setdefault("topics", [TopicFactory()])
    return ArticleFactory(body=body, **fields)


def in_review(article: Article | None = None, **fields) -> Article:
    article = article or cited_article(**fields)
    workflow.submit_for_review(article, by=member_of("Editors"))
    article.refresh_from_db()
    return article


def approved(article: Article, reviewer) -> Article:
    """Approve every statement of an article in review, so only the sign-off is left."""
    for statement in article.evidence_statements.all():
        workflow.approve_statement(
            statement, by=reviewer, seen_hash=statement.statement_hash, evidence_level="C", certainty="low"
        )
    return article


def signed_off(**fields) -> Article:
    sitewide_disclaimer()
    article = cited_article(**fields)
    review(article)
    article.refresh_from_db()
    return article


def scheduled(editor, **fields) -> Article:
    article = signed_off(**fields)
    workflow.schedule(article, by=editor, at=timezone.now() + datetime.timedelta(days=3))
    article.refresh_from_db()
    return article


def published(**fields) -> Article:
    article = cited_article(**fields)
    publish_reviewed(article)
    article.refresh_from_db()
    return article


def changes_requested(reviewer, **fields) -> Article:
    article = in_review(**fields)
    workflow.request_changes(article, by=reviewer, comment="Say which trial.")
    article.refresh_from_db()
    return article


def future_publish_at(days: int = 2) -> str:
    return (timezone.localtime() + datetime.timedelta(days=days)).strftime(PUBLISH_AT_FORMAT)


# --- Posting through the desk ----------------------------------------------------------------------


def step_url(step: str, article: Article, statement=None) -> str:
    args = [article.pk] if statement is None else [article.pk, statement.pk]
    return reverse(f"articles:review_{step}", args=args)


def desk_url(article: Article) -> str:
    return reverse("articles:review_article", args=[article.pk])


def approve_data(statement, **changes) -> dict:
    """Return the desk's approve form as a reviewer fills it in; a change to None leaves the field out."""
    fields = {
        "seen_hash": statement.statement_hash,
        "evidence_level": "B",
        "certainty": "moderate",
        "participants": "120",
        "peer_reviewed": "true",
        "manufacturer_funded": "false",
        "comment": "A small randomised trial.",
        **changes,
    }
    return {f"s{statement.pk}-{name}": value for name, value in fields.items() if value is not None}


def statement_changes_data(statement, **changes) -> dict:
    fields = {"seen_hash": statement.statement_hash, "comment": "Name the trial and its size.", **changes}
    return {f"c{statement.pk}-{name}": value for name, value in fields.items() if value is not None}


def retraction_data(reference, comment="Cited only to say the study was retracted.") -> dict:
    return {"reference_pk": str(reference.pk), f"r{reference.pk}-comment": comment}


def messages_of(response, level: str | None = None) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if level is None or m.level_tag == level]


def hidden_value(page: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    assert match, f"the page has no field {name}"
    return match.group(1)


def section(page: str, heading_id: str) -> str:
    """Return the queue section that starts at the heading with this id."""
    start = page.index(f'id="{heading_id}"')
    end = page.find("</section>", start)
    return page[start:end]


def records(article: Article) -> dict:
    """Return everything a desk step may change, to show that a refused step changed nothing."""
    article.refresh_from_db()
    return {
        "status": article.status,
        "live_snapshot": article.live_snapshot_id,
        "scheduled_for": article.scheduled_for,
        "approvals": StatementApproval.objects.count(),
        "change_requests": ChangeRequest.objects.count(),
        "sign_offs": ReviewSignOff.objects.count(),
        "acknowledgements": RetractionAcknowledgement.objects.count(),
        "snapshots": PublishedSnapshot.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }


def assert_refused_without_change(response, article, before, *, message: str | None = None):
    """The step came back to the desk with an error (never a 500) and recorded nothing."""
    assert response.status_code == 302
    assert response.url == desk_url(article)
    errors = messages_of(response, "error")
    assert errors, "a refused step must tell the user why"
    if message is not None:
        assert errors == [message]
    assert not messages_of(response, "success")
    assert records(article) == before


# --- Who may use the desk --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["reviewer", "editor"])
def test_queue_lists_articles_by_stage_for_reviewers_and_editors(client, request, role):
    waiting = in_review(title="Waiting for a reviewer")
    ready = signed_off(title="Ready for an editor")
    private_draft = cited_article(title="A draft nobody submitted")
    client.force_login(request.getfixturevalue(role))

    response = client.get(reverse("articles:review_queue"))

    assert response.status_code == 200
    page = response.content.decode()
    assert waiting.title in section(page, "in-review-heading")
    assert waiting.title not in section(page, "signed-off-heading")
    assert ready.title in section(page, "signed-off-heading")
    assert ready.title not in section(page, "in-review-heading")
    assert f'href="{desk_url(waiting)}"' in page
    assert private_draft.title not in page


@pytest.mark.parametrize("role", ["writer", "patient"])
def test_queue_and_article_page_refuse_writers_and_patients(client, request, role):
    article = in_review()
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("articles:review_queue")).status_code == 403
    assert client.get(desk_url(article)).status_code == 403


def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    article = in_review()
    for url in [reverse("articles:review_queue"), desk_url(article)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/admin/login/?next=")


def test_anonymous_post_to_a_step_is_sent_to_the_login_and_records_nothing(client):
    article = in_review()
    statement = article.evidence_statements.get()
    before = records(article)

    response = client.post(step_url("approve", article, statement), approve_data(statement))

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/?next=")
    assert records(article) == before


# --- What the article page shows -------------------------------------------------------------------


def test_reviewer_sees_statements_references_in_ama_form_and_grading_choices(client, reviewer):
    first = ReferenceFactory(authors=[{"family": "Mahmoud", "given": "Rami H"}], title="Exosomes for acne scars")
    second = ReferenceFactory(authors=[{"family": "Hu", "given": "Shu"}], title="Hair regrowth with exosomes")
    article = in_review(cited_article(references=[first, second]))
    client.force_login(reviewer)

    response = client.get(desk_url(article))

    assert response.status_code == 200
    page = response.content.decode()
    for statement in article.evidence_statements.all():
        assert statement.text in page
        assert hidden_value(page, f"s{statement.pk}-seen_hash") == statement.statement_hash
        assert hidden_value(page, f"c{statement.pk}-seen_hash") == statement.statement_hash
        for level in "ABCDEF":
            assert f'name="s{statement.pk}-evidence_level" value="{level}"' in page
        assert f'name="s{statement.pk}-certainty"' in page
    assert "Mahmoud RH. Exosomes for acne scars. <i>J Clin Aesthet Dermatol.</i> 2025;18(4):33-40." in page
    assert "Hu S. Hair regrowth with exosomes." in page
    assert f'href="https://doi.org/{first.doi}"' in page
    for certainty in ["high", "moderate", "low", "very_low"]:
        assert f'value="{certainty}"' in page
    assert step_url("sign_off", article) not in page  # the gate would refuse it: no statement is approved yet
    assert "Retracted reference" not in page
    assert "Changes since the live version" not in page


def test_editor_sees_the_article_without_the_reviewer_forms(client, editor):
    article = in_review()
    statement = article.evidence_statements.get()
    client.force_login(editor)

    page = client.get(desk_url(article)).content.decode()

    assert statement.text in page
    assert step_url("approve", article, statement) not in page
    assert step_url("sign_off", article) not in page


def test_retracted_reference_shows_a_warning_and_the_acknowledge_form(client, reviewer):
    retracted = ReferenceFactory(is_retracted=True, retraction_note="Retracted by the journal in May 2025.")
    article = in_review(cited_article(references=[retracted]))
    client.force_login(reviewer)

    page = client.get(desk_url(article)).content.decode()

    assert f"Retracted reference: [@{retracted.citation_key}]" in page
    assert "Retraction: Retracted by the journal in May 2025." in page
    assert "Retracted: Retracted by the journal in May 2025." in page  # next to the statement citing it
    assert step_url("acknowledge_retraction", article) in page
    assert hidden_value(page, "reference_pk") == str(retracted.pk)


def test_re_review_of_an_edited_live_article_compares_with_the_live_version(client, reviewer, writer):
    article = published()
    article.body = article.body.replace("is supported by a trial", "is suggested by a trial")
    article.save()
    assert workflow.record_edit(article, by=writer) == Article.Status.DRAFT
    in_review(article)
    client.force_login(reviewer)

    page = client.get(desk_url(article)).content.decode()

    assert "Changes since the live version" in page
    assert "<del>supported</del>" in page
    assert "<ins>suggested</ins>" in page
    assert 'class="paragraph-changed"' in page


def test_what_staff_typed_is_shown_escaped(client, reviewer):
    retracted = ReferenceFactory(is_retracted=True, retraction_note="<script>alert('note')</script>")
    article = in_review(cited_article(references=[retracted]))
    statement = article.evidence_statements.get()
    workflow.request_statement_changes(
        statement, by=reviewer, seen_hash=statement.statement_hash, comment="<script>alert('comment')</script>"
    )
    client.force_login(member_of("Reviewers"))

    page = client.get(desk_url(article)).content.decode()

    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;note&#x27;)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(&#x27;comment&#x27;)&lt;/script&gt;" in page


def test_queue_query_count_does_not_grow_with_articles(client, reviewer, django_assert_max_num_queries, monkeypatch):
    # Each signed-off or scheduled row shown costs the gate's own check (workflow.publishing_queue), so the
    # count grows up to the rows a section shows and no further; every other section costs the same always.
    monkeypatch.setattr("articles.desk.QUEUE_ROWS", 2)
    monkeypatch.setattr("articles.desk.PUBLISHING_ROWS", 2)
    for _ in range(2):
        in_review()
        signed_off()
    client.force_login(reviewer)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("articles:review_queue"))
    for _ in range(3):
        in_review()
        signed_off()

    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("articles:review_queue"))

    assert response.status_code == 200
    assert "And 3 more" in section(response.content.decode(), "signed-off-heading")


def test_article_page_query_count_does_not_grow_with_the_timeline(client, reviewer, django_assert_max_num_queries):
    article = in_review()
    statement = article.evidence_statements.get()

    def comment(number):
        workflow.request_statement_changes(
            statement, by=member_of("Reviewers"), seen_hash=statement.statement_hash, comment=f"Comment {number}."
        )

    comment(0)
    client.force_login(reviewer)
    with CaptureQueriesContext(connection) as short_timeline:
        client.get(desk_url(article))
    for number in range(1, 11):
        comment(number)

    with django_assert_max_num_queries(len(short_timeline)):
        response = client.get(desk_url(article))

    assert response.content.decode().count("articles.statement.request_changes") == 11


# --- IDOR: only articles that were sent to review, or are live, are on the desk -----------------------


@pytest.mark.parametrize("role", ["reviewer", "editor"])
def test_a_never_submitted_draft_is_not_on_the_desk(client, request, role):
    draft = cited_article()
    client.force_login(request.getfixturevalue(role))
    assert client.get(desk_url(draft)).status_code == 404


@pytest.mark.parametrize("role", ["reviewer", "editor"])
def test_an_article_sent_back_to_its_writer_stays_on_the_desk(client, request, role, reviewer):
    article = changes_requested(reviewer)
    client.force_login(request.getfixturevalue(role))
    assert client.get(desk_url(article)).status_code == 200


@pytest.mark.parametrize("role", ["reviewer", "editor"])
@pytest.mark.parametrize("step", ARTICLE_STEPS + STATEMENT_STEPS)
def test_every_step_on_a_never_submitted_draft_is_not_found(client, request, role, step):
    retracted = ReferenceFactory(is_retracted=True, retraction_note="Retracted.")
    draft = cited_article(references=[retracted])
    statement = draft.evidence_statements.get()
    data = {
        **approve_data(statement),
        **statement_changes_data(statement),
        **retraction_data(retracted),
        "comment": "Rewrite it.",
        "seen_hash": draft.content_hash(),
        "publish_at": future_publish_at(),
        "unpublish-reason": "Wrong",
        "archive-reason": "Wrong",
    }
    before = records(draft)
    client.force_login(request.getfixturevalue(role))

    response = client.post(step_url(step, draft, statement if step in STATEMENT_STEPS else None), data)

    assert response.status_code == 404
    assert records(draft) == before


@pytest.mark.parametrize("missing_pk", [10**6, 2**31, 2**63])
def test_an_article_that_does_not_exist_is_not_found(client, reviewer, editor, missing_pk):
    request_changes = reverse("articles:review_request_changes", args=[missing_pk])
    client.force_login(reviewer)
    assert client.get(reverse("articles:review_article", args=[missing_pk])).status_code == 404
    assert client.post(request_changes, {"comment": "Rewrite it."}).status_code == 404
    client.force_login(editor)
    assert client.post(reverse("articles:review_publish", args=[missing_pk])).status_code == 404


# --- Each step, allowed ----------------------------------------------------------------------------


def test_reviewer_approves_a_statement_with_its_grade(client, reviewer):
    article = in_review()
    statement = article.evidence_statements.get()
    client.force_login(reviewer)

    response = client.post(step_url("approve", article, statement), approve_data(statement))

    assert response.status_code == 302
    assert response.url == desk_url(article)
    assert messages_of(response) == ["Statement approved."]
    approval = StatementApproval.objects.get()
    assert approval.article == article
    assert approval.reviewer == reviewer
    assert approval.statement_hash == statement.statement_hash
    assert (approval.evidence_level, approval.certainty, approval.participants) == ("B", "moderate", 120)
    assert (approval.peer_reviewed, approval.manufacturer_funded) == (True, False)
    assert approval.comment == "A small randomised trial."
    assert not approval.self_review
    assert AuditEvent.objects.filter(article=article, action="articles.statement.approve", actor=reviewer).exists()


def test_approve_with_only_the_required_fields(client, reviewer):
    article = in_review()
    statement = article.evidence_statements.get()
    client.force_login(reviewer)
    data = approve_data(statement, participants=None, peer_reviewed=None, manufacturer_funded=None, comment=None)

    client.post(step_url("approve", article, statement), data)

    approval = StatementApproval.objects.get()
    assert (approval.participants, approval.peer_reviewed, approval.manufacturer_funded) == (None, None, None)
    assert approval.comment == ""


def test_approved_statement_shows_as_approved_after_the_redirect(client, reviewer):
    article = in_review()
    statement = article.evidence_statements.get()
    client.force_login(reviewer)

    response = client.post(step_url("approve", article, statement), approve_data(statement), follow=True)

    page = response.content.decode()
    assert response.redirect_chain == [(desk_url(article), 302)]
    assert "Statement approved." in page
    assert "Approved: level B" in page


def test_reviewer_requests_changes_to_one_statement(client, reviewer):
    article = in_review()
    statement = article.evidence_statements.get()
    client.force_login(reviewer)

    response = client.post(step_url("statement_changes", article, statement), statement_changes_data(statement))

    assert messages_of(response, "success") == [desk.RequestStatementChangesView.success_message]
    change_request = ChangeRequest.objects.get()
    assert (change_request.article, change_request.requested_by) == (article, reviewer)
    assert change_request.statement_hash == statement.statement_hash
    assert change_request.comment == "Name the trial and its size."
    article.refresh_from_db()
    assert article.status == Article.Status.IN_REVIEW


def test_reviewer_sends_the_article_back_to_its_writer(client, reviewer):
    article = in_review()
    client.force_login(reviewer)

    response = client.post(step_url("request_changes", article), {"comment": "  Explain what an exosome is.  "})

    assert messages_of(response, "success") == [desk.RequestChangesView.success_message]
    article.refresh_from_db()
    assert article.status == Article.Status.CHANGES_REQUESTED
    change_request = ChangeRequest.objects.get()
    assert (change_request.statement_hash, change_request.comment) == ("", "Explain what an exosome is.")


def test_reviewer_signs_off_with_the_hash_shown_on_the_desk(client, reviewer):
    article = approved(in_review(claims=2), reviewer)
    client.force_login(reviewer)
    seen_hash = hidden_value(client.get(desk_url(article)).content.decode(), "seen_hash")

    response = client.post(step_url("sign_off", article), {"seen_hash": seen_hash, "comment": "Clear and fair."})

    assert messages_of(response, "success") == [desk.SignOffView.success_message]
    sign_off = ReviewSignOff.objects.get()
    assert (sign_off.article, sign_off.reviewer) == (article, reviewer)
    assert (sign_off.content_hash, sign_off.comment) == (article.content_hash(), "Clear and fair.")
    article.refresh_from_db()
    assert article.status == Article.Status.SIGNED_OFF


def test_editor_resubmits_an_article_sent_back_to_its_writer(client, editor, reviewer):
    article = changes_requested(reviewer)
    client.force_login(editor)

    response = client.post(step_url("submit", article))

    assert messages_of(response, "success") == [desk.SubmitView.success_message]
    article.refresh_from_db()
    assert article.status == Article.Status.IN_REVIEW


def test_editor_publishes_a_signed_off_article(client, editor):
    article = signed_off()
    client.force_login(editor)

    response = client.post(step_url("publish", article))

    assert messages_of(response, "success") == [desk.PublishView.success_message]
    article.refresh_from_db()
    snapshot = PublishedSnapshot.objects.get()
    assert article.live_snapshot == snapshot
    assert article.status == Article.Status.PUBLISHED
    assert (snapshot.published_by, snapshot.content_hash) == (editor, article.content_hash())


def test_editor_schedules_a_signed_off_article(client, editor):
    article = signed_off()
    publish_at = future_publish_at()
    client.force_login(editor)

    response = client.post(step_url("schedule", article), {"publish_at": publish_at})

    assert messages_of(response, "success") == [desk.ScheduleView.success_message]
    article.refresh_from_db()
    assert article.status == Article.Status.SCHEDULED
    assert timezone.localtime(article.scheduled_for).strftime(PUBLISH_AT_FORMAT) == publish_at
    assert article.scheduled_by == editor
    assert article.live_snapshot is None


def test_editor_cancels_a_schedule(client, editor):
    article = scheduled(editor)
    client.force_login(editor)

    response = client.post(step_url("unschedule", article))

    assert messages_of(response, "success") == [desk.UnscheduleView.success_message]
    article.refresh_from_db()
    assert article.status == Article.Status.SIGNED_OFF
    assert (article.scheduled_for, article.scheduled_by) == (None, None)


def test_editor_unpublishes_with_a_reason(client, editor):
    article = published()
    snapshot = article.live_snapshot
    client.force_login(editor)

    response = client.post(step_url("unpublish", article), {"unpublish-reason": "The trial was withdrawn."})

    assert messages_of(response, "success") == [desk.UnpublishView.success_message]
    article.refresh_from_db()
    assert article.live_snapshot is None
    assert article.status == Article.Status.DRAFT
    assert PublishedSnapshot.objects.filter(pk=snapshot.pk).exists()
    event = AuditEvent.objects.get(article=article, action="articles.article.unpublish")
    assert (event.actor, event.message) == (editor, "The trial was withdrawn.")


def test_editor_archives_with_a_reason(client, editor):
    article = published()
    client.force_login(editor)

    response = client.post(step_url("archive", article), {"archive-reason": "Replaced by a newer article."})

    assert messages_of(response, "success") == [desk.ArchiveView.success_message]
    article.refresh_from_db()
    assert article.status == Article.Status.ARCHIVED
    assert article.live_snapshot is None
    event = AuditEvent.objects.get(article=article, action="articles.article.archive")
    assert (event.actor, event.message) == (editor, "Replaced by a newer article.")


def test_reviewer_acknowledges_a_retraction(client, reviewer):
    retracted = ReferenceFactory(is_retracted=True, retraction_note="Retracted in 2025.")
    article = in_review(cited_article(references=[retracted]))
    client.force_login(reviewer)

    response = client.post(step_url("acknowledge_retraction", article), retraction_data(retracted), follow=True)

    assert "Retraction acknowledged." in response.content.decode()
    acknowledgement = RetractionAcknowledgement.objects.get()
    assert (acknowledgement.article, acknowledgement.reference) == (article, retracted)
    assert (acknowledgement.acknowledged_by, acknowledgement.comment) == (
        reviewer,
        "Cited only to say the study was retracted.",
    )
    assert "Retracted reference:" not in response.content.decode()


# --- Each step, refused ----------------------------------------------------------------------------


def _approve_case(reviewer):
    article = in_review()
    statement = article.evidence_statements.get()
    return article, step_url("approve", article, statement), approve_data(statement)


def _sign_off_case(reviewer):
    article = approved(in_review(), reviewer)
    return article, step_url("sign_off", article), {"seen_hash": article.content_hash()}


def _publish_case(reviewer):
    article = signed_off()
    return article, step_url("publish", article), {}


@pytest.mark.parametrize("role", ["writer", "patient"])
@pytest.mark.parametrize("case", [_approve_case, _sign_off_case, _publish_case], ids=["approve", "sign_off", "publish"])
def test_writers_and_patients_cannot_post_desk_steps(client, request, reviewer, role, case):
    article, url, data = case(reviewer)
    before = records(article)
    client.force_login(request.getfixturevalue(role))

    response = client.post(url, data)

    assert response.status_code == 403
    assert records(article) == before


@pytest.mark.parametrize(
    ("step", "make", "data"),
    [
        ("publish", lambda editor: signed_off(), {}),
        ("schedule", lambda editor: signed_off(), {"publish_at": future_publish_at()}),
        ("unschedule", scheduled, {}),
        ("unpublish", lambda editor: published(), {"unpublish-reason": "Outdated."}),
        ("archive", lambda editor: published(), {"archive-reason": "Outdated."}),
    ],
)
def test_reviewers_cannot_take_editor_steps(client, reviewer, editor, step, make, data):
    article = make(editor)
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url(step, article), data)

    assert_refused_without_change(response, article, before, message=workflow.NOT_ALLOWED_TO_PUBLISH)


def test_editors_cannot_approve_statements(client, editor):
    article = in_review()
    statement = article.evidence_statements.get()
    before = records(article)
    client.force_login(editor)

    response = client.post(step_url("approve", article, statement), approve_data(statement))

    assert_refused_without_change(response, article, before, message=workflow.NOT_ALLOWED_TO_REVIEW)


def test_reviewers_cannot_resubmit_an_article_they_did_not_write(client, reviewer):
    article = changes_requested(reviewer)
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url("submit", article))

    assert_refused_without_change(
        response, article, before, message=workflow.NOT_ALLOWED_TO_SUBMIT.format(title=article.title)
    )


@pytest.mark.parametrize("relation", ["author", "editor of a revision"])
def test_a_reviewer_who_wrote_or_edited_the_article_cannot_approve_it(client, reviewer, relation):
    if relation == "author":
        article = in_review(author=reviewer)
    else:
        article = cited_article()
        article._history_user = reviewer
        article.summary = "Reworded by the reviewer."
        article.save()
        article = in_review(article)
    statement = article.evidence_statements.get()
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url("approve", article, statement), approve_data(statement))

    message = workflow.SELF_REVIEW.format(title=article.title, verb="approve its statements")
    assert_refused_without_change(response, article, before, message=message)


def test_a_reviewer_who_wrote_the_article_cannot_sign_it_off(client, reviewer):
    article = approved(in_review(author=reviewer), member_of("Reviewers"))
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url("sign_off", article), {"seen_hash": article.content_hash()})

    message = workflow.SELF_REVIEW.format(title=article.title, verb="sign it off")
    assert_refused_without_change(response, article, before, message=message)


def test_statements_of_an_article_sent_back_cannot_be_approved(client, reviewer):
    article = changes_requested(reviewer)
    statement = article.evidence_statements.get()
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url("approve", article, statement), approve_data(statement))

    message = workflow.NOT_IN_REVIEW.format(title=article.title, state="changes requested")
    assert_refused_without_change(response, article, before, message=message)


def test_a_draft_that_was_already_live_cannot_be_signed_off(client, reviewer, editor):
    article = published()
    workflow.unpublish(article, by=editor, reason="Outdated.")
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url("sign_off", article), {"seen_hash": article.content_hash()})

    message = workflow.NOT_IN_REVIEW.format(title=article.title, state="draft")
    assert_refused_without_change(response, article, before, message=message)


def test_publishing_an_article_that_is_not_signed_off_is_refused(client, editor):
    sitewide_disclaimer()
    article = in_review()
    before = records(article)
    client.force_login(editor)

    response = client.post(step_url("publish", article))

    assert_refused_without_change(response, article, before)
    assert workflow.NOT_SIGNED_OFF.format(title=article.title) in messages_of(response, "error")[0]


def test_publishing_an_article_that_is_already_live_as_it_is_is_refused(client, editor):
    article = published()
    before = records(article)
    client.force_login(editor)

    response = client.post(step_url("publish", article))

    assert_refused_without_change(response, article, before, message=workflow.ALREADY_LIVE.format(title=article.title))


def test_an_unacknowledged_retraction_blocks_the_sign_off_until_a_reviewer_acknowledges_it(client, reviewer):
    retracted = ReferenceFactory(is_retracted=True, retraction_note="Retracted in 2025.")
    article = approved(in_review(cited_article(references=[retracted])), reviewer)
    before = records(article)
    client.force_login(reviewer)

    refused = client.post(step_url("sign_off", article), {"seen_hash": article.content_hash()})

    assert_refused_without_change(refused, article, before)
    assert workflow.RETRACTED.format(title=article.title, key=retracted.citation_key) in messages_of(refused)[0]

    client.post(step_url("acknowledge_retraction", article), retraction_data(retracted), follow=True)
    allowed = client.post(step_url("sign_off", article), {"seen_hash": article.content_hash()})

    assert messages_of(allowed, "success") == [desk.SignOffView.success_message]
    article.refresh_from_db()
    assert article.status == Article.Status.SIGNED_OFF


# --- Stale forms: what the reviewer read is what gets recorded --------------------------------------


def test_approving_a_statement_that_changed_since_the_page_loaded_is_refused(client, reviewer):
    article = in_review()
    statement = article.evidence_statements.get()
    client.force_login(reviewer)
    seen_hash = hidden_value(client.get(desk_url(article)).content.decode(), f"s{statement.pk}-seen_hash")
    article.body = article.body.replace("is supported by a trial", "is proven by a trial")
    article.save()
    before = records(article)

    response = client.post(step_url("approve", article, statement), approve_data(statement, seen_hash=seen_hash))

    assert_refused_without_change(response, article, before, message=workflow.STATEMENT_CHANGED)
    assert not StatementApproval.objects.exists()


def test_approving_with_the_hash_of_another_statement_is_refused(client, reviewer):
    article = in_review(claims=2)
    first, second = article.evidence_statements.order_by("position")
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url("approve", article, first), approve_data(first, seen_hash=second.statement_hash))

    assert_refused_without_change(response, article, before, message=workflow.STATEMENT_CHANGED)


def test_requesting_changes_to_a_statement_that_changed_is_refused(client, reviewer):
    article = in_review()
    statement = article.evidence_statements.get()
    article.body = article.body.replace("is supported by a trial", "is proven by a trial")
    article.save()
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url("statement_changes", article, statement), statement_changes_data(statement))

    assert_refused_without_change(response, article, before, message=workflow.STATEMENT_CHANGED)


def test_signing_off_an_article_that_changed_since_the_page_loaded_is_refused(client, reviewer):
    article = approved(in_review(), reviewer)
    client.force_login(reviewer)
    seen_hash = hidden_value(client.get(desk_url(article)).content.decode(), "seen_hash")
    article.summary = "A different summary, written while the reviewer was reading."
    article.save()
    before = records(article)

    response = client.post(step_url("sign_off", article), {"seen_hash": seen_hash})

    message = workflow.ARTICLE_CHANGED.format(title=article.title)
    assert_refused_without_change(response, article, before, message=message)
    assert not ReviewSignOff.objects.exists()


def test_signing_off_before_every_statement_is_approved_is_refused(client, reviewer):
    article = in_review()
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url("sign_off", article), {"seen_hash": article.content_hash()})

    assert_refused_without_change(response, article, before)
    assert "has not been approved" in messages_of(response, "error")[0]


# --- Malformed input: an error message, never a 500, nothing recorded -----------------------------------


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"evidence_level": None}, f"Evidence level: {EVIDENCE_LEVEL_REQUIRED}"),
        ({"evidence_level": ""}, f"Evidence level: {EVIDENCE_LEVEL_REQUIRED}"),
        ({"evidence_level": "Z"}, "Evidence level: Select a valid choice."),
        ({"evidence_level": "b"}, "Evidence level: Select a valid choice."),
        ({"certainty": None}, f"Certainty (GRADE): {CERTAINTY_REQUIRED}"),
        ({"certainty": "certain"}, "Certainty (GRADE): Select a valid choice."),
        ({"seen_hash": "x"}, "Ensure this value has at least 64 characters"),
        ({"seen_hash": None}, "This field is required."),
        ({"seen_hash": "0" * 65}, "Ensure this value has at most 64 characters"),
        ({"participants": "-5"}, "People studied: Ensure this value is greater than or equal to 0."),
        ({"participants": "abc"}, "People studied: Enter a whole number."),
        ({"participants": "1.5"}, "People studied: Enter a whole number."),
        ({"participants": "9" * 30}, "People studied: Ensure this value is less than or equal to 100000000."),
        ({"peer_reviewed": "maybe"}, "Peer reviewed?: Select a valid choice."),
        ({"comment": "Fine\x00"}, "Comment (optional): Null characters are not allowed."),
        ({"seen_hash": "\x00" * 64}, "Null characters are not allowed."),
    ],
)
def test_malformed_approvals_are_refused(client, reviewer, changes, error):
    article = in_review()
    statement = article.evidence_statements.get()
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url("approve", article, statement), approve_data(statement, **changes))

    assert_refused_without_change(response, article, before)
    assert error in " ".join(messages_of(response, "error"))


def test_approve_with_unprefixed_fields_is_refused(client, reviewer):
    article = in_review()
    statement = article.evidence_statements.get()
    before = records(article)
    client.force_login(reviewer)
    data = {name.split("-", 1)[1]: value for name, value in approve_data(statement).items()}

    response = client.post(step_url("approve", article, statement), data)

    assert_refused_without_change(response, article, before)


@pytest.mark.parametrize("other_state", ["in review", "never submitted"])
@pytest.mark.parametrize("step", STATEMENT_STEPS)
def test_statement_steps_refuse_a_statement_of_another_article(client, reviewer, step, other_state):
    article = in_review()
    other = in_review() if other_state == "in review" else cited_article()
    foreign = other.evidence_statements.get()
    data = approve_data(foreign) if step == "approve" else statement_changes_data(foreign)
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url(step, article, foreign), data)

    assert_refused_without_change(response, article, before, message=workflow.STATEMENT_CHANGED)


@pytest.mark.parametrize("statement_pk", [10**6, 2**31, 2**63])
def test_statement_steps_refuse_a_statement_that_does_not_exist(client, reviewer, statement_pk):
    article = in_review()
    before = records(article)
    client.force_login(reviewer)
    url = reverse("articles:review_approve", args=[article.pk, statement_pk])
    data = {f"s{statement_pk}-{name}": value for name, value in [("evidence_level", "B"), ("certainty", "low")]}

    response = client.post(url, {**data, f"s{statement_pk}-seen_hash": "0" * 64})

    assert_refused_without_change(response, article, before, message=workflow.STATEMENT_CHANGED)


@pytest.mark.parametrize(
    "comment",
    [None, "", "   ", "x" * 5001, "Fix\x00it"],
    ids=["missing", "empty", "blank", "too long", "null character"],
)
def test_request_changes_needs_a_comment(client, reviewer, comment):
    article = in_review()
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url("request_changes", article), {} if comment is None else {"comment": comment})

    assert_refused_without_change(response, article, before)


@pytest.mark.parametrize("comment", [None, "", "   "], ids=["missing", "empty", "blank"])
def test_statement_changes_need_a_comment(client, reviewer, comment):
    article = in_review()
    statement = article.evidence_statements.get()
    before = records(article)
    client.force_login(reviewer)

    response = client.post(
        step_url("statement_changes", article, statement), statement_changes_data(statement, comment=comment)
    )

    assert_refused_without_change(response, article, before)


@pytest.mark.parametrize("seen_hash", [None, "", "x", "g" * 64], ids=["missing", "empty", "short", "not the hash"])
def test_sign_off_with_a_malformed_hash_is_refused(client, reviewer, seen_hash):
    article = approved(in_review(), reviewer)
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url("sign_off", article), {} if seen_hash is None else {"seen_hash": seen_hash})

    assert_refused_without_change(response, article, before)


@pytest.mark.parametrize(
    ("publish_at", "error"),
    [
        (None, "Publish at: This field is required."),
        ("not a date", "Publish at: Enter a valid date/time."),
        ("2030-02-30T10:00", "Publish at: Enter a valid date/time."),
        ("2030-03-10T02:30", "Publish at:"),  # does not exist in the clinic's zone (DST starts)
        ("2020-01-01T09:00", workflow.SCHEDULE_IN_PAST),
        ("past", workflow.SCHEDULE_IN_PAST),
    ],
)
def test_schedule_refuses_malformed_and_past_times(client, editor, publish_at, error):
    article = signed_off()
    if publish_at == "past":
        publish_at = (timezone.localtime() - datetime.timedelta(minutes=5)).strftime(PUBLISH_AT_FORMAT)
    before = records(article)
    client.force_login(editor)

    response = client.post(step_url("schedule", article), {} if publish_at is None else {"publish_at": publish_at})

    assert_refused_without_change(response, article, before)
    assert error in messages_of(response, "error")[0]


@pytest.mark.parametrize("step", ["unpublish", "archive"])
@pytest.mark.parametrize("reason", [None, "", "   ", "unprefixed"])
def test_unpublish_and_archive_need_a_reason(client, editor, step, reason):
    article = published()
    before = records(article)
    client.force_login(editor)
    if reason is None:
        data = {}
    elif reason == "unprefixed":
        data = {"reason": "Given without the form prefix."}
    else:
        data = {f"{step}-reason": reason}

    response = client.post(step_url(step, article), data)

    assert_refused_without_change(response, article, before)


@pytest.mark.parametrize("reference_pk", ["abc", "", "-1", "0", "1.5", str(10**6), str(2**63), "²", "１"])
def test_acknowledge_retraction_with_a_malformed_reference_is_not_found(client, reviewer, reference_pk):
    retracted = ReferenceFactory(is_retracted=True, retraction_note="Retracted.")
    article = in_review(cited_article(references=[retracted]))
    before = records(article)
    client.force_login(reviewer)

    response = client.post(
        step_url("acknowledge_retraction", article),
        {"reference_pk": reference_pk, f"r{reference_pk}-comment": "Still relevant."},
    )

    assert response.status_code == 404
    assert records(article) == before


def test_acknowledge_retraction_without_a_reference_is_not_found(client, reviewer):
    article = in_review()
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url("acknowledge_retraction", article), {"comment": "Why not."})

    assert response.status_code == 404
    assert records(article) == before


def test_acknowledging_a_reference_that_is_not_retracted_is_refused(client, reviewer):
    sound = ReferenceFactory()
    article = in_review(cited_article(references=[sound]))
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url("acknowledge_retraction", article), retraction_data(sound))

    message = workflow.NOT_RETRACTED.format(key=sound.citation_key)
    assert_refused_without_change(response, article, before, message=message)


def test_acknowledging_a_retraction_the_article_does_not_cite_is_refused(client, reviewer):
    uncited = ReferenceFactory(is_retracted=True, retraction_note="Retracted.")
    article = in_review()
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url("acknowledge_retraction", article), retraction_data(uncited))

    message = workflow.NOT_CITED.format(title=article.title, key=uncited.citation_key)
    assert_refused_without_change(response, article, before, message=message)


@pytest.mark.parametrize("comment", [None, "", "   "], ids=["missing", "empty", "blank"])
def test_acknowledging_a_retraction_needs_a_reason(client, reviewer, comment):
    retracted = ReferenceFactory(is_retracted=True, retraction_note="Retracted.")
    article = in_review(cited_article(references=[retracted]))
    before = records(article)
    client.force_login(reviewer)
    data = {"reference_pk": str(retracted.pk)}
    if comment is not None:
        data[f"r{retracted.pk}-comment"] = comment

    response = client.post(step_url("acknowledge_retraction", article), data)

    assert_refused_without_change(response, article, before)


# --- HTTP: POST only, CSRF-protected ---------------------------------------------------------------


@pytest.mark.parametrize("step", ARTICLE_STEPS + STATEMENT_STEPS)
def test_steps_refuse_get(client, reviewer, step):
    article = in_review()
    statement = article.evidence_statements.get()
    before = records(article)
    client.force_login(reviewer)

    response = client.get(step_url(step, article, statement if step in STATEMENT_STEPS else None))

    assert response.status_code == 405
    assert records(article) == before


def test_a_step_posted_without_a_csrf_token_is_refused(reviewer):
    article = in_review()
    statement = article.evidence_statements.get()
    before = records(article)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(reviewer)

    response = browser.post(step_url("approve", article, statement), approve_data(statement))

    assert response.status_code == 403
    assert records(article) == before


def test_a_step_posted_with_the_desk_forms_csrf_token_is_accepted(reviewer):
    article = in_review()
    statement = article.evidence_statements.get()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(reviewer)
    token = hidden_value(browser.get(desk_url(article)).content.decode(), "csrfmiddlewaretoken")

    response = browser.post(
        step_url("approve", article, statement), {**approve_data(statement), "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302
    assert StatementApproval.objects.filter(article=article, reviewer=reviewer).exists()


# --- Justifying a claim-check finding: malformed posts record nothing --------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"finding": "x", "fx-finding_key": "x", "fx-reason": "Fine."},
        {"finding": "0" * 32, "f" + "0" * 32 + "-finding_key": "0" * 32, "f" + "0" * 32 + "-reason": "Fine."},
        {"finding": "\x00<script>", "f\x00<script>-finding_key": "a" * 5000, "f\x00<script>-reason": ""},
    ],
)
def test_malformed_finding_justifications_record_nothing(client, reviewer, data):
    from articles.models import FindingJustification

    article = in_review()
    client.force_login(reviewer)
    response = client.post(step_url("justify_finding", article), data, follow=True)
    assert response.status_code == 200
    assert messages_of(response, "error")
    assert not FindingJustification.objects.exists()


def test_a_finding_justification_needs_a_reason(client, reviewer):
    from articles.models import FindingJustification, RedFlagPhrase

    RedFlagPhrase.objects.update_or_create(phrase="cure", defaults={"why": "Overstates.", "instead": "Say what."})
    article = in_review(title="A cure for scars")
    (finding,) = [f for f in workflow.review_status(article).findings if f.rule == "red_flag"]
    client.force_login(reviewer)
    prefix = f"f{finding.key}"
    data = {"finding": finding.key, f"{prefix}-finding_key": finding.key, f"{prefix}-reason": "   "}
    response = client.post(step_url("justify_finding", article), data, follow=True)
    assert any("Why it is acceptable" in m for m in messages_of(response, "error"))
    assert not FindingJustification.objects.exists()


# --- Issue 12: grading has no default -----------------------------------------------------------------


def test_the_approve_form_preselects_no_certainty_and_no_evidence_level(client, reviewer):
    article = in_review()
    statement = article.evidence_statements.get()
    client.force_login(reviewer)

    page = client.get(desk_url(article)).content.decode()

    select = re.search(rf'<select name="s{statement.pk}-certainty".*?</select>', page, re.S).group(0)
    options = re.findall(r"<option[^>]*>", select)
    assert options[0] == '<option value="" selected>'
    assert not any("selected" in option for option in options[1:])
    assert not re.search(rf'name="s{statement.pk}-evidence_level" value="[A-F]"[^>]*checked', page)


@pytest.mark.parametrize("missing", ["certainty", "evidence_level"])
def test_an_approval_without_a_certainty_or_level_is_refused_with_a_clear_message(client, reviewer, missing):
    article = in_review()
    statement = article.evidence_statements.get()
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url("approve", article, statement), approve_data(statement, **{missing: ""}))

    assert_refused_without_change(response, article, before)
    expected = CERTAINTY_REQUIRED if missing == "certainty" else EVIDENCE_LEVEL_REQUIRED
    assert expected in messages_of(response, "error")[0]


# --- Issue 12: after "Publish now" the desk says it is live, not that something blocks it ----------------


def test_right_after_publish_now_the_desk_says_live_and_shows_no_blockers(client, editor):
    article = signed_off()
    client.force_login(editor)

    response = client.post(step_url("publish", article), follow=True)

    page = response.content.decode()
    assert desk.PublishView.success_message in page
    assert "Still blocking publication" not in page
    assert workflow.ALREADY_LIVE.format(title=article.title) not in page
    assert workflow.LIVE_AS_IT_STANDS in page
    assert step_url("publish", article) not in page


# --- Issue 12: approvals a reference change withdrew; one source of truth for sections and buttons ------------


def with_changed_reference(article: Article) -> Article:
    reference = article.resolve_citations()[0][0]
    reference.title = "Exosome effects on mouse fibroblasts in vitro"
    reference.save()
    article.refresh_from_db()
    return article


@pytest.mark.parametrize("state", ["signed_off", "scheduled"])
def test_the_desk_lists_an_article_whose_approval_a_reference_change_withdrew_apart(client, editor, reviewer, state):
    article = with_changed_reference(signed_off() if state == "signed_off" else scheduled(editor))
    ready = signed_off(title="Really ready")
    client.force_login(reviewer)

    page = client.get(reverse("articles:review_queue")).content.decode()

    assert article.title in section(page, "reference-changed-heading")
    assert article.title not in section(page, "signed-off-heading")
    assert article.title not in section(page, "scheduled-heading")
    assert ready.title in section(page, "signed-off-heading")
    assert ready.title not in section(page, "reference-changed-heading")
    badge = r'<span class="badge [^"]*">(\d+)</span>'
    counts = {
        heading: int(re.search(badge, section(page, heading)).group(1))
        for heading in ["reference-changed-heading", "signed-off-heading", "scheduled-heading"]
    }
    assert counts == {"reference-changed-heading": 1, "signed-off-heading": 1, "scheduled-heading": 0}


def _its_topic_now_needs_a_disclaimer_nobody_wrote(article):
    article.topics.update(requires_topic_disclaimer=True)


def _add_a_red_flag_it_uses(article):
    RedFlagPhrase.objects.create(phrase="something changed", why="Say what.", instead="Say what changed.")


def _approver_edits_a_cited_reference(article):
    reference = article.resolve_citations()[0][0]
    reference._history_user = article.sign_offs.get().reviewer  # saved unchanged: the approver is a contributor
    reference.save()


@pytest.mark.parametrize(
    "change",
    [_its_topic_now_needs_a_disclaimer_nobody_wrote, _add_a_red_flag_it_uses, _approver_edits_a_cited_reference],
)
def test_an_article_the_gate_would_refuse_is_never_listed_or_offered_as_ready(client, editor, change):
    # Issue 12, "one source of truth": the queue once listed such articles as ready from their status alone.
    article = signed_off(title="Signed off, then something changed")
    ready = signed_off(title="Really ready")
    change(article)
    problems = workflow.review_status(article).problems
    assert problems
    assert not workflow.review_status(ready).problems
    client.force_login(editor)

    page = client.get(reverse("articles:review_queue")).content.decode()
    index = client.get(reverse("admin:index")).content.decode()
    change_form = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    ready_form = client.get(reverse("admin:articles_article_change", args=[ready.pk])).content.decode()

    assert article.title not in section(page, "signed-off-heading")
    assert article.title in section(page, "blocked-heading")
    assert escape(problems[0]) in section(page, "blocked-heading")
    assert ready.title in section(page, "signed-off-heading")
    blocked, signed, _scheduled = client.get(reverse("admin:index")).context["publishing_work"]
    assert (blocked.title, blocked.rows, signed.rows) == ("Signed off, but publishing is blocked", [article], [ready])
    assert escape(problems[0]) in index
    assert 'name="_publish"' not in change_form
    assert 'name="_publish"' in ready_form
    assert step_url("publish", article) not in client.get(desk_url(article)).content.decode()
    with pytest.raises(workflow.WorkflowError):
        workflow.publish(article, by=editor)


def test_save_and_publish_is_offered_only_where_the_gate_would_publish(client, editor, reviewer):
    draft, waiting, ready = cited_article(title="A draft"), in_review(title="In review"), signed_off(title="Ready")
    client.force_login(editor)

    offered = {
        article.title: 'name="_publish"'
        in client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
        for article in (draft, waiting, ready)
    }

    assert offered == {"A draft": False, "In review": False, "Ready": True}


def test_the_reviewer_re_approves_a_withdrawn_statement_and_signs_off_from_the_desk(client, reviewer):
    article = with_changed_reference(signed_off())
    statement = article.evidence_statements.get()
    client.force_login(reviewer)

    page = client.get(desk_url(article)).content.decode()
    assert "the record of a reference it cites changed since" in statement_card(page, 1)
    assert step_url("approve", article, statement) in page
    assert step_url("sign_off", article) not in page  # not until the statement is approved again
    assert step_url("request_changes", article) in page
    response = client.post(step_url("approve", article, statement), approve_data(statement))
    assert messages_of(response, "success") == [desk.ApproveStatementView.success_message]
    page = client.get(desk_url(article)).content.decode()
    response = client.post(step_url("sign_off", article), {"seen_hash": hidden_value(page, "seen_hash")})

    assert messages_of(response, "success") == [desk.SignOffView.success_message]
    article.refresh_from_db()
    assert article.status == Article.Status.SIGNED_OFF
    assert workflow.review_status(article).problems == []


class _Undo(Exception):
    pass


def _every_state(editor, reviewer) -> list[Article]:
    """Articles in every state the desk shows, each brought there by the workflow."""
    approved_in_review = approved(in_review(title="All approved"), member_of("Reviewers"))
    live_edited = published(title="Live, then edited")
    live_edited.title = "Live, edited title"
    live_edited.save()
    workflow.record_edit(live_edited, by=live_edited.author)
    retracted = ReferenceFactory(is_retracted=True, retraction_note="Retracted.")
    archived = published(title="Archived")
    workflow.archive(archived, by=editor, reason="Superseded.")
    return [
        in_review(title="Fresh in review"),
        approved_in_review,
        in_review(cited_article(references=[retracted], title="Cites a retraction")),
        changes_requested(reviewer, title="Sent back"),
        signed_off(title="Signed off"),
        scheduled(editor, title="Scheduled"),
        published(title="Live as it stands"),
        live_edited,
        with_changed_reference(signed_off(title="Signed off, reference changed")),
        with_changed_reference(scheduled(editor, title="Scheduled, reference changed")),
        archived,
    ]


def _take(step: str, article: Article, user, number: int | None = None) -> None:
    """Take one desk step through the workflow, with valid input."""
    article.refresh_from_db()
    status = workflow.review_status(article)
    if number is not None:
        item = status.statements[number - 1]
        if step == "approve":
            workflow.approve_statement(
                item.stored, by=user, seen_hash=item.sentence.hash, evidence_level="E", certainty="low"
            )
        else:
            workflow.request_statement_changes(item.stored, by=user, seen_hash=item.sentence.hash, comment="Fix.")
        return
    calls = {
        "sign_off": lambda: workflow.sign_off(article, by=user, seen_hash=status.content_hash),
        "request_changes": lambda: workflow.request_changes(article, by=user, comment="Fix it."),
        "submit": lambda: workflow.submit_for_review(article, by=user),
        "publish": lambda: workflow.publish(article, by=user),
        "schedule": lambda: workflow.schedule(article, by=user, at=timezone.now() + datetime.timedelta(days=1)),
        "unschedule": lambda: workflow.unschedule(article, by=user),
        "unpublish": lambda: workflow.unpublish(article, by=user, reason="Outdated."),
        "archive": lambda: workflow.archive(article, by=user, reason="Outdated."),
        "acknowledge_retraction": lambda: [
            workflow.acknowledge_retraction(article, ref, by=user, comment="Still relevant.")
            for ref in status.unacknowledged_retractions
        ],
        "justify_finding": lambda: [
            workflow.justify_finding(article, by=user, finding_key=f.key, reason="Fine.")
            for f in status.unresolved_findings
        ],
    }
    calls[step]()


def test_every_step_the_desk_offers_succeeds_and_every_ready_article_publishes(client, editor, reviewer):
    from django.db import transaction

    articles = _every_state(editor, reviewer)
    offered = 0
    for user in [reviewer, editor, member_of("Writers"), articles[0].author]:
        for article in articles:
            article.refresh_from_db()
            steps = workflow.allowed_steps(workflow.review_status(article), user)
            todo = [(step, None) for step in steps.article]
            todo += [("approve", n) for n in steps.approve] + [("statement_changes", n) for n in steps.comment]
            for step, number in todo:
                offered += 1
                try:
                    with transaction.atomic():
                        _take(step, article, user, number)
                        raise _Undo
                except _Undo:
                    pass
                except workflow.WorkflowError as error:
                    pytest.fail(
                        f"{step} offered to {user} on “{article.title}” ({article.status}) but refused: {error}"
                    )
    assert offered > 20

    client.force_login(editor)
    page = client.get(reverse("articles:review_queue")).content.decode()
    ready = section(page, "signed-off-heading") + section(page, "scheduled-heading")
    listed = [a for a in articles if f'href="{desk_url(a)}"' in ready]
    assert {a.title for a in listed} == {"Signed off", "Scheduled"}
    for article in listed:
        with transaction.atomic():
            assert workflow.publish(article, by=editor)
            transaction.set_rollback(True)


# --- Issue 12: the reviewer's desk ----------------------------------------------------------------------


def statement_card(page: str, number: int) -> str:
    start = page.index(f'id="statement-{number}"')
    return page[start : page.index("</article>", start)]


def test_an_approved_statement_shows_a_summary_and_folds_its_forms(client, reviewer):
    article = in_review(claims=2)
    first, second = article.evidence_statements.order_by("position")
    approver = member_of("Reviewers")
    workflow.approve_statement(first, by=approver, seen_hash=first.statement_hash, evidence_level="E", certainty="low")
    client.force_login(reviewer)

    page = client.get(desk_url(article)).content.decode()

    approved_card, open_card = statement_card(page, 1), statement_card(page, 2)
    name = escape(approver.staff_profile.display_name)
    assert re.search(
        rf"Approved by {re.escape(name)}, \d+ \w+ \d{{4}} \d\d:\d\d: level E \(Animal study\)", approved_card
    )
    assert "certainty low" in approved_card
    folded = re.search(r"<details class=\"statement-forms\">(.*?)</details>", approved_card, re.S)
    assert folded
    assert step_url("approve", article, first) in folded.group(1)
    assert step_url("approve", article, second) in open_card
    assert '<details class="statement-forms"' not in open_card


def send_back_data(comment="Please revise.", **statement_comments) -> dict:
    """The send-back form: the overall comment and, per statement, a comment and the hash the reviewer read."""
    data = {"comment": comment}
    for statement, text in statement_comments.values():
        data[f"b{statement.pk}-seen_hash"] = statement.statement_hash
        data[f"b{statement.pk}-comment"] = text
    return data


def test_statement_comments_and_the_send_back_are_one_step_and_one_mail(client, reviewer, mailoutbox):
    article = in_review(claims=2)
    first, second = article.evidence_statements.order_by("position")
    client.force_login(reviewer)
    page = client.get(desk_url(article)).content.decode()
    assert hidden_value(page, f"b{first.pk}-seen_hash") == first.statement_hash
    deliver_queued_mail()
    mailoutbox.clear()

    response = client.post(
        step_url("request_changes", article),
        send_back_data("Two claims overstate the trials.", a=(first, "Say it was in mice."), b=(second, "")),
    )
    deliver_queued_mail()

    assert messages_of(response, "success") == [desk.RequestChangesView.success_message]
    article.refresh_from_db()
    assert article.status == Article.Status.CHANGES_REQUESTED
    requests = ChangeRequest.objects.order_by("pk")
    assert [(r.statement_hash, r.comment) for r in requests] == [
        (first.statement_hash, "Say it was in mice."),
        ("", "Two claims overstate the trials."),
    ]
    (mail,) = mailoutbox
    assert mail.to == [article.author.email]
    assert "Say it was in mice." in mail.body
    assert "Two claims overstate the trials." in mail.body


def test_a_send_back_with_a_stale_statement_comment_records_nothing(client, reviewer, mailoutbox):
    article = in_review(claims=2)
    first, _ = article.evidence_statements.order_by("position")
    data = send_back_data(a=(first, "Say it was in mice."))
    data[f"b{first.pk}-seen_hash"] = "0" * 64
    before = records(article)
    client.force_login(reviewer)
    deliver_queued_mail()
    mailoutbox.clear()

    response = client.post(step_url("request_changes", article), data)

    assert_refused_without_change(response, article, before, message=workflow.STATEMENT_CHANGED)
    assert not deliver_queued_mail()


def test_a_resubmitted_article_shows_what_changed_since_this_reviewers_last_review(client, reviewer, writer):
    article = in_review(author=writer)
    statement = article.evidence_statements.get()
    workflow.send_back(
        article, by=reviewer, comment="Be precise.", statement_comments=[(statement, statement.statement_hash, "Fix.")]
    )
    article.refresh_from_db()
    article.body = article.body.replace("is supported by a trial", "was seen in one small trial")
    article.summary = "A shorter summary."
    article._history_user = writer
    article.save()
    workflow.submit_for_review(article, by=writer)
    client.force_login(reviewer)

    page = client.get(desk_url(article)).content.decode()

    changes = section(page, "since-last-review-heading")
    assert "<del>is supported by a</del> <ins>was seen in one small</ins> trial" in changes
    assert "<ins>A shorter summary.</ins>" in changes

    client.force_login(member_of("Reviewers"))  # never reviewed it: nothing to compare with
    assert 'id="since-last-review-heading"' not in client.get(desk_url(article)).content.decode()


def _article_with_open_warnings(reviewer) -> Article:
    article = approved(in_review(topics=[TopicFactory(is_treatment=True)]), reviewer)
    assert workflow.review_status(article).warnings  # the treatment checklist's missing sections
    return article


def test_the_sign_off_form_shows_the_open_warnings_and_asks_to_confirm(client, reviewer):
    article = _article_with_open_warnings(member_of("Reviewers"))
    client.force_login(reviewer)

    page = client.get(desk_url(article)).content.decode()

    sign_off = section(page, "sign-off-heading")
    for warning in workflow.review_status(article).warnings:
        assert escape(warning.message) in sign_off
    assert 'name="warnings_read"' in sign_off


def test_signing_off_with_open_warnings_is_refused_without_the_confirmation(client, reviewer):
    from articles.forms import WARNINGS_NOT_CONFIRMED

    article = _article_with_open_warnings(member_of("Reviewers"))
    before = records(article)
    client.force_login(reviewer)

    response = client.post(step_url("sign_off", article), {"seen_hash": article.content_hash()})

    assert_refused_without_change(response, article, before)
    assert WARNINGS_NOT_CONFIRMED in messages_of(response, "error")[0]


def test_signing_off_with_open_warnings_is_accepted_with_the_confirmation(client, reviewer):
    article = _article_with_open_warnings(member_of("Reviewers"))
    client.force_login(reviewer)

    response = client.post(step_url("sign_off", article), {"seen_hash": article.content_hash(), "warnings_read": "on"})

    assert messages_of(response, "success") == [desk.SignOffView.success_message]
    article.refresh_from_db()
    assert article.status == Article.Status.SIGNED_OFF


def test_the_timeline_reads_as_sentences_with_the_hash_on_request(client, reviewer):
    reviewer.staff_profile.display_name = "Daniel Reyes"
    reviewer.staff_profile.save()
    article = approved(in_review(), member_of("Reviewers"))
    workflow.sign_off(article, by=reviewer, seen_hash=article.content_hash())
    event = AuditEvent.objects.get(article=article, action="articles.article.sign_off")
    client.force_login(member_of("Editors"))

    page = client.get(desk_url(article)).content.decode()

    timeline = section(page, "timeline-heading")
    when = timezone.localtime(event.at).strftime("%-d %b %Y %H:%M")
    assert f"Daniel Reyes signed off, {when}" in re.sub(r"<[^>]+>", "", timeline)
    assert re.search(r"<details[^>]*>\s*<summary>[^<]*</summary>[^<]*articles\.article\.sign_off", timeline)
    hash_at = timeline.index(event.content_hash[:12])
    assert timeline.rfind("<details", 0, hash_at) > timeline.rfind("</details>", 0, hash_at)
