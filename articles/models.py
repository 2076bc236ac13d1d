import datetime
import hashlib
import json
import re

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import connection, models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django_prose_editor.fields import ProseEditorField
from simple_history.models import HistoricalRecords

from articles import citations, patient_visible
from articles.publication_types import PublicationType
from articles.sanitize import clean_html, plain_paragraphs, plain_text, storable_text

# Longest texts staff may save, in characters of source (HTML for rich text). A clinic's longest article is far
# shorter (the demo's longest body is about 4,000; a long patient leaflet about 40,000); a longer text is a paste
# gone wrong, and checks, previews and saves of it would hold a worker for many seconds.
BODY_MAX_CHARS = 200_000  # article bodies and policy pages
BIO_MAX_CHARS = 20_000  # staff bio pages
NOTE_MAX_CHARS = 5_000  # disclaimers and conflict-of-interest statements
DESCRIPTION_MAX_CHARS = 2_000  # topic descriptions ("one or two plain sentences")
REFERENCE_TITLE_MAX_CHARS = 2_000  # the longest real titles are a few hundred characters
ABSTRACT_MAX_CHARS = 30_000  # structured abstracts run to a few thousand
TOO_LONG = "This is %(show_value)d characters long; at most %(limit_value)d fit. Shorten it: nothing was cut."


def at_most(limit: int) -> dict:
    """Return the options that limit a text field to `limit` characters, checked by its forms and by full_clean."""
    return {"max_length": limit, "validators": [MaxLengthValidator(limit, message=TOO_LONG)]}


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
    bio = models.TextField(blank=True, help_text="Shown on the public bio page.", **at_most(BIO_MAX_CHARS))
    conflicts_of_interest = models.TextField(
        "conflict-of-interest statement",
        blank=True,
        **at_most(NOTE_MAX_CHARS),
        help_text="Financial or other ties to treatments, products or makers the articles discuss, or “None”. "
        "Shown on the public bio page.",
    )

    class Meta:
        ordering = ["display_name"]

    def __str__(self):
        return self.byline

    def save(self, *args, **kwargs):
        self.display_name = plain_text(self.display_name)
        self.credentials = plain_text(self.credentials)
        self.bio = clean_html(self.bio)
        self.conflicts_of_interest = plain_text(self.conflicts_of_interest)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:staff_bio", kwargs={"slug": self.slug})

    @property
    def byline(self) -> str:
        return f"{self.display_name}, {self.credentials}" if self.credentials else self.display_name


def public_person(user) -> dict:
    """Return how a staff member is named to patients: as snapshots store bylines, and content hashes pin them."""
    profile = getattr(user, "staff_profile", None)
    return {
        "name": profile.display_name if profile else user.get_full_name() or user.get_username(),
        "credentials": profile.credentials if profile else "",
        "slug": profile.slug if profile else "",
    }


class TwoFactorRequirement(models.Model):
    """Whether a group's members must confirm each login with a code from an authenticator app (TOTP)."""

    group = models.OneToOneField("auth.Group", on_delete=models.CASCADE, related_name="two_factor_requirement")
    required = models.BooleanField(
        "Require a second factor (TOTP)",
        default=False,
        help_text="Members must enter a 6-digit code from an authenticator app after their password before they "
        "reach any admin page or the review desk. Members without an app are asked to set one up first.",
    )

    class Meta:
        verbose_name = "second-factor requirement"

    def __str__(self):
        return f"{self.group}: second factor {'required' if self.required else 'optional'}"


