"""The editor's steps: publish, schedule and unschedule, take down, archive and restore; and the runs from cron."""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from articles import article_page, notifications, translations
from articles.models import Article, PublishedSnapshot
from articles.parse_once import parse_once
from articles.workflow.gate import gate
from articles.workflow.messages import REASON_REQUIRED, SCHEDULE_IN_PAST, WorkflowError
from articles.workflow.snapshot import build_snapshot
from articles.workflow.status import review_status
from articles.workflow.transitions import (
    ARCHIVE,
    PUBLISH,
    REMIND,
    RESTORE,
    SCHEDULE,
    SCHEDULE_FAILED,
    TRANSLATION_OUT_OF_DATE,
    UNPUBLISH,
    UNSCHEDULE,
    implements,
)
from articles.workflow.writes import LIVE_FIELDS, locked, record, save_state


@implements(PUBLISH)
@gate()
@parse_once()  # the read model, the snapshot and its plain text read the same body: each parses it once
def publish(article: Article, *, by) -> PublishedSnapshot:
    """Freeze the reviewed working copy into a new snapshot and make it the live version."""
    PUBLISH.refuse_unless_allowed(by, article)
    article = locked(article, with_references=True)
    # Refused from any other state by the read model (ReviewStatus.state_problems), with what else blocks it.
    status = review_status(article)
    if problems := status.problems:
        raise WorkflowError(" ".join(problems))
    snapshot = build_snapshot(article, status, by=by, now=timezone.now())
    snapshot.save()
    snapshot.topic_set.set([topic["id"] for topic in snapshot.topics])
    article_page.store(snapshot)  # the page's parts, rendered once here rather than on each request
    from_state, previous_snapshot_id = article.status, article.live_snapshot_id
    article.status = Article.Status.PUBLISHED
    article.live_snapshot, article.live_published_at = snapshot, snapshot.published_at
    article.live_review_due = snapshot.next_review_due
    article.scheduled_for = article.scheduled_by = None
    # The snapshot froze the note: the next edit starts blank (status.shows_working_copy puts it back to compare).
    noted = ("correction_note",) if article.correction_note else ()
    article.correction_note = ""
    article.source_changed_at = None  # a translation published again is as up to date as its reviewer saw it
    save_state(article, "status", *LIVE_FIELDS, "scheduled_for", "scheduled_by", "source_changed_at", *noted)
    record(
        article,
        by=by,
        action=PUBLISH.action,
        from_state=from_state,
        content_hash=status.content_hash,
        message=_publish_message(snapshot),
    )
    _mark_translations_out_of_date(article, previous_snapshot_id, snapshot, by=by)
    notifications.article_published(article)
    return snapshot


def _mark_translations_out_of_date(article: Article, previous_snapshot_id, snapshot: PublishedSnapshot, *, by) -> None:
    """Mark the translations this publication leaves behind (translations.py), each in its own audit trail."""
    for translation in translations.translations_left_behind(
        article, previous_snapshot_id=previous_snapshot_id, snapshot=snapshot
    ):
        translation.source_changed_at = snapshot.published_at
        save_state(translation, "source_changed_at")
        record(translation, by=by, action=TRANSLATION_OUT_OF_DATE, from_state=translation.status, content_hash="")


def _publish_message(snapshot: PublishedSnapshot) -> str:
    if snapshot.is_correction:
        return f"Correction: {snapshot.correction_note}"
    return "Update of the live version." if snapshot.earlier_versions else ""


@implements(SCHEDULE)
@gate()
def schedule(article: Article, *, by, at: datetime.datetime) -> None:
    """Publish the signed-off article automatically at `at` (by `publish_scheduled`, run from cron)."""
    SCHEDULE.refuse_unless_allowed(by, article)
    article = locked(article, with_references=True)
    SCHEDULE.refuse_unless_from(article)
    if at is None or timezone.is_naive(at) or at <= timezone.now():
        raise WorkflowError(SCHEDULE_IN_PAST)
    if problems := review_status(article).problems:
        raise WorkflowError(" ".join(problems))
    article.status, article.scheduled_for, article.scheduled_by = Article.Status.SCHEDULED, at, by
    save_state(article, "status", "scheduled_for", "scheduled_by")
    when = timezone.localtime(at).strftime("%d %b %Y %H:%M %Z")
    record(article, by=by, action=SCHEDULE.action, from_state="signed_off", message=f"For {when}.")


