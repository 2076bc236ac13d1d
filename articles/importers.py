"""Reference records in: the aggregator's JSON lines, CSL-JSON, BibTeX, RIS and PubMed MEDLINE.

`parse_references` reads text into `ParsedReference` records without touching the database;
`import_references` saves a batch all or nothing. A work already on file (same DOI, else same PMID,
else same title and year) is updated, never duplicated, and keeps the citation key articles cite.
Every problem names the line where its record starts, and a batch reports all of its problems at once.
"""

import copy
import datetime
import hashlib
import json
import re
import unicodedata
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from itertools import count, islice
from typing import Any

import bibtexparser
import rispy
from bibtexparser import middlewares
from bibtexparser.exceptions import BlockAbortedException
from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock, ParsingFailedBlock
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from pylatexenc.latex2text import LatexNodes2Text

from articles.citations import KEY_PATTERN, format_ama
from articles.models import Reference, normalise_doi
from articles.publication_types import PublicationType, normalise_publication_type
from articles.sanitize import plain_text, storable_text

SUPPORTED_FORMATS = {
    "aggregator": "Aggregator JSON (one object per line)",
    "csl-json": "CSL-JSON (Zotero, Crossref)",
    "bibtex": "BibTeX",
    "ris": "RIS",
    "medline": "PubMed MEDLINE",
}
MAX_INPUT_BYTES = 2 * 1024 * 1024
# A field takes at most its Reference column's max_length (title 2,000, abstract 30,000 characters); a longer one
# is fields run together. Each is checked on the text as the file writes it (markup and LaTeX included) before
# any of it is decoded, so that reading a record costs time in proportion to its size: decoding LaTeX or HTML
# takes more than linear time per field.
MAX_ABSTRACT_CHARS = Reference._meta.get_field("abstract").max_length  # the longest field
MAX_NAME_CHARS = 300
MAX_AUTHORS = 5000
MAX_DATE_CHARS = 40  # "2017-10-12", "2017 Oct-Dec", "{April}"
EARLIEST_YEAR = 1800

# Problems with the whole input (no line).
EMPTY_INPUT = "The input is empty: paste or upload at least one reference."
INPUT_TOO_LARGE = "The input is {size:,} bytes; the limit is 2 MB ({limit:,} bytes). Split it into smaller batches."
UNKNOWN_FORMAT = "Unknown format {format!r}: choose one of {choices}."
UNRECOGNISED_FORMAT = (
    "Could not tell the format of the input. Expected BibTeX (@article{...}), RIS (TY  - ), PubMed MEDLINE "
    "(PMID- ), CSL-JSON, or the aggregator's JSON lines; if it is one of these, choose the format explicitly."
)
NO_RECORDS = "Found no {format} records in the input."
JSON_TOO_DEEP = "The JSON is nested too deeply to be a reference export: check that it is the file you meant."
WRONG_FORMAT = "The input was read as {chosen} but looks like {detected}: choose {detected} or “Detect automatically”."
CONCURRENT_CHANGE = (
    "Another import saved some of the same references at the same time. Nothing was imported; try again."
)

# Problems with one record or line, shown as "Line 12: ...".
INVALID_JSON = "invalid JSON: {error} (column {column})."
NOT_A_JSON_OBJECT = "expected a JSON object or an array of objects, found {found}."
MISSING_TITLE = "record has no title."
MISSING_AUTHORS = "record has no authors (neither a person nor a group author)."
FIELD_TOO_LONG = (
    "the {field} field is {length:,} characters long; a reference takes at most {limit:,}. Check that the "
    "record's fields are not run together."
)
NAME_TOO_LONG = "the author name “{name}…” is {length:,} characters long; a name takes at most {limit:,}."
TOO_MANY_AUTHORS = "record lists more than {limit:,} authors; a reference takes at most {limit:,}."
YEAR_NOT_A_NUMBER = "year {value!r} is not a number."
YEAR_OUT_OF_RANGE = "year {value} is outside {first}-{last}."
INVALID_DATE = "publication date {value} is not a real date."
INVALID_DOI = 'DOI {value!r} is not valid: a DOI starts with "10." and contains "/".'
INVALID_PMID = "PMID {value!r} is not a number."
INVALID_PMCID = "PMCID {value!r} is not valid: it looks like PMC1234567."
BIBTEX_BAD_BLOCK = "BibTeX entry could not be read: {reason}"
BIBTEX_UNREADABLE = "The BibTeX could not be read ({error}): check the fields of each entry, such as month and year."
RIS_NO_END = "RIS record has no ER line: end every record with 'ER  - '."
RIS_UNKNOWN_TAG = "unknown RIS tag {tag!r}."
RIS_BAD_LINE = "not a RIS tag line: write a tag, two spaces, a hyphen and a space, as in 'TI  - Title'."
RIS_OUTSIDE_RECORD = "text outside a RIS record: a record starts with 'TY  - ' and ends with 'ER  - '."
MEDLINE_NO_PMID = "MEDLINE record has no PMID line."
MEDLINE_BAD_LINE = "not a MEDLINE line: expected a tag such as 'TI  - ' or a continuation indented by six spaces."
DUPLICATE_IN_BATCH = "same work as the record on line {other} (same {identifier}); keep only one of them."
SAME_REFERENCE_IN_BATCH = (
    "same work as the record on line {other} (both match reference {key!r}); keep only one of them."
)
IDENTIFIER_CONFLICT = (
    "its DOI belongs to reference {doi_key!r} but its PMID to reference {pmid_key!r}; "
    "correct the record or merge those two references first."
)
MEDLINE_RETRACTION_NOTE = "PubMed lists this as a retracted publication (PMID {pmid})."
CROSSREF_RETRACTION_NOTE = "Crossref lists a retraction: doi:{doi}."

REFERENCE_FIELDS = (
    "authors", "title", "journal", "journal_abbrev", "year", "published_on", "volume", "issue", "pages",
    "doi", "pmid", "pmcid", "url", "open_access_pdf", "publication_type", "abstract", "is_retracted",
    "retraction_note",
)  # fmt: skip
NAME_PARTICLES = frozenset(
    {"van", "von", "de", "der", "den", "da", "di", "du", "del", "della", "le", "la", "dos", "das", "ten", "ter",
     "dei", "des", "do", "vom", "zu", "zum", "zur", "al", "el", "bin", "ibn"}
)  # fmt: skip
# Particles also written with a capital ("Jan Van der Berg", "Ahmed Al Hassan"), taken as part of the
# family name only when a given name stays before them ("Di Wu" is given name Di, family name Wu).
CAPITALISED_PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "dos", "das", "ter", "ten", "al"})
NAME_SUFFIXES = {"jr": "Jr", "jnr": "Jr", "sr": "Sr", "snr": "Sr", "ii": "II", "iii": "III", "iv": "IV",
                 "2nd": "2nd", "3rd": "3rd", "4th": "4th"}  # fmt: skip
