import datetime
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from articles import workflow
from articles.models import (
    Article,
    AuditEvent,
    ChangeRequest,
    Disclaimer,
    PublishedSnapshot,
    RetractionAcknowledgement,
    ReviewSignOff,
    StatementApproval,
)
from tests.factories import (
    ArticleFactory,
    DisclaimerFactory,
    ReferenceFactory,
    TopicFactory,
    admin_form_data,
    deliver_queued_mail,
    member_of,
    publish_reviewed,
    review,
    sitewide_disclaimer,
)

pytestmark = pytest.mark.django_db


def cited_article(*, statements=2, **fields):
    """An article with `statements` cited sentences and one uncited one, in a topic."""
    refs = ReferenceFactory.create_batch(statements)
    body = "".join(f"<p>In mice, claim {i} held [@{ref.citation_key}].</p>" for i, ref in enumerate(refs))
    fields.setdefault("topics", [TopicFactory()])
    return ArticleFactory(body=body + "<p>Talk to your doctor.</p>", **fields)


def database_state(article):
    """What a refused step must leave as it was."""
    article.refresh_from_db()
    return (
        article.status,
        article.live_snapshot_id,
        article.scheduled_for,
        AuditEvent.objects.count(),
        StatementApproval.objects.count(),
        ChangeRequest.objects.count(),
        ReviewSignOff.objects.count(),
        PublishedSnapshot.objects.count(),
    )


def submitted(article, by=None):
    workflow.submit_for_review(article, by=by or article.author)
    article.refresh_from_db()
    return article


def approve_all(article, reviewer, level="E"):
    for statement in article.evidence_statements.all():
        workflow.approve_statement(
            statement, by=reviewer, seen_hash=statement.statement_hash, evidence_level=level, certainty="low"
        )


# --- The whole story ------------------------------------------------------------------------------


def test_submit_approve_sign_off_publish(reviewer, editor):
    sitewide_disclaimer()
    article = cited_article()
    writer = article.author
    submitted(article, by=writer)
    assert article.status == Article.Status.IN_REVIEW
    approve_all(article, reviewer, level="E")
    workflow.sign_off(article, by=reviewer, seen_hash=article.content_hash(), comment="Reads well.")
    article.refresh_from_db()
    assert article.status == Article.Status.SIGNED_OFF

    snapshot = workflow.publish(article, by=editor)

    article.refresh_from_db()
    assert article.live_snapshot == snapshot
    assert article.status == Article.Status.PUBLISHED
    assert [s["level"] for s in snapshot.statements] == ["E", "E"]
    assert snapshot.body_html.count('class="evidence-label evidence-e"') == 2
    assert "Animal study" in snapshot.body_html
    assert snapshot.reviewed_by["name"] == reviewer.staff_profile.display_name
    assert snapshot.reviewed_at is not None
    assert snapshot.next_review_due == workflow.add_months(timezone.localdate(snapshot.reviewed_at), 12)
    assert snapshot.sign_off.reviewer == reviewer
    assert snapshot.content_hash == article.content_hash()
    assert [d["title"] for d in snapshot.disclaimers] == ["Not medical advice"]
    actions = list(AuditEvent.objects.order_by("at", "pk").values_list("action", flat=True))
    assert actions == [
        "articles.article.submit",
        "articles.statement.approve",
        "articles.statement.approve",
        "articles.article.sign_off",
        "articles.article.publish",
    ]
    sent = deliver_queued_mail()
    subjects = [message.subject for message in sent]
    assert any("Ready for review" in s for s in subjects)
    assert any("Signed off" in s for s in subjects)
    assert any("Published" in s for s in subjects)
    published_mail = next(m for m in sent if "Published" in m.subject)
    assert published_mail.to == [article.author.email]


def test_references_are_numbered_in_order_of_first_citation(editor):
    first, second = ReferenceFactory(), ReferenceFactory()
    article = ArticleFactory(
        body=f"<p>A [@{second.citation_key}]. B [@{first.citation_key}].</p>", topics=[TopicFactory()]
    )
    snapshot = publish_reviewed(article, editor=editor)
    assert [r["key"] for r in snapshot.references] == [second.citation_key, first.citation_key]
    assert 'href="#ref-1"' in snapshot.body_html
    assert "[@" not in snapshot.body_html


# --- Approvals are pinned to hashes -----------------------------------------------------------------


def test_editing_another_sentence_keeps_an_approval_but_editing_the_statement_does_not(reviewer):
    article = submitted(cited_article())
    approve_all(article, reviewer)
    assert workflow.review_status(article).statement_problems == []

    article.body = article.body.replace("Talk to your doctor.", "Talk to your own doctor first.")
    article.body = article.body.replace("claim 0 held", "claim 0 <strong>held</strong>")  # markup only
    article.save()
    assert workflow.review_status(article).statement_problems == []

    article.body = article.body.replace("claim 1 held", "claim 1 held firmly")
    article.save()
    problems = workflow.review_status(article).statement_problems
    assert problems == [workflow.STALE_APPROVAL.format(number=2)]


def test_changing_a_statements_citations_makes_it_a_new_statement(reviewer):
    article = submitted(cited_article())
    approve_all(article, reviewer)
    other = ReferenceFactory()
    first_key = article.citation_keys[0]
    article.body = article.body.replace(f"[@{first_key}]", f"[@{first_key}; @{other.citation_key}]")
    article.save()
    assert [s.state for s in workflow.review_status(article).statements] == ["edited", "approved"]


