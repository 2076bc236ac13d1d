"""Reading text into records: the supported formats, telling them apart, and checks on the whole input."""

import json
import re

from articles.importers.aggregator import looks_like_aggregator, parse_aggregator
from articles.importers.bibtex import parse_bibtex
from articles.importers.csl_json import JSON_TOO_DEEP, parse_csl_json
from articles.importers.medline import parse_medline
from articles.importers.records import ParsedReference, Problem, ReferenceImportError, may_be_same_work
from articles.importers.ris import parse_ris

SUPPORTED_FORMATS = {
    "aggregator": "Aggregator JSON (one object per line)",
    "csl-json": "CSL-JSON (Zotero, Crossref)",
    "bibtex": "BibTeX",
    "ris": "RIS",
    "medline": "PubMed MEDLINE",
}
MAX_INPUT_BYTES = 2 * 1024 * 1024

# Problems with the whole input (no line).
EMPTY_INPUT = "The input is empty: paste or upload at least one reference."
INPUT_TOO_LARGE = "The input is {size:,} bytes; the limit is 2 MB ({limit:,} bytes). Split it into smaller batches."
UNKNOWN_FORMAT = "Unknown format {format!r}: choose one of {choices}."
UNRECOGNISED_FORMAT = (
    "Could not tell the format of the input. Expected BibTeX (@article{...}), RIS (TY  - ), PubMed MEDLINE "
    "(PMID- ), CSL-JSON, or the aggregator's JSON lines; if it is one of these, choose the format explicitly."
)
NO_RECORDS = "Found no {format} records in the input."
WRONG_FORMAT = "The input was read as {chosen} but looks like {detected}: choose {detected} or “Detect automatically”."
# A problem with one record, shown as "Line 12: ...".
DUPLICATE_IN_BATCH = "same work as the record on line {other} (same {identifier}); keep only one of them."

# What each format starts with, to tell them apart.
_JSON_LINE = re.compile(r"^\s*\{", re.M)
_BIBTEX_ENTRY = re.compile(r"^\s*@[A-Za-z]+\s*[{(]", re.M)
_RIS_START = re.compile(r"^TY  -", re.M)
_MEDLINE_START = re.compile(r"^(?:PMID|OWN |FAU )- ", re.M)


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
        return "aggregator" if looks_like_aggregator(data) else "csl-json"
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
            if earlier and (identity[0] != "title and year" or may_be_same_work(earlier, record)):
                problems.append(Problem(record.source_line, DUPLICATE_IN_BATCH.format(
                    other=earlier.source_line, identifier=identity[0]
                )))  # fmt: skip
                break
        for identity in identities:
            if identity[-1]:
                seen.setdefault(identity, record)
    return problems


PARSERS = {
    "aggregator": parse_aggregator,
    "csl-json": parse_csl_json,
    "bibtex": parse_bibtex,
    "ris": parse_ris,
    "medline": parse_medline,
}
