"""Bypass attempts the security issue lists, a) to h): each is refused and leaves the database as it was.

Most attempts are tested where the feature lives (test_desk.py, test_admin.py, test_workflow.py,
test_models.py); this module holds the sub-cases they did not have. Every test checks the refusal the attacker
meets and that `database_state()` (or, for the CSRF walk, every row of every table) did not change.
"""

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.http import HttpResponseForbidden
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RoutePattern

from articles import urls as article_urls
from articles import workflow
from articles.models import (
    WORKFLOW_FIELDS,
    Article,
    AuditEvent,
    ChangeRequest,
    Disclaimer,
    FindingJustification,
    PublishedSnapshot,
    RedFlagPhrase,
    RetractionAcknowledgement,
    ReviewSignOff,
    StatementApproval,
)
from articles.workflow import ARTICLE_STEPS, STATEMENT_STEPS
from tests.factories import (
    DisclaimerFactory,
    ReferenceFactory,
    UserFactory,
    admin_form_data,
    member_of,
    review,
    sitewide_disclaimer,
)
from tests.test_desk import (
    approve_data,
    approved,
    cited_article,
    desk_url,
    future_publish_at,
    hidden_value,
    in_review,
    published,
    retraction_data,
    signed_off,
    statement_changes_data,
    step_url,
)

pytestmark = pytest.mark.django_db

APPEND_ONLY = [
    PublishedSnapshot,
    StatementApproval,
    ChangeRequest,
    ReviewSignOff,
    RetractionAcknowledgement,
    FindingJustification,
    AuditEvent,
]
FORGED = "Forged after the fact."


def database_state() -> dict:
    """Return what a bypass could change: articles (content and workflow state), disclaimers, append-only rows."""
    state = {
        "articles": list(
            Article.objects.order_by("pk").values_list("pk", "title", "summary", "body", *sorted(WORKFLOW_FIELDS))
        ),
        "disclaimers": list(Disclaimer.objects.order_by("pk").values_list("pk", "title", "text", "is_active")),
    }
    for model in APPEND_ONLY:
        state[model._meta.label] = list(model._base_manager.order_by("pk").values_list())
    return state


def messages_of(response, level: str) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == level]


def with_claim_check_finding(article: Article | None = None) -> tuple[Article, str]:
    """Return an article in review whose title trips a red-flag phrase, and the key of that finding."""
    RedFlagPhrase.objects.update_or_create(phrase="cure", defaults={"why": "Overstates.", "instead": "Say what."})
    article = in_review(article or cited_article(title="A cure for scars"))
    (finding,) = [f for f in workflow.review_status(article).findings if f.rule == "red_flag"]
    return article, finding.key


def every_step_data(article: Article, statement, retracted, finding_key: str) -> dict:
    """Return a POST body that fills in the form of every desk step at once, as a crafted request might."""
    return {
        **approve_data(statement),
        **statement_changes_data(statement),
        **retraction_data(retracted),
        "comment": "Rewrite it.",
        "seen_hash": article.content_hash(),
        "publish_at": future_publish_at(),
        "unpublish-reason": "Forged.",
        "archive-reason": "Forged.",
        "finding": finding_key,
        f"f{finding_key}-finding_key": finding_key,
        f"f{finding_key}-reason": "Forged.",
    }


def desk_target() -> tuple[Article, object, dict]:
    """Return an article in review that cites a retracted reference and trips a claim check, with its statement
    and a POST body for every step: each step has something it could record."""
    retracted = ReferenceFactory(is_retracted=True, retraction_note="Retracted.")
    article, finding_key = with_claim_check_finding(cited_article(title="A cure for scars", references=[retracted]))
    statement = article.evidence_statements.get()
    return article, statement, every_step_data(article, statement, retracted, finding_key)


def any_step_url(step: str, article: Article, statement) -> str:
    return step_url(step, article, statement if step in STATEMENT_STEPS else None)


