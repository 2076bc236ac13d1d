"""The one gate: every change of workflow state, and every published snapshot, is made here.

Each transition locks the article, checks the actor's permission and the article's state, raises
`WorkflowError` with a message a person can act on, writes an append-only `AuditEvent` with a
dotted action, and writes its mail to the outbox (`notifications`), all in one transaction through `gate()`
(outside it PostgreSQL refuses these writes): the mail is sent later by `send_queued_mail`, and only if the
step committed.

Whether an approval or a sign-off still counts is derived from hashes every time it matters
(`review_status`), never from a stored flag.
"""

import calendar
import datetime
import difflib
import logging
import re
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.text import Truncator

from articles import citations, claims, identity, notifications, page_cache, patient_visible, permissions
from articles.models import (
    Article,
    AuditEvent,
    Certainty,
    ChangeRequest,
    Disclaimer,
    EvidenceLevel,
    EvidenceStatement,
    FindingJustification,
    PublishedSnapshot,
    RedFlagPhrase,
    Reference,
    RetractionAcknowledgement,
    ReviewSignOff,
    StatementApproval,
    public_person,
)
from articles.rendering import RenderedArticle, render_article

logger = logging.getLogger(__name__)

# Refusals, as the person reads them. Tests reuse these constants.
NOT_ALLOWED_TO_PUBLISH = "You do not have permission to publish articles: ask an editor."
NOT_ALLOWED_TO_SUBMIT = "You do not have permission to submit “{title}” for review: ask its writer or an editor."
NOT_ALLOWED_TO_REVIEW = "You do not have permission to review articles: ask a reviewer."
SELF_REVIEW = "You wrote or edited “{title}”, so another reviewer must {verb}."
ARCHIVED = "“{title}” is archived: restore it first."
MISSING_FIELDS = "“{title}” cannot go further without {fields}: fill them in and save."
NO_TOPIC = "“{title}” has no topic: choose at least one, so the right disclaimers attach."
UNKNOWN_KEYS = "“{title}”: {problem}"  # one per key: citations.UNKNOWN_KEY, with the keys the writer may mean
MALFORMED_MARKERS = "“{title}” has citation markers that cannot be read ({markers}): write them as [@key]."
ALREADY_IN_REVIEW = "“{title}” is already waiting for review."
ALREADY_SIGNED_OFF = "“{title}” is already signed off: an editor can publish it, or edit it to reopen the review."
NOT_IN_REVIEW = "“{title}” is not in review ({state}): the writer must submit it for review first."
SEE_STATEMENT_COMMENTS = "Please change statement(s) {numbers}: see the comments on them."
COMMENT_REQUIRED = "Write a comment that says what needs to change; the writer reads it."
STATEMENT_CHANGED = (
    "This statement changed while you were reading it: nothing was recorded. Read the new text and try again."
)
ARTICLE_CHANGED = (
    "“{title}” changed while you were reading it: nothing was recorded. Reload it and review the new version."
)
INVALID_GRADE = "Choose an evidence level (A to F) and a certainty (high to very low)."
UNAPPROVED = "Statement {number} (“{text}”) has not been approved: ask a reviewer to approve it."
STALE_APPROVAL = "Statement {number} was edited after approval: ask a reviewer to approve it again."
SELF_APPROVED = (
    "Statement {number} was approved by someone who wrote or edited the article: another reviewer must approve it."
)
SELF_SIGNED_OFF = "“{title}” was signed off by someone who wrote or edited it: another reviewer must sign it off."
REFERENCE_CHANGED = (
    "Statement {number} cites a reference whose record changed after approval: ask a reviewer to approve it again."
)
APPROVED_UNDER_EARLIER_RULES = (
    "Statement {number} was approved before approvals covered each cited reference's full record (abstract, "
    "publication type, retraction): ask a reviewer to read the references and approve it again."
)
IS_DRAFT = "“{title}” is a draft: submit it for review."
STILL_IN_REVIEW = "“{title}” is in review: a reviewer signs it off once every statement is approved."
ARTICLE_CHANGES_OPEN = "“{title}” has changes requested (“{comment}”): revise it, then submit it for review again."
CHANGED_SINCE_PUBLISHED = "“{title}” changed since it was published: submit the changes for review."
CHANGES_OPEN = "Statement {number} has changes requested (“{comment}”): revise it, then ask for review again."
NOT_SIGNED_OFF = "“{title}” has not been signed off: ask a reviewer to sign it off."
SIGN_OFF_STALE = "“{title}” changed after it was signed off: ask a reviewer to sign it off again."
SIGNED_OFF_UNDER_EARLIER_RULES = (
    "“{title}” was signed off before sign-offs covered its byline, its address and each cited reference's full "
    "record: ask a reviewer to check them and sign it off again."
)
RETRACTED = (
    "“{title}” cites {key}, which has been retracted: remove the citation, or ask a reviewer to acknowledge "
    "the retraction on the review desk."
)
NO_SITEWIDE_DISCLAIMER = (
    "No site-wide disclaimer is active: an editor must activate one (such as “not medical advice”) "
    "before anything is published."
)
TOPIC_DISCLAIMER_MISSING = "Topic “{topic}” needs its own disclaimer and none is active: an editor must add one."
ALREADY_LIVE = "“{title}” is already live as it is: there is nothing new to publish."
NOT_READY_TO_SCHEDULE = "“{title}” is {state}: only a signed-off article can be scheduled."
SCHEDULE_IN_PAST = "Choose a publication time in the future."
NOT_SCHEDULED = "“{title}” is not scheduled."
NOT_LIVE = "“{title}” is not published, so there is nothing to unpublish."
REASON_REQUIRED = "Give a reason; it goes in the audit trail."
NOT_ARCHIVED = "“{title}” is not archived, so there is nothing to restore."
NOT_RETRACTED = "{key} is not marked retracted, so there is nothing to acknowledge."
NOT_CITED = "“{title}” does not cite {key}."
SELF_REVIEW_NOTE = "Self-review: allowed by the ALLOW_SELF_REVIEW setting (one-person clinic)."
UNRESOLVED_FINDING = (
    "Claim check: {message} (“{text}”). Ask for a change, or record on the review desk why it is acceptable."
)
LIVE_AS_IT_STANDS = "Live as it stands: patients see this version, so there is nothing new to publish."
NO_SUCH_FINDING = "That claim-check finding no longer applies to the article as it stands: reload the page."
SIMILAR_WORDING = 0.6  # how alike an approved and a current statement must be to call it "edited"
# The live version, and the two of its dates that lists and the review desk order and filter by (see Article).
LIVE_FIELDS = ("live_snapshot", "live_published_at", "live_review_due")
# Where the working copy may go (back) to review from, as it stands; and where `submit_for_review` refuses
# whatever the article says (a save of a signed-off or scheduled article that changes it reopens it first).
RESUBMITTABLE = (Article.Status.DRAFT, Article.Status.CHANGES_REQUESTED, Article.Status.PUBLISHED)
UNSUBMITTABLE = (Article.Status.IN_REVIEW, Article.Status.ARCHIVED)


