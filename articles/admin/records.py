"""Read-only records the workflow writes (snapshots, approvals, change requests, sign-offs, audit): looked up, never
edited."""

from django.contrib import admin

from articles.admin.base import ReadOnlyAdmin
from articles.models import (
    AuditEvent,
    ChangeRequest,
    FindingJustification,
    PublishedSnapshot,
    RetractionAcknowledgement,
    ReviewSignOff,
    StatementApproval,
)


@admin.register(PublishedSnapshot)
class PublishedSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["title", "published_at", "published_by", "content_hash"]
    list_select_related = ["published_by"]
    search_fields = ["title"]
    date_hierarchy = "published_at"


@admin.register(StatementApproval)
class StatementApprovalAdmin(ReadOnlyAdmin):
    list_display = ["approved_at", "article", "evidence_level", "certainty", "reviewer", "statement_text"]
    list_filter = ["evidence_level", "certainty", "self_review"]
    list_select_related = ["article", "reviewer"]
    search_fields = ["article__title", "statement_text"]


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    list_display = ["requested_at", "article", "requested_by", "comment"]
    list_select_related = ["article", "requested_by"]
    search_fields = ["article__title", "comment"]


@admin.register(ReviewSignOff)
class ReviewSignOffAdmin(ReadOnlyAdmin):
    list_display = ["signed_at", "article", "reviewer", "content_hash", "self_review"]
    list_select_related = ["article", "reviewer"]
    search_fields = ["article__title"]


@admin.register(FindingJustification)
class FindingJustificationAdmin(ReadOnlyAdmin):
    list_display = ["justified_at", "article", "rule", "phrase", "justified_by", "reason"]
    list_filter = ["rule"]
    list_select_related = ["article", "justified_by"]
    search_fields = ["article__title", "reason", "text"]


@admin.register(RetractionAcknowledgement)
class RetractionAcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ["acknowledged_at", "article", "reference", "acknowledged_by", "comment"]
    list_select_related = ["article", "reference", "acknowledged_by"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "article", "actor", "from_state", "to_state", "message"]
    list_filter = ["action"]
    list_select_related = ["article", "actor"]
    search_fields = ["article__title", "message"]
    date_hierarchy = "at"