# --- a) A writer posting straight to publish, sign-off and approval -----------------------------------------
# The desk's URLs: test_desk.py::test_writers_and_patients_cannot_post_desk_steps; every other desk step
# for writers and staff without a role is in g) below. What was left: the admin's own "Save and publish" button.


def test_a_writer_cannot_publish_with_the_admin_change_forms_publish_button(client, writer):
    sitewide_disclaimer()
    article = cited_article(author=writer)
    review(article)
    article.refresh_from_db()
    before = database_state()
    client.force_login(writer)

    response = client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        admin_form_data(article, _publish="Save and publish"),
    )

    assert response.status_code == 302
    assert messages_of(response, "error") == [workflow.NOT_ALLOWED_TO_PUBLISH]
    assert database_state() == before
    assert not PublishedSnapshot.objects.exists()


# --- b) A reviewer approving an article they edited -------------------------------------------------------------
# Approve and sign off, author or editor of a revision: test_desk.py and test_workflow.py (separation of
# duties). Left: an edit made the ordinary way, in the admin; and the two other review acts that clear a blocker.


def test_a_reviewer_who_edited_the_article_in_the_admin_cannot_approve_it(client):
    reviewer = member_of("Reviewers")
    reviewer.groups.add(*member_of("Writers").groups.all())  # a clinician who also writes
    article = in_review()
    client.force_login(reviewer)
    edit = client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        admin_form_data(article, summary="Reworded by the reviewer before approving it."),
    )
    assert edit.status_code == 302
    statement = article.evidence_statements.get()
    before = database_state()

    response = client.post(step_url("approve", article, statement), approve_data(statement))

    message = workflow.SELF_REVIEW.format(title=article.title, verb="approve its statements")
    assert messages_of(response, "error") == [message]
    assert database_state() == before


@pytest.mark.parametrize(
    ("step", "verb"),
    [("acknowledge_retraction", "acknowledge the retraction"), ("justify_finding", "judge its claims")],
)
def test_a_reviewer_who_wrote_the_article_cannot_clear_its_retractions_or_claim_checks(client, reviewer, step, verb):
    retracted = ReferenceFactory(is_retracted=True, retraction_note="Retracted.")
    article, finding_key = with_claim_check_finding(
        cited_article(title="A cure for scars", references=[retracted], author=reviewer)
    )
    statement = article.evidence_statements.get()
    before = database_state()
    client.force_login(reviewer)

    response = client.post(step_url(step, article), every_step_data(article, statement, retracted, finding_key))

    assert messages_of(response, "error") == [workflow.SELF_REVIEW.format(title=article.title, verb=verb)]
    assert database_state() == before


# --- c) Crafted admin bulk-action POSTs ----------------------------------------------------------------------
# A writer posting publish_selected or delete_selected: test_admin.py; a broken rule on the editors' bulk publish:
# test_workflow.py::test_every_publishing_path_refuses_a_broken_rule[admin_bulk-*].


BULK_ACTIONS = {
    # case: (who, what the article is, POST body beyond the selection, what the attacker meets)
    "reviewer submits": ("reviewer", "changes requested", {"action": "submit_selected"}, "ignored"),
    "reviewer publishes": ("reviewer", "signed off", {"action": "publish_selected"}, "ignored"),
    "writer publishes all with select_across": (
        "writer",
        "signed off",
        {"action": "publish_selected", "select_across": "1"},
        "not offered",
    ),
    "writer runs an action that does not exist": ("writer", "published", {"action": "archive_selected"}, "not offered"),
    "editor deletes a live article": (
        "editor",
        "published",
        {"action": "delete_selected", "post": "yes"},
        "not offered",
    ),
    "superuser deletes an article with a record": (
        "admin_user",
        "in review",
        {"action": "delete_selected", "post": "yes"},
        "protected",
    ),
    "writer submits an archived article": ("writer", "archived", {"action": "submit_selected"}, "refused"),
    "staff without a role publishes": ("no_group", "signed off", {"action": "publish_selected"}, "forbidden"),
}