def test_approval_of_a_statement_changed_while_reading_is_refused(reviewer):
    article = submitted(cited_article())
    statement = article.evidence_statements.first()
    seen = statement.statement_hash
    article.body = article.body.replace("claim 0 held", "claim 0 clearly held")
    article.save()
    before = database_state(article)
    with pytest.raises(workflow.WorkflowError, match="changed while you were reading it"):
        workflow.approve_statement(statement, by=reviewer, seen_hash=seen, evidence_level="E", certainty="low")
    assert database_state(article) == before


@pytest.mark.parametrize(("level", "certainty"), [("Z", "low"), ("E", "sure"), ("", ""), ("e", "low")])
def test_approval_needs_a_valid_grade(reviewer, level, certainty):
    article = submitted(cited_article())
    statement = article.evidence_statements.first()
    before = database_state(article)
    with pytest.raises(workflow.WorkflowError, match="evidence level"):
        workflow.approve_statement(
            statement, by=reviewer, seen_hash=statement.statement_hash, evidence_level=level, certainty=certainty
        )
    assert database_state(article) == before


def test_a_later_change_request_outweighs_an_earlier_approval(reviewer):
    article = submitted(cited_article())
    approve_all(article, reviewer)
    statement = article.evidence_statements.first()
    workflow.request_statement_changes(
        statement, by=reviewer, seen_hash=statement.statement_hash, comment="Say it was in mice."
    )
    states = [s.state for s in workflow.review_status(article).statements]
    assert states == ["changes_requested", "approved"]
    assert "Say it was in mice." in workflow.review_status(article).statement_problems[0]


# --- Sign-off ---------------------------------------------------------------------------------------


def test_sign_off_is_refused_until_every_statement_is_approved(reviewer):
    article = submitted(cited_article())
    statement = article.evidence_statements.first()
    workflow.approve_statement(
        statement, by=reviewer, seen_hash=statement.statement_hash, evidence_level="F", certainty="low"
    )
    before = database_state(article)
    with pytest.raises(workflow.WorkflowError, match=r"Statement 2 .* has not been approved"):
        workflow.sign_off(article, by=reviewer, seen_hash=article.content_hash())
    assert database_state(article) == before


def test_sign_off_of_an_article_changed_while_reading_is_refused(reviewer):
    article = submitted(cited_article())
    approve_all(article, reviewer)
    seen = article.content_hash()
    article.title = "A new title"
    article.save()
    with pytest.raises(workflow.WorkflowError, match="changed while you were reading it"):
        workflow.sign_off(article, by=reviewer, seen_hash=seen)
    assert not ReviewSignOff.objects.exists()


def test_an_edit_after_sign_off_reopens_the_article(reviewer, editor):
    article = cited_article()
    review(article, reviewer=reviewer)
    article.refresh_from_db()
    article.summary = "A different summary."
    article.save()
    assert workflow.record_edit(article, by=article.author) == Article.Status.DRAFT
    assert AuditEvent.objects.filter(action="articles.article.reopen").exists()
    sitewide_disclaimer()
    with pytest.raises(workflow.WorkflowError, match="changed after it was signed off"):
        workflow.publish(article, by=editor)


# --- Separation of duties ---------------------------------------------------------------------------


def test_nobody_approves_or_signs_off_an_article_they_edited(reviewer):
    article = submitted(cited_article())
    article._history_user = reviewer  # the reviewer saved a revision, as in the admin
    article.save()
    statement = article.evidence_statements.first()
    before = database_state(article)
    with pytest.raises(workflow.WorkflowError, match="another reviewer must approve its statements"):
        workflow.approve_statement(
            statement, by=reviewer, seen_hash=statement.statement_hash, evidence_level="E", certainty="low"
        )
    with pytest.raises(workflow.WorkflowError, match="another reviewer must sign it off"):
        workflow.sign_off(article, by=reviewer, seen_hash=article.content_hash())
    assert database_state(article) == before


def test_superusers_do_not_review_their_own_articles(admin_user):
    article = submitted(cited_article(author=admin_user), by=admin_user)
    statement = article.evidence_statements.first()
    with pytest.raises(workflow.WorkflowError, match="another reviewer"):
        workflow.approve_statement(
            statement, by=admin_user, seen_hash=statement.statement_hash, evidence_level="E", certainty="low"
        )


@override_settings(ALLOW_SELF_REVIEW=True)
def test_a_one_person_clinic_may_allow_self_review_and_the_audit_says_so(admin_user):
    sitewide_disclaimer()
    article = submitted(cited_article(author=admin_user), by=admin_user)
    approve_all(article, admin_user)
    workflow.sign_off(article, by=admin_user, seen_hash=article.content_hash())
    workflow.publish(article, by=admin_user)
    assert StatementApproval.objects.filter(self_review=True).count() == 2
    assert ReviewSignOff.objects.get().self_review
    notes = AuditEvent.objects.filter(message__contains="ALLOW_SELF_REVIEW").values_list("action", flat=True)
    assert set(notes) == {"articles.statement.approve", "articles.article.sign_off"}


