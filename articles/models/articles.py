"""The working copy of an article, its reads (the QuerySet) and its revision history."""

from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django_prose_editor.fields import ProseEditorField
from simple_history.models import HistoricalRecords

from articles import citations, figure_claims, identity, languages, patient_visible
from articles.models.audit import AuditEvent
from articles.models.fields import (
    BODY_EDITOR_EXTENSIONS,
    BODY_MAX_CHARS,
    CORRECTION_NOTE_MAX_CHARS,
    KEY_POINTS_EDITOR_EXTENSIONS,
    KEY_POINTS_MAX_CHARS,
    at_most,
    language_field,
)
from articles.models.references import Reference
from articles.models.site_content import Topic
from articles.models.snapshots import PublishedSnapshot
from articles.sanitize import clean_html

# Kept by name so a save and its topic changes can be recorded as one revision (see record_revision).
# Written only by articles/workflow/ (through save(update_fields=...)); an ordinary save leaves them alone.
WORKFLOW_FIELDS = frozenset(
    {
        "status",
        "live_snapshot",
        "live_published_at",
        "live_review_due",
        "scheduled_for",
        "scheduled_by",
        "source_changed_at",
    }
)
# Refused by Article.clean: a note on an article patients cannot read yet would be frozen but never shown.
CORRECTION_NOT_LIVE = (
    "Only an article patients can read now can be corrected: this one is not on the site, so leave "
    "“What changed” empty."
)
TRANSLATION_SAME_LANGUAGE = "A translation is in another language than the article it translates: choose its language."
LANGUAGE_FIXED_ONCE_PUBLISHED = (
    "This article has been published in its language, at that language's address: write a translation instead."
)
TRANSLATION_OF_TRANSLATION = "Translate an original article in English, not a translation."
article_history = HistoricalRecords(excluded_fields=[*sorted(WORKFLOW_FIELDS), "updated_at"])