class Topic(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    description = models.TextField(
        blank=True, help_text="One or two plain sentences shown on the topic page.", **at_most(DESCRIPTION_MAX_CHARS)
    )
    review_interval_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="How often articles in this topic must be re-reviewed. Empty: the clinic default "
        "(12 months). An article in several topics uses the shortest interval.",
    )
    requires_topic_disclaimer = models.BooleanField(
        "needs its own disclaimer",
        default=False,
        help_text="Articles in this topic cannot be published unless an active disclaimer covers the topic "
        "(for example “experimental, not approved by the FDA”).",
    )
    not_fda_approved = models.BooleanField(
        "not approved by the FDA",
        default=False,
        help_text="The treatment is not FDA-approved: a topic disclaimer is mandatory, and any “FDA-approved” "
        "wording in its articles is an error.",
    )
    offered_by_clinic = models.BooleanField(
        "offered by this clinic",
        default=False,
        help_text="The clinic provides this treatment: every article in the topic discloses it to patients.",
    )
    is_treatment = models.BooleanField(
        "treatment topic",
        default=False,
        help_text="Articles about a treatment: writers and reviewers get a checklist of the sections patients need "
        "(benefits, risks, alternatives including no treatment, what is uncertain, where to get help).",
    )

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


AUTHORS_SHAPE = 'Write the authors as a list: [{"family": "Mahmoud", "given": "Rami H"}, {"literal": "A group"}].'


def _is_author(author) -> bool:
    return (
        isinstance(author, dict)
        and set(author) <= {"family", "given", "literal", "suffix"}
        and all(isinstance(value, str) for value in author.values())
        and bool(author.get("family") or author.get("literal"))
    )


SEARCH_TEXT_MAX = 200  # a reference search longer than this is not something a person typed
SEARCH_WORDS_MAX = 8


class ReferenceQuerySet(models.QuerySet):
    def by_keys(self, keys) -> dict[str, "Reference"]:
        return {ref.citation_key: ref for ref in self.filter(citation_key__in=list(keys))}

    def matching(self, text: str):
        """References a writer may mean by `text`, newest first; none for empty or unreadable text.

        `text` is a DOI, or words each of which starts an author's family name, is found in the title or the
        citation key, or equals the year or the PMID.
        """
        text = " ".join((text or "").split())
        if not text or len(text) > SEARCH_TEXT_MAX or not text.isprintable():
            return self.none()
        doi = normalise_doi(text)
        if re.fullmatch(r"10\.\d{4,9}/\S+", doi):
            return self.filter(doi=doi)
        condition = Q()
        for word in text.split()[:SEARCH_WORDS_MAX]:
            either = (
                Q(authors__icontains=f'"family": "{word}') | Q(title__icontains=word) | Q(citation_key__icontains=word)
            )
            if word.isdigit():
                either |= Q(pmid=word)
                if len(word) == 4:
                    either |= Q(year=int(word))
            condition &= either
        return self.filter(condition).order_by(models.F("year").desc(nulls_last=True), "citation_key")


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
    title = models.TextField(**at_most(REFERENCE_TITLE_MAX_CHARS))
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
    publication_type = models.CharField(
        max_length=100,
        blank=True,
        choices=PublicationType.choices,
        help_text="The kind of work, as the record gives it; a reviewer still grades the design they read.",
    )
    abstract = models.TextField(blank=True, **at_most(ABSTRACT_MAX_CHARS))
    is_retracted = models.BooleanField("retracted", default=False)
    retraction_note = models.TextField(blank=True, **at_most(NOTE_MAX_CHARS))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReferenceQuerySet.as_manager()
    # Who changed a cited reference counts as having edited the articles citing it (separation of duties).
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["citation_key"]
        # The review desk lists the retracted ones on every visit: a few among thousands.
        indexes = [models.Index(fields=["citation_key"], condition=Q(is_retracted=True), name="reference_retracted")]
        constraints = [
            models.UniqueConstraint(Lower("doi"), condition=~Q(doi=""), name="reference_unique_doi"),
            models.UniqueConstraint(fields=["pmid"], condition=~Q(pmid=""), name="reference_unique_pmid"),
        ]

    def __str__(self):
        return f"{self.citation_key}: {self.title[:80]}"

    def save(self, *args, **kwargs):
        for field in self._meta.concrete_fields:  # NUL and lone surrogates cannot be stored
            if isinstance(getattr(self, field.attname), str):
                setattr(self, field.attname, storable_text(getattr(self, field.attname)))
        if isinstance(self.authors, list):
            self.authors = [
                {name: storable_text(value) if isinstance(value, str) else value for name, value in author.items()}
                if isinstance(author, dict)
                else author
                for author in self.authors
            ]
        self.doi = normalise_doi(self.doi)
        self.pmid = (self.pmid or "").strip()
        self.title = plain_text(self.title)
        self.abstract = plain_text(self.abstract)
        if self.published_on and not self.year:
            self.year = self.published_on.year
        super().save(*args, **kwargs)

    def clean(self):
        errors = {}
        if self.is_retracted and not self.retraction_note.strip():
            errors["retraction_note"] = "Say where the retraction was published."
        if self.title and not plain_text(self.title):
            errors["title"] = "The title is only markup: give the words of the title."
        if not isinstance(self.authors, list) or not all(_is_author(author) for author in self.authors):
            errors["authors"] = AUTHORS_SHAPE
        if errors:
            raise ValidationError(errors)

    def pinned_record(self) -> dict:
        """Return the record as a reviewer judges it and patients read it: every pinned field, JSON-ready.

        Approvals and sign-offs are pinned to this rather than to the AMA string, so an abstract or a
        publication type cannot change under them, and a change to the AMA formatter withdraws nothing.
        """
        values = {name: getattr(self, name) for name in patient_visible.pinned(patient_visible.REFERENCE_FIELDS)}
        return {name: v.isoformat() if isinstance(v, datetime.date) else v for name, v in values.items()}

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
# Written only by articles/workflow.py (through save(update_fields=...)); an ordinary save leaves them alone.
WORKFLOW_FIELDS = frozenset(
    {"status", "live_snapshot", "live_published_at", "live_review_due", "scheduled_for", "scheduled_by"}
)
article_history = HistoricalRecords(excluded_fields=[*sorted(WORKFLOW_FIELDS), "updated_at"])


