"""The declared table: each step, the states it starts from, where it leads, who may take it, what it records.

The step functions (`submitting`, `reviewing`, `publishing`) read their entry for the state check, the
permission check and the audit action; `allowed_steps` reads the same entries, with the read model's problems,
to say what the desk and the admin offer. A step is offered only where its function would take it.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from articles import permissions
from articles.models import Article
from articles.workflow.messages import (
    ALREADY_IN_REVIEW,
    ARCHIVED,
    NOT_ALLOWED_TO_PUBLISH,
    NOT_ALLOWED_TO_REVIEW,
    NOT_ALLOWED_TO_SUBMIT,
    NOT_ARCHIVED,
    NOT_IN_REVIEW,
    NOT_LIVE,
    NOT_ON_THE_SITE,
    NOT_READY_TO_SCHEDULE,
    NOT_SCHEDULED,
    ONLY_THE_DAILY_JOB_WITHDRAWS,
    RE_REVIEW_UNDER_WAY,
    SELF_REVIEW,
    WorkflowError,
)
from articles.workflow.status import ReviewStatus

Status = Article.Status
EVERY_STATE = frozenset(Status.values)
NOT_ARCHIVED_STATES = EVERY_STATE - {Status.ARCHIVED}
OTHERWISE = "*"  # in `refusals`: the message for any other state outside `from_states`

# Where the working copy may go (back) to review from, as it stands; and where `submit_for_review` refuses
# whatever the article says (a save of a signed-off or scheduled article that changes it reopens it first).
RESUBMITTABLE = (Status.DRAFT, Status.CHANGES_REQUESTED, Status.PUBLISHED)
UNSUBMITTABLE = (Status.IN_REVIEW, Status.ARCHIVED)


@dataclass(frozen=True)
class Transition:
    """One step a person takes on an article (or one of its statements), declared once."""

    name: str  # the desk's name for it: its URL is articles:review_<name>
    label: str  # the button staff read
    from_states: frozenset[str]  # the Article.Status values its function accepts
    to_state: str  # an Article.Status value, or a note where it depends
    permission: Callable[..., bool]  # the predicate from articles.permissions, asked as (user, article)
    action: str  # the dotted audit action its function writes
    done: str  # what the article's timeline says the person did ("published it")
    not_allowed: str  # the refusal when `permission` says no ({title}, {verb})
    refusals: Mapping[str, str]  # the refusal for a state outside `from_states`, by state or OTHERWISE
    offered: Callable[[ReviewStatus], bool] | None = None  # what else the read model must say for the desk to offer it
    verb: str = ""  # what another reviewer must do, for the separation-of-duties refusal
    relabel: Mapping[str, str] = field(default_factory=dict)  # the button's label in these states instead
    on_desk: bool = True  # False: taken elsewhere (the admin, a command), never offered on the desk

    def allows(self, user, article: Article) -> bool:
        """Return True if the permission predicate lets `user` take this step on `article`."""
        return self.permission(user, article)

    def may_start(self, status: ReviewStatus) -> bool:
        """Return True if the article, as `status` reads it, is where this step may be taken now."""
        return status.article.status in self.from_states and (self.offered is None or self.offered(status))

    def label_for(self, article: Article) -> str:
        """Return the button's label for this article."""
        return self.relabel.get(article.status, self.label)

    def refusal(self, article: Article) -> str:
        """Return the message that refuses this step from the article's state."""
        template = self.refusals.get(article.status) or self.refusals[OTHERWISE]
        return template.format(title=article.title, state=article.get_status_display().lower())

    def refuse_unless_allowed(self, user, article: Article) -> None:
        """Raise WorkflowError if `user` may not take this step on `article`."""
        if not self.allows(user, article):
            raise WorkflowError(self.not_allowed.format(title=article.title, verb=self.verb))

    def refuse_unless_from(self, article: Article) -> None:
        """Raise WorkflowError if the article's state is not one this step starts from."""
        if article.status not in self.from_states:
            raise WorkflowError(self.refusal(article))


def implements(transition: Transition):
    """Mark a step function as the one that takes `transition` (tests check the table against the functions)."""

    def mark(function):
        function.transition = transition
        return function

    return mark