class WorkflowError(Exception):
    """A workflow step was refused; the message says what to do."""


# --- Reading the state: what counts, what blocks ---------------------------------------------------


@dataclass
class StatementStatus:
    number: int
    sentence: citations.Sentence
    stored: EvidenceStatement | None
    approval: StatementApproval | None = None
    change_request: ChangeRequest | None = None
    earlier_approval: StatementApproval | None = None
    self_approval: StatementApproval | None = None
    reference_changed: StatementApproval | None = None

    @property
    def state(self) -> str:
        if self.approval:
            return "approved"
        if self.change_request:
            return "changes_requested"
        if self.reference_changed:
            return "reference_changed"
        if self.self_approval:
            return "self_approved"
        return "edited" if self.earlier_approval else "unapproved"

    @property
    def approved_under_earlier_rules(self) -> bool:
        """Return True if the approval that no longer holds was pinned under an earlier hash version."""
        return self.reference_changed is not None and self.reference_changed.hash_version < identity.HASH_VERSION

    @property
    def problem(self) -> str:
        short = Truncator(self.sentence.normalised_text).chars(80)
        return {
            "approved": "",
            "changes_requested": CHANGES_OPEN.format(
                number=self.number, comment=self.change_request.comment if self.change_request else ""
            ),
            "edited": STALE_APPROVAL.format(number=self.number),
            "self_approved": SELF_APPROVED.format(number=self.number),
            "reference_changed": (
                APPROVED_UNDER_EARLIER_RULES if self.approved_under_earlier_rules else REFERENCE_CHANGED
            ).format(number=self.number),
            "unapproved": UNAPPROVED.format(number=self.number, text=short),
        }[self.state]


@dataclass
class ReviewStatus:
    """Everything that decides whether the working copy may be signed off and published."""

    article: Article
    content_hash: str
    rendered: RenderedArticle
    statements: list[StatementStatus]
    sign_off: ReviewSignOff | None
    earlier_sign_off: ReviewSignOff | None
    self_sign_off: ReviewSignOff | None
    contributor_ids: set[int]
    article_change_request: ChangeRequest | None = None
    findings: list[claims.Finding] = field(default_factory=list)
    justified: dict[str, FindingJustification] = field(default_factory=dict)
    readability: claims.Readability | None = None
    treatment_checklist: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def warnings(self) -> list[claims.Finding]:
        """Findings that do not block sign-off but that the reviewer should know about."""
        return [f for f in self.findings if not f.blocking and not f.negated]

    @property
    def unresolved_findings(self) -> list[claims.Finding]:
        return [f for f in self.findings if f.blocking and f.key not in self.justified]

    @property
    def finding_problems(self) -> list[str]:
        return [
            UNRESOLVED_FINDING.format(message=f.message, text=Truncator(f.text).chars(80) if f.text else "the body")
            for f in self.unresolved_findings
        ]

    unacknowledged_retractions: list[Reference] = field(default_factory=list)
    content_problems: list[str] = field(default_factory=list)
    disclaimer_problems: list[str] = field(default_factory=list)

    @property
    def statement_problems(self) -> list[str]:
        return [s.problem for s in self.statements if s.state != "approved"]

    @property
    def retraction_problems(self) -> list[str]:
        title = self.article.title
        return [RETRACTED.format(title=title, key=ref.citation_key) for ref in self.unacknowledged_retractions]

    @property
    def sign_off_problems(self) -> list[str]:
        """What stops a reviewer signing off now."""
        return self.content_problems + self.statement_problems + self.retraction_problems + self.finding_problems

    @property
    def state_problems(self) -> list[str]:
        """What the article's place in the workflow says: only a signed-off (or scheduled) article is published."""
        article, title = self.article, self.article.title
        if article.status == Article.Status.ARCHIVED:
            return [ARCHIVED.format(title=title)]
        if article.status == Article.Status.DRAFT:
            return [IS_DRAFT.format(title=title)]
        if article.status == Article.Status.IN_REVIEW and self.sign_off:
            return [STILL_IN_REVIEW.format(title=title)]
        if article.status == Article.Status.CHANGES_REQUESTED:
            comment = self.article_change_request.comment if self.article_change_request else ""
            return [ARTICLE_CHANGES_OPEN.format(title=title, comment=Truncator(comment).chars(200))]
        if article.status == Article.Status.PUBLISHED:
            unchanged = shows_working_copy(article.live_snapshot, article, self.content_hash)
            return [(ALREADY_LIVE if unchanged else CHANGED_SINCE_PUBLISHED).format(title=title)]
        return []

    @property
    def problems(self) -> list[str]:
        """What stops an editor publishing now."""
        problems = self.state_problems + self.sign_off_problems
        if self.sign_off is None:
            if self.self_sign_off:
                template = SELF_SIGNED_OFF
            else:
                template = NOT_SIGNED_OFF
                if self.earlier_sign_off:
                    earlier_rules = self.earlier_sign_off.hash_version < identity.HASH_VERSION
                    template = SIGNED_OFF_UNDER_EARLIER_RULES if earlier_rules else SIGN_OFF_STALE
            problems.append(template.format(title=self.article.title))
        return problems + self.disclaimer_problems

    @property
    def live_as_it_stands(self) -> bool:
        """Return True if patients see exactly this working copy: nothing blocks it, there is nothing to publish."""
        live = self.article.live_snapshot if self.article.live_snapshot_id else None
        return self.article.status == Article.Status.PUBLISHED and shows_working_copy(
            live, self.article, self.content_hash
        )

    @cached_property
    def reference_reapproval(self) -> bool:
        """Return True if only changes outside the article (cited references' records, the author's profile)
        withdrew this signed-off (or scheduled) article's sign-off: a reviewer approves the affected statements
        again and signs off, without the writer.
        """
        article = self.article
        if article.status not in (Article.Status.SIGNED_OFF, Article.Status.SCHEDULED):
            return False
        if self.sign_off or self.self_sign_off or self.earlier_sign_off is None:
            return False
        if any(s.state not in ("approved", "reference_changed") for s in self.statements):
            return False
        return _own_fields_unchanged_since(article, self.earlier_sign_off.signed_at)

    @property
    def levels(self) -> dict[str, str]:
        return {s.sentence.hash: s.approval.evidence_level for s in self.statements if s.approval}


def shows_working_copy(snapshot: PublishedSnapshot | None, article: Article, content_hash: str) -> bool:
    """Return True if `snapshot` shows what the working copy (whose current content hash is given) would.

    Asked in the snapshot's own terms: one published under an earlier hash version (identity.py) is compared
    with the working copy's hash of that version, so a new version does not make every live page look edited.
    """
    if snapshot is None:
        return False
    if snapshot.hash_version != identity.HASH_VERSION:
        content_hash = article.content_hash(version=snapshot.hash_version)
    return snapshot.content_hash == content_hash


def _counts(reviewer_id: int, contributor_ids: set[int]) -> bool:
    """Return True if a review act by this person counts under the separation of duties."""
    return settings.ALLOW_SELF_REVIEW or reviewer_id not in contributor_ids


