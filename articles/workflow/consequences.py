"""What saving changed references would withdraw, article by article (read-only: nothing is written)."""

import re
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from articles import citations, identity
from articles.models import Article, ChangeRequest, Reference, ReviewSignOff, StatementApproval
from articles.workflow.status import counts, person_name

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
    counted = [a for a in approvals if a.statement_hash == sentence.hash and counts(a.reviewer_id, contributor_ids)]
    approval = next((a for a in counted if a.references_hash == references_hash), None)
    request = next((r for r in requests if r.statement_hash == sentence.hash), None)
    if request and (approval is None or request.requested_at > approval.approved_at):
        return None
    return approval


def _counting_sign_off(sign_offs, content_hash: str, contributor_ids) -> ReviewSignOff | None:
    return next(
        (s for s in sign_offs if s.content_hash == content_hash and counts(s.reviewer_id, contributor_ids)), None
    )
