"""The edge purge outbox: each committed change's tags, kept until every edge has confirmed forgetting them."""

from django.db import models
from django.utils import timezone


class EdgePurgeQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(purged_at__isnull=True)

    def failing(self, attempts: int):
        """Purges not yet confirmed after `attempts` tries: editors are told (articles.edge.outbox)."""
        return self.pending().filter(attempts__gte=attempts)


class EdgePurge(models.Model):
    """One change's purge, written in the change's transaction, sent after it commits and retried until sent."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    tags = models.JSONField(default=list, help_text="What the change made stale (articles.edge.tags).")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, help_text="Why the last try failed, edge by edge.")
    next_attempt_at = models.DateTimeField(default=timezone.now)
    purged_at = models.DateTimeField(null=True, blank=True, help_text="When every edge confirmed it.")
    echo = models.BooleanField(
        default=False, help_text="The same purge a moment later, for pages an edge fetched as the change committed."
    )

    objects = EdgePurgeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "edge purge"
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(purged_at__isnull=True), name="edge_purge_pending"
            )
        ]

    def __str__(self):
        return f"{' '.join(self.tags)} ({self.created_at:%Y-%m-%d %H:%M:%S})"
