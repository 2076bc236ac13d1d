"""What every step does to write: lock the rows, save the state without a revision, record the audit event."""

from django.utils import timezone

from articles import page_cache
from articles.edge import tags
from articles.models import Article, AuditEvent, Reference
from articles.workflow.messages import ARCHIVED, SELF_REVIEW_NOTE, WorkflowError

# The live version, and the two of its dates that lists and the review desk order and filter by (see Article).
LIVE_FIELDS = ("live_snapshot", "live_published_at", "live_review_due")


def locked(article: Article, *, with_references: bool = False) -> Article:
    """Lock the article row (and the references it cites), so what is checked is what is recorded."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    if with_references:
        list(Reference.objects.select_for_update().filter(citation_key__in=article.citation_keys).order_by("pk"))
    return article


def record(
    article: Article | None, *, by, action: str, from_state: str, message: str = "", content_hash: str | None = None
) -> AuditEvent:
    """Write the step's append-only audit event: who, which dotted action, from which state to which.

    `article` is None for an event of no one article (a library image's, articles.image_events)."""
    if content_hash is None:
        content_hash = article.content_hash() if article else ""
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor=by,
        action=action,
        article=article,
        from_state=from_state,
        to_state=article.status if article else "",
        content_hash=content_hash,
        message=message,
    )


def save_state(article: Article, *fields: str) -> None:
    """Save the article's workflow fields only, without a revision of its content."""
    # Workflow state is not content: it must not create a revision of the working copy.
    article.skip_history_when_saving = True
    try:
        article.save(update_fields=[*fields, "updated_at"])
    finally:
        del article.skip_history_when_saving
    if "live_snapshot" in fields:  # what patients see changed: cached pages go stale once this commits
        page_cache.invalidate_on_commit(tags.of_publication(article))  # and the edges in front after it


def refuse_archived(article: Article) -> None:
    """Raise WorkflowError if the article is archived."""
    if article.status == Article.Status.ARCHIVED:
        raise WorkflowError(ARCHIVED.format(title=article.title))


def self_review_note(by, article: Article) -> tuple[bool, str]:
    """Return whether `by` reviews their own article (allowed by ALLOW_SELF_REVIEW) and the note that says so."""
    is_self = by.pk in article.contributor_ids()
    return is_self, (SELF_REVIEW_NOTE if is_self else "")


def join(*parts: str) -> str:
    """Return the non-empty parts as one message."""
    return " ".join(part for part in parts if part)
