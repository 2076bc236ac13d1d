import hashlib
import json
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django_prose_editor.fields import ProseEditorField
from simple_history.models import HistoricalRecords

from articles import citations
from articles.sanitize import clean_html, plain_text

BODY_EDITOR_EXTENSIONS = {
    "Bold": True,
    "Italic": True,
    "Subscript": True,
    "Superscript": True,
    "Heading": {"levels": [2, 3, 4]},
    "BulletList": True,
    "OrderedList": True,
    "ListItem": True,
    "Blockquote": True,
    "Link": {"enableTarget": False, "protocols": ["http", "https", "mailto"]},
    "Table": True,
    "TableRow": True,
    "TableHeader": True,
    "TableCell": True,
    "HardBreak": True,
    "History": True,
}

citation_key_validator = RegexValidator(
    rf"^{citations.KEY_PATTERN}$",
    "A citation key starts with a letter or digit and uses only letters, digits and _ : . - (for example mahmoud2025).",
)


class StaffProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile")
    display_name = models.CharField(max_length=120, help_text="As patients should read it, e.g. “Jane Doe”.")
    credentials = models.CharField(
        max_length=200,
        blank=True,
        help_text="Degrees and certification, e.g. “MD, board-certified dermatologist”.",
    )
    slug = models.SlugField(unique=True, help_text="Address of the public bio page.")
    bio = models.TextField(blank=True, help_text="Shown on the public bio page.")

    class Meta:
        ordering = ["display_name"]

    def __str__(self):
        return self.byline

    def save(self, *args, **kwargs):
        self.display_name = plain_text(self.display_name)
        self.credentials = plain_text(self.credentials)
        self.bio = clean_html(self.bio)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:staff_bio", kwargs={"slug": self.slug})

    @property
    def byline(self) -> str:
        return f"{self.display_name}, {self.credentials}" if self.credentials else self.display_name


class Topic(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True, help_text="One or two plain sentences shown on the topic page.")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name = plain_text(self.name)
        self.description = plain_text(self.description)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:topic_detail", kwargs={"slug": self.slug})


def normalise_doi(value: str) -> str:
    """Return a DOI without resolver prefix, lower-cased (DOIs are case-insensitive)."""
    value = (value or "").strip()
    value = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", value, flags=re.IGNORECASE)
    return value.lower()


class ReferenceQuerySet(models.QuerySet):
    def by_keys(self, keys) -> dict[str, "Reference"]:
        return {ref.citation_key: ref for ref in self.filter(citation_key__in=list(keys))}


class Reference(models.Model):
    """A published work that articles cite by its citation key, shared by all articles."""

    citation_key = models.CharField(
        max_length=64,
        unique=True,
        validators=[citation_key_validator],
        help_text="Cite it in an article body as [@key]; never change it once articles cite it.",
    )
    authors = models.JSONField(
        default=list,
        blank=True,
        help_text='In order, as a list of {"family": ..., "given": ...} or {"literal": ...} for a group author.',
    )
    title = models.TextField()
    journal = models.CharField(max_length=300, blank=True)
    journal_abbrev = models.CharField(
        "NLM journal abbreviation", max_length=200, blank=True, help_text="e.g. “J Clin Aesthet Dermatol”."
    )
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    published_on = models.DateField("publication date", null=True, blank=True)
    volume = models.CharField(max_length=50, blank=True)
    issue = models.CharField(max_length=50, blank=True)
    pages = models.CharField(max_length=50, blank=True)
    doi = models.CharField("DOI", max_length=255, blank=True)
    pmid = models.CharField(
        "PMID", max_length=12, blank=True, validators=[RegexValidator(r"^\d{1,12}$", "A PMID is digits only.")]
    )
    pmcid = models.CharField(
        "PMCID", max_length=20, blank=True, validators=[RegexValidator(r"^PMC\d+$", "A PMCID looks like PMC1234567.")]
    )
    url = models.URLField("URL", max_length=500, blank=True)
    open_access_pdf = models.URLField("open-access PDF", max_length=500, blank=True)
    publication_type = models.CharField(max_length=100, blank=True)
    abstract = models.TextField(blank=True)
    is_retracted = models.BooleanField("retracted", default=False)
    retraction_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["citation_key"]
        constraints = [
            models.UniqueConstraint(Lower("doi"), condition=~Q(doi=""), name="reference_unique_doi"),
            models.UniqueConstraint(fields=["pmid"], condition=~Q(pmid=""), name="reference_unique_pmid"),
        ]

    def __str__(self):
        return f"{self.citation_key}: {self.title[:80]}"

    def save(self, *args, **kwargs):
        self.doi = normalise_doi(self.doi)
        self.pmid = (self.pmid or "").strip()
        self.title = plain_text(self.title)
        self.abstract = plain_text(self.abstract)
        if self.published_on and not self.year:
            self.year = self.published_on.year
        super().save(*args, **kwargs)

    def clean(self):
        if self.is_retracted and not self.retraction_note.strip():
            raise ValidationError({"retraction_note": "Say where the retraction was published."})

    @property
    def ama(self) -> str:
        return citations.format_ama(self)

    @property
    def ama_html(self) -> str:
        return citations.format_ama_html(self)

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def pubmed_url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/" if self.pmid else ""

    @property
    def pmc_url(self) -> str:
        return f"https://pmc.ncbi.nlm.nih.gov/articles/{self.pmcid}/" if self.pmcid else ""

    def citing_articles(self):
        """Return the articles whose working copy cites this reference."""
        return Article.objects.citing(self.citation_key)


