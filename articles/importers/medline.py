"""PubMed's MEDLINE text (.nbib)."""

import re
from collections.abc import Iterator

from articles.importers.names import person_name, split_name, without_suffix
from articles.importers.records import ParsedReference, Problem, build_reference
from articles.publication_types import normalise_publication_type

MEDLINE_NO_PMID = "MEDLINE record has no PMID line."
MEDLINE_BAD_LINE = "not a MEDLINE line: expected a tag such as 'TI  - ' or a continuation indented by six spaces."

MEDLINE_RETRACTION_NOTE = "PubMed lists this as a retracted publication (PMID {pmid})."

MONTH_ABBREVIATIONS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTHS = {name: number for number, name in enumerate(MONTH_ABBREVIATIONS, start=1)}

_MEDLINE_LINE = re.compile(r"^(?=[A-Z][A-Z0-9 ]{3}-)([A-Z][A-Z0-9]{1,3}) *-(?: (.*))?$")
_MEDLINE_CONTINUATION = "      "


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
    return build_reference(
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
    words, suffix = without_suffix(value.split())
    if len(words) >= 2 and words[-1].isalpha() and words[-1].isupper():
        return person_name(" ".join(words[:-1]), " ".join(words[-1]), suffix)
    return split_name(value, organisations=False)


def _medline_date(value: str) -> tuple[str, int | None, int | None]:
    """Split a MEDLINE date such as "2017 Oct 12", "2017 Oct-Dec" or "2017 Spring"."""
    year, month_name, day = [*value.split(), "", "", ""][:3]
    month = MONTHS.get(month_name[:3].lower())
    return year, month, int(day) if month and re.fullmatch(r"[0-9]{1,2}", day) else None