ROMAN_SUFFIXES = frozenset({"II", "III", "IV"})
# Words that make a name a group's: "WHO Collaborative Group", "Society for ...", "Food and Drug Administration".
GROUP_WORDS = frozenset(
    {"group", "groups", "collaborative", "collaboration", "collaborators", "collaborating", "consortium",
     "committee", "commission", "organization", "organisation", "organizations", "organisations", "society",
     "association", "investigators", "council", "institute", "institutes", "network", "foundation", "team",
     "taskforce", "task", "force", "panel", "board", "agency", "centre", "center", "centers", "centres",
     "department", "university", "college", "academy", "trialists", "federation", "alliance", "coalition",
     "authority", "ministry", "administration", "services", "programme", "program", "registry", "office",
     "working", "writing", "steering", "study", "trial", "project", "initiative", "collective", "union",
     "partnership", "hospital", "clinic", "inc", "ltd", "llc", "gmbh", "corporation", "company", "editors",
     "staff", "authors", "anonymous", "unknown", "who", "nice", "cdc", "fda", "nih", "nhs", "ema", "unicef"}
)  # fmt: skip
LINKING_WORDS = frozenset({"of", "for", "on", "the", "and", "&", "in", "against", "to", "at", "with"})
CJK_NAME_PREFIXES = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL")
MONTH_ABBREVIATIONS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTHS = {name: number for number, name in enumerate(MONTH_ABBREVIATIONS, start=1)}
# Every tag of the RIS specification; rispy maps the common ones to names.
RIS_TAGS = frozenset(rispy.TAG_KEY_MAPPING) | {
    "AV", "BT", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "CP", "CT", "ED", "J1", "L3", "LK", "M2",
    "PP", "U1", "U2", "U3", "U4", "U5", "VO",
}  # fmt: skip
# Keys only the aggregators' JSON has, and keys only CSL-JSON has (see _looks_like_aggregator).
AGGREGATOR_KEYS = frozenset(
    {"publicationDate", "publicationTypes", "PeriodicalName", "openAccessPdf", "isOpenAccess", "paperId", "paperid",
     "DOIUrl", "citationCount", "venue", "externalIds", "fieldsOfStudy", "doi", "journal", "year", "pmid", "PMID"}
)  # fmt: skip
# The BibTeX and BibLaTeX fields _bibtex_record reads, by the Reference field whose limit bounds each.
BIBTEX_FIELDS = {
    "title": "title", "journal": "journal", "journaltitle": "journal", "booktitle": "journal",
    "shortjournal": "journal_abbrev", "journalabbreviation": "journal_abbrev", "journal-abbrev": "journal_abbrev",
    "volume": "volume", "number": "issue", "issue": "issue", "pages": "pages", "doi": "doi", "pmid": "pmid",
    "eprint": "doi", "eprinttype": "publication_type", "pmcid": "pmcid", "url": "url", "abstract": "abstract",
    "date": "published_on", "year": "year", "month": "published_on", "day": "published_on",
}  # fmt: skip
CSL_KEYS = frozenset({"author", "issued", "container-title", "DOI", "URL", "citation-key", "editor"})
JSON_KINDS = {dict: "an object", list: "an array", str: "a string", bool: "true or false", type(None): "null"}
ASCII_FALLBACKS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "þ": "th"})

_KEY = re.compile(rf"^{KEY_PATTERN}$")
_DATE = re.compile(r"^\s*(\d{4})(?:[-/](\d{1,2})?(?:[-/](\d{1,2}))?)?")
_BLOCK_TAG = re.compile(r"</?(?:[\w-]+:)?(?:p|div|br|li|h[1-6]|title|sec|section|label|tr|td)\b[^>]*>", re.I)
_ABSTRACT_HEADING = re.compile(r"<(?:[\w-]+:)?title>\s*abstract\s*</(?:[\w-]+:)?title>", re.I)
_PAGE_DASH = re.compile(r"\s*(?:--+|[\u2010-\u2015-])\s*")
_PMC_IN_URL = re.compile(r"/articles/(PMC\d+)", re.I)
_NOTE_IDENTIFIER = re.compile(r"\b(PMID|PMCID)\s*:\s*(\S+)", re.I)
_JSON_LINE = re.compile(r"^\s*\{", re.M)
_JSON_SEPARATORS = re.compile(r"[\s,]*")
_BIBTEX_ENTRY = re.compile(r"^\s*@[A-Za-z]+\s*[{(]", re.M)
_RIS_START = re.compile(r"^TY  -", re.M)
_MEDLINE_START = re.compile(r"^(?:PMID|OWN |FAU )- ", re.M)
_RIS_LINE = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
_RIS_LOOKS_LIKE_TAG = re.compile(r"^[A-Z][A-Z0-9] *-(?: |$)")
_MEDLINE_LINE = re.compile(r"^(?=[A-Z][A-Z0-9 ]{3}-)([A-Z][A-Z0-9]{1,3}) *-(?: (.*))?$")
_MEDLINE_CONTINUATION = "      "
_ET_AL = re.compile(r"(?:and\s+)?(?:et\.?\s*al\.?|others)", re.I)
_AND = re.compile(r"\s+(?:and|&)\s+")
_latex = LatexNodes2Text()


def _field_limits() -> dict[str, int]:
    """Return the most characters each Reference field takes: its max_length (a date or year, a few)."""
    limits = {field.name: field.max_length for field in Reference._meta.fields if field.max_length}
    return limits | {"year": MAX_DATE_CHARS, "published_on": MAX_DATE_CHARS}


FIELD_LIMITS = _field_limits()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, at the line where its record starts (None: the whole input)."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}" if self.line else self.message


