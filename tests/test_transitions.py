"""The declared table (articles/workflow/transitions.py) against the step functions, the desk and the templates.

The table is complete (every step function has its entry and every entry its function); each entry's state
and permission checks are what its function refuses with; `allowed_steps` offers a step exactly where its
function would take it, for each role on an article in each state; and no template or view compares status
strings, which would be a second, undeclared copy of the table.
"""

import ast
import datetime
import inspect
import re
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import resolve, reverse
from django.utils import timezone

from articles import desk, workflow
from articles.models import Article
from articles.workflow import publishing, reviewing, submitting
from tests.factories import ReferenceFactory, member_of
from tests.test_desk import changes_requested, cited_article, in_review, published, scheduled, signed_off

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
Status = Article.Status
TRANSITIONS = workflow.ARTICLE_TRANSITIONS + workflow.STATEMENT_TRANSITIONS
# Step functions with no entry of their own: each is made of entries, or is the workflow's own doing.
COMPOSITE_OR_AUTOMATIC = {
    "send_back": "the desk's 'Request changes': statement comments and request_changes, in one step",
    "record_edit": "what a save does to a reviewed article (audit actions REOPEN and EDIT_LIVE)",
    "publish_scheduled": "cron: publish, for each scheduled article that is due (SCHEDULE_FAILED otherwise)",
    "send_review_reminders": "cron: a reminder per live article due for re-review (REMIND)",
}


def step_functions() -> dict[str, object]:
    """Return the public functions of the step modules, by name."""
    return {
        name: function
        for module in (submitting, reviewing, publishing)
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__ and not name.startswith("_")
    }


def articles_in_every_state(editor) -> dict[str, Article]:
    """Return one article in each workflow state, each with cited statements."""
    archived = cited_article()
    workflow.archive(archived, by=editor, reason="Retired.")
    articles = {
        Status.DRAFT: cited_article(),
        Status.IN_REVIEW: in_review(),
        Status.CHANGES_REQUESTED: changes_requested(member_of("Reviewers")),
        Status.SIGNED_OFF: signed_off(),
        Status.SCHEDULED: scheduled(editor),
        Status.PUBLISHED: published(),
        Status.ARCHIVED: archived,
    }
    for article in articles.values():
        article.refresh_from_db()
    assert {state: article.status for state, article in articles.items()} == {state: state for state in articles}
    return articles


def take(transition: workflow.Transition, article: Article, user) -> None:
    """Take the step on the article (its first statement, for a statement step) with inputs it would accept."""
    article = Article.objects.get(pk=article.pk)
    statement = article.evidence_statements.order_by("position").first()
    status = workflow.review_status(article)
    finding = next(iter(status.unresolved_findings), None)
    retraction = next(iter(status.unacknowledged_retractions), None)
    calls = {
        "submit": lambda: workflow.submit_for_review(article, by=user),
        "request_changes": lambda: workflow.request_changes(article, by=user, comment="Say which trial."),
        "sign_off": lambda: workflow.sign_off(article, by=user, seen_hash=status.content_hash),
        "acknowledge_retraction": lambda: workflow.acknowledge_retraction(
            article, retraction or ReferenceFactory(), by=user, comment="Cited for its history."
        ),
        "justify_finding": lambda: workflow.justify_finding(
            article, by=user, finding_key=finding.key if finding else "none", reason="Quoted as the trial put it."
        ),
        "publish": lambda: workflow.publish(article, by=user),
        "schedule": lambda: workflow.schedule(article, by=user, at=timezone.now() + datetime.timedelta(days=2)),
        "unschedule": lambda: workflow.unschedule(article, by=user),
        "unpublish": lambda: workflow.unpublish(article, by=user, reason="Checking the table."),
        "archive": lambda: workflow.archive(article, by=user, reason="Checking the table."),
        "restore": lambda: workflow.restore(article, by=user),
        "approve": lambda: workflow.approve_statement(
            statement, by=user, seen_hash=statement.statement_hash, evidence_level="C", certainty="low"
        ),
        "statement_changes": lambda: workflow.request_statement_changes(
            statement, by=user, seen_hash=statement.statement_hash, comment="Which trial?"
        ),
    }
    calls[transition.name]()


