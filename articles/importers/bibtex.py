"""BibTeX and BibLaTeX, read with bibtexparser."""

from typing import Any

import bibtexparser
from bibtexparser import middlewares
from bibtexparser.exceptions import BlockAbortedException
from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock, ParsingFailedBlock
from pylatexenc.latex2text import LatexNodes2Text

from articles.importers.field_values import oversized_fields, split_date, too_many_or_too_long
from articles.importers.names import expand_initials, is_initials, name_suffix, person_name, split_name
from articles.importers.records import ParsedReference, Problem, build_reference
from articles.publication_types import PublicationType, normalise_publication_type

BIBTEX_BAD_BLOCK = "BibTeX entry could not be read: {reason}"
BIBTEX_UNREADABLE = "The BibTeX could not be read ({error}): check the fields of each entry, such as month and year."

# The BibTeX and BibLaTeX fields _bibtex_record reads, by the Reference field whose limit bounds each.
BIBTEX_FIELDS = {
    "title": "title", "journal": "journal", "journaltitle": "journal", "booktitle": "journal",
    "shortjournal": "journal_abbrev", "journalabbreviation": "journal_abbrev", "journal-abbrev": "journal_abbrev",
    "volume": "volume", "number": "issue", "issue": "issue", "pages": "pages", "doi": "doi", "pmid": "pmid",
    "eprint": "doi", "eprinttype": "publication_type", "pmcid": "pmcid", "url": "url", "abstract": "abstract",
    "date": "published_on", "year": "year", "month": "published_on", "day": "published_on",
}  # fmt: skip

_latex = LatexNodes2Text()


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
    found += too_many_or_too_long(value.get("author") or [])
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
    year, month, day = split_date(value.get("date")) if value.get("date") else (value.get("year"), None, None)
    pmid = value.get("pmid") or (value.get("eprint") if str(value.get("eprinttype", "")).lower() == "pubmed" else "")
    return build_reference(
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
    if first and not von and not jr and last and (is_initials(last[-1]) or name_suffix(last[-1])):
        return split_name(" ".join([*first, *last]), organisations=False)
    family = " ".join([*von, *last])
    if not family:
        return None
    return person_name(family, expand_initials(first, family), name_suffix(jr) or jr)


def _bibtex_type(entry_type: str, value: dict) -> str:
    """Return the publication type of a BibTeX entry: its entry type, or a preprint server's eprint."""
    if entry_type.lower() in ("misc", "online", "unpublished") and str(value.get("eprinttype", "")).lower() in (
        "arxiv", "biorxiv", "medrxiv", "ssrn", "preprint"
    ):  # fmt: skip
        return PublicationType.PREPRINT.value
    return normalise_publication_type(entry_type, source="bibtex")


def _decode_latex(text: str) -> str:
    return _latex.latex_to_text(text) if any(char in text for char in "\\{}$~") else text