class ReferenceImportError(Exception):
    """Raised when a batch has problems; nothing of it was imported."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda problem: problem.line or 0)
        super().__init__("\n".join(map(str, self.problems)))


@dataclass
class ParsedReference:
    """The Reference field values read from one record, with where the record came from."""

    title: str
    authors: list[dict[str, str]]
    journal: str = ""
    journal_abbrev: str = ""
    year: int | None = None
    published_on: datetime.date | None = None
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    pmcid: str = ""
    url: str = ""
    open_access_pdf: str = ""
    publication_type: str = ""
    abstract: str = ""
    is_retracted: bool = False
    retraction_note: str = ""
    source_line: int = 0
    source_key: str = ""

    def reference_fields(self) -> dict[str, Any]:
        """Return the values to store on a Reference."""
        return {field.name: getattr(self, field.name) for field in fields(self) if field.name in REFERENCE_FIELDS}

    @property
    def normalised_title(self) -> str:
        return normalise_title(self.title)


@dataclass
class FieldChange:
    """One field of a reference, as on file and as a record would set it, written for a person to compare."""

    name: str
    label: str
    old: str
    new: str


@dataclass
class PlannedReference:
    """One record of a batch and what saving it would do: create a reference, update one, or change nothing."""

    record: ParsedReference
    reference: Reference  # as it would be saved; not saved
    original: Reference | None  # as it is on file now; None for a work not on file
    changes: list[FieldChange]

    @property
    def action(self) -> str:
        if self.original is None:
            return "create"
        return "update" if self.changes else "unchanged"

    @property
    def ama_before(self) -> str:
        return format_ama(self.original) if self.original else ""

    @property
    def ama_after(self) -> str:
        return format_ama(self.reference)


@dataclass
class ImportPlan:
    """What importing a batch would do, worked out without saving anything (see plan_references)."""

    items: list[PlannedReference]

    @property
    def created(self) -> list[PlannedReference]:
        return [item for item in self.items if item.action == "create"]

    @property
    def updated(self) -> list[PlannedReference]:
        return [item for item in self.items if item.action == "update"]

    @property
    def unchanged(self) -> list[PlannedReference]:
        return [item for item in self.items if item.action == "unchanged"]

    @property
    def to_save(self) -> list[Reference]:
        """The references saving would write: new ones and changed ones (an unchanged one is left alone)."""
        return [item.reference for item in self.items if item.action != "unchanged"]

    def fingerprint(self, *extra: Any) -> str:
        """Return a hash of the plan and of the records on file it was made from (and of `extra`).

        A preview carries it; confirming plans again and compares, so a reference that changed in between
        (or a record that now matches another reference) is shown again rather than saved blindly.
        """
        state = [
            [
                item.record.source_line,
                item.action,
                item.original.pk if item.original else None,
                _values(item.original) if item.original else None,
                _values(item.reference),
            ]
            for item in self.items
        ]
        payload = json.dumps([state, list(extra)], default=str, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class ImportResult:
    """The references a batch created and the ones on file it matched, in record order.

    `updated` holds every reference a record matched, changed or not (`changed` only those it changed:
    an unchanged one is not saved again).
    """

    created: list[Reference]
    updated: list[Reference]
    plan: ImportPlan | None = None

    @property
    def changed(self) -> list[Reference]:
        return [item.reference for item in self.plan.updated] if self.plan else self.updated


# --- Public API -----------------------------------------------------------------------------------


def detect_format(text: str) -> str:
    """Return the format of `text`, one of SUPPORTED_FORMATS; raise ReferenceImportError if unrecognisable."""
    stripped = text.lstrip("\ufeff").strip()
    if not stripped:
        raise ReferenceImportError([Problem(None, EMPTY_INPUT)])
    if stripped[0] in "[{":
        try:
            # JSON lines, an object followed by text, or broken JSON: judge by the first object
            data, _ = json.JSONDecoder().raw_decode(stripped)
        except ValueError:
            first_line = stripped.splitlines()[0].rstrip()
            return "aggregator" if first_line.startswith("{") and first_line.endswith("}") else "csl-json"
        except RecursionError:
            raise ReferenceImportError([Problem(None, JSON_TOO_DEEP)]) from None
        return "aggregator" if _looks_like_aggregator(data) else "csl-json"
    if _BIBTEX_ENTRY.search(stripped):
        return "bibtex"
    if _RIS_START.search(stripped):
        return "ris"
    if _MEDLINE_START.search(stripped):
        return "medline"
    if _JSON_LINE.search(stripped):
        return "aggregator"
    raise ReferenceImportError([Problem(None, UNRECOGNISED_FORMAT)])


def parse_references(text: str, *, format: str | None = None) -> list[ParsedReference]:
    """Return the records in `text`; raise ReferenceImportError listing every problem found."""
    size = len(text.encode("utf-8"))
    if size > MAX_INPUT_BYTES:
        raise ReferenceImportError([Problem(None, INPUT_TOO_LARGE.format(size=size, limit=MAX_INPUT_BYTES))])
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ReferenceImportError([Problem(None, EMPTY_INPUT)])
    explicit = bool(format)
    format = format or detect_format(text)
    if format not in PARSERS:
        choices = ", ".join(SUPPORTED_FORMATS)
        raise ReferenceImportError([Problem(None, UNKNOWN_FORMAT.format(format=format, choices=choices))])
    problems: list[Problem] = []
    read = PARSERS[format](text, problems)
    records = [record for record in read if record is not None]
    if not records and not problems:
        problems.append(Problem(None, NO_RECORDS.format(format=SUPPORTED_FORMATS[format])))
    if not read and explicit:  # nothing in the text looked like a record of the chosen format
        problems.extend(_wrong_format(text, format))
    problems.extend(_duplicates_in_batch(records))
    if problems:
        raise ReferenceImportError(problems)
    return records


def _wrong_format(text: str, chosen: str) -> list[Problem]:
    """Say which format the text looks like, when it is not the one chosen."""
    try:
        detected = detect_format(text)
    except ReferenceImportError:
        return []
    if detected == chosen:
        return []
    names = SUPPORTED_FORMATS[chosen], SUPPORTED_FORMATS[detected]
    return [Problem(None, WRONG_FORMAT.format(chosen=names[0], detected=names[1]))]


def import_references(text: str, *, format: str | None = None) -> ImportResult:
    """Parse `text` and save its records all or nothing, updating references already on file."""
    return save_references(parse_references(text, format=format))


def save_references(records: list[ParsedReference]) -> ImportResult:
    """Save parsed records all or nothing: create new works, update known ones (their keys never change)."""
    with transaction.atomic():
        return save_plan(plan_references(records, lock=True))


def plan_references(records: list[ParsedReference], *, lock: bool = False) -> ImportPlan:
    """Return what saving the records would do, saving nothing; raise ReferenceImportError for any problem.

    Each record is matched to the reference on file for the same work (same DOI, else PMID, else title and
    year) or given a new citation key, and checked as the reference it would become. With `lock` (inside a
    transaction) the matched references stay locked until it ends, so what was planned is what is saved.
    """
    problems: list[Problem] = []
    items: list[PlannedReference] = []
    titles = _titles_on_file({record.year for record in records if record.year})
    lines_by_reference: dict[int, int] = {}
    new_keys: set[str] = set()
    for record in records:
        try:
            existing = _find_existing(record, titles, lock=lock)
        except ReferenceImportError as error:
            problems.extend(error.problems)
            continue
        if existing and existing.pk in lines_by_reference:
            other = lines_by_reference[existing.pk]
            message = SAME_REFERENCE_IN_BATCH.format(other=other, key=existing.citation_key)
            problems.append(Problem(record.source_line, message))
            continue
        original = copy.deepcopy(existing)
        reference = existing or Reference(citation_key=citation_key_for(record, taken=new_keys))
        _apply(record, reference, updating=existing is not None)
        try:
            reference.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            problems.extend(_validation_problems(error, record.source_line))
            continue
        if existing:
            lines_by_reference[existing.pk] = record.source_line
        else:
            new_keys.add(reference.citation_key.lower())
        items.append(PlannedReference(record, reference, original, _changes(original, reference)))
    if problems:
        raise ReferenceImportError(problems)
    return ImportPlan(items)


def save_plan(plan: ImportPlan) -> ImportResult:
    """Save what `plan_references` planned, all or nothing; references a record leaves unchanged are not saved."""
    try:
        with transaction.atomic():
            for reference in plan.to_save:
                reference.save()
    except IntegrityError:
        raise ReferenceImportError([Problem(None, CONCURRENT_CHANGE)]) from None
    return ImportResult(
        created=[item.reference for item in plan.created],
        updated=[item.reference for item in plan.items if item.original is not None],
        plan=plan,
    )


def describe_value(name: str, value: Any) -> str:
    """Return a Reference field's value as a person reads it in a comparison ("Mahmoud, Rami H; Eber, Ariel E")."""
    if name == "authors":
        return "; ".join(_describe_author(author) for author in value or [] if isinstance(author, dict))
    if name == "is_retracted":
        return "yes" if value else "no"
    if name == "publication_type" and value in PublicationType.values:
        return PublicationType(value).label
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime.date) else str(value)


def _describe_author(author: dict) -> str:
    if author.get("literal"):
        return f"{author['literal']} (group)"
    return ", ".join(part for part in (author.get("family"), author.get("given"), author.get("suffix")) if part)


def _values(reference: Reference) -> dict[str, Any]:
    return {name: getattr(reference, name) for name in ("citation_key", *REFERENCE_FIELDS)}


def _changes(original: Reference | None, reference: Reference) -> list[FieldChange]:
    """Return the fields the record sets differently from the reference on file (all it sets, for a new one)."""
    changes = []
    for name in REFERENCE_FIELDS:
        old = getattr(original, name) if original else None
        new = getattr(reference, name)
        if (old or None) != (new or None):
            label = str(Reference._meta.get_field(name).verbose_name)
            changes.append(FieldChange(name, label, describe_value(name, old), describe_value(name, new)))
    return changes


def _find_existing(
    record: ParsedReference, titles: dict[tuple[str, int], list[Reference]], *, lock: bool = False
) -> Reference | None:
    """Return the reference on file for the same work: same DOI, else same PMID, else same title and year."""
    references = Reference.objects.alias(doi_lower=Lower("doi"))
    if lock:
        references = references.select_for_update()
    by_doi = references.filter(doi_lower=record.doi).first() if record.doi else None
    by_pmid = references.filter(pmid=record.pmid).first() if record.pmid else None
    if by_doi and by_pmid and by_doi.pk != by_pmid.pk:
        message = IDENTIFIER_CONFLICT.format(doi_key=by_doi.citation_key, pmid_key=by_pmid.citation_key)
        raise ReferenceImportError([Problem(record.source_line, message)])
    if by_doi or by_pmid:
        return by_doi or by_pmid
    for candidate in titles.get((record.normalised_title, record.year), []):
        if _may_be_same_work(candidate, record):
            return references.get(pk=candidate.pk)
    return None


def _titles_on_file(years: set[int]) -> dict[tuple[str, int], list[Reference]]:
    """Return the references of these years by normalised title and year (one query for the whole batch)."""
    titles = defaultdict(list)
    for reference in Reference.objects.filter(year__in=years).only("pk", "title", "year", "doi", "pmid"):
        titles[(normalise_title(reference.title), reference.year)].append(reference)
    return titles