def _own_fields_unchanged_since(article: Article, moment: datetime.datetime) -> bool:
    """Return True if every pinned field of the article itself is what it was at `moment`, by its revision history.

    A writer's change (byline, address and topics included) goes back through review; only a change outside the
    article, to a cited reference's record or the author's profile, is approved again in place.
    """
    then = revision_at(article, moment)
    if then is None:
        return False
    for name in patient_visible.pinned(patient_visible.ARTICLE_FIELDS):
        field = Article._meta.get_field(name)
        if field.many_to_many:
            related = field.m2m_reverse_field_name()
            if set(getattr(then, name).values_list(related, flat=True)) != set(
                getattr(article, name).values_list("pk", flat=True)
            ):
                return False
        elif getattr(then, field.attname) != getattr(article, field.attname):
            return False
    return True


def content_problems(article: Article, rendered: RenderedArticle | None = None) -> list[str]:
    """Return what stops the working copy going to review: empty fields, no topic, unresolved citations."""
    rendered = rendered or render_article(article)
    problems = []
    missing = [name for name in ("title", "summary", "body") if not getattr(article, name).strip()]
    if missing:
        problems.append(MISSING_FIELDS.format(title=article.title or article.slug, fields=", ".join(missing)))
    if not article.topics.exists():
        problems.append(NO_TOPIC.format(title=article.title))
    known_keys = Reference.objects.values_list("citation_key", flat=True)
    for problem in citations.unknown_key_messages(rendered.unknown_keys, known_keys):
        problems.append(UNKNOWN_KEYS.format(title=article.title, problem=problem))
    if rendered.malformed_markers:
        problems.append(MALFORMED_MARKERS.format(title=article.title, markers=", ".join(rendered.malformed_markers)))
    return problems


def _disclaimer_problems(article: Article) -> list[str]:
    problems = []
    if not Disclaimer.objects.active().filter(scope=Disclaimer.Scope.ALL).exists():
        problems.append(NO_SITEWIDE_DISCLAIMER)
    for topic in article.topics.filter(Q(requires_topic_disclaimer=True) | Q(not_fda_approved=True)):
        if not Disclaimer.objects.active().filter(scope=Disclaimer.Scope.TOPICS, topics=topic).exists():
            problems.append(TOPIC_DISCLAIMER_MISSING.format(topic=topic.name))
    return problems


def _similar(a: str, b: str) -> bool:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return matcher.quick_ratio() >= SIMILAR_WORDING and matcher.ratio() >= SIMILAR_WORDING


def review_status(article: Article) -> ReviewStatus:
    """Return the review state of the working copy, derived from hashes: what counts and what blocks."""
    contributor_ids = article.contributor_ids()
    rendered = render_article(article)
    content_hash = article.content_hash()
    stored = {s.statement_hash: s for s in article.evidence_statements.all()}
    approvals = list(
        StatementApproval.objects.filter(article=article)
        .select_related("reviewer__staff_profile")
        .order_by("-approved_at", "-pk")
    )
    requests = list(
        ChangeRequest.objects.filter(article=article).exclude(statement_hash="").order_by("-requested_at", "-pk")
    )
    sentences = citations.unique_statements(article.statements)
    current_hashes = {s.hash for s in sentences}
    cited_by_key = {ref.citation_key: ref for ref in rendered.cited}
    # By statement hash, newest first: a scan of every approval for every statement grew with the square.
    approvals_by_hash, latest_request = defaultdict(list), {}
    for approval in approvals:
        approvals_by_hash[approval.statement_hash].append(approval)
    for request in reversed(requests):
        latest_request[request.statement_hash] = request
    statuses = []
    for number, sentence in enumerate(sentences, start=1):
        status = StatementStatus(number=number, sentence=sentence, stored=stored.get(sentence.hash))
        references_hash = identity.references_hash(sentence.keys, cited_by_key)
        matching = approvals_by_hash.get(sentence.hash, [])
        counted = [a for a in matching if _counts(a.reviewer_id, contributor_ids)]
        approval = next((a for a in counted if a.references_hash == references_hash), None)
        request = latest_request.get(sentence.hash)
        if request and (approval is None or request.requested_at > approval.approved_at):
            status.change_request = request
        elif approval:
            status.approval = approval
        elif counted:
            status.reference_changed = counted[0]
        elif matching:
            status.self_approval = matching[0]
        if not matching:
            status.earlier_approval = next(
                (
                    a
                    for a in approvals
                    if a.statement_hash not in current_hashes
                    and _similar(citations.normalise_statement_text(a.statement_text), sentence.normalised_text)
                ),
                None,
            )
        statuses.append(status)
    sign_offs = list(
        ReviewSignOff.objects.filter(article=article)
        .select_related("reviewer__staff_profile")
        .order_by("-signed_at", "-pk")
    )
    current = [s for s in sign_offs if s.content_hash == content_hash]
    valid = [s for s in current if _counts(s.reviewer_id, contributor_ids)]
    cited = Reference.objects.filter(citation_key__in=article.citation_keys, is_retracted=True)
    acknowledged = set(RetractionAcknowledgement.objects.filter(article=article).values_list("reference_id", flat=True))
    topics = list(article.topics.all())
    levels = {s.sentence.hash: s.approval.evidence_level for s in statuses if s.approval}
    flags = [claims.RedFlag(f.phrase, f.why, f.instead) for f in RedFlagPhrase.objects.filter(is_active=True)]
    body_readability = claims.readability(article.body)
    findings = claims.check_article(
        title=article.title,
        summary=article.summary,
        body_html=article.body,
        flags=flags,
        levels=levels,
        not_fda_approved=any(topic.not_fda_approved for topic in topics),
        treatment=any(topic.is_treatment for topic in topics),
        body_readability=body_readability,
    )
    justified = {
        j.finding_key: j for j in FindingJustification.objects.filter(article=article).order_by("justified_at")
    }
    return ReviewStatus(
        findings=findings,
        justified=justified,
        readability=body_readability,
        treatment_checklist=claims.treatment_checklist(article.body) if any(t.is_treatment for t in topics) else [],
        article=article,
        content_hash=content_hash,
        rendered=rendered,
        statements=statuses,
        sign_off=valid[0] if valid else None,
        earlier_sign_off=sign_offs[0] if sign_offs else None,
        self_sign_off=current[0] if current and not valid else None,
        contributor_ids=contributor_ids,
        article_change_request=ChangeRequest.objects.filter(article=article, statement_hash="")
        .order_by("-requested_at", "-pk")
        .first(),
        unacknowledged_retractions=[ref for ref in cited if ref.pk not in acknowledged],
        content_problems=content_problems(article, rendered),
        disclaimer_problems=_disclaimer_problems(article),
    )


# --- What the desk offers: derived from the same state the gate checks ------------------------------


@dataclass(frozen=True)
class DeskSteps:
    """The steps a person may take on the article now, each one the gate would allow; the desk offers no other.

    `article` holds article steps by their desk names (urls.ARTICLE_STEPS); `approve` and `comment` hold the
    numbers of the statements the person may approve, or comment on, now.
    """

    article: frozenset[str]
    approve: frozenset[int]
    comment: frozenset[int]

    def __contains__(self, step: str) -> bool:
        return step in self.article