def refusal_of(transition: workflow.Transition, article: Article, user) -> str | None:
    """Return the refusal taking the step now meets, or None if it went ahead; nothing it did is kept."""
    try:
        with transaction.atomic():
            take(transition, article, user)
            raise _RolledBack
    except _RolledBack:
        return None
    except workflow.WorkflowError as error:
        return str(error)


class _RolledBack(Exception):
    pass


# --- The table is complete --------------------------------------------------------------------------------------


def test_every_step_function_has_its_entry_and_every_entry_its_function():
    functions = step_functions()
    declared = {name: function.transition for name, function in functions.items() if hasattr(function, "transition")}
    assert set(functions) - set(declared) == set(COMPOSITE_OR_AUTOMATIC)
    assert sorted(declared.values(), key=lambda t: t.name) == sorted(TRANSITIONS, key=lambda t: t.name)
    for name, transition in declared.items():
        source = inspect.getsource(functions[name])
        assert f"{_constant_name(transition)}.action" in source, f"{name} does not write its entry's audit action"


def _constant_name(transition: workflow.Transition) -> str:
    return next(name for name, value in vars(workflow).items() if value is transition and name.isupper())


def test_every_desk_step_has_its_url_and_its_view():
    for transition in TRANSITIONS:
        if not transition.on_desk:
            continue
        args = [1, 1] if transition in workflow.STATEMENT_TRANSITIONS else [1]
        view = reverse(f"articles:review_{transition.name}", args=args)
        assert resolve(view).func.view_class.transition is transition
    assert {name for name, view in vars(desk).items() if getattr(view, "transition", None)} >= {
        "PublishView",
        "SubmitView",
        "ApproveStatementView",
    }


def test_each_entry_names_its_audit_action_and_states():
    for transition in TRANSITIONS:
        assert re.fullmatch(r"articles\.(article|statement|reference|finding)\.[a-z_]+", transition.action)
        assert transition.from_states <= set(Status.values)
        assert transition.label
        assert workflow.TIMELINE[transition.action] == transition.done != ""  # the timeline's sentence


def test_every_audit_action_the_workflow_writes_reads_as_a_sentence_on_the_timeline():
    written = set()
    for path in (Path(workflow.__file__).parent).glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "action" and isinstance(node.value, ast.Constant):
                written.add(node.value.value)
    written |= {transition.action for transition in TRANSITIONS}
    assert written <= set(workflow.TIMELINE), written - set(workflow.TIMELINE)


# --- Each entry's checks are what its function refuses with ----------------------------------------------------

ALLOWED_ROLE = {
    "can_submit": "Editors",
    "can_review": "Reviewers",
    "can_approve": "Reviewers",
    "can_publish": "Editors",
}


def test_a_state_outside_the_from_states_is_refused_with_the_entrys_message(editor):
    articles = articles_in_every_state(editor)
    wrong = []
    for transition in TRANSITIONS:
        user = member_of(ALLOWED_ROLE[transition.permission.__name__])
        for state, article in articles.items():
            if state in transition.from_states:
                continue
            refusal = refusal_of(transition, article, user)
            if transition is workflow.PUBLISH:  # refused by what the read model says of the state
                status = workflow.review_status(article)
                expected = " ".join(status.problems)
                # In review, the sign-off is what is missing; elsewhere the state itself says why.
                reason = (status.state_problems or [workflow.NOT_SIGNED_OFF.format(title=article.title)])[0]
                assert reason in expected, (state, expected)
            else:
                expected = transition.refusal(article)
            if refusal != expected:
                wrong.append((transition.name, state, refusal, expected))
    assert wrong == []


START = {
    "submit": Status.DRAFT,
    "request_changes": Status.IN_REVIEW,
    "sign_off": Status.IN_REVIEW,
    "acknowledge_retraction": Status.DRAFT,
    "justify_finding": Status.DRAFT,
    "publish": Status.SIGNED_OFF,
    "schedule": Status.SIGNED_OFF,
    "unschedule": Status.SCHEDULED,
    "unpublish": Status.PUBLISHED,
    "archive": Status.DRAFT,
    "restore": Status.ARCHIVED,
    "approve": Status.IN_REVIEW,
    "statement_changes": Status.IN_REVIEW,
}


