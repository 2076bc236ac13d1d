"""The read model: what counts and what blocks, derived from hashes every time it matters.

Whether an approval or a sign-off still counts is worked out here (`review_status`), never read from a stored
flag (`queue.publishing_queue` sorts signed-off and scheduled articles by the same verdict).
"""

import copy
import datetime
import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.utils.text import Truncator

from articles import citations, claims, identity, patient_visible
from articles.models import (
    Article,
    ChangeRequest,
    EvidenceStatement,
    FindingJustification,
    PublishedSnapshot,
    Reference,
    ReviewSignOff,
    StatementApproval,
)
from articles.parse_once import parse_once
from articles.rendering import RenderedArticle, RenderingProblems, render_article, rendering_problems
from articles.workflow.gate_reads import GateReads, Revision, needs_topic_disclaimer
from articles.workflow.messages import (
    ALREADY_LIVE,
    APPROVED_UNDER_EARLIER_RULES,
    ARCHIVED,
    ARTICLE_CHANGES_OPEN,
    CHANGED_SINCE_PUBLISHED,
    CHANGES_OPEN,
    IS_DRAFT,
    MALFORMED_MARKERS,
    MISSING_FIELDS,
    NO_SITEWIDE_DISCLAIMER,
    NO_TOPIC,
    NOT_SIGNED_OFF,
    REFERENCE_CHANGED,
    RETRACTED,
    SELF_APPROVED,
    SELF_SIGNED_OFF,
    SIGN_OFF_STALE,
    SIGNED_OFF_UNDER_EARLIER_RULES,
    STALE_APPROVAL,
    STILL_IN_REVIEW,
    TOPIC_DISCLAIMER_MISSING,
    UNAPPROVED,
    UNKNOWN_KEYS,
    UNRESOLVED_FINDING,
)

SIMILAR_WORDING = 0.6  # how alike an approved and a current statement must be to call it "edited"


@dataclass(frozen=True)
class StateLabel:
    """How staff read one statement state: the review desk's badge, its colour, and the admin checklist's line."""

    badge: str  # may name the approval's {level} and {level_label}
    tone: str  # a Bootstrap colour: success, warning, danger or secondary
    checklist: str  # may name the approval's {level}


# One entry per statement state, declared once: the desk and the admin both read it.
STATE_LABELS = {
    "approved": StateLabel("Approved: level {level}, {level_label}", "success", "approved (level {level})"),
    "changes_requested": StateLabel("Changes requested", "warning", "changes requested"),
    "edited": StateLabel("Edited after approval", "danger", "edited after approval: needs approval again"),
    "reference_changed": StateLabel(
        "A cited reference changed after approval",
        "danger",
        "a cited reference changed after approval: needs approval again",
    ),
    "self_approved": StateLabel(
        "Approved by a contributor: needs another reviewer",
        "danger",
        "approved by someone who wrote or edited it: needs another reviewer",
    ),
    "unapproved": StateLabel("Not yet approved", "secondary", "not yet approved"),
}


