"""The articles app's models, one module per concern; import them from here (`from articles.models import Article`).

- `articles`: the working copy of an article, its QuerySet and revision history
- `review`: evidence statements and the review records (approvals, change requests, sign-offs, ...)
- `references`: the works articles cite
- `snapshots`: what patients read, as published, and the parts of its page rendered once
- `site_content`: topics, disclaimers, pages and red-flag phrases
- `staff`: staff profiles and the second factor
- `audit`: the audit trail
- `urgent_help`: the 'Get urgent help' box of a topic
- `feedback`: what patients tell us about a page (helpful or not, problem reports)
- `reach`: how many times each article was read, per day
- `images`: the image library, its renditions and patients' consent to photographs
- `edge`: the outbox of purges sent to the edge caches in front of the patient site
- `append_only`, `fields`: what the models share (write-once records; text limits and the editor toolbar)
"""

from articles.models.append_only import AppendOnlyModel, AppendOnlyQuerySet
from articles.models.articles import (
    CORRECTION_NOT_LIVE,
    WORKFLOW_FIELDS,
    Article,
    ArticleQuerySet,
    article_history,
    record_revision,
)
from articles.models.audit import AuditEvent
from articles.models.edge import EdgePurge
from articles.models.feedback import (
    CLOSING_NOTE_MAX_CHARS,
    EMAIL_MAX_CHARS,
    FEEDBACK_COMMENT_MAX_CHARS,
    REPORT_DESCRIPTION_MAX_CHARS,
    PageFeedback,
    ProblemReport,
    ProblemReportQuerySet,
)
from articles.models.fields import (
    ABSTRACT_MAX_CHARS,
    BIO_MAX_CHARS,
    BODY_EDITOR_EXTENSIONS,
    BODY_MAX_CHARS,
    CORRECTION_NOTE_MAX_CHARS,
    DESCRIPTION_MAX_CHARS,
    NOTE_MAX_CHARS,
    REFERENCE_TITLE_MAX_CHARS,
    TOO_LONG,
    at_most,
)
from articles.models.images import (
    CONSENT_NEEDED,
    CONSENT_WITHDRAWN,
    Image,
    ImageFormat,
    ImageQuerySet,
    ImageRendition,
    PatientConsent,
)
from articles.models.reach import ArticleDailyViews, ArticleDailyViewsQuerySet
from articles.models.references import (
    AUTHORS_SHAPE,
    SEARCH_TEXT_MAX,
    SEARCH_WORDS_MAX,
    Reference,
    ReferenceQuerySet,
    citation_key_validator,
    normalise_doi,
)
from articles.models.review import (
    EVIDENCE_LEVEL_DESIGNS,
    Certainty,
    ChangeRequest,
    ChangeRequestQuerySet,
    EvidenceLevel,
    EvidenceStatement,
    EvidenceStatementManager,
    FindingJustification,
    RetractionAcknowledgement,
    ReviewSignOff,
    StatementApproval,
)
from articles.models.site_content import (
    Disclaimer,
    DisclaimerQuerySet,
    Page,
    RedFlagPhrase,
    Topic,
    TranslationPolicy,
)
from articles.models.snapshots import (
    SEARCH_CONFIGS,
    SEARCH_VECTOR,
    PublishedSnapshot,
    PublishedSnapshotQuerySet,
    RenderedSnapshot,
)
from articles.models.staff import StaffProfile, TwoFactorRequirement, public_person
from articles.models.urgent_help import UrgentHelp, UrgentHelpQuerySet

__all__ = [
    "ABSTRACT_MAX_CHARS",
    "AUTHORS_SHAPE",
    "BIO_MAX_CHARS",
    "BODY_EDITOR_EXTENSIONS",
    "BODY_MAX_CHARS",
    "CLOSING_NOTE_MAX_CHARS",
    "CONSENT_NEEDED",
    "CONSENT_WITHDRAWN",
    "CORRECTION_NOTE_MAX_CHARS",
    "CORRECTION_NOT_LIVE",
    "DESCRIPTION_MAX_CHARS",
    "EMAIL_MAX_CHARS",
    "EVIDENCE_LEVEL_DESIGNS",
    "FEEDBACK_COMMENT_MAX_CHARS",
    "NOTE_MAX_CHARS",
    "REFERENCE_TITLE_MAX_CHARS",
    "REPORT_DESCRIPTION_MAX_CHARS",
    "SEARCH_CONFIGS",
    "SEARCH_TEXT_MAX",
    "SEARCH_VECTOR",
    "SEARCH_WORDS_MAX",
    "TOO_LONG",
    "WORKFLOW_FIELDS",
    "AppendOnlyModel",
    "AppendOnlyQuerySet",
    "Article",
    "ArticleDailyViews",
    "ArticleDailyViewsQuerySet",
    "ArticleQuerySet",
    "AuditEvent",
    "Certainty",
    "ChangeRequest",
    "ChangeRequestQuerySet",
    "Disclaimer",
    "DisclaimerQuerySet",
    "EdgePurge",
    "EvidenceLevel",
    "EvidenceStatement",
    "EvidenceStatementManager",
    "FindingJustification",
    "Image",
    "ImageFormat",
    "ImageQuerySet",
    "ImageRendition",
    "Page",
    "PageFeedback",
    "PatientConsent",
    "ProblemReport",
    "ProblemReportQuerySet",
    "PublishedSnapshot",
    "PublishedSnapshotQuerySet",
    "RedFlagPhrase",
    "Reference",
    "ReferenceQuerySet",
    "RenderedSnapshot",
    "RetractionAcknowledgement",
    "ReviewSignOff",
    "StaffProfile",
    "StatementApproval",
    "Topic",
    "TranslationPolicy",
    "TwoFactorRequirement",
    "UrgentHelp",
    "UrgentHelpQuerySet",
    "article_history",
    "at_most",
    "citation_key_validator",
    "normalise_doi",
    "public_person",
    "record_revision",
]