def citation_key_for(record: ParsedReference, *, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """Return the record's own key if usable and free, else a free key such as "mahmoud2025" or "mahmoud2025b".

    `taken` holds lower-case keys given to other new records of the same batch (not saved yet).
    """
    key = record.source_key
    free = _usable_key(key) and key.lower() not in taken
    if free and not Reference.objects.filter(citation_key__iexact=key).exists():
        return key
    base = (_key_name(record.authors) or "ref")[:48] + str(record.year or "")
    existing = Reference.objects.filter(citation_key__istartswith=base).values_list("citation_key", flat=True)
    taken = {key.lower() for key in existing} | set(taken)
    return next(base + suffix for suffix in _letter_suffixes() if (base + suffix).lower() not in taken)


def normalise_title(title: str) -> str:
    """Return a title reduced for comparison: case-folded, punctuation and spacing collapsed."""
    return " ".join(re.sub(r"[\W_]+", " ", title.casefold()).split())


# --- Author names ---------------------------------------------------------------------------------
#
# Exports write a person's name in four ways: "Mahmoud, Rami H" (inverted: RIS, MEDLINE FAU, BibTeX),
# "Mahmoud RH" (Vancouver: PubMed AU, aggregators, most reference lists), "Rami H Mahmoud" and
# "R. H. Mahmoud" (display order: aggregators). `split_name` tells them apart and returns the
# {"family", "given"} (and "suffix") a Reference stores, or {"literal": ...} for an organisation.


def split_name(name: str, *, organisations: bool = True) -> dict[str, str] | None:
    """Return one author as stored: {"family", "given"[, "suffix"]}, or {"literal"} for a group; None if empty.

    "Mahmoud RH", "Mahmoud, Rami H", "Rami H Mahmoud" and "R. H. Mahmoud" all give family "Mahmoud";
    particles stay with the family name ("van der Berg J", "Jan van der Berg", "de la Cruz, María"),
    suffixes are kept apart ("Smith JA Jr", "Smith, John A, III"), organisations ("WHO Collaborative
    Group") are literal, and so are names in scripts written without initials (Chinese, Japanese, Korean).
    With `organisations=False` a name is never taken for a group (for sources that mark groups themselves).
    """
    name = " ".join(_text(name).replace("\u00a0", " ").split()).strip(" ,;")
    if not name or _ET_AL.fullmatch(name):
        return None
    if "," in name:
        return _split_inverted(name)
    words = name.split()
    if _is_vancouver(words):
        return _split_vancouver(words)
    if organisations and is_organisation(name):
        return {"literal": name}
    if _written_without_initials(name):
        return {"literal": name}
    return _split_display(words)


def is_organisation(name: str) -> bool:
    """Return True if a name is a group's rather than a person's ("WHO Collaborative Group", "GBD 2019 ...")."""
    words = [word.strip(".,;:()&'’").casefold() for word in name.split()]
    words = [word for word in words if word]
    return (
        any(word in GROUP_WORDS or word in LINKING_WORDS for word in words)
        or any(char.isdigit() for char in name)
        or (len(words) == 1 and len(name) > 1 and name.isupper())  # "WHO", "UNICEF"
    )


def _split_inverted(name: str) -> dict[str, str]:
    """Split "Family, Given", "Family, Given, Jr" or BibTeX's "Family, Jr, Given"."""
    parts = [part.strip() for part in name.split(",")]
    family, rest = parts[0], [part for part in parts[1:] if part]
    suffix = ""
    if len(rest) >= 2 and _suffix(rest[0]):
        suffix, rest = _suffix(rest[0]), rest[1:]
    elif rest and _suffix(rest[-1]):
        suffix, rest = _suffix(rest[-1]), rest[:-1]
    given_words = " ".join(rest).split()
    if not suffix and len(given_words) > 1 and _suffix(given_words[-1]):
        suffix, given_words = _suffix(given_words[-1]), given_words[:-1]
    if not family:
        return _split_display(given_words) if given_words else None
    return _person(family, _expand_initials(given_words, family), suffix)


def _is_vancouver(words: list[str]) -> bool:
    """Return True for "Mahmoud RH", "van der Berg J", "Smith JA Jr", "Иванов ИИ": family name, then initials."""
    words = _without_suffix(words)[0]
    initials = _trailing_initials(words)
    family = words[: len(words) - initials]
    return (
        initials > 0
        and bool(family)
        and (not _is_initials(family[-1]) or _all_capitals(words))  # "LEE JA" in a record written in capitals
        and len(family) <= 4
        and not any(word.casefold() in LINKING_WORDS for word in family)
        and not any(char.isdigit() for char in " ".join(family))
    )


def _split_vancouver(words: list[str]) -> dict[str, str]:
    words, suffix = _without_suffix(words)
    initials = _trailing_initials(words)
    family = " ".join(words[: len(words) - initials])
    return _person(family, " ".join(_spaced_initials(word) for word in words[len(words) - initials :]), suffix)


def _split_display(words: list[str]) -> dict[str, str]:
    """Split "Rami H Mahmoud" / "R. H. Mahmoud" / "Jan van der Berg" / "John A Smith Jr" (given names first)."""
    words, suffix = _without_suffix(words)
    start = len(words) - 1
    while start > 0 and _is_particle(words[start - 1]):
        start -= 1
    capitals = _all_capitals(words)
    given = " ".join(_spaced_initials(word) if _is_initials(word) and not capitals else word for word in words[:start])
    return _person(" ".join(words[start:]), given, suffix)


def _person(family: str, given: str, suffix: str = "") -> dict[str, str]:
    family, given = family.strip(), given.strip()
    if _written_without_initials(family + given):  # "山田" "太郎": kept whole, family name first
        return {"literal": family + given}
    author = {"family": family, "given": given}
    if suffix:
        author["suffix"] = suffix
    return author


def _all_capitals(words: list[str]) -> bool:
    return len(words) > 1 and all(word.isupper() for word in words)


def _is_initials(word: str) -> bool:
    """Return True for "RH", "R.", "R.H.", "J-P", "ИИ": one to three capital letters, with dots or hyphens."""
    letters = word.replace(".", "").replace("-", "")
    return 1 <= len(letters) <= 3 and letters.isalpha() and letters.isupper() and "--" not in word


def _trailing_initials(words: list[str]) -> int:
    count = 0
    while count < len(words) - 1 and _is_initials(words[len(words) - 1 - count]):
        count += 1
    return count


def _spaced_initials(word: str) -> str:
    """Return "RH" as "R H" (so AMA reads two initials); "R.H.", "J-P" and "R" stay as written."""
    if "." in word or "-" in word or len(word) == 1:
        return word
    return " ".join(word)


def _expand_initials(given_words: list[str], family: str) -> str:
    """Return the given names, compact initials spaced ("Mahmoud, RH"), unless the whole name is in capitals."""
    if family.isupper():
        return " ".join(given_words)
    return " ".join(_spaced_initials(word) if _is_initials(word) else word for word in given_words)


def _suffix(word: str) -> str:
    return NAME_SUFFIXES.get(word.strip().rstrip(".").casefold(), "")


def _without_suffix(words: list[str]) -> tuple[list[str], str]:
    """Return the words without a trailing suffix ("Jr", "III"), and the suffix."""
    if len(words) < 2 or not _suffix(words[-1]):
        return words, ""
    suffix = _suffix(words[-1])
    # "II" and "III" are also initials ("Ivanov II"): a suffix only when a name and its initials remain.
    if suffix in ROMAN_SUFFIXES and len(words) < 3:
        return words, ""
    return words[:-1], suffix


def _is_particle(word: str) -> bool:
    return word in NAME_PARTICLES or (word.casefold() in CAPITALISED_PARTICLES and word[:1].isupper())


def _written_without_initials(name: str) -> bool:
    """Return True for Chinese, Japanese and Korean names: AMA initials mean nothing in those scripts."""
    return any(unicodedata.name(char, "").startswith(CJK_NAME_PREFIXES) for char in name if char.isalpha())


def _author_list(value: Any) -> Iterator[dict[str, str] | None]:
    """Yield the authors of an aggregator record: a string of names, or a list of strings or objects."""
    if isinstance(value, str):
        yield from map(split_name, _name_strings(value))
        return
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict) and any(key in item for key in ("family", "given", "literal")):
            yield _csl_name(item)
        elif isinstance(item, dict):
            yield split_name(_text(item.get("name") or item.get("fullName") or item.get("authorName")))
        else:
            yield split_name(_text(item))