def desk_steps(status: ReviewStatus, user) -> DeskSteps:
    """Return what `user` may do to the article as `status` describes it: the desk renders exactly these."""
    article, steps = status.article, set()
    in_review = article.status == Article.Status.IN_REVIEW
    archived = article.status == Article.Status.ARCHIVED
    approver = not archived and permissions.can_approve(user, article)
    approve = comment = frozenset()
    if approver and in_review:
        approve = frozenset(s.number for s in status.statements if s.stored)
    elif approver and status.reference_reapproval:
        approve = frozenset(s.number for s in status.statements if s.stored and s.state == "reference_changed")
    if in_review and permissions.can_review(user, article):
        comment = frozenset(s.number for s in status.statements if s.stored)
    if approver and (in_review or status.reference_reapproval) and not status.sign_off_problems:
        steps.add("sign_off")
    if approver and status.unacknowledged_retractions:
        steps.add("acknowledge_retraction")
    if approver and status.unresolved_findings:
        steps.add("justify_finding")
    if article.status in (Article.Status.IN_REVIEW, Article.Status.SIGNED_OFF) and permissions.can_review(user):
        steps.add("request_changes")
    if article.status in RESUBMITTABLE and not status.content_problems and permissions.can_submit(user, article):
        steps.add("submit")
    if not archived and permissions.can_publish(user, article):
        steps.add("archive")
        if not status.problems:
            steps.add("publish")
            if article.status == Article.Status.SIGNED_OFF:
                steps.add("schedule")
        if article.status == Article.Status.SCHEDULED:
            steps.add("unschedule")
        if article.live_snapshot_id:
            steps.add("unpublish")
    return DeskSteps(frozenset(steps), approve, comment)


@dataclass
class PublishingQueue:
    """Signed-off and scheduled articles sorted by what the gate says of each now (`review_status`).

    `ready`: publishing would go ahead. `reapproval`: a change to a cited reference withdrew approvals; a
    reviewer approves again and signs off (the article keeps its place). `blocked`: anything else stops it,
    each article carrying `publish_problems`, what `publish` would refuse it for.
    """

    ready: list[Article]
    reapproval: list[Article]
    blocked: list[Article]


def publishing_queue(articles) -> PublishingQueue:
    """Sort signed-off or scheduled `articles` by the gate's verdict, so no list calls ready what it refuses.

    Each article costs one `review_status`: callers pass the few rows a page shows, never a whole table.
    """
    queue = PublishingQueue([], [], [])
    for article in articles:
        status = review_status(article)
        article.publish_problems = status.problems
        if not article.publish_problems:
            queue.ready.append(article)
        elif status.reference_reapproval:
            queue.reapproval.append(article)
        else:
            queue.blocked.append(article)
    return queue


# --- What a change to references would withdraw (read-only) -----------------------------------------

WITHDRAWN_BY_RECORD = "the record of a reference it cites would change ({keys})"
WITHDRAWN_BY_EDITOR = "{name} would then have edited a reference it cites, and may not review it (separation of duties)"


@dataclass
class WithdrawnApproval:
    """A statement approval that counts now and would stop counting."""

    number: int
    sentence: citations.Sentence
    approval: StatementApproval
    reason: str


@dataclass
class ArticleConsequences:
    """What saving changed references would withdraw in one article: statement approvals and its sign-off."""

    article: Article
    keys: list[str]  # the changed references this article cites
    statements: list[WithdrawnApproval] = field(default_factory=list)
    sign_off: ReviewSignOff | None = None  # the sign-off that counts now and would stop counting
    sign_off_reason: str = ""

    @property
    def state(self) -> str:
        """Where the article is, as a person says it: "live", "in review", "live, with its edit signed off", ..."""
        return article_state(self.article)

    @property
    def statement_numbers(self) -> list[int]:
        return [item.number for item in self.statements]

    def describe(self, *, done: bool = False) -> str:
        """Return one sentence for a person: which approvals and sign-off would be (with `done`: were) withdrawn."""
        numbers = self.statement_numbers
        parts = []
        if numbers:
            listed = ", ".join(map(str, numbers[:-1])) + (" and " if len(numbers) > 1 else "") + str(numbers[-1])
            parts.append(
                f"the approval{'s' if len(numbers) > 1 else ''} of statement{'s' if len(numbers) > 1 else ''} {listed}"
            )
        if self.sign_off:
            parts.append("its sign-off")
        verb = (
            ("were" if done else "would be") if len(numbers) > 1 or len(parts) > 1 else ("was" if done else "would be")
        )
        return f"“{self.article.title}” ({self.state}): {' and '.join(parts)} {verb} withdrawn."

    def summary(self) -> list:
        """Return what is withdrawn as plain data (ids), to compare a preview with what confirming would do."""
        return [
            self.article.pk,
            self.article.status,
            [[item.number, item.approval.pk] for item in self.statements],
            self.sign_off.pk if self.sign_off else None,
        ]


def article_state(article: Article) -> str:
    """Return the article's place in the workflow in words, saying whether a version of it is live."""
    if article.status == Article.Status.PUBLISHED:
        return "live"
    if article.status == Article.Status.SCHEDULED and article.scheduled_for:
        state = f"scheduled for {timezone.localtime(article.scheduled_for):%d %b %Y %H:%M}"
    else:
        state = article.get_status_display().lower()
    if not article.live_snapshot_id:
        return state
    if article.status == Article.Status.DRAFT:
        return "live, with an edit not yet submitted"
    if article.status == Article.Status.CHANGES_REQUESTED:
        return "live, with changes requested on its edit"
    return f"live, with its edit {state}"


def reference_change_consequences(references, *, by=None) -> list[ArticleConsequences]:
    """Return, per article, the approvals and sign-off that saving `references` as they are would withdraw.

    `references` are Reference instances holding the would-be records, not saved (an existing one keeps
    its pk; a new one has none). `by` is who would save them: the reference history records that person
    as an editor of every article citing them, so their own approvals and sign-offs there would stop
    counting too (unless ALLOW_SELF_REVIEW). Nothing is written: the hashes an approval and a sign-off are
    pinned to (`identity.references_hash` of the cited references' records, `Article.content_hash`)
    are computed for the would-be records and compared, with the rules `review_status` applies.
    Archived articles, and articles with nothing that counts, are left out.
    """
    replacing: dict[str, Reference | None] = {}
    references = [reference for reference in references if reference is not None]
    old_keys = dict(
        Reference.objects.filter(pk__in=[ref.pk for ref in references if ref.pk]).values_list("pk", "citation_key")
    )
    for reference in references:
        old_key = old_keys.get(reference.pk)
        if old_key and old_key != reference.citation_key:
            replacing[old_key] = None  # a renamed key: articles citing the old one would cite nothing
        replacing[reference.citation_key] = reference
    if not replacing:
        return []
    pattern = "@(" + "|".join(re.escape(key) for key in sorted(replacing)) + r")[];\s]"
    counted = Q(Exists(StatementApproval.objects.filter(article=OuterRef("pk")))) | Q(
        Exists(ReviewSignOff.objects.filter(article=OuterRef("pk")))
    )
    candidates = (
        Article.objects.exclude(status=Article.Status.ARCHIVED).filter(body__regex=pattern).filter(counted)
    ).order_by("title", "pk")
    by_id = getattr(by, "pk", None)
    results = []
    for article in candidates:
        consequences = _article_consequences(article, replacing, by_id)
        if consequences.statements or consequences.sign_off:
            results.append(consequences)
    return results


