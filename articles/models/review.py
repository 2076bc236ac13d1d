"""The review records: statements, a reviewer's approvals and requests, sign-offs, acknowledgements, justifications."""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from articles import citations, identity
from articles.models.append_only import AppendOnlyModel, AppendOnlyQuerySet
from articles.models.articles import Article


class EvidenceLevel(models.TextChoices):
    """Study design behind a claim, after the Oxford CEBM 2011 levels; the label is what patients read.

    Labels stay English strings (staff read them so); patients read them through gettext (rendering.py).
    """

    A = "A", gettext_noop("Review of several trials in people")
    B = "B", gettext_noop("Randomised trial in people")
    C = "C", gettext_noop("Observational study in people")
    D = "D", gettext_noop("Small study in people, no comparison group")
    E = "E", gettext_noop("Animal study")
    F = "F", gettext_noop("Lab study or expert view")


EVIDENCE_LEVEL_DESIGNS = {
    "A": "Systematic review of randomised trials in people",
    "B": "Randomised controlled trial in people",
    "C": "Controlled cohort or other non-randomised study in people",
    "D": "Case series, before/after study, case report",
    "E": "Animal study",
    "F": "Laboratory (cell) study, mechanism, expert opinion",
}


class Certainty(models.TextChoices):
    """GRADE certainty of the evidence."""

    HIGH = "high", "High"
    MODERATE = "moderate", "Moderate"
    LOW = "low", "Low"
    VERY_LOW = "very_low", "Very low"


class EvidenceStatementManager(models.Manager):
    def sync(self, article: "Article") -> None:
        """Make the stored statements match the article body: keep unchanged ones, add new, drop gone."""
        extracted = {
            sentence.hash: (position, sentence)
            for position, sentence in enumerate(citations.unique_statements(article.statements), start=1)
        }
        existing = {s.statement_hash: s for s in self.filter(article=article)}
        self.filter(article=article).exclude(statement_hash__in=list(extracted)).delete()
        for statement_hash, (position, sentence) in extracted.items():
            stored = existing.get(statement_hash)
            if stored is None:
                self.create(
                    article=article,
                    statement_hash=statement_hash,
                    position=position,
                    text=sentence.text,
                    cited_keys=list(sentence.keys),
                )
            elif stored.position != position:
                stored.position = position
                stored.save(update_fields=["position"])


class EvidenceStatement(models.Model):
    """A claim in the working copy that cites references: extracted from the body on every save."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="evidence_statements")
    position = models.PositiveIntegerField(help_text="1 for the first statement in the body.")
    text = models.TextField(help_text="The sentence or list item, as plain text with its citation markers.")
    cited_keys = models.JSONField(default=list)
    statement_hash = models.CharField(max_length=64)

    objects = EvidenceStatementManager()

    class Meta:
        ordering = ["article", "position"]
        constraints = [
            models.UniqueConstraint(fields=["article", "statement_hash"], name="statement_unique_in_article"),
        ]

    def __str__(self):
        return f"Statement {self.position}: {self.text[:80]}"


class StatementApproval(AppendOnlyModel):
    """A reviewer's approval of one statement, valid only while the statement's hash is unchanged."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="statement_approvals")
    statement_hash = models.CharField(max_length=64, db_index=True)
    statement_text = models.TextField()
    cited_keys = models.JSONField(default=list)
    references_hash = models.CharField(
        max_length=64, blank=True, help_text="Hash of the cited references' records as the reviewer saw them."
    )
    hash_version = models.PositiveSmallIntegerField(
        default=identity.HASH_VERSION, editable=False, help_text="Version of its hashes (identity.py)."
    )
    evidence_level = models.CharField(max_length=1, choices=EvidenceLevel.choices)
    certainty = models.CharField(max_length=10, choices=Certainty.choices)
    participants = models.PositiveIntegerField(null=True, blank=True, help_text="People studied, if any.")
    peer_reviewed = models.BooleanField(null=True, help_text="Were the cited studies peer reviewed?")
    manufacturer_funded = models.BooleanField(null=True, help_text="Did a manufacturer fund or run the study?")
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(default=timezone.now)
    self_review = models.BooleanField(
        default=False, help_text="Approved by someone who wrote or edited the article (one-person clinic setting)."
    )

    class Meta:
        ordering = ["-approved_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(evidence_level__in=EvidenceLevel.values), name="approval_level_valid"),
            models.CheckConstraint(condition=Q(certainty__in=Certainty.values), name="approval_certainty_valid"),
        ]

    def __str__(self):
        return f"Level {self.evidence_level}: {self.statement_text[:60]}"