def _in_review_or_reapproving(status: ReviewStatus) -> bool:
    # A signed-off or scheduled article keeps its place when only a cited reference's record changed.
    return status.article.status == Status.IN_REVIEW or status.reference_reapproval


REVIEWING = frozenset({Status.IN_REVIEW, Status.SIGNED_OFF, Status.SCHEDULED})
REVIEW_REFUSALS = {Status.ARCHIVED: ARCHIVED, OTHERWISE: NOT_IN_REVIEW}

SUBMIT = Transition(
    name="submit",
    label="Submit for review",
    relabel={Status.PUBLISHED: "Start a re-review"},
    # Signed off or scheduled: only once the sign-off no longer holds (the function checks it).
    from_states=EVERY_STATE - set(UNSUBMITTABLE),
    to_state=Status.IN_REVIEW,
    permission=permissions.can_submit,
    action="articles.article.submit",
    done="submitted it for review",
    not_allowed=NOT_ALLOWED_TO_SUBMIT,
    refusals={Status.IN_REVIEW: ALREADY_IN_REVIEW, Status.ARCHIVED: ARCHIVED},
    offered=lambda status: status.article.status in RESUBMITTABLE and not status.content_problems,
)
REQUEST_CHANGES = Transition(
    name="request_changes",
    label="Request changes",
    from_states=frozenset({Status.IN_REVIEW, Status.SIGNED_OFF}),
    to_state=Status.CHANGES_REQUESTED,
    permission=permissions.can_review,
    action="articles.article.request_changes",
    done="sent it back to the writer",
    not_allowed=NOT_ALLOWED_TO_REVIEW,
    refusals={OTHERWISE: NOT_IN_REVIEW},
)
SIGN_OFF = Transition(
    name="sign_off",
    label="Sign off",
    from_states=REVIEWING,  # signed off or scheduled: only to sign off again after a reference change
    to_state="signed_off (a scheduled article stays scheduled)",
    permission=permissions.can_approve,
    action="articles.article.sign_off",
    done="signed off",
    not_allowed=SELF_REVIEW,
    verb="sign it off",
    refusals=REVIEW_REFUSALS,
    offered=lambda status: _in_review_or_reapproving(status) and not status.sign_off_problems,
)
ACKNOWLEDGE_RETRACTION = Transition(
    name="acknowledge_retraction",
    label="Acknowledge the retraction",
    from_states=NOT_ARCHIVED_STATES,
    to_state="unchanged",
    permission=permissions.can_approve,
    action="articles.reference.acknowledge_retraction",
    done="acknowledged a retraction",
    not_allowed=SELF_REVIEW,
    verb="acknowledge the retraction",
    refusals={OTHERWISE: ARCHIVED},
    offered=lambda status: bool(status.unacknowledged_retractions),
)
JUSTIFY_FINDING = Transition(
    name="justify_finding",
    label="Record why it is acceptable",
    from_states=NOT_ARCHIVED_STATES,
    to_state="unchanged",
    permission=permissions.can_approve,
    action="articles.finding.justify",
    done="accepted a claim-check finding",
    not_allowed=SELF_REVIEW,
    verb="judge its claims",
    refusals={OTHERWISE: ARCHIVED},
    offered=lambda status: bool(status.unresolved_findings),
)
PUBLISH = Transition(
    name="publish",
    label="Publish now",
    from_states=frozenset({Status.SIGNED_OFF, Status.SCHEDULED}),
    to_state=Status.PUBLISHED,
    permission=permissions.can_publish,
    action="articles.article.publish",
    done="published it",
    not_allowed=NOT_ALLOWED_TO_PUBLISH,
    # Refused from elsewhere by what the read model says of the state (ReviewStatus.state_problems).
    refusals={},
    offered=lambda status: not status.problems,
)
SCHEDULE = Transition(
    name="schedule",
    label="Schedule",
    from_states=frozenset({Status.SIGNED_OFF}),
    to_state=Status.SCHEDULED,
    permission=permissions.can_publish,
    action="articles.article.schedule",
    done="scheduled it",
    not_allowed=NOT_ALLOWED_TO_PUBLISH,
    refusals={OTHERWISE: NOT_READY_TO_SCHEDULE},
    offered=lambda status: not status.problems,
)
UNSCHEDULE = Transition(
    name="unschedule",
    label="Cancel the schedule",
    from_states=frozenset({Status.SCHEDULED}),
    to_state="signed_off if its sign-off still holds, else draft",
    permission=permissions.can_publish,
    action="articles.article.unschedule",
    done="cancelled the schedule",
    not_allowed=NOT_ALLOWED_TO_PUBLISH,
    refusals={OTHERWISE: NOT_SCHEDULED},
)
UNPUBLISH = Transition(
    name="unpublish",
    label="Unpublish",
    from_states=NOT_ARCHIVED_STATES,  # and only with a live version (the function checks it)
    to_state=Status.DRAFT,
    permission=permissions.can_publish,
    action="articles.article.unpublish",
    done="unpublished it",
    not_allowed=NOT_ALLOWED_TO_PUBLISH,
    refusals={OTHERWISE: NOT_LIVE},
    offered=lambda status: bool(status.article.live_snapshot_id),
)
ARCHIVE = Transition(
    name="archive",
    label="Archive",
    from_states=NOT_ARCHIVED_STATES,
    to_state=Status.ARCHIVED,
    permission=permissions.can_publish,
    action="articles.article.archive",
    done="archived it",
    not_allowed=NOT_ALLOWED_TO_PUBLISH,
    refusals={OTHERWISE: ARCHIVED},
)
RESTORE = Transition(
    name="restore",
    label="Restore",
    from_states=frozenset({Status.ARCHIVED}),
    to_state=Status.DRAFT,
    permission=permissions.can_publish,
    action="articles.article.restore",
    done="restored it",
    not_allowed=NOT_ALLOWED_TO_PUBLISH,
    refusals={OTHERWISE: NOT_ARCHIVED},
    on_desk=False,  # the review desk does not list archived articles
)
WITHDRAW_OVERDUE = Transition(
    name="withdraw_overdue",
    label="Withdraw: review overdue past the grace period",
    # The states `review_overdue` counts: live, and no re-review under way. In review, signed off or scheduled,
    # the re-review the grace period asks for is happening, and withdrawing (which, as unpublish does, leads to
    # a draft) would throw its place away; the page says it is due for review meanwhile.
    from_states=frozenset({Status.PUBLISHED, Status.DRAFT, Status.CHANGES_REQUESTED}),  # and only while live
    to_state=Status.DRAFT,
    permission=permissions.is_scheduled_job,
    action="articles.article.withdraw_overdue",
    done="withdrew it from the site (review overdue past the grace period)",
    not_allowed=ONLY_THE_DAILY_JOB_WITHDRAWS,
    refusals={Status.ARCHIVED: NOT_ON_THE_SITE, OTHERWISE: RE_REVIEW_UNDER_WAY},
    on_desk=False,  # the system takes it (manage.py withdraw_overdue, daily); editors unpublish by hand
)