def test_approvals_by_someone_who_later_edited_stop_counting(reviewer, editor):
    sitewide_disclaimer()
    article = cited_article()
    review(article, reviewer=reviewer)
    article.refresh_from_db()
    article._history_user = reviewer
    article.save()
    with pytest.raises(workflow.WorkflowError) as refusal:
        workflow.publish(article, by=editor)
    assert "approved by someone who wrote or edited the article" in str(refusal.value)
    assert "signed off by someone who wrote or edited it" in str(refusal.value)


# --- Each verb: the allowed role succeeds, the others are refused and nothing changes ----------------


def prepare(verb, editor, reviewer):
    """Return an article in the state the verb starts from."""
    sitewide_disclaimer()
    article = cited_article()
    if verb in {"approve", "statement_changes", "request_changes", "sign_off"}:
        submitted(article)
        if verb == "sign_off":
            approve_all(article, member_of("Reviewers"))
        return article
    if verb in {"publish", "schedule"}:
        review(article, reviewer=reviewer)
    if verb in {"unpublish", "archive", "restore"}:
        publish_reviewed(article, editor=editor, reviewer=reviewer)
    if verb == "unschedule":
        review(article, reviewer=reviewer)
        workflow.schedule(article, by=editor, at=timezone.now() + datetime.timedelta(days=1))
    if verb == "restore":
        workflow.archive(article, by=editor, reason="Superseded")
    article.refresh_from_db()
    return article


def perform(verb, article, user):
    statement = article.evidence_statements.first()
    calls = {
        "submit": lambda: workflow.submit_for_review(article, by=user),
        "approve": lambda: workflow.approve_statement(
            statement, by=user, seen_hash=statement.statement_hash, evidence_level="E", certainty="low"
        ),
        "statement_changes": lambda: workflow.request_statement_changes(
            statement, by=user, seen_hash=statement.statement_hash, comment="Say it was in mice."
        ),
        "request_changes": lambda: workflow.request_changes(article, by=user, comment="Please simplify."),
        "sign_off": lambda: workflow.sign_off(article, by=user, seen_hash=article.content_hash()),
        "publish": lambda: workflow.publish(article, by=user),
        "schedule": lambda: workflow.schedule(article, by=user, at=timezone.now() + datetime.timedelta(hours=2)),
        "unschedule": lambda: workflow.unschedule(article, by=user),
        "unpublish": lambda: workflow.unpublish(article, by=user, reason="Evidence changed"),
        "archive": lambda: workflow.archive(article, by=user, reason="Superseded"),
        "restore": lambda: workflow.restore(article, by=user),
    }
    calls[verb]()


VERBS = {
    # verb: (allowed role, refused roles, expected refusal)
    "submit": ("writer", ["reviewer", "patient"], "permission to submit"),
    "approve": ("reviewer", ["writer", "editor", "patient"], "permission to review"),
    "statement_changes": ("reviewer", ["writer", "editor", "patient"], "permission to review"),
    "request_changes": ("reviewer", ["writer", "editor", "patient"], "permission to review"),
    "sign_off": ("reviewer", ["writer", "editor", "patient"], "permission to review"),
    "publish": ("editor", ["writer", "reviewer", "patient"], "permission to publish"),
    "schedule": ("editor", ["writer", "reviewer", "patient"], "permission to publish"),
    "unschedule": ("editor", ["writer", "reviewer", "patient"], "permission to publish"),
    "unpublish": ("editor", ["writer", "reviewer", "patient"], "permission to publish"),
    "archive": ("editor", ["writer", "reviewer", "patient"], "permission to publish"),
    "restore": ("editor", ["writer", "reviewer", "patient"], "permission to publish"),
}
ALLOWED = [(verb, allowed) for verb, (allowed, _refused, _message) in VERBS.items()]
REFUSED = [(verb, role, message) for verb, (_allowed, refused, message) in VERBS.items() for role in refused]


@pytest.mark.parametrize(("verb", "role"), ALLOWED)
def test_the_allowed_role_performs_the_verb(request, verb, role, editor, reviewer):
    article = prepare(verb, editor, reviewer)
    user = {"writer": article.author, "reviewer": reviewer, "editor": editor}[role]
    audit_before = AuditEvent.objects.count()
    perform(verb, article, user)
    assert AuditEvent.objects.count() > audit_before
    assert AuditEvent.objects.order_by("-at", "-pk").first().actor == user


@pytest.mark.parametrize(("verb", "role", "message"), REFUSED)
def test_other_roles_are_refused_and_nothing_changes(request, verb, role, message, editor, reviewer):
    article = prepare(verb, editor, reviewer)
    user = request.getfixturevalue(role)
    before = database_state(article)
    with pytest.raises(workflow.WorkflowError, match=message):
        perform(verb, article, user)
    assert database_state(article) == before


@pytest.mark.parametrize(
    ("status", "message"),
    [(Article.Status.IN_REVIEW, "already waiting for review"), (Article.Status.ARCHIVED, "archived")],
)
def test_submit_is_refused_from_the_wrong_state(status, message):
    article = cited_article()
    with workflow.gate():  # as a transition that left it there would have
        Article.objects.filter(pk=article.pk).update(status=status)
    article.refresh_from_db()
    with pytest.raises(workflow.WorkflowError, match=message):
        workflow.submit_for_review(article, by=article.author)