@dataclass
class StatementStatus:
    """One evidence statement of the working copy, and the approval, request or earlier approval that decides it."""

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
    def is_approved(self) -> bool:
        """Return True if an approval counts for the statement as it stands."""
        return self.state == "approved"

    @property
    def is_reference_changed(self) -> bool:
        """Return True if the approval stopped counting only because a cited reference's record changed."""
        return self.state == "reference_changed"

    @property
    def label(self) -> str:
        """Return the state as the review desk's badge reads it."""
        return STATE_LABELS[self.state].badge.format(**self._level())

    @property
    def checklist_label(self) -> str:
        """Return the state as the admin's publishing checklist reads it."""
        return STATE_LABELS[self.state].checklist.format(**self._level())

    @property
    def tone(self) -> str:
        """Return the Bootstrap colour of the state's badge."""
        return STATE_LABELS[self.state].tone

    def _level(self) -> dict[str, str]:
        approval = self.approval
        return {
            "level": approval.evidence_level if approval else "",
            "level_label": approval.get_evidence_level_display() if approval else "",
        }

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
    resolved: tuple[list[Reference], list[str]]  # the cited references, and the keys no reference has
    statements: list[StatementStatus]
    sign_off: ReviewSignOff | None
    earlier_sign_off: ReviewSignOff | None
    self_sign_off: ReviewSignOff | None
    contributor_ids: set[int]
    article_change_request: ChangeRequest | None = None
    findings: list[claims.Finding] = field(default_factory=list)
    justified: dict[str, FindingJustification] = field(default_factory=dict)
    readability: claims.Readability | claims.SpanishReadability | None = None
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
    reads: GateReads | None = field(default=None, repr=False)  # what it was worked out from
    images: dict = field(default_factory=dict, repr=False)  # the library's images of the body, by id

    @cached_property
    def rendered(self) -> RenderedArticle:
        """The working copy rendered with its evidence labels: publishing freezes this rendering (build_snapshot).

        Rendered when first asked: the verdict reads what rendering would find wrong without it
        (`rendering_problems`), so the publishing queue never renders its rows.
        """
        return render_article(self.article, levels=self.levels, resolved=self.resolved, found=self.images)

    @property
    def statement_problems(self) -> list[str]:
        return [s.problem for s in self.statements if not s.is_approved]

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

    @property
    def reapproval_since(self) -> datetime.datetime | None:
        """Return when the withdrawn sign-off was given, if only a re-approval could put this signed-off (or
        scheduled) article back: every statement approved or withdrawn by a cited reference's change."""
        article = self.article
        if article.status not in (Article.Status.SIGNED_OFF, Article.Status.SCHEDULED):
            return None
        if self.sign_off or self.self_sign_off or self.earlier_sign_off is None:
            return None
        if any(not (s.is_approved or s.is_reference_changed) for s in self.statements):
            return None
        return self.earlier_sign_off.signed_at

    @cached_property
    def reference_reapproval(self) -> bool:
        """Return True if only changes outside the article (cited references' records, the author's profile)
        withdrew this signed-off (or scheduled) article's sign-off: a reviewer approves the affected statements
        again and signs off, without the writer."""
        moment = self.reapproval_since
        if moment is None:
            return False
        reads = self.reads or GateReads.of([self.article])
        reads.read_revisions({self.article.pk: moment})  # the publishing queue read them for all its rows
        return _own_fields_unchanged(self.article, reads.revisions[self.article.pk], reads.articles[self.article.pk])

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
    if snapshot.correction_note and not article.correction_note:  # publishing emptied the note it froze
        article = copy.copy(article)
        article.correction_note = snapshot.correction_note
        content_hash = article.content_hash(version=snapshot.hash_version)
    elif snapshot.hash_version != identity.HASH_VERSION:
        content_hash = article.content_hash(version=snapshot.hash_version)
    return snapshot.content_hash == content_hash


def counts(reviewer_id: int, contributor_ids: set[int]) -> bool:
    """Return True if a review act by this person counts under the separation of duties."""
    return settings.ALLOW_SELF_REVIEW or reviewer_id not in contributor_ids


def _own_fields_unchanged(article: Article, then: Revision | None, current: Article) -> bool:
    """Return True if every pinned field of the article itself is what it was in revision `then`.

    A writer's change (byline, address and topics included) goes back through review; only a change outside the
    article, to a cited reference's record or the author's profile, is approved again in place. `current` is
    the article as `GateReads` holds it, its related rows read.
    """
    if then is None:
        return False
    for name in patient_visible.pinned(patient_visible.ARTICLE_FIELDS):
        field = Article._meta.get_field(name)
        if field.many_to_many:
            if then.related.get(name, set()) != {obj.pk for obj in getattr(current, name).all()}:
                return False
        elif getattr(then.record, field.attname) != getattr(article, field.attname):
            return False
    return True


def content_problems(
    article: Article, rendered: RenderedArticle | RenderingProblems | None = None, *, known_keys=None
) -> list[str]:
    """Return what stops the working copy going to review: empty fields, no topic, unresolved citations.

    `rendered`: the rendering, or what it would find wrong. `known_keys`: every reference's citation key, when
    the caller read them once for many articles.
    """
    rendered = rendered or render_article(article)
    problems = []
    missing = [name for name in ("title", "summary", "body") if not getattr(article, name).strip()]
    if missing:
        problems.append(MISSING_FIELDS.format(title=article.title or article.slug, fields=", ".join(missing)))
    if not article.topics.all():  # the topics prefetched with the article (GateReads), else one query
        problems.append(NO_TOPIC.format(title=article.title))
    if known_keys is None:
        known_keys = Reference.objects.values_list("citation_key", flat=True)
    for problem in citations.unknown_key_messages(rendered.unknown_keys, known_keys):
        problems.append(UNKNOWN_KEYS.format(title=article.title, problem=problem))
    if rendered.malformed_markers:
        problems.append(MALFORMED_MARKERS.format(title=article.title, markers=", ".join(rendered.malformed_markers)))
    return problems + rendered.figure_problems  # unknown, unusable or unstored images (figures.py)