def article_in(state: str, *, editor, reviewer) -> Article:
    if state == "changes requested":
        article = in_review()
        workflow.request_changes(article, by=reviewer, comment="Say which trial.")
    elif state == "signed off":
        article = signed_off()
    elif state == "published":
        article = published()
    elif state == "in review":
        article = in_review()
    else:
        article = in_review()
        workflow.archive(article, by=editor, reason="Superseded.")
    article.refresh_from_db()
    return article


@pytest.mark.parametrize("case", list(BULK_ACTIONS))
def test_crafted_bulk_action_posts_change_nothing(client, request, editor, reviewer, case):
    role, state, body, outcome = BULK_ACTIONS[case]
    article = article_in(state, editor=editor, reviewer=reviewer)
    user = UserFactory(is_staff=True) if role == "no_group" else request.getfixturevalue(role)
    before = database_state()
    client.force_login(user)

    response = client.post(reverse("admin:articles_article_changelist"), {**body, "_selected_action": [article.pk]})

    status, warnings, errors = {
        "forbidden": (403, [], []),
        "protected": (200, [], []),  # the confirmation page lists the records that protect it, and stops there
        "ignored": (200, [], []),  # no action is offered to this role at all: there is nothing to run
        "not offered": (302, ["No action selected."], []),
        "refused": (302, [], [f"“{article.title}”: {workflow.ARCHIVED.format(title=article.title)}"]),
    }[outcome]
    assert response.status_code == status
    assert (messages_of(response, "warning"), messages_of(response, "error")) == (warnings, errors)
    assert not messages_of(response, "success")
    if outcome == "protected":
        assert "<title>Cannot delete article" in response.content.decode()
    assert database_state() == before


# --- d) Workflow state through the admin's forms: change form, add form, list_editable, restoring a revision -------
# The change form with status, live_snapshot and scheduled_for: test_admin.py::
# test_status_and_live_snapshot_cannot_be_set_through_the_change_form.


def forged_workflow_fields(snapshot: PublishedSnapshot, user) -> dict:
    """Return the workflow fields as a crafted form would post them: live, pointing at another article's snapshot."""
    return {
        "status": Article.Status.PUBLISHED,
        "live_snapshot": snapshot.pk,
        "scheduled_for": "2030-01-01 09:00",
        "scheduled_by": user.pk,
    }


@pytest.mark.parametrize("role", ["editor", "admin_user"])
def test_a_list_editable_post_cannot_set_workflow_state(client, request, role):
    other = published()
    article = in_review()
    user = request.getfixturevalue(role)
    before = database_state()
    client.force_login(user)
    row = {f"form-0-{name}": value for name, value in forged_workflow_fields(other.live_snapshot, user).items()}

    response = client.post(
        reverse("admin:articles_article_changelist"),
        {
            "_save": "Save",
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": str(article.pk),
            "form-0-title": "Forged title",
            **row,
        },
    )

    assert response.status_code == 200  # the article list has no editable columns: the formset is ignored
    assert not messages_of(response, "success")
    assert database_state() == before


def test_the_add_form_cannot_create_a_live_or_scheduled_article(client, editor):
    other = published()
    before = database_state()
    client.force_login(editor)
    data = {
        "title": "Forged live article",
        "slug": "forged-live-article",
        "language": "en",
        "summary": "Never reviewed.",
        "body": "<p>Exosomes cure everything.</p>",
        "topics": [other.topics.first().pk],
        "author": editor.pk,
        **forged_workflow_fields(other.live_snapshot, editor),
    }

    response = client.post(reverse("admin:articles_article_add"), data)

    assert response.status_code == 302
    created = Article.objects.get(slug="forged-live-article")
    assert (created.status, created.live_snapshot, created.scheduled_for, created.scheduled_by) == (
        Article.Status.DRAFT,
        None,
        None,
        None,
    )
    after = database_state()
    after["articles"] = [row for row in after["articles"] if row[0] != created.pk]
    assert after == before
    assert client.get(reverse("articles:article_detail", args=["forged-live-article"])).status_code == 404