def test_submit_is_refused_while_the_sign_off_holds_but_allowed_once_it_does_not(reviewer):
    article = cited_article()
    review(article, reviewer=reviewer)
    article.refresh_from_db()
    with pytest.raises(workflow.WorkflowError, match="already signed off"):
        workflow.submit_for_review(article, by=article.author)
    reference = article.resolve_citations()[0][0]
    reference.title = "A corrected title"
    reference.save()  # the content changed outside the admin: the sign-off no longer holds
    workflow.submit_for_review(article, by=article.author)
    article.refresh_from_db()
    assert article.status == Article.Status.IN_REVIEW


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"topics": []}, "has no topic"),
        ({"body": "<p>Claim [@nosuchkey].</p>"}, r"No reference has the citation key “nosuchkey”"),
        ({"body": "<p>Claim [@smith 2020].</p>"}, "cannot be read"),
        ({"summary": ""}, "without summary"),
    ],
)
def test_submit_is_refused_for_incomplete_articles(change, message):
    fields = {"topics": [TopicFactory()], **change}
    article = ArticleFactory(**fields)
    before = database_state(article)
    with pytest.raises(workflow.WorkflowError, match=message):
        workflow.submit_for_review(article, by=article.author)
    assert database_state(article) == before


def test_reviewers_act_only_on_articles_in_review(reviewer):
    article = cited_article()
    statement = article.evidence_statements.first()
    with pytest.raises(workflow.WorkflowError, match="not in review"):
        workflow.approve_statement(
            statement, by=reviewer, seen_hash=statement.statement_hash, evidence_level="E", certainty="low"
        )
    with pytest.raises(workflow.WorkflowError, match="not in review"):
        workflow.request_changes(article, by=reviewer, comment="x")


def test_request_changes_needs_a_comment_and_tells_the_writer(reviewer):
    article = submitted(cited_article())
    deliver_queued_mail().clear()
    statement = article.evidence_statements.first()
    with pytest.raises(workflow.WorkflowError, match="Write a comment"):
        workflow.request_changes(article, by=reviewer, comment="   ")
    workflow.request_statement_changes(
        statement, by=reviewer, seen_hash=statement.statement_hash, comment="Say this was in mice."
    )
    workflow.request_changes(article, by=reviewer, comment="Two small fixes, see statements.")
    article.refresh_from_db()
    assert article.status == Article.Status.CHANGES_REQUESTED
    (message,) = deliver_queued_mail()
    assert message.to == [article.author.email]
    assert "Two small fixes" in message.body
    assert "Say this was in mice." in message.body


def test_review_notifications_skip_the_author_even_when_a_reviewer(reviewer):
    other = member_of("Reviewers")
    reviewer.groups.add(*member_of("Writers").groups.all())  # a clinician who also writes
    article = cited_article(author=reviewer)
    workflow.submit_for_review(article, by=reviewer)
    (message,) = deliver_queued_mail()
    assert message.to == [other.email]


# --- Publishing refuses broken rules on every path --------------------------------------------------


def reviewed_with_problem(problem, *, editor, reviewer):
    """A signed-off article, then one rule broken the way it could happen in practice."""
    sitewide_disclaimer()
    article = cited_article()
    if problem == "no_sign_off":
        submitted(article)
        approve_all(article, reviewer)
        with workflow.gate():  # a bypass the database would refuse outside the gate (test_database_gate.py)
            Article.objects.filter(pk=article.pk).update(status=Article.Status.SIGNED_OFF)
    else:
        review(article, reviewer=reviewer)
    article.refresh_from_db()
    if problem == "unapproved":
        extra = ReferenceFactory()
        article.body += f"<p>In rats, a new claim held [@{extra.citation_key}].</p>"
        article.save()  # a shell save: no record_edit, so the state still says signed off
    elif problem == "stale":
        article.body = article.body.replace("claim 0 held", "claim 0 held in people")
        article.save()
    elif problem == "self_approval":
        article._history_user = reviewer
        article.save()
    elif problem == "disclaimer":
        Disclaimer.objects.filter(scope=Disclaimer.Scope.ALL).update(is_active=False)
    article.refresh_from_db()
    return article


PROBLEMS = {
    "unapproved": "has not been approved",
    "stale": "edited after approval",
    "no_sign_off": "has not been signed off",
    "self_approval": "wrote or edited",
    "disclaimer": "No site-wide disclaimer is active",
}


def publish_through(path, article, editor, client):
    """Try to publish by one path; return the refusal a person would read."""
    if path == "shell":
        try:
            workflow.publish(article, by=editor)
        except workflow.WorkflowError as error:
            return str(error)
        return ""
    if path == "publish_scheduled":
        with workflow.gate():  # scheduled, and due now
            Article.objects.filter(pk=article.pk).update(
                status=Article.Status.SCHEDULED, scheduled_for=timezone.now(), scheduled_by=editor
            )
        (outcome,) = workflow.publish_scheduled()
        return outcome.error
    from django.contrib.messages import get_messages
    from django.urls import reverse

    client.force_login(editor)
    if path == "admin_bulk":
        response = client.post(
            reverse("admin:articles_article_changelist"),
            {"action": "publish_selected", "_selected_action": [article.pk]},
            follow=True,
        )
    elif path == "admin_form":
        response = client.post(
            reverse("admin:articles_article_change", args=[article.pk]),
            admin_form_data(article, _publish="Save and publish"),
            follow=True,
        )
    else:
        response = client.post(reverse("articles:review_publish", args=[article.pk]), follow=True)
    assert response.status_code == 200
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


