"""The one gate: every change of workflow state, and every published snapshot, is made here.

Each transition locks the article, checks its state and the actor's permission, raises
`WorkflowError` with a message a person can act on, writes an append-only `AuditEvent`, and
runs in one transaction.
"""

from django.db import transaction
from django.utils import timezone

from articles import permissions
from articles.models import Article, AuditEvent, PublishedSnapshot
from articles.rendering import render_article

NOT_ALLOWED_TO_PUBLISH = "You do not have permission to publish articles: ask an editor."
ARCHIVED = "“{title}” is archived: restore it before publishing."
MISSING_FIELDS = "“{title}” cannot be published without {fields}: fill them in and save."
UNKNOWN_KEYS = "“{title}” cites {keys}, which match no reference: import the reference or correct the key."
MALFORMED_MARKERS = "“{title}” has citation markers that cannot be read ({markers}): write them as [@key]."
NOT_LIVE = "“{title}” is not published, so there is nothing to unpublish."
REASON_REQUIRED = "Give a reason for unpublishing “{title}”; it goes in the audit trail."


class WorkflowError(Exception):
    """A workflow step was refused; the message says what to do."""


def _locked(article: Article) -> Article:
    return Article.objects.select_for_update().get(pk=article.pk)


def _record(article: Article, *, by, action: str, from_state: str, message: str = "") -> AuditEvent:
    return AuditEvent.objects.create(
        actor=by,
        action=action,
        article=article,
        from_state=from_state,
        to_state=article.status,
        content_hash=article.content_hash(),
        message=message,
    )


def _save_state(article: Article, *fields: str) -> None:
    # Workflow state is not content: it must not create a revision of the working copy.
    article.skip_history_when_saving = True
    try:
        article.save(update_fields=[*fields, "updated_at"])
    finally:
        del article.skip_history_when_saving


def publishing_problems(article: Article) -> list[str]:
    """Return what stops the working copy being published, as messages a person can act on."""
    problems = []
    if article.status == Article.Status.ARCHIVED:
        problems.append(ARCHIVED.format(title=article.title))
    missing = [name for name in ("title", "summary", "body") if not getattr(article, name).strip()]
    if missing:
        problems.append(MISSING_FIELDS.format(title=article.title or article.slug, fields=", ".join(missing)))
    rendered = render_article(article)
    if rendered.unknown_keys:
        problems.append(UNKNOWN_KEYS.format(title=article.title, keys=", ".join(rendered.unknown_keys)))
    if rendered.malformed_markers:
        problems.append(MALFORMED_MARKERS.format(title=article.title, markers=", ".join(rendered.malformed_markers)))
    return problems


@transaction.atomic
def publish(article: Article, *, by) -> PublishedSnapshot:
    """Freeze the working copy into a new snapshot and make it the live version."""
    if not permissions.can_publish(by, article):
        raise WorkflowError(NOT_ALLOWED_TO_PUBLISH)
    article = _locked(article)
    if problems := publishing_problems(article):
        raise WorkflowError(" ".join(problems))
    rendered = render_article(article)
    author = getattr(article.author, "staff_profile", None)
    snapshot = PublishedSnapshot.objects.create(
        article=article,
        title=article.title,
        slug=article.slug,
        summary=article.summary,
        body_html=rendered.body_html,
        references=rendered.references,
        topics=[{"id": t.pk, "slug": t.slug, "name": t.name} for t in article.topics.order_by("name")],
        author={
            "name": author.display_name if author else article.author.get_full_name() or article.author.username,
            "credentials": author.credentials if author else "",
            "slug": author.slug if author else "",
        },
        content_hash=article.content_hash(),
        published_at=timezone.now(),
        published_by=by,
    )
    from_state = article.status
    article.status = Article.Status.PUBLISHED
    article.live_snapshot = snapshot
    _save_state(article, "status", "live_snapshot")
    _record(article, by=by, action="article.publish", from_state=from_state)
    return snapshot


@transaction.atomic
def unpublish(article: Article, *, by, reason: str) -> None:
    """Take the article off the public site; its snapshots stay in the record."""
    if not permissions.can_publish(by, article):
        raise WorkflowError(NOT_ALLOWED_TO_PUBLISH)
    article = _locked(article)
    if article.live_snapshot_id is None:
        raise WorkflowError(NOT_LIVE.format(title=article.title))
    if not reason.strip():
        raise WorkflowError(REASON_REQUIRED.format(title=article.title))
    from_state = article.status
    article.status = Article.Status.DRAFT
    article.live_snapshot = None
    _save_state(article, "status", "live_snapshot")
    _record(article, by=by, action="article.unpublish", from_state=from_state, message=reason.strip())


@transaction.atomic
def archive(article: Article, *, by, reason: str = "") -> None:
    """Retire the article: off the public site, no longer editable, nothing deleted."""
    if not permissions.can_publish(by, article):
        raise WorkflowError(NOT_ALLOWED_TO_PUBLISH)
    article = _locked(article)
    from_state = article.status
    article.status = Article.Status.ARCHIVED
    article.live_snapshot = None
    _save_state(article, "status", "live_snapshot")
    _record(article, by=by, action="article.archive", from_state=from_state, message=reason.strip())