# Kept by name so a save and its topic changes can be recorded as one revision (see record_revision).
article_history = HistoricalRecords(excluded_fields=["status", "live_snapshot", "updated_at"])


class ArticleQuerySet(models.QuerySet):
    def live(self):
        """Articles patients can read, with the snapshot they read."""
        return self.filter(live_snapshot__isnull=False).select_related("live_snapshot")

    def citing(self, key: str):
        return self.filter(body__regex=citations.key_regex(key))


class Article(models.Model):
    """The working copy of a patient-education article; patients only ever read its published snapshot."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True, help_text="The article's address; keep it once published.")
    summary = models.TextField(
        max_length=300, help_text="One or two plain sentences: shown in lists, search results and link previews."
    )
    body = ProseEditorField(
        extensions=BODY_EDITOR_EXTENSIONS,
        sanitize=clean_html,  # the one bleach policy, also applied again in save()
        help_text="Cite a reference by its key at the end of the sentence it supports: [@mahmoud2025] "
        "or [@mahmoud2025; @hu2016].",
    )
    topics = models.ManyToManyField(Topic, related_name="articles", blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="authored_articles",
        help_text="Shown in the byline.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, editable=False)
    live_snapshot = models.OneToOneField(
        "PublishedSnapshot", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    _history_m2m_fields = [topics]
    history = article_history
    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        permissions = [
            ("publish_article", "Can publish, unpublish and archive articles"),
            ("review_article", "Can approve evidence statements and sign off articles"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published", "archived"]), name="article_status_valid"
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.title = plain_text(self.title)
        self.summary = plain_text(self.summary)
        self.body = clean_html(self.body)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:article_detail", kwargs={"slug": self.slug})

    @property
    def citation_keys(self) -> list[str]:
        return citations.citation_keys(self.body)

    def resolve_citations(self) -> tuple[list[Reference], list[str]]:
        """Return the cited references in citation order, and the keys that match no reference."""
        keys = self.citation_keys
        found = Reference.objects.by_keys(keys)
        return [found[k] for k in keys if k in found], [k for k in keys if k not in found]

    def content_hash(self) -> str:
        """Hash of everything patients would see of this working copy."""
        references, _unknown = self.resolve_citations()
        payload = {
            "title": self.title,
            "summary": self.summary,
            "body": self.body,
            "topics": sorted(self.topics.values_list("slug", flat=True)) if self.pk else [],
            "references": [citations.format_ama(ref) for ref in references],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def record_revision(article: Article, *, created: bool) -> None:
    """Record the article's current state, topics included, as one revision.

    For callers that save the article and then its topics: they set `skip_history_when_saving`
    for both steps and call this once at the end.
    """
    article.__dict__.pop("skip_history_when_saving", None)
    article_history.create_historical_record(article, "+" if created else "~")


class PublishedSnapshot(models.Model):
    """An immutable copy of an article as published: what patients read."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="snapshots")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    summary = models.TextField()
    body_html = models.TextField(help_text="Sanitized body with citation numbers, as rendered at publication.")
    references = models.JSONField(default=list, help_text="The numbered reference list as published.")
    topics = models.JSONField(default=list, help_text='[{"slug": ..., "name": ...}] at publication.')
    author = models.JSONField(default=dict, help_text="The byline at publication.")
    content_hash = models.CharField(max_length=64)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-published_at"]
        get_latest_by = "published_at"

    def __str__(self):
        return f"{self.title} ({self.published_at:%Y-%m-%d %H:%M})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("A published snapshot is never changed; publish again instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("A published snapshot is never deleted.")

    @property
    def topic_ids(self) -> list[int]:
        return [topic["id"] for topic in self.topics]


class DisclaimerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def applying_to(self, topic_ids):
        """Active disclaimers for an article in these topics, site-wide ones first."""
        return (
            self.active()
            .filter(Q(scope=Disclaimer.Scope.ALL) | Q(topics__in=list(topic_ids)))
            .distinct()
            .order_by("scope", "position", "title")
        )


class Disclaimer(models.Model):
    """A warning attached to articles by rule (all articles, or all articles in chosen topics)."""

    class Scope(models.TextChoices):
        ALL = "all", "Every article"
        TOPICS = "topics", "Articles in the chosen topics"

    title = models.CharField(max_length=200)
    text = models.TextField(help_text="What patients read. Plain, short, and specific.")
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.ALL)
    topics = models.ManyToManyField(
        Topic, blank=True, related_name="disclaimers", help_text="Only for the scope “Articles in the chosen topics”."
    )
    is_active = models.BooleanField(
        "active", default=True, help_text="An active disclaimer shows at once on every live article of its scope."
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower numbers show first.")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(m2m_fields=[topics])
    objects = DisclaimerQuerySet.as_manager()

    class Meta:
        ordering = ["scope", "position", "title"]
        constraints = [
            models.CheckConstraint(condition=Q(scope__in=["all", "topics"]), name="disclaimer_scope_valid"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.title = plain_text(self.title)
        self.text = clean_html(self.text)
        super().save(*args, **kwargs)


class AuditEvent(models.Model):
    """An append-only record of one workflow transition."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=60, help_text='Dotted name, e.g. "article.publish".')
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events")
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("Audit entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit entries are never deleted.")