def _article_consequences(article: Article, replacing: dict, by_id: int | None) -> ArticleConsequences:
    keys = article.citation_keys
    changed = [key for key in keys if key in replacing]
    contributors = article.contributor_ids()
    contributors_after = contributors | {by_id} if by_id is not None and changed else contributors
    before = {ref.citation_key: ref for ref in article.resolve_citations()[0]}
    after = {ref.citation_key: ref for ref in article.resolve_citations(replacing=replacing)[0]}
    approvals = list(StatementApproval.objects.filter(article=article).select_related("reviewer__staff_profile"))
    approvals.sort(key=lambda a: (a.approved_at, a.pk), reverse=True)
    requests = list(ChangeRequest.objects.filter(article=article).exclude(statement_hash=""))
    requests.sort(key=lambda r: (r.requested_at, r.pk), reverse=True)
    result = ArticleConsequences(article=article, keys=changed)
    for number, sentence in enumerate(citations.unique_statements(article.statements), start=1):
        hash_before = identity.references_hash(sentence.keys, before)
        hash_after = identity.references_hash(sentence.keys, after)
        now = _counting_approval(sentence, hash_before, approvals, requests, contributors)
        if now is None or _counting_approval(sentence, hash_after, approvals, requests, contributors_after):
            continue
        if hash_after != hash_before:
            cited = [key for key in sentence.keys if _pinned(before.get(key)) != _pinned(after.get(key))]
            reason = WITHDRAWN_BY_RECORD.format(keys=", ".join(cited))
        else:
            reason = WITHDRAWN_BY_EDITOR.format(name=person_name(now.reviewer))
        result.statements.append(WithdrawnApproval(number=number, sentence=sentence, approval=now, reason=reason))
    sign_offs = list(ReviewSignOff.objects.filter(article=article).select_related("reviewer__staff_profile"))
    sign_offs.sort(key=lambda s: (s.signed_at, s.pk), reverse=True)
    content_before, content_after = article.content_hash(), article.content_hash(replacing=replacing)
    signed = _counting_sign_off(sign_offs, content_before, contributors)
    if signed and not _counting_sign_off(sign_offs, content_after, contributors_after):
        result.sign_off = signed
        if content_after != content_before:
            result.sign_off_reason = WITHDRAWN_BY_RECORD.format(keys=", ".join(changed))
        else:
            result.sign_off_reason = WITHDRAWN_BY_EDITOR.format(name=person_name(signed.reviewer))
    return result


def _pinned(reference: Reference | None) -> dict | None:
    return reference.pinned_record() if reference is not None else None


def _counting_approval(
    sentence, references_hash: str, approvals, requests, contributor_ids
) -> StatementApproval | None:
    """Return the approval that counts for the statement, as review_status decides it, or None."""
    counted = [a for a in approvals if a.statement_hash == sentence.hash and _counts(a.reviewer_id, contributor_ids)]
    approval = next((a for a in counted if a.references_hash == references_hash), None)
    request = next((r for r in requests if r.statement_hash == sentence.hash), None)
    if request and (approval is None or request.requested_at > approval.approved_at):
        return None
    return approval


def _counting_sign_off(sign_offs, content_hash: str, contributor_ids) -> ReviewSignOff | None:
    return next(
        (s for s in sign_offs if s.content_hash == content_hash and _counts(s.reviewer_id, contributor_ids)), None
    )


def person_name(user) -> str:
    """Return how staff name each other: the profile's display name, else the account's full name or username."""
    if user is None:
        return "The system"
    profile = getattr(user, "staff_profile", None)
    return (profile.display_name if profile else "") or user.get_full_name() or user.get_username()


def revision_at(article: Article, moment: datetime.datetime):
    """Return the article's revision current at `moment` (its history record), or None before its first save."""
    return article.history.filter(history_date__lte=moment).order_by("-history_date", "-history_id").first()


# --- Helpers ---------------------------------------------------------------------------------------

GATE = "clinic.gate"  # the transaction-local setting PostgreSQL's triggers ask for (migration 0013)


@contextmanager
def gate(*, using: str = DEFAULT_DB_ALIAS):
    """Run the enclosed writes in one transaction in which PostgreSQL lets workflow state and review records change.

    Every transition runs in it (as does the site import); anywhere else, the triggers of migration 0013 refuse
    those writes. On the way out the setting is put back as it was, so a nested transition leaves its caller's
    gate open and a write after a transition, in the same transaction, is refused again; an error's rollback
    takes it back.
    """
    with transaction.atomic(using=using):
        previous = _set_gate("on", using)
        yield
        _set_gate(previous, using)


def _set_gate(value: str, using: str) -> str:
    """Set the gate for the rest of the transaction and return what it was ("" when never set)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return ""  # the demo's SQLite has no triggers
    with connection.cursor() as cursor:
        # OFFSET 0 keeps the subquery a step of its own, so it reads the setting before set_config changes it.
        cursor.execute(
            "SELECT coalesce(was, ''), set_config(%s, %s, true) "
            "FROM (SELECT current_setting(%s, true) AS was OFFSET 0) AS before",
            [GATE, value, GATE],
        )
        return cursor.fetchone()[0]


def _locked(article: Article, *, with_references: bool = False) -> Article:
    """Lock the article row (and the references it cites), so what is checked is what is recorded."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    if with_references:
        list(Reference.objects.select_for_update().filter(citation_key__in=article.citation_keys).order_by("pk"))
    return article


def _record(
    article: Article, *, by, action: str, from_state: str, message: str = "", content_hash: str | None = None
) -> AuditEvent:
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor=by,
        action=action,
        article=article,
        from_state=from_state,
        to_state=article.status,
        content_hash=content_hash if content_hash is not None else article.content_hash(),
        message=message,
    )


def _save_state(article: Article, *fields: str) -> None:
    # Workflow state is not content: it must not create a revision of the working copy.
    article.skip_history_when_saving = True
    try:
        article.save(update_fields=[*fields, "updated_at"])
    finally:
        del article.skip_history_when_saving
    if "live_snapshot" in fields:  # what patients see changed: cached pages go stale once this commits
        page_cache.invalidate_on_commit()


def _refuse_archived(article: Article) -> None:
    if article.status == Article.Status.ARCHIVED:
        raise WorkflowError(ARCHIVED.format(title=article.title))


def _self_review_note(by, article: Article) -> tuple[bool, str]:
    is_self = by.pk in article.contributor_ids()
    return is_self, (SELF_REVIEW_NOTE if is_self else "")


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Return the same day `months` later, or the month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _join(*parts: str) -> str:
    return " ".join(part for part in parts if part)


