"""The aggregators' JSON (as the seed data is): objects one per line among other text, or an array."""

import json
import re
from bisect import bisect_right
from collections.abc import Iterator
from typing import Any

from articles.importers.csl_json import INVALID_JSON, JSON_TOO_DEEP, csl_name, json_records
from articles.importers.field_values import field_text, field_url, split_date
from articles.importers.names import name_strings, split_name
from articles.importers.records import ParsedReference, Problem, build_reference
from articles.publication_types import normalise_publication_type

# Keys only the aggregators' JSON has, and keys only CSL-JSON has (see looks_like_aggregator).
AGGREGATOR_KEYS = frozenset(
    {"publicationDate", "publicationTypes", "PeriodicalName", "openAccessPdf", "isOpenAccess", "paperId", "paperid",
     "DOIUrl", "citationCount", "venue", "externalIds", "fieldsOfStudy", "doi", "journal", "year", "pmid", "PMID"}
)  # fmt: skip
CSL_KEYS = frozenset({"author", "issued", "container-title", "DOI", "URL", "citation-key", "editor"})

_PMC_IN_URL = re.compile(r"/articles/(PMC\d+)", re.I)


def looks_like_aggregator(data: Any) -> bool:
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
        return json_records(text, problems, _aggregator_record)
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
    volume, _, issue = field_text(journal.get("volume")).partition(" ")
    year, month, day = split_date(data.get("publicationDate") or data.get("year"))
    pdf = data.get("openAccessPdf")
    pdf = field_url(pdf.get("url") if isinstance(pdf, dict) else pdf)
    pmc_in_pdf = _PMC_IN_URL.search(pdf)
    return build_reference(
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


def _author_list(value: Any) -> Iterator[dict[str, str] | None]:
    """Yield the authors of an aggregator record: a string of names, or a list of strings or objects."""
    if isinstance(value, str):
        yield from map(split_name, name_strings(value))
        return
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict) and any(key in item for key in ("family", "given", "literal")):
            yield csl_name(item)
        elif isinstance(item, dict):
            yield split_name(field_text(item.get("name") or item.get("fullName") or item.get("authorName")))
        else:
            yield split_name(field_text(item))