class ArticleQuerySet(models.QuerySet):
    def live(self):
        """Articles patients can read, with the snapshot they read."""
        return self.filter(live_snapshot__isnull=False).select_related("live_snapshot")

    def in_language(self, language: str | None = None):
        """Articles in `language`; by default the language of the page being made (articles.languages)."""
        return self.filter(language=language or translation.get_language())

    def newest_first(self):
        """Order live articles by when their live version was published, newest first."""
        return self.order_by("-live_published_at", "pk")

    def published_under(self, topic):
        """Live articles whose live version was published under `topic`."""
        in_topic = PublishedSnapshot.topic_set.through.objects.filter(topic=topic).values("publishedsnapshot")
        return self.filter(live_snapshot__in=in_topic)

    def related_to(self, article):
        """Other live articles whose live version shares a topic with `article`'s live version."""
        topic_ids = article.live_snapshot.topic_ids if article.live_snapshot_id else []
        sharing = PublishedSnapshot.topic_set.through.objects.filter(topic_id__in=topic_ids)
        return self.filter(live_snapshot__in=sharing.values("publishedsnapshot")).exclude(pk=article.pk)

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

    def overdue_with_grace(self, today=None):
        """Live articles past their "next review due" date whose live version has a topic with a grace period
        (Topic.overdue_grace_days); whether that grace is over is the workflow's to say (withdrawing.py)."""
        with_grace = PublishedSnapshot.topic_set.through.objects.filter(topic__overdue_grace_days__isnull=False)
        return self.live().filter(
            live_review_due__lt=today or timezone.localdate(), live_snapshot__in=with_grace.values("publishedsnapshot")
        )

    def out_of_date(self):
        """Translations whose source was republished with changed statements since they were last published."""
        return self.filter(source_changed_at__isnull=False)

    def citing(self, key: str):
        """Articles whose working copy cites the reference `key` (in its body or its key points)."""
        return self.filter(Q(body__regex=citations.key_regex(key)) | Q(key_points__regex=citations.key_regex(key)))

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
                condition |= Q(live_snapshot__key_points_source__regex=citations.key_regex(key))
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
    language = language_field("The language it is written in. A translation names the article it translates.")
    translation_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="translations",
        limit_choices_to={"language": settings.LANGUAGE_CODE},
        help_text="For a translation: the English article it translates. Its statements are reviewed beside "
        "that article's, and it is marked out of date when that article is republished with changed statements.",
    )
    # When the source was republished with statements this translation no longer matches (translations.py);
    # emptied when the translation is published again.
    source_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    summary = models.TextField(
        help_text="One or two plain sentences: shown in lists, search results and link previews.", **at_most(300)
    )
    key_points = ProseEditorField(
        "Key points",
        extensions=KEY_POINTS_EDITOR_EXTENSIONS,
        blank=True,
        **at_most(KEY_POINTS_MAX_CHARS),
        sanitize=clean_html,
        help_text="Optional: three to five short points, as a bulleted list, shown at the top of the page. Cite "
        "them like the body: a cited point is an evidence statement a reviewer approves. A point without a "
        "citation must say what a cited sentence of the body says, or the claim check flags it.",
    )
    body = ProseEditorField(
        extensions=BODY_EDITOR_EXTENSIONS,
        **at_most(BODY_MAX_CHARS),
        sanitize=clean_html,  # the one bleach policy, also applied again in save()
        help_text="Cite a reference by its key at the end of the sentence it supports: [@mahmoud2025] "
        "or [@mahmoud2025; @hu2016].",
    )
    correction_note = models.CharField(
        "What changed, for patients, in one sentence",
        blank=True,
        help_text="Only when correcting an article patients can already read: publishing this edit then makes it "
        "a correction, and the page says “Corrected on (date): ” and this sentence, as does the list of corrections. "
        "The reviewer signs it off with the article; it is emptied once published. Leave it empty for any "
        "other edit.",
        **at_most(CORRECTION_NOTE_MAX_CHARS),
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
            models.UniqueConstraint(fields=["translation_of", "language"], name="article_one_translation_per_language"),
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
            # The patient site's lists (newest live first, in the page's language); covering, so a deep page and the
            # count are read from the index.
            models.Index(
                fields=["language", "-live_published_at", "id", "live_snapshot"],
                condition=Q(live_snapshot__isnull=False),
                name="article_live_newest",
            ),
            # A topic page's count: its live snapshots' links meet the language's live articles in snapshot order
            # (a merge join), from an index half the width of the lists' one.
            models.Index(
                fields=["language", "live_snapshot"],
                condition=Q(live_snapshot__isnull=False),
                name="article_live_by_snapshot",
            ),
            # Live articles due for re-review.
            models.Index(
                fields=["live_review_due", "id"], condition=Q(live_snapshot__isnull=False), name="article_live_due"
            ),
            # The review desk's sections (by status, oldest change first) and the admin's list and status filter.
            models.Index(fields=["status", "-updated_at", "-id"], name="article_status_updated"),
            models.Index(fields=["-updated_at", "-id"], name="article_updated"),
            # The desk's translations whose original changed, oldest first: a handful among all articles.
            models.Index(
                fields=["source_changed_at", "id"],
                condition=Q(source_changed_at__isnull=False),
                name="article_source_changed",
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        patient_visible.sanitize(self, fields=kwargs.get("update_fields"))
        if self._state.adding:
            # A new article starts as a draft whatever the caller set: only articles/workflow/ moves it on.
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
        if update_fields is None or {"body", "key_points"} & set(update_fields):
            from articles.models.review import EvidenceStatement  # review.py imports this module

            EvidenceStatement.objects.sync(self)

    def get_absolute_url(self):
        return languages.url_in(self.language, "articles:article_detail", slug=self.slug)

    def clean(self):
        super().clean()
        if self.correction_note.strip() and self.live_snapshot_id is None:
            raise ValidationError({"correction_note": CORRECTION_NOT_LIVE})
        if self.pk and self.snapshots.exclude(language=self.language).exists():
            raise ValidationError({"language": LANGUAGE_FIXED_ONCE_PUBLISHED})
        source = self.translation_of
        if source is not None:
            if source.pk == self.pk or source.language == self.language:
                raise ValidationError({"translation_of": TRANSLATION_SAME_LANGUAGE})
            if source.translation_of_id is not None or source.language != settings.LANGUAGE_CODE:
                raise ValidationError({"translation_of": TRANSLATION_OF_TRANSLATION})

    # Where the article stands, for templates: they ask these rather than compare status strings.
    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_signed_off(self) -> bool:
        return self.status == self.Status.SIGNED_OFF

    @property
    def is_scheduled(self) -> bool:
        return self.status == self.Status.SCHEDULED

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def statements(self) -> list[citations.Sentence]:
        """The evidence statements of the working copy, read from its text in its language: the key points', then
        the body's."""
        body = citations.statements(self.body, language=self.language) + figure_claims.statements(self.body)
        return citations.statements(self.key_points, language=self.language) + body  # before/after photos too

    def contributor_ids(self) -> set[int]:
        """Return the ids of everyone who wrote or edited the working copy or a reference it cites."""
        return Article.contributor_ids_of([self])[self.pk]

    @staticmethod
    def contributor_ids_of(articles) -> dict[int, set[int]]:
        """Return `contributor_ids()` of each article by id, in two queries however many articles there are."""
        articles = list(articles)
        keys = {article.pk: article.citation_keys for article in articles}
        all_keys = {key for cited in keys.values() for key in cited}
        editors, reference_editors = defaultdict(set), defaultdict(set)
        history = Article.history.filter(id__in=list(keys)).exclude(history_user=None)
        for article_id, user_id in history.values_list("id", "history_user_id").distinct():
            editors[article_id].add(user_id)
        if all_keys:
            references = Reference.history.filter(citation_key__in=all_keys).exclude(history_user=None)
            for key, user_id in references.values_list("citation_key", "history_user_id").distinct():
                reference_editors[key].add(user_id)
        return {
            article.pk: {
                article.author_id,
                *editors[article.pk],
                *(u for k in keys[article.pk] for u in reference_editors[k]),
            }
            for article in articles
        }

    def review_interval(self) -> int:
        """Return the re-review interval in months: the article's own, its topics' shortest, or the default."""
        if self.review_interval_months:
            return self.review_interval_months
        intervals = [t.review_interval_months for t in self.topics.all() if t.review_interval_months]
        return min(intervals, default=settings.DEFAULT_REVIEW_INTERVAL_MONTHS)

    @property
    def citation_keys(self) -> list[str]:
        """Return each cited key once, in order of first citation: the key points first, then the body."""
        return list(dict.fromkeys(citations.citation_keys(self.key_points) + citations.citation_keys(self.body)))

    def resolve_citations(self, *, replacing=None, found=None) -> tuple[list[Reference], list[str]]:
        """Return the cited references in citation order, and the keys that match no reference.

        `replacing` maps citation keys to the records they would have (None: no record), to work out
        what a change to references would do without saving it (workflow.reference_change_consequences).
        `found`: references by key, read once for many articles (`Reference.objects.by_keys`), to save asking.
        """
        keys = self.citation_keys
        found = dict(found) if found is not None else Reference.objects.by_keys(keys)
        for key, reference in (replacing or {}).items():
            if reference is None:
                found.pop(key, None)
            else:
                found[key] = reference
        return [found[k] for k in keys if k in found], [k for k in keys if k not in found]

    def content_hash(self, *, replacing=None, version: int | None = None, cited: list | None = None) -> str:
        """Hash of everything patients would see of this working copy and every cited reference's record as the
        reviewer judged it (with `replacing`: see resolve_citations); patient_visible.VISIBLE lists it.
        `version`: as an earlier version of the hash covered it (identity.py), to compare with a snapshot.
        `cited`: the references as `resolve_citations()` just returned them, to save asking again."""
        references = cited if cited is not None else self.resolve_citations(replacing=replacing)[0]
        return identity.content_hash(patient_visible.hashed(self, cited=references), version=version)


def record_revision(article: Article, *, created: bool) -> None:
    """Record the article's current state, topics included, as one revision.

    For callers that save the article and then its topics: they set `skip_history_when_saving`
    for both steps and call this once at the end.
    """
    article.__dict__.pop("skip_history_when_saving", None)
    article_history.create_historical_record(article, "+" if created else "~")