# --- Writer ----------------------------------------------------------------------------------------


@gate()
def submit_for_review(article: Article, *, by) -> None:
    """Send the working copy to the reviewers."""
    _refuse_archived(article)
    if not permissions.can_submit(by, article):
        raise WorkflowError(NOT_ALLOWED_TO_SUBMIT.format(title=article.title))
    article = _locked(article)
    _refuse_archived(article)
    if article.status == Article.Status.IN_REVIEW:
        raise WorkflowError(ALREADY_IN_REVIEW.format(title=article.title))
    signed_off = article.status in (Article.Status.SIGNED_OFF, Article.Status.SCHEDULED)
    if signed_off and review_status(article).sign_off is not None:
        raise WorkflowError(ALREADY_SIGNED_OFF.format(title=article.title))
    if problems := content_problems(article):
        raise WorkflowError(" ".join(problems))
    from_state = article.status
    # A sign-off that no longer holds (the content changed outside the admin) reopens the review too.
    article.status, article.scheduled_for, article.scheduled_by = Article.Status.IN_REVIEW, None, None
    _save_state(article, "status", "scheduled_for", "scheduled_by")
    _record(article, by=by, action="articles.article.submit", from_state=from_state)
    notifications.article_submitted(article)


@gate()
def record_edit(article: Article, *, by) -> str:
    """After a save of the working copy, reopen a signed-off, scheduled or live article whose content changed.

    Returns the article's status afterwards. The live page is untouched: only publishing changes it.
    """
    article = _locked(article)
    content_hash = article.content_hash()
    from_state = article.status
    if from_state in (Article.Status.SIGNED_OFF, Article.Status.SCHEDULED):
        status = review_status(article)
        if status.sign_off is None and not status.reference_reapproval:
            article.status, article.scheduled_for, article.scheduled_by = Article.Status.DRAFT, None, None
            _save_state(article, "status", "scheduled_for", "scheduled_by")
            message = "Edited after sign-off: it needs review again."
            _record(article, by=by, action="articles.article.reopen", from_state=from_state, message=message)
    elif from_state == Article.Status.PUBLISHED and not shows_working_copy(
        article.live_snapshot, article, content_hash
    ):
        article.status = Article.Status.DRAFT
        _save_state(article, "status")
        message = "Edited after publication: the live page stays as it was until the edit is reviewed and published."
        _record(article, by=by, action="articles.article.edit_live", from_state=from_state, message=message)
    return article.status


# --- Reviewer --------------------------------------------------------------------------------------


def _review_lock(article: Article, *, by, verb: str) -> Article:
    if not permissions.can_review(by, article):
        raise WorkflowError(NOT_ALLOWED_TO_REVIEW)
    article = _locked(article, with_references=True)
    _refuse_archived(article)  # retired: no review record is added to it, retraction and claim-check ones included
    if not permissions.can_approve(by, article):
        raise WorkflowError(SELF_REVIEW.format(title=article.title, verb=verb))
    return article


def _require_in_review(article: Article) -> None:
    if article.status != Article.Status.IN_REVIEW:
        raise WorkflowError(NOT_IN_REVIEW.format(title=article.title, state=article.get_status_display().lower()))


def _current_sentence(article: Article, statement: EvidenceStatement, seen_hash: str) -> citations.Sentence:
    """Return the statement as it stands in the body now, if it is still what the reviewer saw."""
    current = {s.hash: s for s in article.statements}
    if statement.article_id != article.pk or statement.statement_hash != seen_hash or seen_hash not in current:
        raise WorkflowError(STATEMENT_CHANGED)
    return current[seen_hash]


@gate()
def approve_statement(
    statement: EvidenceStatement,
    *,
    by,
    seen_hash: str,
    evidence_level: str,
    certainty: str,
    comment: str = "",
    participants: int | None = None,
    peer_reviewed: bool | None = None,
    manufacturer_funded: bool | None = None,
) -> StatementApproval:
    """Approve one evidence statement as the reviewer read it, with the grade of the evidence behind it."""
    article = _review_lock(statement.article, by=by, verb="approve its statements")
    if article.status != Article.Status.IN_REVIEW:
        # A signed-off or scheduled article keeps its place when only a cited reference's record changed.
        status = review_status(article)
        states = {item.sentence.hash: item.state for item in status.statements}
        if not (status.reference_reapproval and states.get(seen_hash) == "reference_changed"):
            _require_in_review(article)
    sentence = _current_sentence(article, statement, seen_hash)
    cited = Reference.objects.by_keys(sentence.keys)
    if evidence_level not in EvidenceLevel.values or certainty not in Certainty.values:
        raise WorkflowError(INVALID_GRADE)
    is_self, note = _self_review_note(by, article)
    approval = StatementApproval.objects.create(
        article=article,
        statement_hash=seen_hash,
        statement_text=sentence.text,
        cited_keys=list(sentence.keys),
        references_hash=identity.references_hash(sentence.keys, cited),
        hash_version=identity.HASH_VERSION,
        evidence_level=evidence_level,
        certainty=certainty,
        participants=participants,
        peer_reviewed=peer_reviewed,
        manufacturer_funded=manufacturer_funded,
        comment=comment.strip(),
        reviewer=by,
        approved_at=timezone.now(),
        self_review=is_self,
    )
    summary = f"Statement {statement.position}: level {evidence_level} ({EvidenceLevel(evidence_level).label})"
    _record(
        article,
        by=by,
        action="articles.statement.approve",
        from_state=article.status,
        message=_join(f"{summary}, certainty {Certainty(certainty).label.lower()}.", comment.strip(), note),
    )
    return approval


@gate()
def request_statement_changes(statement: EvidenceStatement, *, by, seen_hash: str, comment: str) -> ChangeRequest:
    """Ask for one statement to change; the article stays in review until it is sent back or signed off."""
    if not permissions.can_review(by, statement.article):
        raise WorkflowError(NOT_ALLOWED_TO_REVIEW)
    article = _locked(statement.article)
    _require_in_review(article)
    sentence = _current_sentence(article, statement, seen_hash)
    if not comment.strip():
        raise WorkflowError(COMMENT_REQUIRED)
    change_request = ChangeRequest.objects.create(
        article=article,
        statement_hash=seen_hash,
        statement_text=sentence.text,
        comment=comment.strip(),
        requested_by=by,
        requested_at=timezone.now(),
    )
    _record(
        article,
        by=by,
        action="articles.statement.request_changes",
        from_state=article.status,
        message=f"Statement {statement.position}: {comment.strip()}",
    )
    return change_request


@gate()
def request_changes(article: Article, *, by, comment: str) -> ChangeRequest:
    """Send the article back to its writer with a comment (and any open statement comments)."""
    if not permissions.can_review(by, article):
        raise WorkflowError(NOT_ALLOWED_TO_REVIEW)
    article = _locked(article)
    if article.status not in (Article.Status.IN_REVIEW, Article.Status.SIGNED_OFF):
        raise WorkflowError(NOT_IN_REVIEW.format(title=article.title, state=article.get_status_display().lower()))
    if not comment.strip():
        raise WorkflowError(COMMENT_REQUIRED)
    change_request = ChangeRequest.objects.create(
        article=article, comment=comment.strip(), requested_by=by, requested_at=timezone.now()
    )
    from_state = article.status
    article.status = Article.Status.CHANGES_REQUESTED
    _save_state(article, "status")
    _record(article, by=by, action="articles.article.request_changes", from_state=from_state, message=comment.strip())
    notifications.changes_requested(article, change_request)
    return change_request


