"""The published works articles cite, shared by all articles, and how a reviewer's approval pins them."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

from articles import citations, patient_visible
from articles.models.fields import ABSTRACT_MAX_CHARS, NOTE_MAX_CHARS, REFERENCE_TITLE_MAX_CHARS, at_most
from articles.publication_types import PublicationType
from articles.sanitize import plain_text, storable_text

citation_key_validator = RegexValidator(
    rf"^{citations.KEY_PATTERN}$",
    "A citation key starts with a letter or digit and uses only letters, digits and _ : . - (for example mahmoud2025).",
)


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
        patient_visible.sanitize(self)
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
        from articles.models.articles import Article  # articles.py imports this module

        return Article.objects.citing(self.citation_key)
