"""The system's step: a live article whose review is overdue past its topic's grace period leaves the site.

`withdraw_overdue` is the step (declared as WITHDRAW_OVERDUE); `withdraw_overdue_articles` is the daily run
(`manage.py withdraw_overdue`), one gate per article, so one that fails leaves the others withdrawn.
"""

import datetime
import logging
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format

from articles import notifications
from articles.models import Article, Topic
from articles.workflow.gate import gate
from articles.workflow.messages import (
    NO_GRACE_PERIOD,
    NOT_ON_THE_SITE,
    WITHDRAWN_OVERDUE,
    WITHIN_GRACE_PERIOD,
    WorkflowError,
)
from articles.workflow.transitions import WITHDRAW_OVERDUE, implements
from articles.workflow.writes import LIVE_FIELDS, locked, record, save_state

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Grace:
    """How long a live article stays up after its review fell due: the shortest grace among its topics."""

    due: datetime.date
    days: int
    topic: str

    @property
    def last_day(self) -> datetime.date:
        """Return the last day the article stays on the site."""
        return self.due + datetime.timedelta(days=self.days)

    def is_over(self, today: datetime.date) -> bool:
        """Return True if `today` is past the last day of grace."""
        return today > self.last_day

    def reason(self) -> str:
        """Return the reason the withdrawal records, naming the due date, the grace period and its topic."""
        return WITHDRAWN_OVERDUE.format(
            due=_day(self.due), days=self.days, topic=self.topic, last_day=_day(self.last_day)
        )


def _day(day: datetime.date) -> str:
    return date_format(day, "j F Y")


def grace_of(article: Article) -> Grace | None:
    """Return the grace period of the article's live version (its topics' shortest), or None if it has none."""
    if article.live_snapshot_id is None or article.live_review_due is None:
        return None
    # The topics the live version was published under, with the grace their editors set now.
    topic = (
        Topic.objects.filter(snapshots=article.live_snapshot_id, overdue_grace_days__isnull=False)
        .order_by("overdue_grace_days", "name")
        .first()
    )
    if topic is None:
        return None
    # live_review_due is the live snapshot's next_review_due, kept beside the pointer (see Article).
    return Grace(due=article.live_review_due, days=topic.overdue_grace_days, topic=topic.name)


@implements(WITHDRAW_OVERDUE)
@gate()
def withdraw_overdue(article: Article, *, by=None, today: datetime.date | None = None) -> str:
    """Take the live article off the site if its review is overdue past its grace period; return the reason."""
    WITHDRAW_OVERDUE.refuse_unless_allowed(by, article)
    article = locked(article)
    WITHDRAW_OVERDUE.refuse_unless_from(article)
    if article.live_snapshot_id is None:
        raise WorkflowError(NOT_ON_THE_SITE.format(title=article.title))
    grace = grace_of(article)
    if grace is None:
        raise WorkflowError(NO_GRACE_PERIOD.format(title=article.title))
    if not grace.is_over(today or timezone.localdate()):
        raise WorkflowError(WITHIN_GRACE_PERIOD.format(title=article.title, last_day=_day(grace.last_day)))
    reason = grace.reason()
    from_state = article.status
    # As unpublish: off the site, a draft to re-review; its snapshots stay in the record.
    article.status = Article.Status.DRAFT
    article.live_snapshot = article.live_published_at = article.live_review_due = None
    article.scheduled_for = article.scheduled_by = None
    save_state(article, "status", *LIVE_FIELDS, "scheduled_for", "scheduled_by")
    record(article, by=None, action=WITHDRAW_OVERDUE.action, from_state=from_state, message=reason)
    notifications.withdrawn_overdue(article, reason)
    return reason


@dataclass(frozen=True)
class Withdrawal:
    """What the daily run did, or would do, to one article: withdrew it (`reason`), or could not (`error`)."""

    article: Article
    reason: str = ""
    error: str = ""
    refused: bool = False  # the gate said no (the article changed since it was listed): not a failure


def withdrawals_due(today: datetime.date | None = None) -> list[Withdrawal]:
    """Return the live articles whose grace period is over, each with the reason it would be withdrawn."""
    today = today or timezone.localdate()
    due = []
    candidates = Article.objects.overdue_with_grace(today).filter(status__in=WITHDRAW_OVERDUE.from_states)
    for article in candidates.order_by("live_review_due", "pk"):
        grace = grace_of(article)
        if grace is not None and grace.is_over(today):
            due.append(Withdrawal(article, reason=grace.reason()))
    return due


def withdraw_overdue_articles(*, today: datetime.date | None = None, dry_run: bool = False) -> list[Withdrawal]:
    """Withdraw every live article whose grace period is over, each in its own transaction; with `dry_run`,
    only say which. Safe to run twice at once: rows another run holds are skipped."""
    today = today or timezone.localdate()
    due = withdrawals_due(today)
    if dry_run:
        return due
    outcomes = []
    for listed in due:
        try:
            with gate():
                article = Article.objects.select_for_update(skip_locked=True).filter(pk=listed.article.pk).first()
                if article is None:
                    continue  # another run holds it
                reason = withdraw_overdue(article, today=today)
        except WorkflowError as error:  # sent for re-review, unpublished, or given more grace since it was listed
            outcomes.append(Withdrawal(listed.article, error=str(error), refused=True))
        except Exception as error:
            # One article's failure (a lock timeout, the database restarting) must not keep the others up.
            logger.exception("Could not withdraw article %s", listed.article.pk)
            outcomes.append(Withdrawal(listed.article, error=str(error) or type(error).__name__))
        else:
            outcomes.append(Withdrawal(article, reason=reason))
    return outcomes