class ChangeRequestQuerySet(AppendOnlyQuerySet):
    def open(self):
        """Requests the writer has still to answer, as a writer reads them: the article's first, then by statement.

        As the review desk counts them: the latest request on the whole article while the article is back with
        its writer; the latest on a statement while that statement is in the body unchanged and no approval of
        it came after. Each has `statement_number`, that statement's number now (None for the whole article).
        """
        same_target = {"article": OuterRef("article"), "statement_hash": OuterRef("statement_hash")}
        later = ChangeRequest.objects.filter(**same_target, requested_at__gt=OuterRef("requested_at"))
        approved_since = StatementApproval.objects.filter(**same_target, approved_at__gt=OuterRef("requested_at"))
        statement = EvidenceStatement.objects.filter(**same_target).values("position")[:1]
        return (
            self.annotate(statement_number=models.Subquery(statement))
            .exclude(Exists(later))
            .filter(
                Q(statement_hash="", article__status=Article.Status.CHANGES_REQUESTED)
                | (~Q(statement_hash="") & Q(statement_number__isnull=False) & ~Exists(approved_since))
            )
            .select_related("requested_by__staff_profile")
            .order_by("article", models.F("statement_number").asc(nulls_first=True), "-requested_at", "-pk")
        )


class ChangeRequest(AppendOnlyModel):
    """A reviewer's request for changes, on the whole article or on one statement (by its hash)."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="change_requests")
    statement_hash = models.CharField(max_length=64, blank=True, db_index=True)
    statement_text = models.TextField(blank=True)
    comment = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)

    objects = ChangeRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self):
        return self.comment[:80]


class ReviewSignOff(AppendOnlyModel):
    """A reviewer's sign-off of the whole article, pinned to the hash of everything patients see."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="sign_offs")
    content_hash = models.CharField(max_length=64)
    hash_version = models.PositiveSmallIntegerField(
        default=identity.HASH_VERSION, editable=False, help_text="Version of its hashes (identity.py)."
    )
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(default=timezone.now)
    comment = models.TextField(blank=True)
    self_review = models.BooleanField(default=False)

    class Meta:
        ordering = ["-signed_at", "-pk"]
        get_latest_by = "signed_at"

    def __str__(self):
        return f"Signed off {self.signed_at:%Y-%m-%d}"


class RetractionAcknowledgement(AppendOnlyModel):
    """A reviewer's confirmation that an article may still cite a retracted reference, and why."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="retraction_acknowledgements")
    reference = models.ForeignKey("Reference", on_delete=models.PROTECT, related_name="+")
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(default=timezone.now)
    comment = models.TextField()

    class Meta:
        ordering = ["-acknowledged_at", "-pk"]

    def __str__(self):
        return f"{self.reference.citation_key} acknowledged"


class FindingJustification(AppendOnlyModel):
    """A reviewer's recorded reason why a claim-check finding is acceptable as written."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="finding_justifications")
    finding_key = models.CharField(max_length=32, db_index=True)
    rule = models.CharField(max_length=30)
    phrase = models.CharField(max_length=100, blank=True)
    text = models.TextField(blank=True)
    reason = models.TextField()
    justified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    justified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-justified_at", "-pk"]

    def __str__(self):
        return f"{self.rule}: {self.reason[:60]}"