@pytest.mark.parametrize("path", ["shell", "admin_form", "admin_bulk", "desk", "publish_scheduled"])
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_every_publishing_path_refuses_a_broken_rule(client, editor, reviewer, path, problem):
    article = reviewed_with_problem(problem, editor=editor, reviewer=reviewer)
    refusal = publish_through(path, article, editor, client)
    assert PROBLEMS[problem] in refusal
    assert not PublishedSnapshot.objects.filter(article=article).exists()
    article.refresh_from_db()
    assert article.live_snapshot_id is None


@pytest.mark.parametrize("path", ["shell", "admin_form", "admin_bulk", "desk", "publish_scheduled"])
def test_every_publishing_path_publishes_a_reviewed_article(client, editor, reviewer, path):
    article = reviewed_with_problem("none", editor=editor, reviewer=reviewer)
    assert publish_through(path, article, editor, client).count("refused") == 0
    article.refresh_from_db()
    assert article.live_snapshot is not None


def test_a_topic_that_needs_its_own_disclaimer_blocks_publishing_without_one(editor, reviewer):
    topic = TopicFactory(requires_topic_disclaimer=True, name="Exosome therapy")
    article = cited_article(topics=[topic])
    sitewide_disclaimer()
    review(article, reviewer=reviewer)
    with pytest.raises(workflow.WorkflowError, match="Topic “Exosome therapy” needs its own disclaimer"):
        workflow.publish(article, by=editor)
    DisclaimerFactory(title="Experimental", scope=Disclaimer.Scope.TOPICS).topics.set([topic])
    assert workflow.publish(article, by=editor)


def test_publishing_twice_without_a_change_is_refused(editor):
    article = cited_article()
    publish_reviewed(article, editor=editor)
    with pytest.raises(workflow.WorkflowError, match="already live"):
        workflow.publish(article, by=editor)
    assert PublishedSnapshot.objects.count() == 1


# --- Live articles: edits, republishing, history -----------------------------------------------------


def test_editing_a_live_article_leaves_the_live_version_until_republished(client, editor, reviewer):
    article = cited_article(title="Original title")
    first = publish_reviewed(article, editor=editor, reviewer=reviewer)
    article.refresh_from_db()
    article.title = "Edited title"
    article.save()
    assert workflow.record_edit(article, by=article.author) == Article.Status.DRAFT
    article.refresh_from_db()
    assert article.live_snapshot == first
    assert "Original title" in client.get(article.get_absolute_url()).content.decode()

    second = publish_reviewed(article, editor=editor, reviewer=reviewer)
    assert second.earlier_versions == [first.published_at.isoformat()]
    assert second.first_published_at == first.published_at
    page = client.get(article.get_absolute_url()).content.decode()
    assert "Edited title" in page
    assert "Article history" in page
    assert PublishedSnapshot.objects.filter(article=article).count() == 2


def test_unpublish_needs_a_reason_and_keeps_the_snapshot(editor):
    article = cited_article()
    snapshot = publish_reviewed(article, editor=editor)
    with pytest.raises(workflow.WorkflowError, match="reason"):
        workflow.unpublish(article, by=editor, reason="  ")
    workflow.unpublish(article, by=editor, reason="Evidence changed")
    article.refresh_from_db()
    assert article.live_snapshot is None
    assert PublishedSnapshot.objects.filter(pk=snapshot.pk).exists()
    assert AuditEvent.objects.filter(action="articles.article.unpublish", message="Evidence changed").exists()


def test_unpublish_of_a_draft_is_refused(editor):
    with pytest.raises(workflow.WorkflowError, match="not published"):
        workflow.unpublish(ArticleFactory(), by=editor, reason="x")


def test_archive_and_restore(editor):
    article = cited_article()
    publish_reviewed(article, editor=editor)
    workflow.archive(article, by=editor, reason="Superseded")
    article.refresh_from_db()
    assert (article.status, article.live_snapshot) == (Article.Status.ARCHIVED, None)
    with pytest.raises(workflow.WorkflowError, match="archived"):
        workflow.publish(article, by=editor)
    workflow.restore(article, by=editor)
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_workflow_state_changes_do_not_create_revisions(editor):
    article = cited_article()
    revisions = article.history.count()
    publish_reviewed(article, editor=editor)
    assert article.history.count() == revisions


# --- Scheduling ---------------------------------------------------------------------------------------


def test_schedule_then_publish_when_due(editor, reviewer, django_capture_on_commit_callbacks):
    sitewide_disclaimer()
    article = cited_article()
    review(article, reviewer=reviewer)
    later = timezone.now() + datetime.timedelta(hours=1)
    workflow.schedule(article, by=editor, at=later)
    article.refresh_from_db()
    assert (article.status, article.scheduled_for, article.scheduled_by) == (Article.Status.SCHEDULED, later, editor)

    assert workflow.publish_scheduled() == []  # not due yet
    outcomes = workflow.publish_scheduled(now=later + datetime.timedelta(seconds=1))
    assert [(o.article.pk, o.error) for o in outcomes] == [(article.pk, "")]
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    assert article.scheduled_for is None
    assert article.live_snapshot.published_by == editor