def test_a_superuser_cannot_point_an_article_at_another_articles_snapshot(client, admin_user):
    other = published()
    article = in_review()
    before = database_state()
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        admin_form_data(article, **forged_workflow_fields(other.live_snapshot, admin_user)),
    )

    assert response.status_code == 302
    after = database_state()
    assert after == before
    article.refresh_from_db()
    assert (article.status, article.live_snapshot_id) == (Article.Status.IN_REVIEW, None)


def test_restoring_a_revision_cannot_set_workflow_state(client, editor):
    other = published()
    article = in_review()
    revision = article.history.latest("history_date")
    before = database_state()
    client.force_login(editor)

    response = client.post(
        reverse("admin:articles_article_simple_history", args=[article.pk, revision.history_id]),
        admin_form_data(article, **forged_workflow_fields(other.live_snapshot, editor)),
    )

    assert response.status_code == 302
    assert database_state() == before


def _view_only_restore(kind: str, *, editor):
    """Return (user, restore URL, POST body) for someone who may view the object's history but not change it."""
    if kind == "disclaimer":
        disclaimer = DisclaimerFactory(text="<p>Not medical advice.</p>")
        revision = disclaimer.history.latest("history_date")
        url = reverse("admin:articles_disclaimer_simple_history", args=[disclaimer.pk, revision.history_id])
        data = {"title": "Defaced", "text": "<p>Buy now at evil.example</p>", "scope": "all", "position": 0}
        return member_of("Writers"), url, {**data, "is_active": "on"}
    article = in_review()
    if kind == "archived article":
        workflow.archive(article, by=editor, reason="Superseded.")
        user = article.author
    else:
        user = member_of("Reviewers")
    revision = article.history.latest("history_date")
    url = reverse("admin:articles_article_simple_history", args=[article.pk, revision.history_id])
    return user, url, admin_form_data(article, title="Defaced title", body="<p>Buy now at evil.example</p>")


@pytest.mark.parametrize(
    "kind",
    ["article, by a reviewer (view only)", "archived article", "disclaimer"],
    ids=["reviewer", "archived", "disclaimer"],
)
def test_staff_who_may_only_view_cannot_save_through_the_restore_revision_form(client, editor, kind):
    # django-simple-history saves a posted restore form for anyone who may *view* the history.
    user, url, data = _view_only_restore(kind, editor=editor)
    before = database_state()
    client.force_login(user)

    response = client.post(url, data)

    assert response.status_code == 403
    assert database_state() == before