def _name_strings(value: str) -> list[str]:
    """Split a string of several names: "Mahmoud RH, Badiavas EV", "Mahmoud, R. H.; Badiavas, E. V.",
    "Rami H Mahmoud and Erik Peterson", "Mahmoud, R.H., Badiavas, E.V." (inverted names, comma-separated)."""
    if ";" in value:
        return [name for name in value.split(";") if name.strip()]
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if (
        len(parts) >= 2
        and len(parts) % 2 == 0
        and all(
            all(_is_initials(word) for word in given.split()) and not _is_vancouver(family.split())
            for family, given in zip(parts[::2], parts[1::2], strict=True)
        )
    ):
        return [f"{family}, {given}" for family, given in zip(parts[::2], parts[1::2], strict=True)]
    names = []
    for part in parts:
        pieces = _AND.split(part)  # "Rami H Mahmoud and Erik Peterson", not "Food and Drug Administration"
        if len(pieces) > 1 and all("literal" not in (split_name(piece) or {"literal": ""}) for piece in pieces):
            names.extend(pieces)
        else:
            names.append(part)
    return names


# --- Aggregator JSON lines ------------------------------------------------------------------------


def _looks_like_aggregator(data: Any) -> bool:
    """Return True if JSON (an object, or an array whose first object) has the aggregator's shape, not CSL's.

    CSL-JSON names its people "author" (a list of {"family", "given"} objects); the aggregators write
    "authors" (a string, or a list of strings or of {"name": ...} objects) and keys CSL does not have.
    """
    if isinstance(data, list):
        data = next((item for item in data if isinstance(item, dict)), None)
    if not isinstance(data, dict) or isinstance(data.get("message"), dict):  # a Crossref API response
        return False
    if "authors" in data or isinstance(data.get("journal"), dict):
        return True
    return bool(AGGREGATOR_KEYS & set(data)) and not CSL_KEYS & set(data)


def parse_aggregator(text: str, problems: list[Problem]) -> list[ParsedReference | None]:
    """Read the aggregators' exports: JSON objects one per line among lines of other text (as the seed is),
    an object written over several lines, or an array of objects."""
    if text.lstrip().startswith("["):
        return _json_records(text, problems, _aggregator_record)
    records = []
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    decoder = json.JSONDecoder()
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        if not line.lstrip().startswith("{"):
            continue
        try:
            data = json.loads(line)
        except RecursionError:
            problems.append(Problem(number, JSON_TOO_DEEP))
            continue
        except json.JSONDecodeError as error:
            try:  # an object written over several lines
                data, end = decoder.raw_decode(text, offsets[number - 1] + len(line) - len(line.lstrip()))
            except (json.JSONDecodeError, RecursionError):
                problems.append(Problem(number, INVALID_JSON.format(error=error.msg, column=error.colno)))
                continue
            start = number
            number = bisect_right(offsets, end)  # the line the object ends on, counted without rescanning the text
            records.append(_aggregator_record(data, start, problems))
            continue
        records.append(_aggregator_record(data, number, problems))
    return records


def _aggregator_record(data: dict, line: int, problems: list[Problem]) -> ParsedReference | None:
    journal = data.get("journal") if isinstance(data.get("journal"), dict) else {"name": data.get("journal")}
    volume, _, issue = _text(journal.get("volume")).partition(" ")
    year, month, day = _split_date(data.get("publicationDate") or data.get("year"))
    pdf = data.get("openAccessPdf")
    pdf = _url(pdf.get("url") if isinstance(pdf, dict) else pdf)
    pmc_in_pdf = _PMC_IN_URL.search(pdf)
    return _build_reference(
        problems,
        line=line,
        title=data.get("title"),
        authors=_author_list(data.get("authors")),
        journal=journal.get("name") or data.get("PeriodicalName") or data.get("venue"),
        year=year,
        month=month,
        day=day,
        volume=volume,
        issue=issue,
        pages=journal.get("pages"),
        doi=data.get("doi") or data.get("DOIUrl"),
        pmid=data.get("PMID") or data.get("pmid"),
        pmcid=data.get("PMCID") or (pmc_in_pdf.group(1) if pmc_in_pdf else ""),
        url=data.get("url"),
        open_access_pdf=pdf,
        publication_type=normalise_publication_type(
            data.get("publicationTypes") or data.get("publicationType") or data.get("type"), source="aggregator"
        ),
        abstract=data.get("abstract"),
    )


# --- CSL-JSON -------------------------------------------------------------------------------------


def parse_csl_json(text: str, problems: list[Problem]) -> list[ParsedReference | None]:
    """Read CSL-JSON as Zotero and Crossref export it: one object, an array, or a Crossref API response."""
    return _json_records(text, problems, _csl_record)


def _json_records(text: str, problems: list[Problem], read_record) -> list[ParsedReference | None]:
    """Read a JSON document of records with `read_record(item, line, problems)`; a problem for each non-record."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        problems.append(Problem(error.lineno, INVALID_JSON.format(error=error.msg, column=error.colno)))
        return []
    except RecursionError:
        problems.append(Problem(None, JSON_TOO_DEEP))
        return []
    records = []
    for line, item in _csl_items(text, data):
        if isinstance(item, dict):
            records.append(read_record(item, line, problems))
        else:
            problems.append(Problem(line, NOT_A_JSON_OBJECT.format(found=JSON_KINDS.get(type(item), "a number"))))
    return records


def _csl_items(text: str, data: Any) -> list[tuple[int, Any]]:
    """Return the items with the line each starts on."""
    first_line = text[: len(text) - len(text.lstrip())].count("\n") + 1
    if isinstance(data, dict) and isinstance(data.get("message"), dict):  # Crossref REST API response
        message = data["message"]
        items = message.get("items") if isinstance(message.get("items"), list) else [message]
        return [(first_line, item) for item in items]
    if not isinstance(data, list):
        return [(first_line, data)]
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    line, items = text.count("\n", 0, position) + 1, []
    for item in data:
        start = _JSON_SEPARATORS.match(text, position).end()
        line += text.count("\n", position, start)
        items.append((line, item))
        _, end = decoder.raw_decode(text, start)
        line += text.count("\n", start, end)
        position = end
    return items


def _csl_record(item: dict, line: int, problems: list[Problem]) -> ParsedReference | None:
    title, subtitle = _text(item.get("title")), _text(item.get("subtitle"))
    date = next(
        (item[name] for name in ("issued", "published-print", "published-online", "published") if item.get(name)),
        None,
    )
    year, month, day = _csl_date(date)
    notes = _note_identifiers(_text(item.get("note")))
    updates = [update for update in _list(item.get("updated-by")) if isinstance(update, dict)]
    retraction = next((update for update in updates if update.get("type") == "retraction"), None)
    return _build_reference(
        problems,
        line=line,
        source_key=item.get("citation-key") or item.get("id"),
        title=f"{title}: {subtitle}" if title and subtitle else title,
        authors=(  # CSL names are objects; some tools write plain strings ("Mahmoud RH")
            _csl_name(name) if isinstance(name, dict) else split_name(name)
            for name in _list(item.get("author"))
            if isinstance(name, dict | str)
        ),
        journal=item.get("container-title"),
        journal_abbrev=item.get("container-title-short")
        or item.get("short-container-title")
        or item.get("journalAbbreviation"),
        year=year,
        month=month,
        day=day,
        volume=item.get("volume"),
        issue=item.get("issue"),
        pages=item.get("page"),
        doi=item.get("DOI"),
        pmid=item.get("PMID") or notes.get("PMID"),
        pmcid=item.get("PMCID") or notes.get("PMCID"),
        url=item.get("URL"),
        publication_type=normalise_publication_type(item.get("type"), source="csl-json"),
        abstract=item.get("abstract"),
        is_retracted=retraction is not None,
        retraction_note=CROSSREF_RETRACTION_NOTE.format(doi=retraction.get("DOI", "")) if retraction else "",
    )


def _csl_name(name: dict) -> dict[str, str] | None:
    """Return a CSL name: family and given (particles and suffix apart), or a literal (Zotero's organisations)."""
    literal = _text(name.get("literal") or name.get("name"))
    if literal:
        return {"literal": literal}
    family, given = _text(name.get("family")), _text(name.get("given"))
    if family and not given and " " in family:  # a whole name in the family field ("WHO", "Mahmoud RH")
        return split_name(family)
    particles = [_text(name.get(part)) for part in ("dropping-particle", "non-dropping-particle")]
    family = " ".join(part for part in [*particles, family] if part)
    if not family:
        return {"literal": given} if given else None
    suffix = _text(name.get("suffix"))
    return _person(family, _expand_initials(given.split(), family), _suffix(suffix) or suffix)


def _csl_date(value: Any) -> tuple[Any, Any, Any]:
    if not isinstance(value, dict):
        return None, None, None
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0] and parts[0][0] is not None:
        return (*parts[0], None, None)[:3]
    return _split_date(value.get("raw") or value.get("literal"))


