"""The audit trail: one append-only entry per workflow transition."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from articles.models.append_only import AppendOnlyModel


class AuditEvent(AppendOnlyModel):
    """An append-only record of one workflow transition."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=60, help_text='Dotted name, e.g. "articles.article.publish".')
    article = models.ForeignKey("Article", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events")
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"