def test_a_user_without_the_predicate_is_refused(editor):
    articles = articles_in_every_state(editor)
    roles = {group: member_of(group) for group in ("Writers", "Reviewers", "Editors")}
    assert set(START) == {transition.name for transition in TRANSITIONS}
    refused_by_someone = set()
    for transition in TRANSITIONS:
        article = articles[START[transition.name]]
        assert article.status in transition.from_states
        for group, user in roles.items():
            if transition.allows(user, article):
                continue
            refused_by_someone.add(transition.name)
            refusal = refusal_of(transition, article, user)
            # The reviewer's steps ask first whether the user reviews at all, then the entry's own predicate.
            assert refusal in (
                transition.not_allowed.format(title=article.title, verb=transition.verb),
                workflow.NOT_ALLOWED_TO_REVIEW,
            ), (transition.name, group, refusal)
    assert refused_by_someone == set(START)


def test_a_contributor_is_refused_the_reviewers_steps_with_the_separation_of_duties(editor, settings):
    settings.ALLOW_SELF_REVIEW = False
    article = in_review()
    author_reviewer = article.author
    author_reviewer.groups.add(member_of("Reviewers").groups.get())
    for transition in (workflow.SIGN_OFF, workflow.APPROVE_STATEMENT):
        assert not transition.allows(author_reviewer, article)
        assert refusal_of(transition, article, author_reviewer) == workflow.SELF_REVIEW.format(
            title=article.title, verb=transition.verb
        )


# --- allowed_steps offers a step exactly where its function would take it --------------------------------------


def test_allowed_steps_agree_with_the_table_and_the_functions_for_each_role_and_state(editor):
    articles = articles_in_every_state(editor)
    roles = {group: member_of(group) for group in ("Writers", "Reviewers", "Editors")}
    disagreements = []
    for state, article in articles.items():
        status = workflow.review_status(article)
        for group, user in roles.items():
            steps = workflow.allowed_steps(status, user)
            for transition in workflow.ARTICLE_TRANSITIONS:
                if not transition.on_desk:
                    assert transition.name not in steps
                    continue
                offered = transition.name in steps
                assert offered == (transition.may_start(status) and transition.allows(user, article))
                if offered:
                    assert steps.labels[transition.name] == transition.label_for(article)
                taken = refusal_of(transition, article, user) is None
                if offered != taken:
                    disagreements.append((state, group, transition.name, offered, taken))
            first = status.statements[0].number
            for transition, numbers in (
                (workflow.APPROVE_STATEMENT, steps.approve),
                (workflow.REQUEST_STATEMENT_CHANGES, steps.comment),
            ):
                taken = refusal_of(transition, article, user) is None
                if (first in numbers) != taken:
                    disagreements.append((state, group, transition.name, first in numbers, taken))
    assert disagreements == []


def test_the_submit_button_says_start_a_re_review_on_a_live_article(editor):
    article = published()
    assert workflow.SUBMIT.label_for(article) == "Start a re-review"
    assert workflow.SUBMIT.label_for(cited_article()) == "Submit for review"


def test_every_statement_state_has_one_declared_label():
    states = {"approved", "changes_requested", "edited", "reference_changed", "self_approved", "unapproved"}
    assert set(workflow.STATE_LABELS) == states
    assert {label.tone for label in workflow.STATE_LABELS.values()} <= {"success", "warning", "danger", "secondary"}


# --- No template or view compares status strings ---------------------------------------------------------------

STATUS_COMPARISON = re.compile(r"""(status|state)\s*[!=]=\s*["']""")


def test_no_template_or_view_compares_status_strings():
    """Outside the workflow package and the models, ask the read model or a model helper (`article.is_scheduled`)."""
    declared_in = ("workflow", "models", "migrations")  # where the states are declared, and history
    code = [
        path for path in ROOT.joinpath("articles").rglob("*.py") if path.relative_to(ROOT).parts[1] not in declared_in
    ]
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in [*ROOT.joinpath("templates").rglob("*.html"), *code]
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if STATUS_COMPARISON.search(line)
    ]
    assert found == []