def test_an_editor_may_still_restore_a_disclaimer_revision(client, editor):
    disclaimer = DisclaimerFactory(text="<p>Version one.</p>")
    first = disclaimer.history.latest("history_date")
    disclaimer.text = "<p>Version two.</p>"
    disclaimer.save()
    client.force_login(editor)

    response = client.post(
        reverse("admin:articles_disclaimer_simple_history", args=[disclaimer.pk, first.history_id]),
        {
            "title": disclaimer.title,
            "text": "<p>Version one.</p>",
            "language": "en",
            "scope": "all",
            "position": 0,
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    disclaimer.refresh_from_db()
    assert disclaimer.text == "<p>Version one.</p>"


# --- e) Snapshots, approvals, audit entries (and the other append-only records): admin, ORM, raw SQL ----------------
# test_admin.py: a snapshot's change form (POST) and delete page (GET), and no add page for review records;
# test_workflow.py: save/delete/update/queryset delete/bulk_update on snapshots, approvals, sign-offs and audit
# entries, and raw UPDATE/DELETE on their tables. Here: the remaining records and paths, with the rows checked.

FORGEABLE = {
    PublishedSnapshot: "title",
    StatementApproval: "statement_text",
    ChangeRequest: "comment",
    ReviewSignOff: "comment",
    RetractionAcknowledgement: "comment",
    FindingJustification: "reason",
    AuditEvent: "message",
}


def record_of(model, *, reviewer):
    """Return a record of this append-only kind, made the way the workflow makes it (and no more than it needs)."""
    if model in (PublishedSnapshot, ReviewSignOff):
        article = signed_off() if model is ReviewSignOff else published()
        return article.live_snapshot if model is PublishedSnapshot else ReviewSignOff.objects.get(article=article)
    if model is RetractionAcknowledgement:
        retracted = ReferenceFactory(is_retracted=True, retraction_note="Retracted.")
        article = in_review(cited_article(references=[retracted]))
        return workflow.acknowledge_retraction(article, retracted, by=reviewer, comment="Cited for the retraction.")
    if model is FindingJustification:
        article, finding_key = with_claim_check_finding()
        return workflow.justify_finding(article, by=reviewer, finding_key=finding_key, reason="Quoted, not claimed.")
    article = in_review()
    statement = article.evidence_statements.get()
    if model is StatementApproval:
        return approved(article, reviewer).statement_approvals.get()
    if model is ChangeRequest:
        return workflow.request_statement_changes(
            statement, by=reviewer, seen_hash=statement.statement_hash, comment="Why?"
        )
    return AuditEvent.objects.get(article=article)  # the submission's


ADMIN_WAYS = ["change form", "delete page", "bulk delete action"]
# test_admin.py::test_snapshots_and_audit_are_read_only_in_the_admin already posts to a snapshot's change form.
ADMIN_ATTEMPTS = [
    pytest.param(model, way, id=f"{model._meta.model_name}-{way}")
    for model in APPEND_ONLY
    for way in ADMIN_WAYS
    if (model, way) != (PublishedSnapshot, "change form")
]


@pytest.mark.parametrize(("model", "way"), ADMIN_ATTEMPTS)
def test_the_admin_refuses_to_change_or_delete_append_only_records(client, admin_user, reviewer, model, way):
    record = record_of(model, reviewer=reviewer)
    name = model._meta.model_name
    before = database_state()
    client.force_login(admin_user)

    if way == "change form":
        response = client.post(reverse(f"admin:articles_{name}_change", args=[record.pk]), {FORGEABLE[model]: FORGED})
        assert response.status_code == 403
    elif way == "delete page":
        response = client.post(reverse(f"admin:articles_{name}_delete", args=[record.pk]), {"post": "yes"})
        assert response.status_code == 403
    else:
        response = client.post(
            reverse(f"admin:articles_{name}_changelist"),
            {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"},
        )
        assert response.status_code == 200  # read-only lists offer no action: the crafted one is ignored
        assert not messages_of(response, "success")
    assert database_state() == before


def _upsert(record, field):
    forged = type(record)._base_manager.get(pk=record.pk)
    setattr(forged, field, FORGED)
    type(record).objects.bulk_create([forged], update_conflicts=True, unique_fields=["id"], update_fields=[field])


def _related_manager(record):
    """Return the manager on the record's article that lists records of its kind (`article.sign_offs`, ...)."""
    return getattr(record.article, record._meta.get_field("article").remote_field.get_accessor_name())


def _raw(sql: str, record, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=record._meta.db_table), [*params, record.pk])


MODEL_LAYER = (ValidationError, "never")  # refused in Python (ValidationError) before any SQL is sent
TRIGGER = (DatabaseError, "append-only")  # sent to PostgreSQL, refused by the trigger
GATE = (DatabaseError, "written only through articles.workflow")  # an INSERT outside the gate (migration 0013)
ORM_PATHS = {
    # path: (attempt, (exception, message))
    "save": (lambda r, f: (setattr(r, f, FORGED), r.save()), MODEL_LAYER),
    "delete": (lambda r, f: r.delete(), MODEL_LAYER),
    "queryset update": (lambda r, f: type(r).objects.filter(pk=r.pk).update(**{f: FORGED}), MODEL_LAYER),
    "queryset delete": (lambda r, f: type(r).objects.filter(pk=r.pk).delete(), MODEL_LAYER),
    "bulk_update": (lambda r, f: (setattr(r, f, FORGED), type(r).objects.bulk_update([r], [f])), MODEL_LAYER),
    "related manager update": (
        lambda r, f: _related_manager(r).filter(pk=r.pk).update(**{f: FORGED}),
        MODEL_LAYER,
    ),
    "base manager update": (lambda r, f: type(r)._base_manager.filter(pk=r.pk).update(**{f: FORGED}), TRIGGER),
    "base manager delete": (lambda r, f: type(r)._base_manager.filter(pk=r.pk).delete(), (DatabaseError, None)),
    "bulk_create upsert": (_upsert, GATE),
    "raw UPDATE": (lambda r, f: _raw(f"UPDATE {{table}} SET {f} = %s WHERE id = %s", r, FORGED), TRIGGER),  # noqa: S608
    "raw DELETE": (lambda r, f: _raw("DELETE FROM {table} WHERE id = %s", r), TRIGGER),
    "deleting the article": (lambda r, f: r.article.delete(), (ProtectedError, None)),
}
# What test_workflow.py already tries, on the records it tries them on.
ALREADY_TRIED = {
    (model, path)
    for model in (PublishedSnapshot, StatementApproval, ReviewSignOff, AuditEvent)
    for path in ("save", "delete", "queryset update", "queryset delete", "bulk_update", "raw UPDATE", "raw DELETE")
}


@pytest.mark.parametrize(
    ("model", "path"),
    [(model, path) for model in APPEND_ONLY for path in ORM_PATHS if (model, path) not in ALREADY_TRIED],
    ids=lambda value: value._meta.model_name if isinstance(value, type) else value,
)
def test_the_orm_and_the_database_refuse_to_change_or_delete_append_only_records(reviewer, model, path):
    record = record_of(model, reviewer=reviewer)
    field = FORGEABLE[model]
    attempt, (error, message) = ORM_PATHS[path]
    before = database_state()

    with pytest.raises(error, match=message), transaction.atomic():
        attempt(record, field)

    assert database_state() == before
    assert getattr(model._base_manager.get(pk=record.pk), field) != FORGED


# --- f) Replaying an old approval or sign-off form after the text changed ---------------------------------------
# A form loaded before the statement or article changed: test_desk.py (stale forms) and test_workflow.py.
# Left: replaying a request that was accepted once, and a sign-off replayed after a cited reference changed.


@pytest.mark.parametrize("target", ["the same URL", "the rewritten statement's URL"])
def test_replaying_an_accepted_approval_after_the_statement_was_rewritten_is_refused(client, reviewer, target):
    article = in_review()
    statement = article.evidence_statements.get()
    client.force_login(reviewer)
    accepted = client.post(step_url("approve", article, statement), approve_data(statement))
    assert messages_of(accepted, "success") == ["Statement approved."]
    article.body = article.body.replace("is supported by a trial", "is proven beyond doubt by a trial")
    article.save()
    rewritten = article.evidence_statements.get()
    before = database_state()

    replayed = approve_data(statement)
    if target == "the same URL":
        response = client.post(step_url("approve", article, statement), replayed)
    else:  # the old form's fields and hash, re-addressed to the statement as it now reads
        moved = {name.replace(f"s{statement.pk}-", f"s{rewritten.pk}-"): value for name, value in replayed.items()}
        response = client.post(step_url("approve", article, rewritten), moved)

    assert messages_of(response, "error") == [workflow.STATEMENT_CHANGED]
    assert database_state() == before
    assert [s.state for s in workflow.review_status(article).statements] == ["edited"]


def test_replaying_a_sign_off_form_after_a_cited_reference_changed_is_refused(client, reviewer):
    article = approved(in_review(), member_of("Reviewers"))
    client.force_login(reviewer)
    seen_hash = hidden_value(client.get(desk_url(article)).content.decode(), "seen_hash")
    reference = article.resolve_citations()[0][0]
    reference.title = "A different study altogether"
    reference.save()
    before = database_state()

    response = client.post(step_url("sign_off", article), {"seen_hash": seen_hash})

    assert messages_of(response, "error") == [workflow.ARTICLE_CHANGED.format(title=article.title)]
    assert database_state() == before


# --- g) IDOR: desk URLs of articles outside the user's reach ----------------------------------------------------
# Never-submitted drafts (every step) and missing ids (two steps): test_desk.py; writers and patients on the
# queue and article page, and on approve, sign-off and publish; statements of another article or none.


@pytest.mark.parametrize(
    ("who", "step"),
    [
        (who, step)
        for who in ["writer", "staff without a role", "deactivated reviewer"]
        for step in ARTICLE_STEPS + STATEMENT_STEPS
        if (who, step) not in {("writer", "approve"), ("writer", "sign_off"), ("writer", "publish")}  # a)
    ],
)
def test_every_desk_step_refuses_users_without_a_review_or_editor_role(client, who, step):
    article, statement, data = desk_target()
    user = {
        "writer": article.author,
        "staff without a role": UserFactory(is_staff=True),
        "deactivated reviewer": member_of("Reviewers", is_active=False),
    }[who]
    before = database_state()
    client.force_login(user)

    response = client.post(any_step_url(step, article, statement), data)

    if who == "deactivated reviewer":
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
    else:
        assert response.status_code == 403
    assert database_state() == before


def test_staff_without_a_role_cannot_open_the_desk(client):
    article = in_review()
    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("articles:review_queue")).status_code == 403
    assert client.get(desk_url(article)).status_code == 403


@pytest.mark.parametrize("step", ARTICLE_STEPS + STATEMENT_STEPS)
@pytest.mark.parametrize("role", ["reviewer", "editor"])
def test_every_desk_step_on_an_archived_article_is_refused(client, request, editor, role, step):
    article, statement, data = desk_target()
    workflow.archive(article, by=editor, reason="Superseded.")
    before = database_state()
    client.force_login(request.getfixturevalue(role))

    response = client.post(any_step_url(step, article, statement), data)

    assert response.status_code == 302
    assert response.url == desk_url(article)
    assert messages_of(response, "error")
    assert not messages_of(response, "success")
    assert database_state() == before


@pytest.mark.parametrize(
    "step", [step for step in ARTICLE_STEPS + STATEMENT_STEPS if step not in ("request_changes", "publish")]
)
def test_every_desk_step_on_an_article_that_does_not_exist_is_not_found(client, admin_user, step):
    _article, statement, data = desk_target()
    missing = Article.objects.order_by("-pk").first().pk + 1000
    before = database_state()
    client.force_login(admin_user)
    args = [missing] if step in ARTICLE_STEPS else [missing, statement.pk]

    response = client.post(reverse(f"articles:review_{step}", args=args), data)

    assert response.status_code == 404
    assert database_state() == before


# --- h) CSRF on every URL that could take a POST, found by walking the URL conf -----------------------------------
# One desk step without and with a token: test_desk.py. Here every URL pattern of the project is walked
# (the desk, the admin and each ModelAdmin's own URLs, anything added later), so no new view can be missed.

CSRF_REFUSED = "refused by the CSRF check"


def csrf_refused(request, reason=""):
    """Answer a failed CSRF check so the tests can tell it from any other 403."""
    return HttpResponseForbidden(f"{CSRF_REFUSED}: {reason}")


def url_patterns(resolver: URLResolver | None = None, prefix: tuple = ()):
    """Yield (the patterns from the root down, the pattern) for every URL pattern of the project."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from url_patterns(entry, (*prefix, entry))
        else:
            yield (*prefix, entry), entry


def pattern_name(chain) -> str:
    namespaces = [entry.namespace for entry in chain[:-1] if entry.namespace]
    name = chain[-1].name or "".join(str(entry.pattern) for entry in chain)
    return ":".join([*namespaces, name])


def walk() -> dict:
    """Return every URL pattern of the project by name (or by route, for the few without a name)."""
    found = {}
    for chain, _pattern in url_patterns():
        name = pattern_name(chain)
        found[name if name not in found else name + " " + "".join(str(entry.pattern) for entry in chain)] = chain
    return found


WALK = walk()
FILL_BY_CONVERTER = {"int": "{pk}", "path": "{pk}", "str": "{pk}", "slug": "{slug}"}


def sample_path(chain, *, pk: int, slug: str) -> str:
    """Return a path this chain of patterns matches, with the given article's id and slug where they fit."""
    path = ""
    for entry in chain:
        part = entry.pattern
        if isinstance(part, RoutePattern):
            text = re.sub(r"<(?:(\w+):)?\w+>", lambda m: FILL_BY_CONVERTER[m.group(1) or "str"], str(part))
        else:  # a regular expression: each group gets the first thing it accepts, else the id
            text = re.sub(
                r"\((?:\?P<\w+>)?([^()]*)\)",
                lambda m: m.group(1).split("|")[0] if re.fullmatch(r"[\w|]+", m.group(1)) else "{pk}",
                str(part),
            ).strip("^$")
        path += text
    return "/" + path.format(pk=pk, slug=slug)


def every_row() -> dict:
    return {model._meta.label: list(model._base_manager.order_by("pk").values_list()) for model in apps.get_models()}


def test_the_walk_reaches_every_desk_step_and_every_admin_page():
    walked = set(WALK)
    desk = {f"articles:{pattern.name}" for pattern in article_urls.urlpatterns}
    model_admins = {
        f"admin:{pattern.name}"
        for model_admin in admin.site._registry.values()
        for pattern in model_admin.get_urls()
        if pattern.name
    }
    site = {f"admin:{pattern.name}" for pattern in admin.site.get_urls() if getattr(pattern, "name", None)}
    assert desk <= walked
    assert model_admins <= walked
    assert site <= walked
    assert {f"articles:review_{step}" for step in ARTICLE_STEPS + STATEMENT_STEPS} <= walked
    assert {"admin:articles_article_change", "admin:articles_article_changelist", "admin:logout"} <= walked


# Exempt by design, each with its own guard and the tests of it.
CSRF_EXEMPT = {
    "articles:feedback": "patients post from a whole cached page that carries no token; the view refuses a post "
    "whose Origin or Referer names another site, and changes nothing a stranger could not post (test_feedback.py)",
}


def test_only_the_declared_urls_are_exempt_from_csrf_and_each_refuses_a_foreign_origin():
    exempt = {name for name, chain in WALK.items() if getattr(chain[-1].callback, "csrf_exempt", False)}
    assert exempt == set(CSRF_EXEMPT)
    article = published()
    for name in CSRF_EXEMPT:
        path = sample_path(WALK[name], pk=article.pk, slug=article.slug)
        before = every_row()
        refused = Client(enforce_csrf_checks=True).post(path, {"form": "helpful"}, HTTP_ORIGIN="https://evil.example")
        assert refused.status_code == 403, name
        assert every_row() == before


@pytest.mark.parametrize("name", [name for name in WALK if name not in CSRF_EXEMPT])
def test_every_url_refuses_a_post_without_a_csrf_token(settings, admin_user, name):
    settings.CSRF_FAILURE_VIEW = f"{__name__}.csrf_refused"
    chain = WALK[name]
    article = signed_off()  # a superuser could publish it: a POST that got through would change it
    path = sample_path(chain, pk=article.pk, slug=article.slug)
    assert resolve(path).func is chain[-1].callback, f"{path} does not reach {name}: teach sample_path its pattern"
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    body = {
        "post": "yes",
        "action": "delete_selected",
        "_selected_action": [article.pk],
        "comment": "Forged.",
        "unpublish-reason": "Forged.",
        "archive-reason": "Forged.",
    }
    before = every_row()

    refused = browser.post(path, body)

    assert refused.status_code == 403
    assert refused.content.decode().startswith(CSRF_REFUSED)
    assert every_row() == before

    # The pair: with the token a page hands out, the same POST gets past the check.
    token = hidden_value(browser.get(reverse("admin:index")).content.decode(), "csrfmiddlewaretoken")
    browser.raise_request_exception = False  # what the view then does with an odd body is not this test's concern
    accepted = browser.post(path, {**body, "post": "", "csrfmiddlewaretoken": token})
    assert not accepted.content.decode().startswith(CSRF_REFUSED)
