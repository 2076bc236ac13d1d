"""Saving records: matching each to the reference on file for the same work, planning, and saving all or nothing."""

import copy
import datetime
import hashlib
import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from itertools import count
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from articles.citations import KEY_PATTERN, format_ama
from articles.importers.parsing import parse_references
from articles.importers.records import (
    REFERENCE_FIELDS,
    ParsedReference,
    Problem,
    ReferenceImportError,
    may_be_same_work,
    normalise_title,
)
from articles.models import Reference
from articles.publication_types import PublicationType

CONCURRENT_CHANGE = (
    "Another import saved some of the same references at the same time. Nothing was imported; try again."
)

SAME_REFERENCE_IN_BATCH = (
    "same work as the record on line {other} (both match reference {key!r}); keep only one of them."
)
IDENTIFIER_CONFLICT = (
    "its DOI belongs to reference {doi_key!r} but its PMID to reference {pmid_key!r}; "
    "correct the record or merge those two references first."
)

ASCII_FALLBACKS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "þ": "th"})

_KEY = re.compile(rf"^{KEY_PATTERN}$")


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
        if may_be_same_work(candidate, record):
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