# --- BibTeX ---------------------------------------------------------------------------------------


def parse_bibtex(text: str, problems: list[Problem]) -> list[ParsedReference | None]:
    """Read BibTeX or BibLaTeX with bibtexparser: strings resolved, LaTeX decoded, names split, months as numbers.

    LaTeX is decoded only in the fields _bibtex_record reads, and only once their size is checked:
    pylatexenc takes more than linear time on a long field (minutes for 1 MB).
    """
    try:
        library = bibtexparser.parse_string(
            text,
            parse_stack=[
                middlewares.ResolveStringReferencesMiddleware(),
                middlewares.RemoveEnclosingMiddleware(),
                middlewares.NormalizeFieldKeys(),
                middlewares.SeparateCoAuthors(),
            ],
        )
        library.remove([entry for entry in library.entries if _bibtex_oversized(entry, problems)])
        for entry in library.entries:
            entry.fields = [field for field in entry.fields if field.key in BIBTEX_FIELDS or field.key == "author"]
        for middleware in (
            middlewares.SplitNameParts(),
            middlewares.LatexDecodingMiddleware(),  # leaves split names alone: _bibtex_name decodes them
            middlewares.MonthIntMiddleware(),
        ):
            library = middleware.transform(library)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        # bibtexparser's middlewares raise on some malformed fields (a month of "²"); say so, import nothing.
        problems.append(Problem(None, BIBTEX_UNREADABLE.format(error=error)))
        return []
    for block in library.failed_blocks:
        problems.append(Problem((block.start_line or 0) + 1, BIBTEX_BAD_BLOCK.format(reason=_bibtex_failure(block))))
    return [_bibtex_record(entry, problems) for entry in library.entries]


def _bibtex_oversized(entry: Any, problems: list[Problem]) -> bool:
    """Return True, adding its problems, if an entry has a field or author longer than a Reference takes."""
    value = {field.key: field.value for field in entry.fields}
    found = [message for key, name in BIBTEX_FIELDS.items() for message in oversized_fields(**{name: value.get(key)})]
    found += _too_many_or_too_long(value.get("author") or [])
    problems.extend(Problem(entry.start_line + 1, message) for message in found)
    return bool(found)


def _bibtex_failure(block: ParsingFailedBlock) -> str:
    if isinstance(block, DuplicateBlockKeyBlock):
        return f"the key {block.key!r} is already used by the entry on line {block.previous_block.start_line + 1}."
    if isinstance(block, DuplicateFieldKeyBlock):
        return f"the field {', '.join(sorted(block.duplicate_keys))} is given more than once."
    reason = block.error.abort_reason if isinstance(block.error, BlockAbortedException) else str(block.error)
    return reason.strip().rstrip(".") + "."


def _bibtex_record(entry: Any, problems: list[Problem]) -> ParsedReference | None:
    value = {field.key: field.value for field in entry.fields}
    year, month, day = _split_date(value.get("date")) if value.get("date") else (value.get("year"), None, None)
    pmid = value.get("pmid") or (value.get("eprint") if str(value.get("eprinttype", "")).lower() == "pubmed" else "")
    return _build_reference(
        problems,
        line=entry.start_line + 1,
        source_key=entry.key,
        title=value.get("title"),
        authors=(_bibtex_name(name) for name in value.get("author") or [] if name.last != ["others"]),
        journal=value.get("journal") or value.get("journaltitle") or value.get("booktitle"),
        journal_abbrev=value.get("shortjournal") or value.get("journalabbreviation") or value.get("journal-abbrev"),
        year=year,
        month=month or value.get("month"),
        day=day or value.get("day"),
        volume=value.get("volume"),
        issue=value.get("number") or value.get("issue"),
        pages=value.get("pages"),
        doi=value.get("doi"),
        pmid=pmid,
        pmcid=value.get("pmcid"),
        url=value.get("url"),
        publication_type=_bibtex_type(entry.entry_type, value),
        abstract=value.get("abstract"),
    )


def _bibtex_name(name: middlewares.NameParts) -> dict[str, str] | None:
    """Return a split BibTeX name; a fully braced one ("{World Health Organization}") is a group author.

    "Mahmoud RH" and "Smith JA Jr" (Vancouver names without a comma, as some exports write them) are read
    as family name and initials, not as given name "Mahmoud" and family name "RH".
    """
    if not name.first and not name.von and len(name.last) == 1 and name.last[0].startswith("{"):
        return {"literal": _decode_latex(name.last[0])}
    first, von, last = (list(map(_decode_latex, part)) for part in (name.first, name.von, name.last))
    jr = " ".join(map(_decode_latex, name.jr))
    if first and not von and not jr and last and (_is_initials(last[-1]) or _suffix(last[-1])):
        return split_name(" ".join([*first, *last]), organisations=False)
    family = " ".join([*von, *last])
    if not family:
        return None
    return _person(family, _expand_initials(first, family), _suffix(jr) or jr)


def _bibtex_type(entry_type: str, value: dict) -> str:
    """Return the publication type of a BibTeX entry: its entry type, or a preprint server's eprint."""
    if entry_type.lower() in ("misc", "online", "unpublished") and str(value.get("eprinttype", "")).lower() in (
        "arxiv", "biorxiv", "medrxiv", "ssrn", "preprint"
    ):  # fmt: skip
        return PublicationType.PREPRINT.value
    return normalise_publication_type(entry_type, source="bibtex")


def _decode_latex(text: str) -> str:
    return _latex.latex_to_text(text) if any(char in text for char in "\\{}$~") else text


# --- RIS ------------------------------------------------------------------------------------------


def parse_ris(text: str, problems: list[Problem]) -> list[ParsedReference | None]:
    """Read RIS: frame each TY...ER record here (for line numbers and checks), map its tags with rispy."""
    records = []
    start: int | None = None
    lines: list[str] = []
    outside_reported = False
    for number, line in enumerate(text.splitlines(), start=1):
        match = _RIS_LINE.match(line)
        tag = match.group(1) if match else None
        if tag == "TY":
            if start is not None:
                problems.append(Problem(start, RIS_NO_END))
            start, lines, outside_reported = number, [line], False
        elif start is None:
            if line.strip() and not outside_reported:
                problems.append(Problem(number, RIS_OUTSIDE_RECORD))
                outside_reported = True
        elif tag == "ER":
            entry = rispy.loads("\n".join([*lines, line]), skip_unknown_tags=True)[0]
            records.append(_ris_record(entry, start, problems))
            start = None
        elif not line.strip():
            continue
        elif tag is not None and tag not in RIS_TAGS:
            problems.append(Problem(number, RIS_UNKNOWN_TAG.format(tag=tag)))
        elif tag is None and _RIS_LOOKS_LIKE_TAG.match(line):
            problems.append(Problem(number, RIS_BAD_LINE))
        else:
            lines.append(line)  # a tag line, or a continuation of the one before
    if start is not None:
        problems.append(Problem(start, RIS_NO_END))
    return records