class ArticleQuerySet(models.QuerySet):
    def live(self):
        """Articles patients can read, with the snapshot they read."""
        return self.filter(live_snapshot__isnull=False).select_related("live_snapshot")

    def newest_first(self):
        """Order live articles by when their live version was published, newest first."""
        return self.order_by("-live_published_at", "pk")

    def published_under(self, topic):
        """Live articles whose live version was published under `topic`."""
        in_topic = PublishedSnapshot.topic_set.through.objects.filter(topic=topic).values("publishedsnapshot")
        return self.filter(live_snapshot__in=in_topic)

    def bylined_to(self, profile):
        """Live articles whose live version carries this staff member's byline."""
        return self.filter(live_snapshot__author__slug=profile.slug)

    def signed_off_by(self, profile):
        """Live articles whose live version this staff member medically reviewed."""
        return self.filter(live_snapshot__reviewed_by__slug=profile.slug)

    def as_cards(self):
        """Load only what a card in a list shows of the live snapshot: not its body, references or statements."""
        return self.only("live_snapshot", *(f"live_snapshot__{name}" for name in PublishedSnapshot.CARD_FIELDS))

    def in_review(self):
        return self.filter(status=Article.Status.IN_REVIEW)

    def changes_requested(self):
        return self.filter(status=Article.Status.CHANGES_REQUESTED)

    def signed_off(self):
        return self.filter(status=Article.Status.SIGNED_OFF)

    def scheduled(self):
        return self.filter(status=Article.Status.SCHEDULED)

    def drafts(self):
        return self.filter(status=Article.Status.DRAFT)

    def written_by(self, user):
        """Articles whose byline is this staff member's."""
        return self.filter(author=user)

    def due_for_publication(self, now=None):
        """Scheduled articles whose publication time has come."""
        return self.scheduled().filter(scheduled_for__lte=now or timezone.now())

    def review_overdue(self, today=None):
        """Live articles past their "next review due" date that are not already back in review."""
        return (
            self.live()
            .filter(live_review_due__lte=today or timezone.localdate())
            .exclude(status__in=[Article.Status.IN_REVIEW, Article.Status.SIGNED_OFF, Article.Status.SCHEDULED])
        )

    def citing(self, key: str):
        """Articles whose working copy cites the reference `key`."""
        return self.filter(body__regex=citations.key_regex(key))

    def citing_live(self, *keys: str):
        """Articles whose live version cites any of the references `keys`.

        On PostgreSQL this runs one query at once: the snapshots citing them, from the GIN index on the
        reference lists they froze. The articles are then found by those ids; in one query, the planner
        (which cannot tell how many lists hold a key) chose to read every live article.
        """
        if not keys:
            return self.none()
        if connection.vendor != "postgresql":
            condition = Q()
            for key in keys:
                condition |= Q(live_snapshot__body_source__regex=citations.key_regex(key))
            return self.filter(condition)
        condition = Q()
        for key in keys:
            condition |= Q(references__contains=[{"key": key}])
        citing = PublishedSnapshot.objects.filter(condition).values_list("pk", flat=True)
        return self.filter(live_snapshot__in=list(citing))

    def on_review_desk(self):
        """Articles that were ever sent to review, or are live: a draft nobody submitted stays with its writer."""
        submitted = AuditEvent.objects.filter(article=OuterRef("pk"), action="articles.article.submit")
        return self.filter(~Q(status=Article.Status.DRAFT) | Q(live_snapshot__isnull=False) | Exists(submitted))


