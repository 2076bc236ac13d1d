"""The record a parser reads (`ParsedReference`), the problems it reports, and how a record is built and checked."""

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from itertools import islice
from typing import Any

from articles.importers.field_values import (
    MAX_AUTHORS,
    as_number,
    field_text,
    field_url,
    oversized_fields,
    too_many_or_too_long,
)
from articles.importers.names import person_name
from articles.models import normalise_doi

EARLIEST_YEAR = 1800

# Problems with one record, shown as "Line 12: ...".
MISSING_TITLE = "record has no title."
MISSING_AUTHORS = "record has no authors (neither a person nor a group author)."
YEAR_NOT_A_NUMBER = "year {value!r} is not a number."
YEAR_OUT_OF_RANGE = "year {value} is outside {first}-{last}."
INVALID_DATE = "publication date {value} is not a real date."
INVALID_DOI = 'DOI {value!r} is not valid: a DOI starts with "10." and contains "/".'
INVALID_PMID = "PMID {value!r} is not a number."
INVALID_PMCID = "PMCID {value!r} is not valid: it looks like PMC1234567."

REFERENCE_FIELDS = (
    "authors", "title", "journal", "journal_abbrev", "year", "published_on", "volume", "issue", "pages",
    "doi", "pmid", "pmcid", "url", "open_access_pdf", "publication_type", "abstract", "is_retracted",
    "retraction_note",
)  # fmt: skip

_PAGE_DASH = re.compile(r"\s*(?:--+|[\u2010-\u2015-])\s*")


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


def normalise_title(title: str) -> str:
    """Return a title reduced for comparison: case-folded, punctuation and spacing collapsed."""
    return " ".join(re.sub(r"[\W_]+", " ", title.casefold()).split())


def build_reference(
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
    found += too_many_or_too_long([" ".join(map(str, author.values())) for author in authors])
    if found:
        problems.extend(Problem(line, message) for message in found)
        return None
    title = field_text(title)
    if not title:
        found.append(MISSING_TITLE)
    authors = [author for author in map(_clean_author, authors) if author]
    if not authors:
        found.append(MISSING_AUTHORS)
    year = _clean_year(year, found)
    published_on = _clean_date(year, month, day, found)
    doi = normalise_doi(field_text(doi))
    if doi and not (doi.startswith("10.") and "/" in doi and not any(char.isspace() for char in doi)):
        found.append(INVALID_DOI.format(value=doi))
    pmid = field_text(pmid)
    if pmid and not pmid.isdigit():
        found.append(INVALID_PMID.format(value=pmid))
    pmcid = _clean_pmcid(field_text(pmcid), found)
    problems.extend(Problem(line, message) for message in found)
    if found:
        return None
    return ParsedReference(
        title=title,
        authors=authors,
        journal=field_text(journal),
        journal_abbrev=field_text(journal_abbrev),
        year=year,
        published_on=published_on,
        volume=field_text(volume),
        issue=field_text(issue),
        pages=_PAGE_DASH.sub("-", field_text(pages)),
        doi=doi,
        pmid=pmid,
        pmcid=pmcid,
        url=field_url(url),
        open_access_pdf=field_url(open_access_pdf),
        publication_type=field_text(publication_type),
        abstract=field_text(abstract),
        is_retracted=is_retracted,
        retraction_note=field_text(retraction_note),
        source_line=line,
        source_key=field_text(source_key),
    )


def _clean_author(author: dict[str, str] | None) -> dict[str, str] | None:
    if not author:
        return None
    literal = field_text(author.get("literal"))
    if literal:
        return {"literal": literal}
    family, given, suffix = (field_text(author.get(part)) for part in ("family", "given", "suffix"))
    return person_name(family, given, suffix) if family else None


def _clean_year(value: Any, found: list[str]) -> int | None:
    text = field_text(value)
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
    month, day = as_number(month), as_number(day)
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


def may_be_same_work(one: Any, other: ParsedReference) -> bool:
    """Return False if two works with the same title and year have different DOIs or PMIDs."""
    return not (one.doi and other.doi and one.doi.lower() != other.doi.lower()) and not (
        one.pmid and other.pmid and one.pmid != other.pmid
    )