# The steps on one statement: the desk offers them per statement number.
APPROVE_STATEMENT = Transition(
    name="approve",
    label="Approve statement {number}",
    from_states=REVIEWING,  # signed off or scheduled: only statements a reference change withdrew
    to_state="unchanged",
    permission=permissions.can_approve,
    action="articles.statement.approve",
    done="approved a statement",
    not_allowed=SELF_REVIEW,
    verb="approve its statements",
    refusals=REVIEW_REFUSALS,
    offered=_in_review_or_reapproving,
)
REQUEST_STATEMENT_CHANGES = Transition(
    name="statement_changes",
    label="Request changes to statement {number}",
    from_states=frozenset({Status.IN_REVIEW}),
    to_state="unchanged",
    permission=permissions.can_review,
    action="articles.statement.request_changes",
    done="asked for a change to a statement",
    not_allowed=NOT_ALLOWED_TO_REVIEW,
    refusals={OTHERWISE: NOT_IN_REVIEW},
)

ARTICLE_TRANSITIONS = (
    REQUEST_CHANGES, SIGN_OFF, SUBMIT, PUBLISH, SCHEDULE, UNSCHEDULE, UNPUBLISH, ARCHIVE, ACKNOWLEDGE_RETRACTION,
    JUSTIFY_FINDING, RESTORE, WITHDRAW_OVERDUE,
)  # fmt: skip
STATEMENT_TRANSITIONS = (APPROVE_STATEMENT, REQUEST_STATEMENT_CHANGES)
# The desk's steps by name, in the order its URLs are listed.
ARTICLE_STEPS = [transition.name for transition in ARTICLE_TRANSITIONS if transition.on_desk]
STATEMENT_STEPS = [transition.name for transition in STATEMENT_TRANSITIONS]

