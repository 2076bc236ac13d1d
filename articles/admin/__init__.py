"""The admin, one module per concern; importing this package (Django's autodiscover does) registers every admin.

Names other code and the tests import from `articles.admin` are re-exported here.
"""

from articles.admin.articles import (
    COMPARED_FIELDS,
    REOPENED,
    SEARCH_COUNT_CAP,
    UNREADABLE_MARKER,
    ArticleAdmin,
    ArticleChangeList,
    SearchCountPaginator,
    TopicListFilter,
)
from articles.admin.base import (
    LENGTH_LIMIT,
    TOO_LONG,
    ReadOnlyAdmin,
    RevisionAdmin,
    RichTextAdmin,
    StatedLengthLimits,
    known_citation_keys,
)
from articles.admin.edge import EdgePurgeAdmin
from articles.admin.images import ImageAdmin, ImageAdminForm, PatientConsentInline
from articles.admin.outbox import OutboxAdmin, send_again
from articles.admin.records import (
    AuditEventAdmin,
    ChangeRequestAdmin,
    FindingJustificationAdmin,
    PublishedSnapshotAdmin,
    RetractionAcknowledgementAdmin,
    ReviewSignOffAdmin,
    StatementApprovalAdmin,
)
from articles.admin.references import (
    CONFIRM_CHANGE_FIELD,
    IMPORT_CANCELLED,
    IMPORT_CONFIRM_INVALID,
    MAX_KEYS_CHECKED,
    PICKER_NO_MATCH,
    PICKER_PROMPT,
    PICKER_RESULTS,
    ReferenceAdmin,
)
from articles.admin.site_content import (
    DisclaimerAdmin,
    PageAdmin,
    RedFlagPhraseAdmin,
    StaffProfileAdmin,
    TopicAdmin,
    UrgentHelpAdmin,
)
from articles.admin.staff import StaffGroupAdmin, StaffProfileInline, StaffUserAdmin, TwoFactorRequirementInline

__all__ = [
    "COMPARED_FIELDS",
    "CONFIRM_CHANGE_FIELD",
    "IMPORT_CANCELLED",
    "IMPORT_CONFIRM_INVALID",
    "LENGTH_LIMIT",
    "MAX_KEYS_CHECKED",
    "PICKER_NO_MATCH",
    "PICKER_PROMPT",
    "PICKER_RESULTS",
    "REOPENED",
    "SEARCH_COUNT_CAP",
    "TOO_LONG",
    "UNREADABLE_MARKER",
    "ArticleAdmin",
    "ArticleChangeList",
    "AuditEventAdmin",
    "ChangeRequestAdmin",
    "DisclaimerAdmin",
    "EdgePurgeAdmin",
    "FindingJustificationAdmin",
    "ImageAdmin",
    "ImageAdminForm",
    "OutboxAdmin",
    "PageAdmin",
    "PatientConsentInline",
    "PublishedSnapshotAdmin",
    "ReadOnlyAdmin",
    "RedFlagPhraseAdmin",
    "ReferenceAdmin",
    "RetractionAcknowledgementAdmin",
    "ReviewSignOffAdmin",
    "RevisionAdmin",
    "RichTextAdmin",
    "SearchCountPaginator",
    "StaffGroupAdmin",
    "StaffProfileAdmin",
    "StaffProfileInline",
    "StaffUserAdmin",
    "StatedLengthLimits",
    "StatementApprovalAdmin",
    "TopicAdmin",
    "TopicListFilter",
    "TwoFactorRequirementInline",
    "UrgentHelpAdmin",
    "known_citation_keys",
    "send_again",
]