def _disclaimer_problems(article: Article, reads: GateReads) -> list[str]:
    problems, language = [], article.get_language_display()
    if article.language not in reads.sitewide_disclaimer:
        problems.append(NO_SITEWIDE_DISCLAIMER.format(language=language))
    for topic in reads.topics(article.pk):
        if needs_topic_disclaimer(topic) and (article.language, topic.pk) not in reads.covered_topics:
            problems.append(TOPIC_DISCLAIMER_MISSING.format(topic=topic.name, language=language))
    return problems


def _similar(a: str, b: str) -> bool:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return matcher.quick_ratio() >= SIMILAR_WORDING and matcher.ratio() >= SIMILAR_WORDING


@parse_once()
def review_status(article: Article) -> ReviewStatus:
    """Return the review state of the working copy, derived from hashes: what counts and what blocks."""
    return review_status_from(article, GateReads.of([article]))


def review_status_from(article: Article, reads: GateReads) -> ReviewStatus:
    """Return `review_status(article)`, worked out from what `reads` (which holds the article) read."""
    pk, subject = article.pk, reads.articles[article.pk]  # the subject: its topics read with the others'
    contributor_ids = reads.contributor_ids[pk]
    resolved = reads.resolved[pk]  # once: the hash, the approvals' reference hashes and the rendering
    content_hash = subject.content_hash(cited=resolved[0])
    stored = {s.statement_hash: s for s in reads.stored[pk]}
    approvals = reads.approvals[pk]
    requests = reads.requests[pk]
    sentences = citations.unique_statements(article.statements)
    current_hashes = {s.hash for s in sentences}
    cited_by_key = {ref.citation_key: ref for ref in resolved[0]}
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
        counted = [a for a in matching if counts(a.reviewer_id, contributor_ids)]
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
    sign_offs = reads.sign_offs[pk]
    current = [s for s in sign_offs if s.content_hash == content_hash]
    valid = [s for s in current if counts(s.reviewer_id, contributor_ids)]
    acknowledged = reads.acknowledged[pk]
    topics = reads.topics(pk)
    treatment = any(topic.is_treatment for topic in topics)
    levels = {s.sentence.hash: s.approval.evidence_level for s in statuses if s.approval}
    images = reads.images_of(article)
    flags = [claims.RedFlag(f.phrase, f.why, f.instead) for f in reads.red_flags[article.language]]
    body_readability = claims.readability(article.body, language=article.language)
    findings = claims.check_article(
        title=article.title,
        summary=article.summary,
        body_html=article.body,
        flags=flags,
        levels=levels,
        not_fda_approved=any(topic.not_fda_approved for topic in topics),
        treatment=treatment,
        body_readability=body_readability,
        key_points_html=article.key_points,
        language=article.language,
    )
    justified = {j.finding_key: j for j in reads.justifications[pk]}
    return ReviewStatus(
        findings=findings,
        justified=justified,
        readability=body_readability,
        treatment_checklist=claims.treatment_checklist(article.body, language=article.language) if treatment else [],
        article=article,
        content_hash=content_hash,
        resolved=resolved,
        images=images,
        statements=statuses,
        sign_off=valid[0] if valid else None,
        earlier_sign_off=sign_offs[0] if sign_offs else None,
        self_sign_off=current[0] if current and not valid else None,
        contributor_ids=contributor_ids,
        article_change_request=next(iter(reads.article_requests[pk]), None),
        unacknowledged_retractions=[ref for ref in resolved[0] if ref.is_retracted and ref.pk not in acknowledged],
        content_problems=content_problems(
            subject, rendering_problems(article, resolved[1], images), known_keys=reads.known_keys
        ),
        disclaimer_problems=_disclaimer_problems(article, reads),
        reads=reads,
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