class Article(models.Model):
    """The working copy of a patient-education article; patients only ever read its published snapshot."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        SIGNED_OFF = "signed_off", "Signed off"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True, help_text="The article's address; keep it once published.")
    summary = models.TextField(
        help_text="One or two plain sentences: shown in lists, search results and link previews.", **at_most(300)
    )
    body = ProseEditorField(
        extensions=BODY_EDITOR_EXTENSIONS,
        **at_most(BODY_MAX_CHARS),
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
    # The live snapshot's published_at and next_review_due, kept beside the pointer so that lists of live
    # articles are ordered, and overdue ones found, by indexes on this table: through the snapshots, a page
    # deep in the list joined every snapshot before it, and "due" matched every superseded version too.
    live_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    live_review_due = models.DateField(null=True, blank=True, editable=False)
    scheduled_for = models.DateTimeField(null=True, blank=True, editable=False)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    review_interval_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="Re-review this article every so many months. Empty: its topics' interval, or 12 months.",
    )
    drafted_with_ai = models.BooleanField(
        "AI tools helped draft this article",
        default=False,
        help_text="Tick it if AI tools helped write any part of the text; patients are told, as they should be.",
    )
    is_featured = models.BooleanField(
        "featured", default=False, help_text="Editors: show it among the featured articles on the home page while live."
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
                condition=Q(
                    status__in=[
                        "draft",
                        "in_review",
                        "changes_requested",
                        "signed_off",
                        "scheduled",
                        "published",
                        "archived",
                    ]
                ),
                name="article_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="scheduled", scheduled_for__isnull=False, scheduled_by__isnull=False)
                | (~Q(status="scheduled") & Q(scheduled_for__isnull=True)),
                name="article_scheduled_has_time",
            ),
            models.CheckConstraint(
                condition=Q(live_snapshot__isnull=True, live_published_at__isnull=True, live_review_due__isnull=True)
                | Q(live_snapshot__isnull=False, live_published_at__isnull=False),
                name="article_live_fields_with_snapshot",
            ),
        ]
        indexes = [
            # The patient site's lists (newest live first); covering, so a deep page is read from the index.
            models.Index(
                fields=["-live_published_at", "id", "live_snapshot"],
                condition=Q(live_snapshot__isnull=False),
                name="article_live_newest",
            ),
            # Live articles due for re-review.
            models.Index(
                fields=["live_review_due", "id"], condition=Q(live_snapshot__isnull=False), name="article_live_due"
            ),
            # The review desk's sections (by status, oldest change first) and the admin's list and status filter.
            models.Index(fields=["status", "-updated_at", "-id"], name="article_status_updated"),
            models.Index(fields=["-updated_at", "-id"], name="article_updated"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.title = plain_text(self.title)
        self.summary = plain_text(self.summary)
        self.body = clean_html(self.body)
        if self._state.adding:
            # A new article starts as a draft whatever the caller set: only workflow.py moves it on.
            self.status, self.live_snapshot, self.scheduled_for, self.scheduled_by = self.Status.DRAFT, None, None, None
            self.live_published_at = self.live_review_due = None
        elif kwargs.get("update_fields") is None:
            # Saving the working copy never writes workflow state, even from a stale instance.
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in WORKFLOW_FIELDS
            ]
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "body" in update_fields:
            EvidenceStatement.objects.sync(self)

    def get_absolute_url(self):
        return reverse("articles:article_detail", kwargs={"slug": self.slug})

    @property
    def statements(self) -> list[citations.Sentence]:
        """The evidence statements of the working copy, read from the body itself."""
        return citations.statements(self.body)

    def contributor_ids(self) -> set[int]:
        """Return the ids of everyone who wrote or edited the working copy or a reference it cites."""
        editors = self.history.exclude(history_user=None).values_list("history_user_id", flat=True).distinct()
        keys = self.citation_keys
        reference_editors = (
            Reference.history.filter(citation_key__in=keys)
            .exclude(history_user=None)
            .values_list("history_user_id", flat=True)
            .distinct()
            if keys
            else []
        )
        return {self.author_id, *editors, *reference_editors}

    def review_interval(self) -> int:
        """Return the re-review interval in months: the article's own, its topics' shortest, or the default."""
        if self.review_interval_months:
            return self.review_interval_months
        intervals = [t.review_interval_months for t in self.topics.all() if t.review_interval_months]
        return min(intervals, default=settings.DEFAULT_REVIEW_INTERVAL_MONTHS)

    @property
    def citation_keys(self) -> list[str]:
        return citations.citation_keys(self.body)

    def resolve_citations(self, *, replacing=None) -> tuple[list[Reference], list[str]]:
        """Return the cited references in citation order, and the keys that match no reference.

        `replacing` maps citation keys to the records they would have (None: no record), to work out
        what a change to references would do without saving it (workflow.reference_change_consequences).
        """
        keys = self.citation_keys
        found = Reference.objects.by_keys(keys)
        for key, reference in (replacing or {}).items():
            if reference is None:
                found.pop(key, None)
            else:
                found[key] = reference
        return [found[k] for k in keys if k in found], [k for k in keys if k not in found]

    def content_hash(self, *, replacing=None) -> str:
        """Hash of everything patients would see of this working copy and every cited reference's record as the
        reviewer judged it (with `replacing`: see resolve_citations); patient_visible.ARTICLE_FIELDS lists it."""
        references, _unknown = self.resolve_citations(replacing=replacing)
        return content_hash(
            title=self.title,
            slug=self.slug,
            summary=self.summary,
            body=self.body,
            topic_slugs=list(self.topics.values_list("slug", flat=True)) if self.pk else [],
            author=public_person(self.author) if self.author_id else {},
            drafted_with_ai=self.drafted_with_ai,
            review_interval_months=self.review_interval_months,
            references=[ref.pinned_record() for ref in references],
        )


def content_hash(
    *,
    title: str,
    slug: str,
    summary: str,
    body: str,
    topic_slugs: list[str],
    author: dict,
    drafted_with_ai: bool,
    review_interval_months: int | None,
    references: list[dict],
) -> str:
    """Return the hash a sign-off is pinned to (Article.content_hash; also for rows written in bulk)."""
    payload = {
        "v": 2,  # 2: byline, slug, review interval and full reference records; sign-offs on v1 no longer count
        "title": title,
        "slug": slug,
        "summary": summary,
        "body": body,
        "topics": sorted(topic_slugs),
        "author": author,
        "drafted_with_ai": drafted_with_ai,
        "review_interval_months": review_interval_months,
        "references": references,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def record_revision(article: Article, *, created: bool) -> None:
    """Record the article's current state, topics included, as one revision.

    For callers that save the article and then its topics: they set `skip_history_when_saving`
    for both steps and call this once at the end.
    """
    article.__dict__.pop("skip_history_when_saving", None)
    article_history.create_historical_record(article, "+" if created else "~")


class AppendOnlyQuerySet(models.QuerySet):
    """Rows that are written once: no bulk update or delete through the ORM either."""

    def update(self, **kwargs):
        raise ValidationError(f"{self.model._meta.verbose_name_plural.capitalize()} are never changed.")

    def delete(self):
        raise ValidationError(f"{self.model._meta.verbose_name_plural.capitalize()} are never deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise ValidationError(f"{self.model._meta.verbose_name_plural.capitalize()} are never changed.")


class AppendOnlyModel(models.Model):
    """A record that is created once and never changed or deleted (a PostgreSQL trigger enforces it too)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(f"A {self._meta.verbose_name} is never changed; record a new one instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(f"A {self._meta.verbose_name} is never deleted.")


class EvidenceLevel(models.TextChoices):
    """Study design behind a claim, after the Oxford CEBM 2011 levels; the label is what patients read."""

    A = "A", "Review of several trials in people"
    B = "B", "Randomised trial in people"
    C = "C", "Observational study in people"
    D = "D", "Small study in people, no comparison group"
    E = "E", "Animal study"
    F = "F", "Lab study or expert view"


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


# What search ranks: title above summary above body, English stemming. On PostgreSQL only, migration 0009
# stores this very expression in a generated column, `search_vector`, with a GIN index (and 0006 puts a
# trigram index on the title); they are not in the model because SQLite, which the demo uses, has neither.
SEARCH_VECTOR = (
    SearchVector("title", weight="A", config="english")
    + SearchVector("summary", weight="B", config="english")
    + SearchVector("body_text", weight="C", config="english")
)


class PublishedSnapshotQuerySet(AppendOnlyQuerySet):
    def live(self):
        """The snapshots patients can read now: each live article's current version."""
        return self.filter(pk__in=Article.objects.filter(live_snapshot__isnull=False).values("live_snapshot"))


class PublishedSnapshot(AppendOnlyModel):
    """An immutable copy of an article as published: what patients read."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="snapshots")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    summary = models.TextField()
    body_source = models.TextField(blank=True, help_text="The working copy's body as published, with its markers.")
    body_html = models.TextField(help_text="Sanitized body with citation numbers, as rendered at publication.")
    body_text = models.TextField(blank=True, help_text="The body as plain text, for search and snippets.")
    references = models.JSONField(default=list, help_text="The numbered reference list as published.")
    statements = models.JSONField(default=list, help_text="Each statement with its evidence grade and reviewer.")
    topics = models.JSONField(default=list, help_text='[{"slug": ..., "name": ...}] at publication.')
    topic_set = models.ManyToManyField(
        Topic, blank=True, related_name="snapshots", help_text="The same topics, for listing by topic."
    )
    author = models.JSONField(default=dict, help_text="The byline at publication.")
    reviewed_by = models.JSONField(default=dict, help_text="The reviewer who signed the article off.")
    reviewers = models.JSONField(default=list, help_text="Everyone who approved a statement or signed it off.")
    disclaimers = models.JSONField(default=list, help_text="The disclaimer versions in force at publication.")
    sign_off = models.ForeignKey(ReviewSignOff, null=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True)
    next_review_due = models.DateField(null=True, db_index=True)
    first_published_at = models.DateTimeField(null=True)
    earlier_versions = models.JSONField(default=list, help_text="When the snapshots this one replaced were published.")
    drafted_with_ai = models.BooleanField(default=False)
    content_hash = models.CharField(max_length=64)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = PublishedSnapshotQuerySet.as_manager()

    # What articles/_article_card.html shows (lists and search results load only these).
    CARD_FIELDS = ["title", "slug", "summary", "published_at", "earlier_versions", "reviewed_by"]

    class Meta:
        ordering = ["-published_at"]
        get_latest_by = "published_at"
        indexes = [
            models.Index(fields=["-published_at", "-id"], name="snapshot_newest"),
            # Staff bio pages: the articles a person wrote or reviewed, as the byline froze them.
            models.Index(models.F("author__slug"), name="snapshot_author_slug"),
            models.Index(models.F("reviewed_by__slug"), name="snapshot_reviewer_slug"),
        ]

    def __str__(self):
        return f"{self.title} ({self.published_at:%Y-%m-%d %H:%M})"

    def save(self, *args, **kwargs):
        # Headings and list items carry no full stop: a dash keeps snippets from running them into the next line.
        blocks = [block if block[-1] in ".!?:;" else f"{block} —" for block in plain_paragraphs(self.body_source)]
        words = " ".join(citations.MARKER_RE.sub(" ", " ".join(blocks)).split())
        self.body_text = re.sub(r"\s+([.,;:!?])", r"\1", words).removesuffix(" —")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:article_detail", kwargs={"slug": self.slug})

    @property
    def is_update(self) -> bool:
        return bool(self.earlier_versions)

    @property
    def earlier_publication_times(self) -> list[datetime.datetime]:
        """When the versions this one replaced were published, newest first."""
        return [datetime.datetime.fromisoformat(moment) for moment in self.earlier_versions]

    @property
    def topic_ids(self) -> list[int]:
        return [topic["id"] for topic in self.topics]

    @property
    def cited_keys(self) -> set[str]:
        return {reference["key"] for reference in self.references}

    @property
    def offered_treatments(self) -> list[str]:
        """Names of this article's topics whose treatment the clinic provides (as published)."""
        return [topic["name"] for topic in self.topics if topic.get("offered_by_clinic")]


class DisclaimerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def in_scope_of(self, topic_ids):
        """Disclaimers, active or not, for an article in these topics, site-wide ones first."""
        return (
            self.filter(Q(scope=Disclaimer.Scope.ALL) | Q(topics__in=list(topic_ids)))
            .distinct()
            .order_by("scope", "position", "title")
        )

    def applying_to(self, topic_ids):
        """Active disclaimers for an article in these topics, site-wide ones first."""
        return self.in_scope_of(topic_ids).active()


class Disclaimer(models.Model):
    """A warning attached to articles by rule (all articles, or all articles in chosen topics)."""

    class Scope(models.TextChoices):
        ALL = "all", "Every article"
        TOPICS = "topics", "Articles in the chosen topics"

    title = models.CharField(max_length=200)
    text = models.TextField(help_text="What patients read. Plain, short, and specific.", **at_most(NOTE_MAX_CHARS))
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


class AuditEvent(AppendOnlyModel):
    """An append-only record of one workflow transition."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=60, help_text='Dotted name, e.g. "articles.article.publish".')
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events")
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class Page(models.Model):
    """A simple page editors keep up to date: the editorial, corrections and privacy policies, About us."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(unique=True, help_text="Its address: /about/<slug>/.")
    body = ProseEditorField(extensions=BODY_EDITOR_EXTENSIONS, sanitize=clean_html, **at_most(BODY_MAX_CHARS))
    show_in_footer = models.BooleanField(default=True, help_text="Link to it from the footer of every page.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower numbers come first in the footer.")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["position", "title"]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.title = plain_text(self.title)
        self.body = clean_html(self.body)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:page", kwargs={"slug": self.slug})


class RedFlagPhrase(models.Model):
    """A phrase regulators act against in health claims; editors keep the list, the checks match its word forms."""

    phrase = models.CharField(max_length=100, unique=True, help_text="E.g. “cure” also finds “cures” and “cured”.")
    why = models.CharField(max_length=300, help_text="Why it is a problem, as writers and reviewers read it.")
    instead = models.CharField("write instead", max_length=300, help_text="What to write instead.")
    is_active = models.BooleanField("active", default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["phrase"]
        verbose_name = "red-flag phrase"

    def __str__(self):
        return self.phrase

    def save(self, *args, **kwargs):
        self.phrase, self.why, self.instead = plain_text(self.phrase), plain_text(self.why), plain_text(self.instead)
        super().save(*args, **kwargs)

    def clean(self):
        if not re.search(r"\w", plain_text(self.phrase)):
            raise ValidationError({"phrase": "Write a word or words to look for, such as “cure” or “risk-free”."})


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
