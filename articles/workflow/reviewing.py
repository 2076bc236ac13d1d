"""The reviewer's steps: approve statements, ask for changes, sign off, and clear what blocks sign-off."""

from django.utils import timezone

from articles import citations, identity, notifications, permissions
from articles.models import (
    Article,
    Certainty,
    ChangeRequest,
    EvidenceLevel,
    EvidenceStatement,
    FindingJustification,
    Reference,
    RetractionAcknowledgement,
    ReviewSignOff,
    StatementApproval,
)
from articles.workflow.gate import gate
from articles.workflow.messages import (
    ARTICLE_CHANGED,
    COMMENT_REQUIRED,
    INVALID_GRADE,
    NO_SUCH_FINDING,
    NOT_ALLOWED_TO_REVIEW,
    NOT_CITED,
    NOT_RETRACTED,
    REASON_REQUIRED,
    SEE_STATEMENT_COMMENTS,
    STATEMENT_CHANGED,
    WorkflowError,
)
from articles.workflow.status import review_status
from articles.workflow.transitions import (
    ACKNOWLEDGE_RETRACTION,
    APPROVE_STATEMENT,
    JUSTIFY_FINDING,
    REQUEST_CHANGES,
    REQUEST_STATEMENT_CHANGES,
    SIGN_OFF,
    Transition,
    implements,
)
from articles.workflow.writes import join, locked, record, refuse_archived, save_state, self_review_note


def _review_lock(article: Article, *, by, step: Transition) -> Article:
    """Lock the article for a reviewer's record: a reviewer who did not write or edit it (the step's predicate)."""
    if not permissions.can_review(by, article):
        raise WorkflowError(NOT_ALLOWED_TO_REVIEW)
    article = locked(article, with_references=True)
    refuse_archived(article)  # retired: no review record is added to it, retraction and claim-check ones included
    step.refuse_unless_allowed(by, article)
    return article


def _require_in_review(article: Article, step: Transition) -> None:
    if article.status != Article.Status.IN_REVIEW:
        raise WorkflowError(step.refusal(article))


def _current_sentence(article: Article, statement: EvidenceStatement, seen_hash: str) -> citations.Sentence:
    """Return the statement as it stands in the body now, if it is still what the reviewer saw."""
    current = {s.hash: s for s in article.statements}
    if statement.article_id != article.pk or statement.statement_hash != seen_hash or seen_hash not in current:
        raise WorkflowError(STATEMENT_CHANGED)
    return current[seen_hash]


@implements(APPROVE_STATEMENT)
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
    article = _review_lock(statement.article, by=by, step=APPROVE_STATEMENT)
    if article.status != Article.Status.IN_REVIEW:
        # A signed-off or scheduled article keeps its place when only a cited reference's record changed.
        status = review_status(article)
        withdrawn = {item.sentence.hash for item in status.statements if item.is_reference_changed}
        if not (status.reference_reapproval and seen_hash in withdrawn):
            _require_in_review(article, APPROVE_STATEMENT)
    sentence = _current_sentence(article, statement, seen_hash)
    cited = Reference.objects.by_keys(sentence.keys)
    if evidence_level not in EvidenceLevel.values or certainty not in Certainty.values:
        raise WorkflowError(INVALID_GRADE)
    is_self, note = self_review_note(by, article)
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
    record(
        article,
        by=by,
        action=APPROVE_STATEMENT.action,
        from_state=article.status,
        message=join(f"{summary}, certainty {Certainty(certainty).label.lower()}.", comment.strip(), note),
    )
    return approval


@implements(REQUEST_STATEMENT_CHANGES)
@gate()
def request_statement_changes(statement: EvidenceStatement, *, by, seen_hash: str, comment: str) -> ChangeRequest:
    """Ask for one statement to change; the article stays in review until it is sent back or signed off."""
    REQUEST_STATEMENT_CHANGES.refuse_unless_allowed(by, statement.article)
    article = locked(statement.article)
    REQUEST_STATEMENT_CHANGES.refuse_unless_from(article)
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
    record(
        article,
        by=by,
        action=REQUEST_STATEMENT_CHANGES.action,
        from_state=article.status,
        message=f"Statement {statement.position}: {comment.strip()}",
    )
    return change_request


@implements(REQUEST_CHANGES)
@gate()
def request_changes(article: Article, *, by, comment: str) -> ChangeRequest:
    """Send the article back to its writer with a comment (and any open statement comments)."""
    REQUEST_CHANGES.refuse_unless_allowed(by, article)
    article = locked(article)
    REQUEST_CHANGES.refuse_unless_from(article)
    if not comment.strip():
        raise WorkflowError(COMMENT_REQUIRED)
    change_request = ChangeRequest.objects.create(
        article=article, comment=comment.strip(), requested_by=by, requested_at=timezone.now()
    )
    from_state = article.status
    article.status = Article.Status.CHANGES_REQUESTED
    save_state(article, "status")
    record(article, by=by, action=REQUEST_CHANGES.action, from_state=from_state, message=comment.strip())
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


@implements(SIGN_OFF)
@gate()
def sign_off(article: Article, *, by, seen_hash: str, comment: str = "") -> ReviewSignOff:
    """Sign the whole article off as the reviewer read it; refused until every statement is approved."""
    article = _review_lock(article, by=by, step=SIGN_OFF)
    status = review_status(article)
    if not status.reference_reapproval:
        _require_in_review(article, SIGN_OFF)
    if seen_hash != status.content_hash:
        raise WorkflowError(ARTICLE_CHANGED.format(title=article.title))
    if problems := status.sign_off_problems:
        raise WorkflowError(" ".join(problems))
    is_self, note = self_review_note(by, article)
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
        save_state(article, "status")
    record(
        article,
        by=by,
        action=SIGN_OFF.action,
        from_state=from_state,
        message=join(comment.strip(), note),
        content_hash=status.content_hash,
    )
    notifications.article_signed_off(article)
    return signed


@implements(ACKNOWLEDGE_RETRACTION)
@gate()
def acknowledge_retraction(article: Article, reference: Reference, *, by, comment: str) -> RetractionAcknowledgement:
    """Record that a reviewer read the retraction and the article may still cite the reference, and why."""
    article = _review_lock(article, by=by, step=ACKNOWLEDGE_RETRACTION)
    reference = Reference.objects.get(pk=reference.pk)
    if not reference.is_retracted:
        raise WorkflowError(NOT_RETRACTED.format(key=reference.citation_key))
    live = article.live_snapshot if article.live_snapshot_id else None
    live_keys = (
        citations.citation_keys(live.key_points_source) + citations.citation_keys(live.body_source) if live else []
    )
    if reference.citation_key not in article.citation_keys + live_keys:
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
    record(
        article,
        by=by,
        action=ACKNOWLEDGE_RETRACTION.action,
        from_state=article.status,
        message=f"{reference.citation_key}: {comment.strip()}",
    )
    return acknowledgement


@implements(JUSTIFY_FINDING)
@gate()
def justify_finding(article: Article, *, by, finding_key: str, reason: str) -> FindingJustification:
    """Record why a claim-check finding is acceptable as written; it then no longer blocks sign-off."""
    article = _review_lock(article, by=by, step=JUSTIFY_FINDING)
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
    record(
        article,
        by=by,
        action=JUSTIFY_FINDING.action,
        from_state=article.status,
        message=f"{finding.message} Accepted because: {reason.strip()}",
    )
    return justification