@pytest.mark.parametrize("when", [None, "past", "naive"])
def test_schedule_needs_a_future_time(editor, reviewer, when):
    sitewide_disclaimer()
    article = cited_article()
    review(article, reviewer=reviewer)
    at = {
        None: None,
        "past": timezone.now() - datetime.timedelta(minutes=1),
        "naive": datetime.datetime(2099, 1, 1, 9, 0),
    }[when]
    with pytest.raises(workflow.WorkflowError, match="in the future"):
        workflow.schedule(article, by=editor, at=at)


def test_schedule_needs_a_signed_off_article(editor):
    article = cited_article()
    with pytest.raises(workflow.WorkflowError, match="only a signed-off article can be scheduled"):
        workflow.schedule(article, by=editor, at=timezone.now() + datetime.timedelta(days=1))


def test_a_scheduled_article_that_broke_a_rule_is_unscheduled_and_its_editor_told(editor, reviewer):
    sitewide_disclaimer()
    article = cited_article()
    review(article, reviewer=reviewer)
    workflow.schedule(article, by=editor, at=timezone.now() + datetime.timedelta(minutes=5))
    article.refresh_from_db()
    article.body = article.body.replace("claim 0 held", "claim 0 held in people")
    article.save()
    (outcome,) = workflow.publish_scheduled(now=timezone.now() + datetime.timedelta(minutes=10))
    assert "edited after approval" in outcome.error
    article.refresh_from_db()
    assert (article.status, article.scheduled_for, article.live_snapshot) == (Article.Status.DRAFT, None, None)
    assert AuditEvent.objects.filter(action="articles.article.schedule_failed").exists()
    assert [m.to for m in deliver_queued_mail() if "Not published" in m.subject] == [[editor.email]]


# --- Re-review -----------------------------------------------------------------------------------------


def test_review_interval_comes_from_article_then_topics_then_default():
    article = cited_article(topics=[TopicFactory(review_interval_months=6), TopicFactory(review_interval_months=3)])
    assert article.review_interval() == 3
    article.review_interval_months = 24
    assert article.review_interval() == 24
    assert cited_article().review_interval() == 12


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (datetime.date(2025, 1, 31), 1, datetime.date(2025, 2, 28)),
        (datetime.date(2024, 2, 29), 12, datetime.date(2025, 2, 28)),
        (datetime.date(2025, 11, 15), 3, datetime.date(2026, 2, 15)),
    ],
)
def test_add_months(day, months, expected):
    assert workflow.add_months(day, months) == expected


def test_overdue_articles_are_listed_and_reviewers_reminded(editor, reviewer):
    article = cited_article()
    snapshot = publish_reviewed(article, editor=editor, reviewer=reviewer)
    fresh = cited_article()
    publish_reviewed(fresh, editor=editor)
    deliver_queued_mail().clear()  # the steps' own mail
    later = snapshot.next_review_due + datetime.timedelta(days=1)
    with mock.patch("django.utils.timezone.localdate", return_value=later):
        due = workflow.send_review_reminders()
    assert {a.pk for a in due} == {article.pk, fresh.pk}
    assert Article.objects.review_overdue(today=snapshot.next_review_due - datetime.timedelta(days=1)).count() == 0
    sent = deliver_queued_mail()
    assert sorted(message.subject.split(": ", 1)[1] for message in sent) == sorted([article.title, fresh.title])
    assert all(reviewer.email in message.to for message in sent)
    assert AuditEvent.objects.filter(action="articles.review.remind").count() == 2


def test_a_reviewer_may_reopen_an_overdue_article_for_re_review(editor, reviewer):
    article = cited_article()
    snapshot = publish_reviewed(article, editor=editor, reviewer=reviewer)
    with pytest.raises(workflow.WorkflowError, match="permission to submit"):
        workflow.submit_for_review(article, by=reviewer)
    later = snapshot.next_review_due + datetime.timedelta(days=1)
    with mock.patch("django.utils.timezone.localdate", return_value=later):
        workflow.submit_for_review(article, by=reviewer)
    article.refresh_from_db()
    assert article.status == Article.Status.IN_REVIEW


# --- Retractions ---------------------------------------------------------------------------------------


def test_a_retracted_reference_blocks_publishing_until_acknowledged(editor, reviewer):
    sitewide_disclaimer()
    article = cited_article()
    review(article, reviewer=reviewer)
    reference = article.resolve_citations()[0][0]
    reference.is_retracted, reference.retraction_note = True, "Retracted by the journal, 2026."
    reference.save()
    with pytest.raises(workflow.WorkflowError, match=f"cites {reference.citation_key}, which has been retracted"):
        workflow.publish(article, by=editor)
    with pytest.raises(workflow.WorkflowError, match="reason"):
        workflow.acknowledge_retraction(article, reference, by=reviewer, comment=" ")
    workflow.acknowledge_retraction(article, reference, by=reviewer, comment="Only cited for its methods.")
    assert RetractionAcknowledgement.objects.filter(article=article, reference=reference).exists()
    # The retraction is part of the record the statements were approved on: they need approving again.
    with pytest.raises(workflow.WorkflowError, match="cites a reference whose record changed after approval"):
        workflow.publish(article, by=editor)
    review(article, reviewer=reviewer)
    snapshot = workflow.publish(article, by=editor)
    assert [ref["is_retracted"] for ref in snapshot.references if ref["key"] == reference.citation_key] == [True]


