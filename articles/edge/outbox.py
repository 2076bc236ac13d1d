"""The purge outbox: a change writes what it made stale in its own transaction; after the commit it is sent.

`purge_on_commit(tags)` writes (or widens) this transaction's EdgePurge row, so the purge commits with the
change or not at all, and asks for it to be sent once the transaction commits. `send_due()` sends every row that
is due, all tags at once, to every configured edge (articles.edge.purgers), and marks them purged; on a failure
it keeps them, with the error, and tries again later (RETRY_SECONDS), for ever: `manage.py send_purges`, run
every minute by cron, retries what no later change has sent. Editors see purges still failing after
FAILING_AFTER_ATTEMPTS tries on the review desk and in the admin (articles/admin/edge.py).

The page cache is made stale before the edge is purged (the callers register it first), so an edge that asks
again at once gets the new page, never the page cache's old copy. A page an edge asked for just before the
commit may still arrive after the purge, rendered from before the change: each confirmed purge is therefore
sent once more ECHO_SECONDS later (an `echo` row, sent by a timer in this process, or by cron should the process end).
"""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from articles.edge import purgers

logger = logging.getLogger(__name__)

# Seconds before the next try, by the number of tries made; the last repeats for ever.
RETRY_SECONDS = (5, 15, 60, 300)
# Tries after which editors are told a purge is failing (about 80 seconds of trying).
FAILING_AFTER_ATTEMPTS = 3
# The most rows one send takes: a backlog after an outage goes out in a few requests, not one huge one.
BATCH = 500

_pending = threading.local()  # this thread's transaction's row and sender


class _Send:
    """One transaction's sending: however many changes registered it, the first to run after commit sends."""

    def __init__(self, row_pk: int, tags: set[str]):
        self.row_pk, self.tags, self.done = row_pk, tags, False

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            send_due()


def purge_on_commit(tags) -> None:
    """Have the edges forget `tags` once this transaction commits (nothing, when no edge is configured)."""
    from articles.models import EdgePurge

    tags = set(tags)
    if not purgers.configured() or not tags:
        return
    send = getattr(_pending, "send", None)
    if send is not None and not send.done:
        widened = send.tags | tags
        # This transaction's row, unless it went with a rolled-back savepoint or transaction: then a new one.
        if EdgePurge.objects.pending().filter(pk=send.row_pk).update(tags=sorted(widened)):
            send.tags = widened
            transaction.on_commit(send, robust=True)
            return
    row = EdgePurge.objects.create(tags=sorted(tags))
    send = _pending.send = _Send(row.pk, tags)
    # Robust: the change has committed whatever happens here; a purge that cannot be sent now is retried.
    transaction.on_commit(send, robust=True)


def send_due() -> int:
    """Send every purge that is due to every edge; return how many were confirmed (failures wait their turn)."""
    from articles.models import EdgePurge

    edges = purgers.configured()
    now = timezone.now()
    with transaction.atomic():
        due = list(
            EdgePurge.objects.pending()
            .filter(next_attempt_at__lte=now)
            .select_for_update(skip_locked=True)  # another process sending them: leave them to it
            .order_by("pk")[:BATCH]
        )
        if not due:
            return 0
        tags = sorted({tag for row in due for tag in row.tags})
        failures = []
        for edge in edges:
            try:
                edge.purge(tags)
            except purgers.PurgeFailed as error:
                failures.append(str(error))  # it names the edge
        pks = [row.pk for row in due]
        if not failures:
            EdgePurge.objects.filter(pk__in=pks).update(purged_at=timezone.now(), last_error="")
            _echo([tag for tag in tags if any(tag in row.tags for row in due if not row.echo)])
            return len(due)
        message = "; ".join(failures)
        logger.warning("Edge purge of %s failed: %s", " ".join(tags), message)
        for row in due:
            row.attempts += 1
            row.last_error = message
            row.next_attempt_at = now + timedelta(seconds=RETRY_SECONDS[min(row.attempts, len(RETRY_SECONDS)) - 1])
        EdgePurge.objects.bulk_update(due, ["attempts", "last_error", "next_attempt_at"])
        return 0


def _echo(tags: list[str]) -> None:
    """Purge `tags` again in EDGE_PURGE_ECHO_SECONDS (none: no echo)."""
    from articles.models import EdgePurge

    delay = settings.EDGE_PURGE_ECHO_SECONDS
    if not tags or not delay:
        return
    EdgePurge.objects.create(tags=tags, echo=True, next_attempt_at=timezone.now() + timedelta(seconds=delay))
    timer = threading.Timer(delay, _send_in_thread)
    timer.daemon = True  # a process ending does not wait for it: cron sends the row instead
    timer.start()


def _send_in_thread() -> None:
    try:
        send_due()
    except Exception:
        logger.exception("Could not send the echo of an edge purge; `send_purges` will")
    finally:
        connection.close()  # this thread's own connection


def failing():
    """Purges the edges have refused or not answered FAILING_AFTER_ATTEMPTS times, oldest first."""
    from articles.models import EdgePurge

    return EdgePurge.objects.failing(FAILING_AFTER_ATTEMPTS).order_by("created_at")