@gate()
def send_back(
    article: Article, *, by, comment: str, statement_comments: list[tuple[EvidenceStatement, str, str]] = ()
) -> ChangeRequest:
    """Record comments on statements and send the article back to its writer, as one step with one mail.

    `statement_comments` holds (statement, the hash the reviewer read, comment); all or nothing is recorded.
    """
    for statement, seen_hash, text in statement_comments:
        request_statement_changes(statement, by=by, seen_hash=seen_hash, comment=text)
    if not comment.strip() and statement_comments:
        numbers = ", ".join(str(statement.position) for statement, _hash, _text in statement_comments)
        comment = SEE_STATEMENT_COMMENTS.format(numbers=numbers)
    return request_changes(article, by=by, comment=comment)


@gate()
def sign_off(article: Article, *, by, seen_hash: str, comment: str = "") -> ReviewSignOff:
    """Sign the whole article off as the reviewer read it; refused until every statement is approved."""
    article = _review_lock(article, by=by, verb="sign it off")
    status = review_status(article)
    if not status.reference_reapproval:
        _require_in_review(article)
    if seen_hash != status.content_hash:
        raise WorkflowError(ARTICLE_CHANGED.format(title=article.title))
    if problems := status.sign_off_problems:
        raise WorkflowError(" ".join(problems))
    is_self, note = _self_review_note(by, article)
    signed = ReviewSignOff.objects.create(
        article=article,
        content_hash=status.content_hash,
        hash_version=identity.HASH_VERSION,
        reviewer=by,
        signed_at=timezone.now(),
        comment=comment.strip(),
        self_review=is_self,
    )
    from_state = article.status
    if from_state != Article.Status.SCHEDULED:  # signed off again after a reference change: still scheduled
        article.status = Article.Status.SIGNED_OFF
        _save_state(article, "status")
    _record(
        article,
        by=by,
        action="articles.article.sign_off",
        from_state=from_state,
        message=_join(comment.strip(), note),
        content_hash=status.content_hash,
    )
    notifications.article_signed_off(article)
    return signed


@gate()
def acknowledge_retraction(article: Article, reference: Reference, *, by, comment: str) -> RetractionAcknowledgement:
    """Record that a reviewer read the retraction and the article may still cite the reference, and why."""
    article = _review_lock(article, by=by, verb="acknowledge the retraction")
    reference = Reference.objects.get(pk=reference.pk)
    if not reference.is_retracted:
        raise WorkflowError(NOT_RETRACTED.format(key=reference.citation_key))
    live_body = article.live_snapshot.body_source if article.live_snapshot_id else ""
    if reference.citation_key not in article.citation_keys + citations.citation_keys(live_body):
        raise WorkflowError(NOT_CITED.format(title=article.title, key=reference.citation_key))
    if not comment.strip():
        raise WorkflowError(REASON_REQUIRED)
    acknowledgement = RetractionAcknowledgement.objects.create(
        article=article,
        reference=reference,
        acknowledged_by=by,
        acknowledged_at=timezone.now(),
        comment=comment.strip(),
    )
    _record(
        article,
        by=by,
        action="articles.reference.acknowledge_retraction",
        from_state=article.status,
        message=f"{reference.citation_key}: {comment.strip()}",
    )
    return acknowledgement


@gate()
def justify_finding(article: Article, *, by, finding_key: str, reason: str) -> FindingJustification:
    """Record why a claim-check finding is acceptable as written; it then no longer blocks sign-off."""
    article = _review_lock(article, by=by, verb="judge its claims")
    finding = next((f for f in review_status(article).findings if f.key == finding_key), None)
    if finding is None:
        raise WorkflowError(NO_SUCH_FINDING)
    if not reason.strip():
        raise WorkflowError(REASON_REQUIRED)
    justification = FindingJustification.objects.create(
        article=article,
        finding_key=finding.key,
        rule=finding.rule,
        phrase=finding.phrase[:100],
        text=finding.text,
        reason=reason.strip(),
        justified_by=by,
        justified_at=timezone.now(),
    )
    _record(
        article,
        by=by,
        action="articles.finding.justify",
        from_state=article.status,
        message=f"{finding.message} Accepted because: {reason.strip()}",
    )
    return justification


# --- Editor ----------------------------------------------------------------------------------------


def _require_editor(by) -> None:
    if not permissions.can_publish(by):
        raise WorkflowError(NOT_ALLOWED_TO_PUBLISH)


def build_snapshot(article: Article, status: ReviewStatus, *, by, now: datetime.datetime) -> PublishedSnapshot:
    """Return the (unsaved) snapshot the working copy would publish as: previews render it too."""
    rendered = render_article(article, levels=status.levels, mark_unapproved=by is None)
    references = {ref["key"]: ref["number"] for ref in rendered.references}
    sign_off_record = status.sign_off
    reviewers: dict[int, dict] = {}
    statements = []
    for item in status.statements:
        approval = item.approval
        statements.append(
            {
                "number": item.number,
                "hash": item.sentence.hash,
                "text": item.sentence.text,
                "references": [references.get(key) for key in item.sentence.keys],
                "level": approval.evidence_level if approval else "",
                "label": EvidenceLevel(approval.evidence_level).label if approval else "",
                "certainty": approval.certainty if approval else "",
                "approved_by": public_person(approval.reviewer)["name"] if approval else "",
                "approved_at": approval.approved_at.isoformat() if approval else "",
            }
        )
        if approval:
            person = reviewers.setdefault(approval.reviewer_id, {**public_person(approval.reviewer), "at": ""})
            person["at"] = max(person["at"], approval.approved_at.isoformat())
    if sign_off_record:
        person = reviewers.setdefault(sign_off_record.reviewer_id, public_person(sign_off_record.reviewer))
        person["at"] = sign_off_record.signed_at.isoformat()
    earlier = list(article.snapshots.order_by("-published_at").values_list("published_at", flat=True))
    reviewed_at = sign_off_record.signed_at if sign_off_record else None
    return PublishedSnapshot(
        article=article,
        hash_version=identity.HASH_VERSION,
        **patient_visible.frozen(article, rendered=rendered, reviewed_at=reviewed_at),  # what patients see of it
        statements=statements,
        reviewed_by=public_person(sign_off_record.reviewer) if sign_off_record else {},
        reviewers=list(reviewers.values()),
        sign_off=sign_off_record,
        reviewed_at=reviewed_at,
        first_published_at=earlier[-1] if earlier else now,
        earlier_versions=[moment.isoformat() for moment in earlier],
        content_hash=status.content_hash,
        published_at=now,
        published_by=by,
    )


