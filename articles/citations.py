"""Citation markers, Vancouver numbering and AMA (11th edition) reference formatting.

Writers cite by stable key, `[@mahmoud2025]` or `[@mahmoud2025; @hu2016]`; numbers exist only at
render time, in order of first citation, so reordering text never renumbers what was approved.
"""

import re
from dataclasses import dataclass

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

KEY_PATTERN = r"[A-Za-z0-9_](?:[A-Za-z0-9_:.\-]*[A-Za-z0-9_])?"
_MARKER = re.compile(r"\[\s*(@[^\[\]<>]*?)\s*\]")
_MARKER_KEY = re.compile(rf"^@({KEY_PATTERN})$")
_LOOKS_LIKE_MARKER = re.compile(r"\[\s*@[^\]]*\]?")
MAX_AUTHORS_LISTED = 6
AUTHORS_BEFORE_ET_AL = 3


@dataclass(frozen=True)
class CitationMarker:
    start: int
    end: int
    keys: tuple[str, ...]


def find_markers(text: str) -> list[CitationMarker]:
    """Return the well-formed citation markers in `text`, in document order."""
    markers = []
    for match in _MARKER.finditer(text or ""):
        parts = [part.strip() for part in match.group(1).split(";")]
        keys = [m.group(1) for m in map(_MARKER_KEY.match, parts) if m]
        if len(keys) == len(parts):
            markers.append(CitationMarker(match.start(), match.end(), tuple(dict.fromkeys(keys))))
    return markers


def malformed_markers(text: str) -> list[str]:
    """Return bracketed `[@...` snippets that are not valid citation markers, e.g. `[@smith 2020]`."""
    good = {(m.start, m.end) for m in find_markers(text)}
    return [
        match.group(0) for match in _LOOKS_LIKE_MARKER.finditer(text or "") if (match.start(), match.end()) not in good
    ]


def citation_keys(text: str) -> list[str]:
    """Return each cited key once, in order of first citation."""
    return list(dict.fromkeys(key for marker in find_markers(text) for key in marker.keys))


def key_regex(key: str) -> str:
    """Return a regular expression (PostgreSQL and Python alike) matching a citation of `key`."""
    return r"@" + re.escape(key) + r"[];\s]"


def _number_runs(numbers: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for number in sorted(set(numbers)):
        if runs and number == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs


def render_markers(html: str, numbers: dict[str, int], *, missing_label: str = "?") -> str:
    """Replace citation markers in sanitized HTML by superscript links to the numbered reference list.

    Runs of three or more consecutive numbers collapse to a range (AMA style: 1-3). A key missing
    from `numbers` renders as a visible `missing_label`, which only previews can contain.
    """
    out: list[str] = []
    last = 0
    for index, marker in enumerate(find_markers(html), start=1):
        out.append(html[last : marker.start])
        last = marker.end
        known = [numbers[key] for key in marker.keys if key in numbers]
        pieces = []
        for first, final in _number_runs(known):
            link = '<a href="#ref-{0}" aria-label="Reference {0}">{0}</a>'
            if final - first >= 2:
                pieces.append(link.format(first) + "&#8211;" + link.format(final))
            else:
                pieces.extend(link.format(n) for n in range(first, final + 1))
        if len(known) < len(marker.keys):
            pieces.append(f'<span class="citation-missing">{escape(missing_label)}</span>')
        out.append(f'<sup class="citation" id="cite-{index}">{",".join(pieces)}</sup>')
    out.append(html[last:])
    return "".join(out)


def first_citation_anchors(html: str, numbers: dict[str, int]) -> dict[int, str]:
    """Return, for each reference number, the id of the superscript that first cites it."""
    anchors: dict[int, str] = {}
    for index, marker in enumerate(find_markers(html), start=1):
        for key in marker.keys:
            if key in numbers:
                anchors.setdefault(numbers[key], f"cite-{index}")
    return anchors


# --- AMA formatting -------------------------------------------------------------------------------


def _initials(given: str) -> str:
    """Return AMA initials: "Rami H" -> "RH", "Jean-Pierre" -> "J-P"."""
    initials = []
    for word in given.replace(".", " ").split():
        parts = [p for p in word.split("-") if p]
        initials.append("-".join(p[0].upper() for p in parts))
    return "".join(initials)


def format_author(author: dict) -> str:
    """Return one author in AMA form, "Surname AB", or a group author's name as written."""
    if author.get("literal"):
        return author["literal"].strip()
    family = (author.get("family") or "").strip()
    initials = _initials(author.get("given") or "")
    return f"{family} {initials}".strip()


def format_authors(authors: list[dict]) -> str:
    names = [name for name in map(format_author, authors or []) if name]
    if len(names) > MAX_AUTHORS_LISTED:
        names = [*names[:AUTHORS_BEFORE_ET_AL], "et al"]
    return ", ".join(names)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".?!" else f"{text}."


def _normalise_pages(pages: str) -> str:
    return re.sub(r"\s*[\u2010-\u2015-]+\s*", "-", pages.strip())


def _source_details(ref) -> str:
    """Return "2025;18(4):33-40" from whichever of year, volume, issue and pages the record has."""
    details = str(ref.year or "")
    if ref.volume:
        details += f";{ref.volume}"
        if ref.issue:
            details += f"({ref.issue})"
    elif ref.issue:
        details += f";({ref.issue})"
    if ref.pages:
        details += f":{_normalise_pages(ref.pages)}"
    return details


def _ama_parts(ref) -> tuple[str, str, str, str, str]:
    authors = format_authors(ref.authors)
    journal = (ref.journal_abbrev or ref.journal or "").strip()
    return (
        _sentence(authors) if authors else "",
        _sentence(ref.title or ""),
        _sentence(journal) if journal else "",
        _sentence(_source_details(ref)) if _source_details(ref) else "",
        f"doi:{ref.doi}" if ref.doi else "",
    )


def format_ama(ref) -> str:
    """Return a reference in AMA style as plain text."""
    return " ".join(part for part in _ama_parts(ref) if part)


def format_ama_html(ref) -> SafeString:
    """Return a reference in AMA style as HTML: journal in italics, DOI linked."""
    authors, title, journal, details, doi = _ama_parts(ref)
    parts = [escape(authors), escape(title)]
    if journal:
        parts.append(format_html("<i>{}</i>", journal))
    parts.append(escape(details))
    if doi:
        parts.append(format_html('<a href="https://doi.org/{}" rel="noopener">{}</a>', ref.doi, doi))
    return mark_safe(" ".join(part for part in parts if part))  # noqa: S308 - each part is escaped above


def reference_links(ref) -> SafeString:
    """Return the PubMed, PMC and open-access links of a reference as HTML."""
    links = [
        (ref.pubmed_url, f"PubMed {ref.pmid}"),
        (ref.pmc_url, f"Free full text ({ref.pmcid})"),
        (ref.open_access_pdf if not ref.pmcid else "", "Free full text (PDF)"),
    ]
    return format_html_join(" · ", '<a href="{}" rel="noopener">{}</a>', [link for link in links if link[0]])
