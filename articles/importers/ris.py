"""RIS, framed record by record here and mapped with rispy."""

import re
from typing import Any

import rispy

from articles.importers.field_values import field_text, note_identifiers, split_date
from articles.importers.names import is_vancouver, split_name
from articles.importers.records import ParsedReference, Problem, build_reference
from articles.publication_types import normalise_publication_type

RIS_NO_END = "RIS record has no ER line: end every record with 'ER  - '."
RIS_UNKNOWN_TAG = "unknown RIS tag {tag!r}."
RIS_BAD_LINE = "not a RIS tag line: write a tag, two spaces, a hyphen and a space, as in 'TI  - Title'."
RIS_OUTSIDE_RECORD = "text outside a RIS record: a record starts with 'TY  - ' and ends with 'ER  - '."

# Every tag of the RIS specification; rispy maps the common ones to names.
RIS_TAGS = frozenset(rispy.TAG_KEY_MAPPING) | {
    "AV", "BT", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "CP", "CT", "ED", "J1", "L3", "LK", "M2",
    "PP", "U1", "U2", "U3", "U4", "U5", "VO",
}  # fmt: skip

_RIS_LINE = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
_RIS_LOOKS_LIKE_TAG = re.compile(r"^[A-Z][A-Z0-9] *-(?: |$)")


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
    year = split_date(year_text)[0]
    _, month, day = next(
        (parts for parts in map(split_date, (entry.get("date"), year_text)) if parts[0] == year and parts[1]),
        (None, None, None),
    )
    notes = note_identifiers(" ".join(entry.get("notes") or []))
    accession = field_text(entry.get("accession_number"))
    start_page, end_page = field_text(entry.get("start_page")), field_text(entry.get("end_page"))
    return build_reference(
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
            [entry.get("type_of_reference") or "", field_text(entry.get("type_of_work"))], source="ris"
        ),
        abstract=entry.get("abstract") or entry.get("notes_abstract"),
    )


def _ris_name(name: Any) -> dict[str, str] | None:
    """Split "Family, Given"; without a comma, "Mahmoud RH" is a person and anything else a group author."""
    name = field_text(name)
    if "," in name or is_vancouver(name.split()):
        return split_name(name, organisations=False)
    return {"literal": name} if name else None