def _ris_record(entry: dict, line: int, problems: list[Problem]) -> ParsedReference | None:
    year_text = entry.get("year") or entry.get("publication_year") or entry.get("date")
    year = _split_date(year_text)[0]
    _, month, day = next(
        (parts for parts in map(_split_date, (entry.get("date"), year_text)) if parts[0] == year and parts[1]),
        (None, None, None),
    )
    notes = _note_identifiers(" ".join(entry.get("notes") or []))
    accession = _text(entry.get("accession_number"))
    start_page, end_page = _text(entry.get("start_page")), _text(entry.get("end_page"))
    return _build_reference(
        problems,
        line=line,
        source_key=entry.get("id"),
        title=entry.get("title") or entry.get("primary_title"),
        authors=(_ris_name(name) for name in [*entry.get("authors", []), *entry.get("first_authors", [])]),
        journal=entry.get("alternate_title3") or entry.get("secondary_title") or entry.get("journal_name"),
        journal_abbrev=entry.get("alternate_title1") or entry.get("alternate_title2"),
        year=year,
        month=month,
        day=day,
        volume=entry.get("volume"),
        issue=entry.get("number"),
        pages=f"{start_page}-{end_page}" if start_page and end_page else start_page,
        doi=entry.get("doi"),
        pmid=notes.get("PMID") or (accession if accession.isdigit() else ""),
        pmcid=notes.get("PMCID"),
        url=(entry.get("urls") or [""])[0],
        publication_type=normalise_publication_type(
            [entry.get("type_of_reference") or "", _text(entry.get("type_of_work"))], source="ris"
        ),
        abstract=entry.get("abstract") or entry.get("notes_abstract"),
    )


def _ris_name(name: Any) -> dict[str, str] | None:
    """Split "Family, Given"; without a comma, "Mahmoud RH" is a person and anything else a group author."""
    name = _text(name)
    if "," in name or _is_vancouver(name.split()):
        return split_name(name, organisations=False)
    return {"literal": name} if name else None


# --- PubMed MEDLINE -------------------------------------------------------------------------------


def parse_medline(text: str, problems: list[Problem]) -> list[ParsedReference | None]:
    """Read PubMed's MEDLINE text (.nbib): padded tags, six-space continuations, blank lines between records."""
    records = []
    start: int | None = None
    tags: list[tuple[str, list[str]]] = []  # each tag with its value's lines, joined once the record ends
    for number, line in enumerate([*text.splitlines(), ""], start=1):
        match = _MEDLINE_LINE.match(line)
        if not line.strip():
            if start is not None:
                records.append(_medline_record([[tag, " ".join(lines)] for tag, lines in tags], start, problems))
            start, tags = None, []
        elif match:
            start = start or number
            tags.append((match.group(1), [(match.group(2) or "").strip()]))
        elif line.startswith(_MEDLINE_CONTINUATION) and tags:
            tags[-1][1].append(line.strip())
        else:
            problems.append(Problem(number, MEDLINE_BAD_LINE))
            start = start or number
    return records


def _medline_record(tags: list[list[str]], line: int, problems: list[Problem]) -> ParsedReference | None:
    values: dict[str, list[str]] = {}
    for tag, value in tags:
        values.setdefault(tag, []).append(value)
    first = {tag: found[0] for tag, found in values.items()}
    if "PMID" not in first:
        problems.append(Problem(line, MEDLINE_NO_PMID))
    year, month, day = _medline_date(first.get("DP", ""))
    locations = [*values.get("LID", []), *values.get("AID", [])]
    doi = next((value.removesuffix("[doi]").strip() for value in locations if value.endswith("[doi]")), "")
    retracted = "Retracted Publication" in values.get("PT", []) or "RIN" in first
    note = MEDLINE_RETRACTION_NOTE.format(pmid=first.get("PMID", ""))
    if "RIN" in first:
        note = f"Retraction in: {first['RIN']}"
    return _build_reference(
        problems,
        line=line,
        title=first.get("TI"),
        authors=_medline_authors(tags),
        journal=first.get("JT"),
        journal_abbrev=first.get("TA"),
        year=year,
        month=month,
        day=day,
        volume=first.get("VI"),
        issue=first.get("IP"),
        pages=first.get("PG"),
        doi=doi,
        pmid=first.get("PMID"),
        pmcid=first.get("PMC"),
        publication_type=normalise_publication_type(values.get("PT", []), source="medline"),
        abstract=first.get("AB"),
        is_retracted=retracted,
        retraction_note=note if retracted else "",
    )


def _medline_authors(tags: list[list[str]]) -> Iterator[dict[str, str] | None]:
    """Yield FAU names (or AU when there are none) and CN group authors, in record order.

    FAU is "Family, Given[ Suffix]" ("Smith, John A Jr"); AU is "Family Initials[ Suffix]" ("Smith JA Jr").
    """
    person_tag = "FAU" if any(tag == "FAU" for tag, _ in tags) else "AU"
    for tag, value in tags:
        if tag == "CN":
            yield {"literal": value}
        elif tag == person_tag == "FAU":
            yield split_name(value, organisations=False)
        elif tag == person_tag == "AU":
            yield _medline_au(value)


def _medline_au(value: str) -> dict[str, str] | None:
    words, suffix = _without_suffix(value.split())
    if len(words) >= 2 and words[-1].isalpha() and words[-1].isupper():
        return _person(" ".join(words[:-1]), " ".join(words[-1]), suffix)
    return split_name(value, organisations=False)


def _medline_date(value: str) -> tuple[str, int | None, int | None]:
    """Split a MEDLINE date such as "2017 Oct 12", "2017 Oct-Dec" or "2017 Spring"."""
    year, month_name, day = [*value.split(), "", "", ""][:3]
    month = MONTHS.get(month_name[:3].lower())
    return year, month, int(day) if month and re.fullmatch(r"[0-9]{1,2}", day) else None


# --- The shared record builder --------------------------------------------------------------------


def _build_reference(
    problems: list[Problem],
    *,
    line: int,
    title: Any,
    authors: Iterable[dict[str, str] | None],
    source_key: Any = "",
    journal: Any = "",
    journal_abbrev: Any = "",
    year: Any = None,
    month: Any = None,
    day: Any = None,
    volume: Any = "",
    issue: Any = "",
    pages: Any = "",
    doi: Any = "",
    pmid: Any = "",
    pmcid: Any = "",
    url: Any = "",
    open_access_pdf: Any = "",
    publication_type: Any = "",
    abstract: Any = "",
    is_retracted: bool = False,
    retraction_note: str = "",
) -> ParsedReference | None:
    """Return a cleaned, checked record, or None after adding its problems to `problems`.

    Every size is checked before any text is decoded; `authors` may be a generator, read only up to the limit.
    """
    found = oversized_fields(
        title=title, journal=journal, journal_abbrev=journal_abbrev, volume=volume, issue=issue, pages=pages,
        doi=doi, pmid=pmid, pmcid=pmcid, url=url, open_access_pdf=open_access_pdf, abstract=abstract, year=year,
    )  # fmt: skip
    authors = [author for author in islice(authors, MAX_AUTHORS + 1) if author]  # split no more names than needed
    found += _too_many_or_too_long([" ".join(map(str, author.values())) for author in authors])
    if found:
        problems.extend(Problem(line, message) for message in found)
        return None
    title = _text(title)
    if not title:
        found.append(MISSING_TITLE)
    authors = [author for author in map(_clean_author, authors) if author]
    if not authors:
        found.append(MISSING_AUTHORS)
    year = _clean_year(year, found)
    published_on = _clean_date(year, month, day, found)
    doi = normalise_doi(_text(doi))
    if doi and not (doi.startswith("10.") and "/" in doi and not any(char.isspace() for char in doi)):
        found.append(INVALID_DOI.format(value=doi))
    pmid = _text(pmid)
    if pmid and not pmid.isdigit():
        found.append(INVALID_PMID.format(value=pmid))
    pmcid = _clean_pmcid(_text(pmcid), found)
    problems.extend(Problem(line, message) for message in found)
    if found:
        return None
    return ParsedReference(
        title=title,
        authors=authors,
        journal=_text(journal),
        journal_abbrev=_text(journal_abbrev),
        year=year,
        published_on=published_on,
        volume=_text(volume),
        issue=_text(issue),
        pages=_PAGE_DASH.sub("-", _text(pages)),
        doi=doi,
        pmid=pmid,
        pmcid=pmcid,
        url=_url(url),
        open_access_pdf=_url(open_access_pdf),
        publication_type=_text(publication_type),
        abstract=_text(abstract),
        is_retracted=is_retracted,
        retraction_note=_text(retraction_note),
        source_line=line,
        source_key=_text(source_key),
    )


