"""What patients read: immutable copies of articles as published, and how search ranks them."""

import datetime
import re

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.db import models
from django.db.models import Case, Value, When
from django.utils import timezone

from articles import citations, identity, languages
from articles.models.append_only import AppendOnlyModel, AppendOnlyQuerySet
from articles.models.fields import language_field
from articles.models.site_content import Topic
from articles.sanitize import plain_paragraphs

# What search ranks: title above summary above body, stemmed in the snapshot's language (Spanish without its
# accents: "cicatrizacion" finds "cicatrización"). On PostgreSQL only, migrations 0009 and 0025 store this very
# expression in a generated column, `search_vector`, with a GIN index (and 0006 puts a trigram index on the
# title); they are not in the model because SQLite, which the demo uses, has neither.
SEARCH_CONFIGS = {"en": "english", "es": "clinic_spanish"}  # text search configurations; 0025 makes the Spanish one
SEARCH_CONFIG = Case(When(language="es", then=Value(SEARCH_CONFIGS["es"])), default=Value(SEARCH_CONFIGS["en"]))
SEARCH_VECTOR = (
    SearchVector("title", weight="A", config=SEARCH_CONFIG)
    + SearchVector("summary", weight="B", config=SEARCH_CONFIG)
    + SearchVector("body_text", weight="C", config=SEARCH_CONFIG)
)


class PublishedSnapshotQuerySet(AppendOnlyQuerySet):
    def live(self):
        """The snapshots patients can read now: each live article's current version."""
        from articles.models.articles import Article  # articles.py imports this module

        return self.filter(pk__in=Article.objects.filter(live_snapshot__isnull=False).values("live_snapshot"))

    def corrections(self):
        """Corrections of the articles patients can read now (any version's, not only the live one's), newest first."""
        return self.filter(is_correction=True, article__live_snapshot__isnull=False).order_by("-published_at", "-pk")


class PublishedSnapshot(AppendOnlyModel):
    """An immutable copy of an article as published: what patients read."""

    article = models.ForeignKey("Article", on_delete=models.PROTECT, related_name="snapshots")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    language = language_field("The language it was published in.")
    summary = models.TextField()
    body_source = models.TextField(blank=True, help_text="The working copy's body as published, with its markers.")
    body_html = models.TextField(help_text="Sanitized body with citation numbers, as rendered at publication.")
    body_text = models.TextField(blank=True, help_text="The body as plain text, for search and snippets.")
    contents = models.JSONField(
        default=list, blank=True, help_text='"On this page": [{"id": ..., "title": ...}] of the body\'s sections.'
    )
    key_points_source = models.TextField(blank=True, help_text="The working copy's key points as published.")
    key_points_html = models.TextField(blank=True, help_text="The key points with citation numbers and labels.")
    references = models.JSONField(default=list, help_text="The numbered reference list as published.")
    figures = models.JSONField(
        default=list, blank=True, help_text="The library images the body shows, with their stored files, as published."
    )
    statements = models.JSONField(default=list, help_text="Each statement with its evidence grade and reviewer.")
    topics = models.JSONField(default=list, help_text='[{"slug": ..., "name": ...}] at publication.')
    topic_set = models.ManyToManyField(
        Topic, blank=True, related_name="snapshots", help_text="The same topics, for listing by topic."
    )
    author = models.JSONField(default=dict, help_text="The byline at publication.")
    reviewed_by = models.JSONField(default=dict, help_text="The reviewer who signed the article off.")
    reviewers = models.JSONField(default=list, help_text="Everyone who approved a statement or signed it off.")
    disclaimers = models.JSONField(default=list, help_text="The disclaimer versions in force at publication.")
    sign_off = models.ForeignKey("ReviewSignOff", null=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True)
    next_review_due = models.DateField(null=True, db_index=True)
    first_published_at = models.DateTimeField(null=True)
    earlier_versions = models.JSONField(default=list, help_text="When the snapshots this one replaced were published.")
    drafted_with_ai = models.BooleanField(default=False)
    correction_note = models.CharField(
        max_length=300, blank=True, help_text="The working copy's “what changed” note as published."
    )
    is_correction = models.BooleanField(
        default=False, help_text="A republication of a live article with a note: the page says “Corrected on”."
    )
    earlier_corrections = models.JSONField(
        default=list, help_text='[{"at": ..., "note": ...}]: the article\'s corrections before this one, newest first.'
    )
    content_hash = models.CharField(max_length=64)
    hash_version = models.PositiveSmallIntegerField(
        default=identity.HASH_VERSION, editable=False, help_text="Version of its hashes (identity.py)."
    )
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
            # The list of corrections, newest first.
            models.Index(
                fields=["-published_at", "-id"], condition=models.Q(is_correction=True), name="snapshot_corrections"
            ),
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
        return languages.url_in(self.language, "articles:article_detail", slug=self.slug)

    @property
    def is_update(self) -> bool:
        return bool(self.earlier_versions)

    @property
    def earlier_publication_times(self) -> list[datetime.datetime]:
        """When the versions this one replaced were published, newest first."""
        return [datetime.datetime.fromisoformat(moment) for moment in self.earlier_versions]

    @property
    def is_review_overdue(self) -> bool:
        """Return True if its "next review due" date has passed in the clinic's time zone (from the day after)."""
        return self.next_review_due is not None and self.next_review_due < timezone.localdate()

    @property
    def corrections(self) -> list[dict]:
        """Every correction of the article up to this version, newest first: {"at": datetime, "note": str}."""
        own = [{"at": self.published_at, "note": self.correction_note}] if self.is_correction else []
        earlier = [
            {"at": datetime.datetime.fromisoformat(c["at"]), "note": c["note"]} for c in self.earlier_corrections
        ]
        return own + earlier

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


class RenderedSnapshot(models.Model):
    """The parts of a snapshot's page that depend on the snapshot alone, rendered once (articles.article_page).

    Not part of the immutable record: rendered again when the templates, translations or settings they were
    made with change (`version`), so it is kept beside the snapshot rather than in it.
    """

    snapshot = models.OneToOneField(
        PublishedSnapshot, primary_key=True, on_delete=models.CASCADE, related_name="rendered"
    )
    version = models.CharField(max_length=64, help_text="Digest of what the parts were rendered with.")
    head_html = models.TextField(help_text="Canonical link, article metadata and JSON-LD.")
    title_html = models.TextField(help_text="The topics and the heading.")
    header_html = models.TextField(help_text="Summary, bylines, dates and corrections.")
    body_html = models.TextField(help_text="From the disclosure to the reference list.")
    end_html = models.TextField(help_text="Feedback, history and the reach counter.")
    lead_image = models.JSONField(null=True, help_text="The figure link previews show (figures.lead_image).")
    rendered_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Page parts of {self.snapshot_id}"