# What the workflow records without a person choosing a step: a save that reopens the review, scheduled
# publishing that fails, a reminder that a re-review is due.
REOPEN = "articles.article.reopen"
EDIT_LIVE = "articles.article.edit_live"
SCHEDULE_FAILED = "articles.article.schedule_failed"
REMIND = "articles.review.remind"
# Not a transition: an editor closing a patient's problem report (articles.feedback.close_report) is audited too.
CLOSE_REPORT = "articles.report.close"
# Nor are changes to a library image an article uses (articles.image_events): its file replaced, consent recorded
# or withdrawn.
REPLACE_IMAGE = "articles.image.replace"
RECORD_CONSENT = "articles.consent.record"
WITHDRAW_CONSENT = "articles.consent.withdraw"
# Nor is a translation falling behind its source, when the source is republished (articles.translations).
TRANSLATION_OUT_OF_DATE = "articles.translation.out_of_date"
# What the article's timeline (desk and admin) says of each audit action.
TIMELINE = {
    **{transition.action: transition.done for transition in (*ARTICLE_TRANSITIONS, *STATEMENT_TRANSITIONS)},
    REOPEN: "edited it after sign-off, which reopened the review",
    EDIT_LIVE: "edited the live article",
    SCHEDULE_FAILED: "could not publish it as scheduled",
    REMIND: "reminded the reviewers that a re-review is due",
    CLOSE_REPORT: "closed a patient's problem report",
    REPLACE_IMAGE: "replaced the picture of one of its figures",
    RECORD_CONSENT: "recorded a patient's consent to a photograph",
    WITHDRAW_CONSENT: "recorded that a patient withdrew consent to a photograph",
    TRANSLATION_OUT_OF_DATE: "republished the original with changed statements: this translation is out of date",
}


@dataclass(frozen=True)
class DeskSteps:
    """The steps a person may take on the article now, each one the gate would allow; the desk offers no other.

    `article` holds article steps by their desk names (ARTICLE_STEPS); `approve` and `comment` hold the
    numbers of the statements the person may approve, or comment on, now. `labels` gives each offered step's
    button label; `after_save` the steps the admin's "Save and ..." buttons may offer, where the save itself
    may change what the step would find.
    """

    article: frozenset[str]
    approve: frozenset[int]
    comment: frozenset[int]
    labels: Mapping[str, str] = field(default_factory=dict)
    after_save: frozenset[str] = frozenset()

    def __contains__(self, step: str) -> bool:
        return step in self.article


def allowed_steps(status: ReviewStatus, user) -> DeskSteps:
    """Return what `user` may do to the article as `status` describes it: the desk renders exactly these."""
    article = status.article
    offered = [
        transition
        for transition in ARTICLE_TRANSITIONS
        if transition.on_desk and transition.may_start(status) and transition.allows(user, article)
    ]
    approve = comment = frozenset()
    stored = [item for item in status.statements if item.stored]
    if APPROVE_STATEMENT.may_start(status) and APPROVE_STATEMENT.allows(user, article):
        in_review = article.status == Status.IN_REVIEW
        approve = frozenset(item.number for item in stored if in_review or item.is_reference_changed)
    if REQUEST_STATEMENT_CHANGES.may_start(status) and REQUEST_STATEMENT_CHANGES.allows(user, article):
        comment = frozenset(item.number for item in stored)
    # "Save and submit": offered wherever this save could leave a submittable article (its content problems
    # may be the edit). "Save and publish": only where publishing would take the article as it stands (a
    # save cannot make a refused article publishable: an edit withdraws the sign-off).
    after_save = {step.name for step in offered if step is PUBLISH}
    if article.status in SUBMIT.from_states and SUBMIT.allows(user, article):
        after_save.add(SUBMIT.name)
    return DeskSteps(
        article=frozenset(transition.name for transition in offered),
        approve=approve,
        comment=comment,
        labels={transition.name: transition.label_for(article) for transition in offered},
        after_save=frozenset(after_save),
    )