def test_acknowledging_a_reference_that_is_not_retracted_is_refused(reviewer):
    article = submitted(cited_article())
    reference = article.resolve_citations()[0][0]
    with pytest.raises(workflow.WorkflowError, match="not marked retracted"):
        workflow.acknowledge_retraction(article, reference, by=reviewer, comment="x")


# --- Nothing is updated or deleted -------------------------------------------------------------------------


def test_append_only_records_refuse_every_orm_path(editor, reviewer):
    article = cited_article()
    snapshot = publish_reviewed(article, editor=editor, reviewer=reviewer)
    records = [
        snapshot,
        StatementApproval.objects.first(),
        ReviewSignOff.objects.first(),
        AuditEvent.objects.first(),
    ]
    for record in records:
        model = type(record)
        with pytest.raises(ValidationError):
            record.save()
        with pytest.raises(ValidationError):
            record.delete()
        with pytest.raises(ValidationError):
            model.objects.filter(pk=record.pk).update(pk=record.pk)
        with pytest.raises(ValidationError):
            model.objects.filter(pk=record.pk).delete()
        with pytest.raises(ValidationError):
            model.objects.bulk_update([record], fields=["pk"])


@pytest.mark.parametrize(
    "table",
    ["articles_publishedsnapshot", "articles_statementapproval", "articles_reviewsignoff", "articles_auditevent"],
)
def test_the_database_refuses_raw_updates_and_deletes(editor, table):
    from django.db import DatabaseError, transaction

    publish_reviewed(cited_article(), editor=editor)
    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):  # noqa: S608 - fixed table names
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)


# --- Only a signed-off article is published ------------------------------------------------------------


def test_an_article_sent_back_by_a_second_reviewer_is_not_published(editor, reviewer):
    sitewide_disclaimer()
    article = cited_article()
    review(article, reviewer=reviewer)
    workflow.request_changes(article, by=member_of("Reviewers"), comment="Overstated: do not publish.")
    with pytest.raises(workflow.WorkflowError, match=r"has changes requested \(“Overstated: do not publish.”\)"):
        workflow.publish(article, by=editor)
    assert not PublishedSnapshot.objects.exists()


@pytest.mark.parametrize("step", ["unpublish", "archive_and_restore"])
def test_an_unpublished_or_restored_article_is_reviewed_again_before_publishing(editor, reviewer, step):
    article = cited_article()
    publish_reviewed(article, editor=editor, reviewer=reviewer)
    if step == "unpublish":
        workflow.unpublish(article, by=editor, reason="Evidence changed")
    else:
        workflow.archive(article, by=editor, reason="Superseded")
        workflow.restore(article, by=editor)
    with pytest.raises(workflow.WorkflowError, match="is a draft: submit it for review"):
        workflow.publish(article, by=editor)
    assert PublishedSnapshot.objects.count() == 1


def test_unpublishing_a_live_article_with_a_scheduled_update(editor, reviewer):
    article = cited_article(title="First")
    publish_reviewed(article, editor=editor, reviewer=reviewer)
    article.refresh_from_db()
    article.title = "Second"
    article.save()
    workflow.record_edit(article, by=article.author)
    review(article, reviewer=reviewer)
    workflow.schedule(article, by=editor, at=timezone.now() + datetime.timedelta(days=1))
    workflow.unpublish(article, by=editor, reason="Paused")
    article.refresh_from_db()
    assert (article.status, article.live_snapshot, article.scheduled_for) == (Article.Status.DRAFT, None, None)


# --- Approvals are pinned to the cited references' records too ------------------------------------------


def test_changing_a_cited_references_record_needs_the_statement_approved_again(editor, reviewer):
    sitewide_disclaimer()
    article = cited_article()
    review(article, reviewer=reviewer, level="E")
    reference = article.resolve_citations()[0][0]
    reference.title = "Exosome effects on mouse fibroblasts in vitro"
    reference.save()
    states = [s.state for s in workflow.review_status(article).statements]
    assert states == ["reference_changed", "approved"]
    with pytest.raises(workflow.WorkflowError, match="cites a reference whose record changed after approval"):
        workflow.publish(article, by=editor)


def test_whoever_changed_a_cited_reference_counts_as_a_contributor(reviewer):
    article = submitted(cited_article())
    reference = article.resolve_citations()[0][0]
    reference.title = "A different study"
    reference._history_user = reviewer  # as the reference admin records it
    reference.save()
    statement = article.evidence_statements.first()
    with pytest.raises(workflow.WorkflowError, match="another reviewer must approve its statements"):
        workflow.approve_statement(
            statement, by=reviewer, seen_hash=statement.statement_hash, evidence_level="E", certainty="low"
        )


def test_an_older_valid_approval_still_counts_when_a_newer_approver_became_a_contributor(reviewer):
    article = submitted(cited_article())
    approve_all(article, reviewer)
    second = member_of("Reviewers")
    approve_all(article, second)
    article._history_user = second  # the second reviewer then edited the article (e.g. as an editor too)
    article.save()
    assert [s.state for s in workflow.review_status(article).statements] == ["approved", "approved"]
    assert {s.approval.reviewer for s in workflow.review_status(article).statements} == {reviewer}