@gate()
def publish(article: Article, *, by) -> PublishedSnapshot:
    """Freeze the reviewed working copy into a new snapshot and make it the live version."""
    _require_editor(by)
    article = _locked(article, with_references=True)
    status = review_status(article)
    if problems := status.problems:
        raise WorkflowError(" ".join(problems))
    snapshot = build_snapshot(article, status, by=by, now=timezone.now())
    snapshot.save()
    snapshot.topic_set.set([topic["id"] for topic in snapshot.topics])
    from_state = article.status
    article.status = Article.Status.PUBLISHED
    article.live_snapshot, article.live_published_at = snapshot, snapshot.published_at
    article.live_review_due = snapshot.next_review_due
    article.scheduled_for = article.scheduled_by = None
    _save_state(article, "status", *LIVE_FIELDS, "scheduled_for", "scheduled_by")
    _record(
        article,
        by=by,
        action="articles.article.publish",
        from_state=from_state,
        content_hash=status.content_hash,
        message="Update of the live version." if snapshot.earlier_versions else "",
    )
    notifications.article_published(article)
    return snapshot


@gate()
def schedule(article: Article, *, by, at: datetime.datetime) -> None:
    """Publish the signed-off article automatically at `at` (by `publish_scheduled`, run from cron)."""
    _require_editor(by)
    article = _locked(article, with_references=True)
    if article.status != Article.Status.SIGNED_OFF:
        raise WorkflowError(
            NOT_READY_TO_SCHEDULE.format(title=article.title, state=article.get_status_display().lower())
        )
    if at is None or timezone.is_naive(at) or at <= timezone.now():
        raise WorkflowError(SCHEDULE_IN_PAST)
    if problems := review_status(article).problems:
        raise WorkflowError(" ".join(problems))
    article.status, article.scheduled_for, article.scheduled_by = Article.Status.SCHEDULED, at, by
    _save_state(article, "status", "scheduled_for", "scheduled_by")
    when = timezone.localtime(at).strftime("%d %b %Y %H:%M %Z")
    _record(article, by=by, action="articles.article.schedule", from_state="signed_off", message=f"For {when}.")


def _back_to_review_state(article: Article) -> str:
    status = review_status(article)
    return Article.Status.SIGNED_OFF if status.sign_off or status.reference_reapproval else Article.Status.DRAFT


@gate()
def unschedule(article: Article, *, by, reason: str = "") -> None:
    """Cancel a scheduled publication; the article stays signed off if its sign-off still holds."""
    _require_editor(by)
    article = _locked(article)
    if article.status != Article.Status.SCHEDULED:
        raise WorkflowError(NOT_SCHEDULED.format(title=article.title))
    article.status, article.scheduled_for, article.scheduled_by = _back_to_review_state(article), None, None
    _save_state(article, "status", "scheduled_for", "scheduled_by")
    _record(article, by=by, action="articles.article.unschedule", from_state="scheduled", message=reason.strip())


@dataclass
class ScheduledOutcome:
    article: Article
    error: str = ""


def publish_scheduled(*, now: datetime.datetime | None = None) -> list[ScheduledOutcome]:
    """Publish every scheduled article that is due, each in its own transaction; safe to run twice at once.

    Rows another run is publishing are skipped (SKIP LOCKED). An article that can no longer be
    published (its rules broke since it was scheduled) is unscheduled and its editor is told.
    """
    now = now or timezone.now()
    outcomes = []
    for pk in Article.objects.due_for_publication(now).order_by("scheduled_for").values_list("pk", flat=True):
        with gate():
            article = Article.objects.due_for_publication(now).select_for_update(skip_locked=True).filter(pk=pk).first()
            if article is None:
                continue  # another run has it, or it was unscheduled meanwhile
            try:
                with transaction.atomic():
                    publish(article, by=article.scheduled_by)
            except WorkflowError as error:
                editor = article.scheduled_by
                article.status, article.scheduled_for, article.scheduled_by = _back_to_review_state(article), None, None
                _save_state(article, "status", "scheduled_for", "scheduled_by")
                _record(
                    article,
                    by=None,
                    action="articles.article.schedule_failed",
                    from_state="scheduled",
                    message=str(error),
                )
                notifications.scheduled_publication_failed(article, editor, str(error))
                outcomes.append(ScheduledOutcome(article, str(error)))
            else:
                outcomes.append(ScheduledOutcome(article))
    return outcomes


@gate()
def unpublish(article: Article, *, by, reason: str) -> None:
    """Take the article off the public site; its snapshots stay in the record."""
    _require_editor(by)
    article = _locked(article)
    if article.live_snapshot_id is None:
        raise WorkflowError(NOT_LIVE.format(title=article.title))
    if not reason.strip():
        raise WorkflowError(REASON_REQUIRED)
    from_state = article.status
    article.status = Article.Status.DRAFT
    article.live_snapshot = article.live_published_at = article.live_review_due = None
    article.scheduled_for = article.scheduled_by = None
    _save_state(article, "status", *LIVE_FIELDS, "scheduled_for", "scheduled_by")
    _record(article, by=by, action="articles.article.unpublish", from_state=from_state, message=reason.strip())


@gate()
def archive(article: Article, *, by, reason: str) -> None:
    """Retire the article: off the public site, no longer editable, nothing deleted."""
    _require_editor(by)
    article = _locked(article)
    _refuse_archived(article)
    if not reason.strip():
        raise WorkflowError(REASON_REQUIRED)
    from_state = article.status
    article.status = Article.Status.ARCHIVED
    article.live_snapshot = article.live_published_at = article.live_review_due = None
    article.scheduled_for = article.scheduled_by = None
    _save_state(article, "status", *LIVE_FIELDS, "scheduled_for", "scheduled_by")
    _record(article, by=by, action="articles.article.archive", from_state=from_state, message=reason.strip())


@gate()
def restore(article: Article, *, by) -> None:
    """Bring an archived article back as a draft; it must be reviewed before it is published again."""
    _require_editor(by)
    article = _locked(article)
    if article.status != Article.Status.ARCHIVED:
        raise WorkflowError(NOT_ARCHIVED.format(title=article.title))
    article.status = Article.Status.DRAFT
    _save_state(article, "status")
    _record(article, by=by, action="articles.article.restore", from_state="archived")


def send_review_reminders(*, today: datetime.date | None = None) -> list[Article]:
    """Remind the reviewers of each live article past its "next review due" date; return those articles.

    Each reminder is one transaction: its audit entry and its mail are recorded together, or not at all.
    """
    reminded = []
    for pk in Article.objects.review_overdue(today).order_by("live_review_due", "pk").values_list("pk", flat=True):
        with gate():
            # Looked at again under the lock: it may have been taken down or sent to review since it was listed.
            article = Article.objects.review_overdue(today).select_for_update(of=("self",)).filter(pk=pk).first()
            if article is None:
                continue
            _record(
                article,
                by=None,
                action="articles.review.remind",
                from_state=article.status,
                content_hash=article.live_snapshot.content_hash,
                message=f"Review was due on {article.live_snapshot.next_review_due:%d %b %Y}.",
            )
            notifications.review_due(article)
            reminded.append(article)
    return reminded