def _back_to_review_state(article: Article) -> str:
    status = review_status(article)
    return Article.Status.SIGNED_OFF if status.sign_off or status.reference_reapproval else Article.Status.DRAFT


@implements(UNSCHEDULE)
@gate()
def unschedule(article: Article, *, by, reason: str = "") -> None:
    """Cancel a scheduled publication; the article stays signed off if its sign-off still holds."""
    UNSCHEDULE.refuse_unless_allowed(by, article)
    article = locked(article)
    UNSCHEDULE.refuse_unless_from(article)
    article.status, article.scheduled_for, article.scheduled_by = _back_to_review_state(article), None, None
    save_state(article, "status", "scheduled_for", "scheduled_by")
    record(article, by=by, action=UNSCHEDULE.action, from_state="scheduled", message=reason.strip())


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
                save_state(article, "status", "scheduled_for", "scheduled_by")
                record(
                    article,
                    by=None,
                    action=SCHEDULE_FAILED,
                    from_state="scheduled",
                    message=str(error),
                )
                notifications.scheduled_publication_failed(article, editor, str(error))
                outcomes.append(ScheduledOutcome(article, str(error)))
            else:
                outcomes.append(ScheduledOutcome(article))
    return outcomes


@implements(UNPUBLISH)
@gate()
def unpublish(article: Article, *, by, reason: str) -> None:
    """Take the article off the public site; its snapshots stay in the record."""
    UNPUBLISH.refuse_unless_allowed(by, article)
    article = locked(article)
    UNPUBLISH.refuse_unless_from(article)
    if article.live_snapshot_id is None:
        raise WorkflowError(UNPUBLISH.refusal(article))
    if not reason.strip():
        raise WorkflowError(REASON_REQUIRED)
    from_state = article.status
    article.status = Article.Status.DRAFT
    article.live_snapshot = article.live_published_at = article.live_review_due = None
    article.scheduled_for = article.scheduled_by = None
    save_state(article, "status", *LIVE_FIELDS, "scheduled_for", "scheduled_by")
    record(article, by=by, action=UNPUBLISH.action, from_state=from_state, message=reason.strip())


@implements(ARCHIVE)
@gate()
def archive(article: Article, *, by, reason: str) -> None:
    """Retire the article: off the public site, no longer editable, nothing deleted."""
    ARCHIVE.refuse_unless_allowed(by, article)
    article = locked(article)
    ARCHIVE.refuse_unless_from(article)
    if not reason.strip():
        raise WorkflowError(REASON_REQUIRED)
    from_state = article.status
    article.status = Article.Status.ARCHIVED
    article.live_snapshot = article.live_published_at = article.live_review_due = None
    article.scheduled_for = article.scheduled_by = None
    save_state(article, "status", *LIVE_FIELDS, "scheduled_for", "scheduled_by")
    record(article, by=by, action=ARCHIVE.action, from_state=from_state, message=reason.strip())


@implements(RESTORE)
@gate()
def restore(article: Article, *, by) -> None:
    """Bring an archived article back as a draft; it must be reviewed before it is published again."""
    RESTORE.refuse_unless_allowed(by, article)
    article = locked(article)
    RESTORE.refuse_unless_from(article)
    article.status = Article.Status.DRAFT
    save_state(article, "status")
    record(article, by=by, action=RESTORE.action, from_state="archived")


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
            record(
                article,
                by=None,
                action=REMIND,
                from_state=article.status,
                content_hash=article.live_snapshot.content_hash,
                message=f"Review was due on {article.live_snapshot.next_review_due:%d %b %Y}.",
            )
            notifications.review_due(article)
            reminded.append(article)
    return reminded