# --- Issue 12: a reference change withdraws approvals, and the article keeps its place ----------------------


def reference_changed_after(state, *, editor, reviewer):
    """A signed-off (or scheduled) article whose first cited reference's record then changed (as an import does)."""
    sitewide_disclaimer()
    article = cited_article()
    review(article, reviewer=reviewer)
    if state == "scheduled":
        workflow.schedule(article, by=editor, at=timezone.now() + datetime.timedelta(days=1))
    reference = article.resolve_citations()[0][0]
    reference.title = "Exosome effects on mouse fibroblasts in vitro"
    reference.save()
    article.refresh_from_db()
    return article


@pytest.mark.parametrize("state", ["signed_off", "scheduled"])
def test_a_reviewer_re_approves_after_a_reference_change_and_signs_off_without_the_writer(editor, reviewer, state):
    article = reference_changed_after(state, editor=editor, reviewer=reviewer)
    status = workflow.review_status(article)
    assert [s.state for s in status.statements] == ["reference_changed", "approved"]
    assert status.reference_reapproval
    second = member_of("Reviewers")
    statement = article.evidence_statements.get(position=1)

    workflow.approve_statement(
        statement, by=second, seen_hash=statement.statement_hash, evidence_level="E", certainty="low"
    )
    workflow.sign_off(article, by=second, seen_hash=article.content_hash())

    article.refresh_from_db()
    assert article.status == state  # kept its place: no send-back, no resubmit
    assert workflow.review_status(article).problems == []
    assert workflow.publish(article, by=editor)


@pytest.mark.parametrize("state", ["signed_off", "scheduled"])
def test_after_a_reference_change_an_unaffected_statement_cannot_be_approved_outside_review(editor, reviewer, state):
    article = reference_changed_after(state, editor=editor, reviewer=reviewer)
    statement = article.evidence_statements.get(position=2)  # still approved
    before = database_state(article)
    with pytest.raises(workflow.WorkflowError, match="is not in review"):
        workflow.approve_statement(
            statement,
            by=member_of("Reviewers"),
            seen_hash=statement.statement_hash,
            evidence_level="B",
            certainty="high",
        )
    assert database_state(article) == before


def test_sign_off_outside_review_is_refused_while_an_approval_is_withdrawn(editor, reviewer):
    article = reference_changed_after("signed_off", editor=editor, reviewer=reviewer)
    before = database_state(article)
    with pytest.raises(workflow.WorkflowError, match="cites a reference whose record changed after approval"):
        workflow.sign_off(article, by=member_of("Reviewers"), seen_hash=article.content_hash())
    assert database_state(article) == before


def test_a_signed_off_article_whose_words_changed_cannot_be_re_approved_without_review(editor, reviewer):
    article = reference_changed_after("signed_off", editor=editor, reviewer=reviewer)
    article.summary = "Changed in the shell, without record_edit."
    article.save()
    statement = article.evidence_statements.get(position=1)
    assert not workflow.review_status(article).reference_reapproval
    with pytest.raises(workflow.WorkflowError, match="is not in review"):
        workflow.approve_statement(
            statement,
            by=member_of("Reviewers"),
            seen_hash=statement.statement_hash,
            evidence_level="E",
            certainty="low",
        )


def test_publish_scheduled_does_not_publish_an_article_whose_approval_a_reference_change_withdrew(editor, reviewer):
    article = reference_changed_after("scheduled", editor=editor, reviewer=reviewer)
    (outcome,) = workflow.publish_scheduled(now=timezone.now() + datetime.timedelta(days=2))
    assert "cites a reference whose record changed after approval" in outcome.error
    article.refresh_from_db()
    assert article.live_snapshot is None
    # It keeps its place (signed off, waiting for the affected statement's approval), and its editor is told.
    assert article.status == Article.Status.SIGNED_OFF
    assert workflow.review_status(article).reference_reapproval
    assert [m.to for m in deliver_queued_mail() if "Not published" in m.subject] == [[editor.email]]


def test_saving_a_signed_off_article_after_a_reference_change_keeps_its_place_unless_the_words_changed(
    editor, reviewer
):
    article = reference_changed_after("signed_off", editor=editor, reviewer=reviewer)
    article.save()  # the writer saves it in the admin without changing a word
    assert workflow.record_edit(article, by=article.author) == Article.Status.SIGNED_OFF

    article.summary = "A new summary."
    article.save()
    assert workflow.record_edit(article, by=article.author) == Article.Status.DRAFT


def test_allowed_steps_offer_approval_and_sign_off_to_another_reviewer_only(reviewer, editor):
    article = submitted(cited_article(author=member_of("Reviewers")), by=editor)
    approve_all(article, reviewer)
    status = workflow.review_status(article)

    allowed = workflow.allowed_steps(status, member_of("Reviewers"))
    assert allowed.approve == {1, 2}
    assert "sign_off" in allowed
    for refused in [article.author, editor, member_of("Writers")]:
        steps = workflow.allowed_steps(status, refused)
        assert not steps.approve
        assert "sign_off" not in steps
    assert "publish" not in workflow.allowed_steps(status, editor)  # not signed off yet: the gate would refuse
