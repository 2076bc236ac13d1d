"""What patients tell us about a page: whether it helped, and the problems they report, which editors triage.

Neither is workflow state: a report is closed by `articles.feedback.close_report`, which asks
`permissions.can_triage_reports` and writes an audit event. No address is stored; the only personal data is a
report's optional email, deleted when the report is closed.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_noop

from articles.models.fields import at_most

FEEDBACK_COMMENT_MAX_CHARS = 2_000
REPORT_DESCRIPTION_MAX_CHARS = 2_000
EMAIL_MAX_CHARS = 254  # the longest address RFC 5321 lets through
CLOSING_NOTE_MAX_CHARS = 2_000


class PageFeedback(models.Model):
    """One answer to "Was this page helpful?", for the version of the article the patient read."""

    article = models.ForeignKey("Article", on_delete=models.CASCADE, related_name="page_feedback")
    snapshot = models.ForeignKey("PublishedSnapshot", null=True, on_delete=models.SET_NULL, related_name="+")
    helpful = models.BooleanField()
    comment = models.TextField("what was missing or wrong", blank=True, **at_most(FEEDBACK_COMMENT_MAX_CHARS))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "page feedback"

    def __str__(self):
        return f"{'Helpful' if self.helpful else 'Not helpful'}: {self.article_id}"


class ProblemReportQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=ProblemReport.Status.OPEN)

    def newest_first(self):
        return self.order_by("-created_at", "-pk")


class ProblemReport(models.Model):
    """A problem a patient reported with an article's page, until an editor closes it with an outcome."""

    class Kind(models.TextChoices):
        # English, as staff read them; patients read them translated (feedback.ProblemReportForm).
        FACTUAL_ERROR = "factual_error", gettext_noop("Factual error")
        OUT_OF_DATE = "out_of_date", gettext_noop("Out of date")
        BROKEN_LINK = "broken_link", gettext_noop("Broken link")
        HARD_TO_UNDERSTAND = "hard_to_understand", gettext_noop("Hard to understand")
        OTHER = "other", gettext_noop("Other")

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    class Outcome(models.TextChoices):
        CORRECTED = "corrected", "Corrected"
        NO_CHANGE_NEEDED = "no_change_needed", "No change needed"
        DUPLICATE = "duplicate", "Duplicate"

    article = models.ForeignKey("Article", on_delete=models.CASCADE, related_name="problem_reports")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.TextField(**at_most(REPORT_DESCRIPTION_MAX_CHARS))
    email = models.EmailField(
        blank=True, max_length=EMAIL_MAX_CHARS, help_text="Only to reply; deleted when the report is closed."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    closing_note = models.TextField(blank=True, **at_most(CLOSING_NOTE_MAX_CHARS))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = ProblemReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["factual_error", "out_of_date", "broken_link", "hard_to_understand", "other"]),
                name="problemreport_kind_valid",
            ),
            # Open: no outcome yet. Closed: an outcome, who and when, and no email left.
            models.CheckConstraint(
                condition=Q(status="open", outcome="", closed_by__isnull=True, closed_at__isnull=True)
                | Q(
                    status="closed",
                    outcome__in=["corrected", "no_change_needed", "duplicate"],
                    closed_by__isnull=False,
                    closed_at__isnull=False,
                    email="",
                ),
                name="problemreport_closed_has_outcome",
            ),
        ]
        indexes = [models.Index(fields=["status", "-created_at"], name="problemreport_open_newest")]

    def __str__(self):
        return f"{self.get_kind_display()} on article {self.article_id}"
