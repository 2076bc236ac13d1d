"""What editors keep beside the articles: topics, disclaimers, simple pages and red-flag phrases."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django_prose_editor.fields import ProseEditorField
from simple_history.models import HistoricalRecords

from articles import languages, patient_visible
from articles.models.fields import (
    BODY_EDITOR_EXTENSIONS,
    BODY_MAX_CHARS,
    DESCRIPTION_MAX_CHARS,
    NOTE_MAX_CHARS,
    at_most,
    language_field,
)
from articles.sanitize import clean_html, plain_text

MAX_GRACE_DAYS = 3650
GRACE_DAYS_INVALID = (
    f"Enter a whole number of days from 1 to {MAX_GRACE_DAYS}, or leave it empty so that overdue articles "
    "in this topic are never withdrawn automatically."
)


class Topic(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    description = models.TextField(
        blank=True, help_text="One or two plain sentences shown on the topic page.", **at_most(DESCRIPTION_MAX_CHARS)
    )
    name_es = models.CharField(
        "name in Spanish", max_length=100, blank=True, help_text="Spanish pages show it; empty: the English name."
    )
    description_es = models.TextField(
        "description in Spanish",
        blank=True,
        help_text="The description on the Spanish topic page.",
        **at_most(DESCRIPTION_MAX_CHARS),
    )
    review_interval_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="How often articles in this topic must be re-reviewed. Empty: the clinic default "
        "(12 months). An article in several topics uses the shortest interval.",
    )
    overdue_grace_days = models.PositiveSmallIntegerField(
        "grace period after review is due (days)",
        null=True,
        blank=True,
        validators=[
            MinValueValidator(1, message=GRACE_DAYS_INVALID),
            MaxValueValidator(MAX_GRACE_DAYS, message=GRACE_DAYS_INVALID),
        ],
        help_text="Take an article in this topic off the site automatically once its review has been overdue "
        "this many days (the daily withdraw_overdue job; editors and the writer are emailed, and it can be "
        "re-reviewed and published again). Empty: never; the page only says it is due for review. An "
        "article in several topics uses the shortest grace period.",
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
        constraints = [
            # Zero would withdraw the day after the review falls due: say so with 1, or leave it empty.
            models.CheckConstraint(
                condition=Q(overdue_grace_days__isnull=True) | Q(overdue_grace_days__gte=1),
                name="topic_overdue_grace_days_positive",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        patient_visible.sanitize(self)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:topic_detail", kwargs={"slug": self.slug})

    def name_in(self, language: str) -> str:
        """Its name as patients read it in `language`."""
        return self.name_es if language == "es" and self.name_es else self.name

    @property
    def local_name(self) -> str:
        """Its name in the language of the page being made."""
        return self.name_in(translation.get_language())

    @property
    def local_description(self) -> str:
        return self.description_es if translation.get_language() == "es" and self.description_es else self.description


class DisclaimerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def in_scope_of(self, topic_ids, language: str):
        """Disclaimers, active or not, for an article in these topics and language, site-wide ones first."""
        return (
            self.filter(language=language)
            .filter(Q(scope=Disclaimer.Scope.ALL) | Q(topics__in=list(topic_ids)))
            .distinct()
            .order_by("scope", "position", "title")
        )

    def applying_to(self, topic_ids, language: str):
        """Active disclaimers for an article in these topics and language, site-wide ones first."""
        return self.in_scope_of(topic_ids, language).active()


class Disclaimer(models.Model):
    """A warning attached to articles by rule (all articles, or all articles in chosen topics)."""

    class Scope(models.TextChoices):
        ALL = "all", "Every article"
        TOPICS = "topics", "Articles in the chosen topics"

    title = models.CharField(max_length=200)
    text = models.TextField(help_text="What patients read. Plain, short, and specific.", **at_most(NOTE_MAX_CHARS))
    language = language_field("Shown on articles in this language only; each language needs its own.")
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
        patient_visible.sanitize(self)
        super().save(*args, **kwargs)


class Page(models.Model):
    """A simple page editors keep up to date: the editorial, corrections and privacy policies, About us."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(unique=True, help_text="Its address: /about/<slug>/.")
    language = language_field("Footers of pages in this language link to it (English ones where a language has none).")
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
        patient_visible.sanitize(self)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return languages.url_in(self.language, "articles:page", slug=self.slug)


class RedFlagPhraseQuerySet(models.QuerySet):
    def checked_in(self, language: str):
        """The active phrases the checks look for in articles in `language` (no other language's apply)."""
        return self.checked_in_any([language])

    def checked_in_any(self, languages):
        """The active phrases the checks look for in articles in any of `languages`."""
        return self.filter(is_active=True, language__in=list(languages))


class RedFlagPhrase(models.Model):
    """A phrase regulators act against in health claims; editors keep the list, the checks match its word forms."""

    phrase = models.CharField(max_length=100, help_text="E.g. “cure” also finds “cures” and “cured”.")
    language = language_field("Checked in articles in this language.")
    why = models.CharField(max_length=300, help_text="Why it is a problem, as writers and reviewers read it.")
    instead = models.CharField("write instead", max_length=300, help_text="What to write instead.")
    is_active = models.BooleanField("active", default=True)

    history = HistoricalRecords()
    objects = RedFlagPhraseQuerySet.as_manager()

    class Meta:
        ordering = ["language", "phrase"]
        verbose_name = "red-flag phrase"
        constraints = [models.UniqueConstraint(fields=["phrase", "language"], name="red_flag_phrase_unique")]

    def __str__(self):
        return self.phrase

    def save(self, *args, **kwargs):
        self.phrase, self.why, self.instead = plain_text(self.phrase), plain_text(self.why), plain_text(self.instead)
        super().save(*args, **kwargs)

    def clean(self):
        if not re.search(r"\w", plain_text(self.phrase)):
            raise ValidationError({"phrase": "Write a word or words to look for, such as “cure” or “risk-free”."})


class TranslationPolicy(models.Model):
    """What editors decide about translations: how long one may lag its source before its readers are told.

    One row (`current()`); editors change it in the admin, with history.
    """

    out_of_date_grace_days = models.PositiveSmallIntegerField(
        "tell readers after (days)",
        default=14,
        validators=[MaxValueValidator(MAX_GRACE_DAYS)],
        help_text="When an article is republished with changed statements, its translations are marked out of "
        "date on the review desk at once; after this many days the translated page also tells readers that the "
        "original is newer, and links to it. 0: tell them at once.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = verbose_name_plural = "translation policy"

    def __str__(self):
        return f"Translations: readers told after {self.out_of_date_grace_days} days"

    @classmethod
    def current(cls) -> "TranslationPolicy":
        return cls.objects.order_by("pk").first() or cls()