def oversized_fields(**values: Any) -> list[str]:
    """Return a message for each Reference field whose value, as the record writes it, is longer than it takes."""
    found = []
    for name, value in values.items():
        length = len(value.strip() if isinstance(value, str) else str(value or ""))
        if length > FIELD_LIMITS[name]:
            label = Reference._meta.get_field(name).verbose_name
            found.append(FIELD_TOO_LONG.format(field=label, length=length, limit=FIELD_LIMITS[name]))
    return found


def _too_many_or_too_long(names: list[str]) -> list[str]:
    """Return a message if a record lists more authors than a reference takes, or a name longer than one takes."""
    found = []
    if len(names) > MAX_AUTHORS:
        found.append(TOO_MANY_AUTHORS.format(limit=MAX_AUTHORS))
    name = next((name.strip() for name in names if len(name.strip()) > MAX_NAME_CHARS), None)
    if name:
        found.append(NAME_TOO_LONG.format(name=name[:60], length=len(name), limit=MAX_NAME_CHARS))
    return found


def _text(value: Any) -> str:
    """Return a value as plain text: lists give their first item, markup is removed, spacing collapsed."""
    if isinstance(value, list):
        value = next((item for item in value if item not in (None, "")), "")
    if value is None or isinstance(value, dict | bool):
        return ""
    value = storable_text(str(value))
    if len(value) > MAX_ABSTRACT_CHARS:  # longer than any field takes: its size check refuses it, unstripped
        return value
    if "<" not in value and "&" not in value:
        return " ".join(value.split())  # what plain_text would return, without running bleach
    return plain_text(_BLOCK_TAG.sub(" ", _ABSTRACT_HEADING.sub(" ", value)))


def _url(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _clean_author(author: dict[str, str] | None) -> dict[str, str] | None:
    if not author:
        return None
    literal = _text(author.get("literal"))
    if literal:
        return {"literal": literal}
    family, given, suffix = (_text(author.get(part)) for part in ("family", "given", "suffix"))
    return _person(family, given, suffix) if family else None


def _clean_year(value: Any, found: list[str]) -> int | None:
    text = _text(value)
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{1,4}", text):  # ASCII digits only: "²" is a digit to isdigit(), not to int()
        found.append(YEAR_NOT_A_NUMBER.format(value=text))
        return None
    last = datetime.date.today().year + 1
    if not EARLIEST_YEAR <= int(text) <= last:
        found.append(YEAR_OUT_OF_RANGE.format(value=int(text), first=EARLIEST_YEAR, last=last))
        return None
    return int(text)


def _clean_date(year: int | None, month: Any, day: Any, found: list[str]) -> datetime.date | None:
    """Return the full publication date when the record gives year, month and day; None for less."""
    month, day = _number(month), _number(day)
    if year is None or month is None or day is None:
        if month is not None and not 1 <= month <= 12:
            found.append(INVALID_DATE.format(value=f"{year}-{month:02}"))
        return None
    try:
        return datetime.date(year, month, day)
    except (ValueError, OverflowError):
        found.append(INVALID_DATE.format(value=f"{year}-{month:02}-{day:02}"))
        return None


def _clean_pmcid(value: str, found: list[str]) -> str:
    match = re.fullmatch(r"(?:PMC)?(\d+)", value, re.I)
    if value and not match:
        found.append(INVALID_PMCID.format(value=value))
    return f"PMC{match.group(1)}" if match else ""


def _number(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if re.fullmatch(r"[0-9]{1,4}", text) else None


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _split_date(value: Any) -> tuple[Any, int | None, int | None]:
    """Split "2025-04-01", "2017/10/12/" or "2017" into year, month and day (the year as found, to be checked)."""
    text = _text(value)
    match = _DATE.match(text)
    if not match:
        return text or None, None, None
    return match.group(1), _number(match.group(2)), _number(match.group(3))


def _note_identifiers(notes: str) -> dict[str, str]:
    """Return {"PMID": ..., "PMCID": ...} written in free-text notes as "PMID: 123"."""
    return {name.upper(): value.rstrip(".,;") for name, value in _NOTE_IDENTIFIER.findall(notes)}


# --- Batch checks and saving ----------------------------------------------------------------------


def _duplicates_in_batch(records: list[ParsedReference]) -> list[Problem]:
    """Return a problem for each record that describes the same work as an earlier one in the batch."""
    problems = []
    seen: dict[tuple, ParsedReference] = {}
    for record in records:
        identities = [
            ("DOI", record.doi),
            ("PMID", record.pmid),
            ("title and year", record.normalised_title, record.year),
        ]
        for identity in identities:
            if not identity[-1]:
                continue
            earlier = seen.get(identity)
            if earlier and (identity[0] != "title and year" or _may_be_same_work(earlier, record)):
                problems.append(Problem(record.source_line, DUPLICATE_IN_BATCH.format(
                    other=earlier.source_line, identifier=identity[0]
                )))  # fmt: skip
                break
        for identity in identities:
            if identity[-1]:
                seen.setdefault(identity, record)
    return problems


def _may_be_same_work(one: Any, other: ParsedReference) -> bool:
    """Return False if two works with the same title and year have different DOIs or PMIDs."""
    return not (one.doi and other.doi and one.doi.lower() != other.doi.lower()) and not (
        one.pmid and other.pmid and one.pmid != other.pmid
    )


def _apply(record: ParsedReference, reference: Reference, *, updating: bool) -> None:
    """Copy the record's values; an update leaves a value on file where the record has none."""
    for name, value in record.reference_fields().items():
        if name == "is_retracted":
            reference.is_retracted = reference.is_retracted or value
        elif not updating or value not in ("", None, []):
            setattr(reference, name, value)


def _validation_problems(error: ValidationError, line: int) -> list[Problem]:
    problems = []
    for name, messages in error.message_dict.items():
        label = "" if name == NON_FIELD_ERRORS else f"{Reference._meta.get_field(name).verbose_name}: "
        problems.extend(Problem(line, f"{label}{message}") for message in messages)
    return problems


def _key_name(authors: list[dict[str, str]]) -> str:
    """Return the first author's family name (or a group's first word) folded to lower-case ASCII letters."""
    if not authors:
        return ""
    first = authors[0]
    name = first.get("family") or (first.get("literal") or "").split(" ")[0]
    folded = unicodedata.normalize("NFKD", name.lower().translate(ASCII_FALLBACKS))
    return re.sub(r"[^a-z0-9]", "", folded.encode("ascii", "ignore").decode())


def _usable_key(key: str) -> bool:
    """Return True if a record's own key can be a citation key: valid, short enough, and not just a number."""
    return bool(key) and len(key) <= 64 and bool(_KEY.match(key)) and any(char.isalpha() for char in key)


def _letter_suffixes():
    """Yield "", "b", "c", ... "z", "aa", "ab", ...: the suffixes that tell same-author, same-year keys apart."""
    yield ""
    for number in count(2):
        suffix = ""
        while number:
            number, remainder = divmod(number - 1, 26)
            suffix = chr(ord("a") + remainder) + suffix
        yield suffix


PARSERS = {
    "aggregator": parse_aggregator,
    "csl-json": parse_csl_json,
    "bibtex": parse_bibtex,
    "ris": parse_ris,
    "medline": parse_medline,
}
