"""Citation markers, Vancouver numbering and AMA (11th edition) reference formatting.

Writers cite by stable key, `[@mahmoud2025]` or `[@mahmoud2025; @hu2016]`; numbers exist only at
render time, in order of first citation, so reordering text never renumbers what was approved.
"""

import difflib
import hashlib
import html as html_lib
import json
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from articles.parse_once import parsed
from articles.sanitize import clean_link
from articles.sentence_rules import SentenceRules, sentence_rules

KEY_PATTERN = r"[A-Za-z0-9_](?:[A-Za-z0-9_:.\-]*[A-Za-z0-9_])?"
_MARKER = re.compile(r"\[\s*(@[^\[\]<>]*?)\s*\]")
MARKER_RE = _MARKER
_MARKER_KEY = re.compile(rf"^@({KEY_PATTERN})$")
# Read from a block's text, where the good markers are placeholders: it stops at the block's end, never at a tag.
_LOOKS_LIKE_MARKER = re.compile(r"\[\s*@[^\]\ue000]*\]?")
# A tag, with quoted attribute values that may contain ">": markers inside tags are not citations.
_TAG = re.compile(r"""<(?:[^>"']|"[^"]*"|'[^']*')*>""")
MAX_AUTHORS_LISTED = 6
AUTHORS_BEFORE_ET_AL = 3
UNKNOWN_KEY = "No reference has the citation key “{key}”.{suggestion} Correct the key or import the reference."
DID_YOU_MEAN = " Did you mean {keys}?"
CLOSEST_KEYS = 3
SUGGESTED_FOR = 10  # unknown keys that get suggestions: each compares itself with every known key


@dataclass(frozen=True)
class CitationMarker:
    start: int
    end: int
    keys: tuple[str, ...]


def _within(spans: list[tuple[int, int]]):
    """Return a test of whether a position lies in one of `spans` (in order, not overlapping), by bisection.

    Asking each of a body's markers about each of its tags made long bodies quadratic (73 s for 200,000 chars).
    """
    starts = [start for start, _ in spans]

    def test(position: int) -> bool:
        index = bisect_right(starts, position) - 1
        return index >= 0 and position < spans[index][1]

    return test


def _outside_tags(text: str, pattern: re.Pattern):
    """Yield the matches of `pattern` in `text` that are not inside an HTML tag (an attribute value)."""
    in_tag = _within([(m.start(), m.end()) for m in _TAG.finditer(text)] if "<" in text else [])
    for match in pattern.finditer(text):
        if not in_tag(match.start()):
            yield match


def find_markers(text: str) -> list[CitationMarker]:
    """Return the well-formed citation markers in `text`, in document order (none inside tags)."""
    return parsed(_find_markers, text or "")


def _find_markers(text: str) -> list[CitationMarker]:
    markers = []
    for match in _outside_tags(text, _MARKER):
        parts = [part.strip() for part in match.group(1).split(";")]
        keys = [m.group(1) for m in map(_MARKER_KEY.match, parts) if m]
        if len(keys) == len(parts):
            markers.append(CitationMarker(match.start(), match.end(), tuple(dict.fromkeys(keys))))
    return markers


def malformed_markers(text: str) -> list[str]:
    """Return each bracketed `[@...` snippet of the text that is not a valid citation marker, once."""
    snippets = (match.group(0).strip() for block in _blocks(text or "") for match in _LOOKS_LIKE_MARKER.finditer(block))
    return list(dict.fromkeys(snippets))


def closest_keys(key: str, known_keys) -> list[str]:
    """Return the few known citation keys spelled most like `key`, closest first."""
    return difflib.get_close_matches(key, list(known_keys), n=CLOSEST_KEYS, cutoff=0.6)


def unknown_key_message(key: str, known_keys) -> str:
    """Return the plain-text message for a key that matches no reference, with the keys the writer may mean."""
    closest = closest_keys(key, known_keys)
    keys = " or ".join([", ".join(closest[:-1]), closest[-1]] if len(closest) > 1 else closest)
    return UNKNOWN_KEY.format(key=key, suggestion=DID_YOU_MEAN.format(keys=keys) if closest else "")


def unknown_key_messages(keys, known_keys) -> list[str]:
    """Return one message per unknown key; `known_keys` (a lazy queryset will do) is read only if needed."""
    keys = list(dict.fromkeys(keys))
    known = list(known_keys) if keys else []
    return [unknown_key_message(key, known if n < SUGGESTED_FOR else []) for n, key in enumerate(keys)]


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


def _inside_links(html: str):
    """Return a test of whether a position of `html` lies inside an <a> element."""
    spans, opened = [], None
    for tag in _TAG.finditer(html):
        name = _TAG_NAME.match(tag.group(0))
        if name and name.group(1).lower() == "a":
            if tag.group(0).startswith("</"):
                if opened is not None:
                    spans.append((opened, tag.start()))
                opened = None
            else:
                opened = tag.end()
    return _within(spans)


# What may close a statement right after its last marker: "[@a].", "[@a]);", "[@a]?”".
_CLOSING_PUNCTUATION = re.compile("[.,;:!?)\\]\"'\u201d\u2019]{0,4}")


def render_markers(
    html: str,
    numbers: dict[str, int],
    *,
    missing_label: str = "?",
    after: dict[int, Callable[[str, bool], str]] | None = None,
    id_prefix: str = "cite-",
) -> str:
    """Replace citation markers in sanitized HTML by superscript links to the numbered reference list.

    Runs of three or more consecutive numbers collapse to a range (AMA style: 1-3). A key missing
    from `numbers` renders as a visible `missing_label`, which only previews can contain. `after`
    maps a marker's 1-based index to a function that returns the HTML placed right after it (the
    evidence label of a statement); it is given the punctuation that follows the marker, which it
    replaces, and whether the marker is inside a link. `id_prefix` names the superscripts' ids, so two
    parts of one page (key points, body) never share one.
    """
    out: list[str] = []
    last = 0
    in_link = _inside_links(html)
    reference = escape(gettext("Reference %(number)s") % {"number": "{0}"})  # the words in the active language
    for index, marker in enumerate(find_markers(html), start=1):
        out.append(html[last : marker.start])
        last = marker.end
        known = [numbers[key] for key in marker.keys if key in numbers]
        pieces = []
        for first, final in _number_runs(known):
            # A link cannot hold a link: inside one, the numbers are plain (the reference list still has them).
            link = "{0}" if in_link(marker.start) else f'<a href="#ref-{{0}}" aria-label="{reference}">{{0}}</a>'
            if final - first >= 2:
                pieces.append(link.format(first) + "&#8211;" + link.format(final))
            else:
                pieces.extend(link.format(n) for n in range(first, final + 1))
        if len(known) < len(marker.keys):
            pieces.append(f'<span class="citation-missing">{escape(missing_label)}</span>')
        out.append(f'<sup class="citation" id="{id_prefix}{index}">{",".join(pieces)}</sup>')
        if after and index in after:
            # The label takes the punctuation that closes its statement, so the two never part at a line end.
            closing = _CLOSING_PUNCTUATION.match(html, last).group(0)
            last += len(closing)
            out.append(after[index](closing, in_link(marker.start)))
    out.append(html[last:])
    return "".join(out)


def first_citation_anchors(html: str, numbers: dict[str, int], *, id_prefix: str = "cite-") -> dict[int, str]:
    """Return, for each reference number, the id of the superscript that first cites it."""
    anchors: dict[int, str] = {}
    for index, marker in enumerate(find_markers(html), start=1):
        for key in marker.keys:
            if key in numbers:
                anchors.setdefault(numbers[key], f"{id_prefix}{index}")
    return anchors


# --- Sentences and evidence statements ------------------------------------------------------------

# Elements whose text is one unit of prose: a sentence never runs from one into the next.
_BLOCK_TAGS = frozenset({"p", "li", "h2", "h3", "h4", "blockquote", "td", "th", "caption", "ul", "ol", "table", "tr"})
_TAG_NAME = re.compile(r"^</?\s*([a-zA-Z0-9]+)")
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")
_LEADING_PLACEHOLDERS = re.compile("^(\\s*\ue000\\d+\ue001)+")


@dataclass(frozen=True)
class Sentence:
    """One sentence or list item of an article body, as plain text with its citation markers."""

    text: str
    keys: tuple[str, ...] = ()
    marker_indices: tuple[int, ...] = ()

    @property
    def is_statement(self) -> bool:
        return bool(self.keys)

    @property
    def normalised_text(self) -> str:
        return normalise_statement_text(self.text)

    @cached_property  # asked for each statement by the read model, the checks, the labels and the snapshot
    def hash(self) -> str:
        return statement_hash(self.text, self.keys)


def normalise_statement_text(text: str) -> str:
    """Return the words of a statement without its citation markers, whitespace and Unicode normalised."""
    words = _MARKER.sub(" ", unicodedata.normalize("NFKC", text))
    words = " ".join(words.split())
    return re.sub(r"\s+([.,;:!?])", r"\1", words)


def statement_hash(text: str, keys) -> str:
    """Return the hash an approval is pinned to: the statement's normalised words and the keys it cites."""
    payload = {"text": normalise_statement_text(text), "keys": sorted(set(keys))}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _ends_sentence(text: str, stop_start: int, next_start: int, rules: SentenceRules) -> bool:
    """Return True if the punctuation at `stop_start` ends a sentence (not "et al.", "e.g.", "Dr." ...)."""
    # Bounded look-around: a long paragraph must not make splitting quadratic.
    following = _PLACEHOLDER.sub("", text[next_start : next_start + 40]).lstrip().lstrip(rules.openers)
    if following[:1].islower():
        return False
    if text[stop_start] != ".":
        return True
    words = _PLACEHOLDER.sub("", text[max(0, stop_start - 80) : stop_start]).split()
    if not words:
        return True
    token = words[-1].lstrip("(\"'\u201c\u2018[").lower()
    if token in rules.abbreviations or re.fullmatch(r"(?:[a-z]\.)+[a-z]", token):
        return False
    if token in rules.numbered_abbreviations:
        return not following[:1].isdigit()
    if re.fullmatch(r"[a-z]", token):
        # An initial ("J. R. Smith") follows a capitalised word or another initial; "vitamin C." ends a sentence.
        before = words[-2] if len(words) > 1 else ""
        return bool(before) and not before[:1].isupper()
    return True


def split_sentences(text: str, *, language: str = "en") -> list[str]:
    """Split prose into sentences, keeping abbreviations, initials and decimal numbers whole."""
    sentences, start = [], 0
    rules = sentence_rules(language)
    for match in rules.end.finditer(text):
        if _ends_sentence(text, match.start(), match.end(), rules):
            sentences.append(text[start : match.end()])
            start = match.end()
    sentences.append(text[start:])
    # A marker written after the full stop ("Faster. [@a] Next") belongs to the sentence before it.
    merged: list[str] = []
    for sentence in sentences:
        leading = _LEADING_PLACEHOLDERS.match(sentence)
        if leading and merged:
            merged[-1] += leading.group(0)
            sentence = sentence[leading.end() :]
        if sentence.strip():
            merged.append(sentence)
    return [" ".join(s.split()) for s in merged]


def _prose(html_text: str) -> str:
    """Return HTML text decoded, without the private-use characters the placeholders are made of."""
    return html_lib.unescape(html_text).replace("\ue000", "").replace("\ue001", "")


def _blocks(html: str):
    """Yield the text of each block of `html` (paragraph, list item, cell ...) with markers as placeholders."""
    markers = list(enumerate(find_markers(html), start=1))
    starts = [marker.start for _, marker in markers]
    stack: list[list[str]] = [[]]
    position = 0
    tokens = _TAG.finditer(html or "")
    pieces = []
    for tag in tokens:
        pieces.append(("text", position, tag.start()))
        pieces.append(("tag", tag.start(), tag.end()))
        position = tag.end()
    pieces.append(("text", position, len(html or "")))
    for kind, start, end in pieces:
        if kind == "tag":
            name_match = _TAG_NAME.match(html[start:end])
            name = name_match.group(1).lower() if name_match else ""
            if name in _BLOCK_TAGS:
                if stack[-1]:
                    yield "".join(stack[-1])
                stack[-1] = []
                if html[start + 1 : start + 2] == "/":
                    if len(stack) > 1:
                        stack.pop()
                else:
                    stack.append([])
            elif name == "br":
                stack[-1].append(" ")
            continue
        cursor = start
        for index, marker in markers[bisect_left(starts, start) : bisect_left(starts, end)]:
            stack[-1].append(_prose(html[cursor : marker.start]))
            stack[-1].append(f"\ue000{index}\ue001")
            cursor = marker.end
        stack[-1].append(_prose(html[cursor:end]))
    for leftover in reversed(stack):
        if "".join(leftover).strip():
            yield "".join(leftover)


def _marker_text(html: str, marker: CitationMarker) -> str:
    return html[marker.start : marker.end]


def sentence_blocks(html: str, *, language: str = "en") -> list[list[Sentence]]:
    """Return the sentences of sanitized HTML in `language` block by block (paragraph, list item ...), with their
    citations."""
    return parsed(_sentence_blocks, html or "", language)


def _sentence_blocks(html: str, language: str) -> list[list[Sentence]]:
    markers = {index: marker for index, marker in enumerate(find_markers(html), start=1)}
    result = []
    for block in _blocks(html):
        found = []
        for sentence in split_sentences(block, language=language):
            indices = tuple(int(i) for i in _PLACEHOLDER.findall(sentence))
            keys = tuple(dict.fromkeys(key for i in indices for key in markers[i].keys))
            text = _PLACEHOLDER.sub(lambda m: _marker_text(html, markers[int(m.group(1))]), sentence)
            found.append(Sentence(text=text.strip(), keys=keys, marker_indices=indices))
        result.append(found)
    return result


def sentences(html: str, *, language: str = "en") -> list[Sentence]:
    """Return every sentence and list item of sanitized HTML, in order, with the citations each carries."""
    return [sentence for block in sentence_blocks(html, language=language) for sentence in block]


def statements(html: str, *, language: str = "en") -> list[Sentence]:
    """Return the evidence statements of an article body: the sentences and list items that cite."""
    return [sentence for sentence in sentences(html, language=language) if sentence.is_statement]


def unique_statements(found: list[Sentence]) -> list[Sentence]:
    """Return each statement once, at its first place: the same words citing the same keys are one claim."""
    unique: dict[str, Sentence] = {}
    for sentence in found:
        unique.setdefault(sentence.hash, sentence)
    return list(unique.values())


# --- AMA formatting -------------------------------------------------------------------------------


def _initials(given: str) -> str:
    """Return AMA initials: "Rami H" -> "RH", "Jean-Pierre" -> "J-P"."""
    initials = []
    for word in given.replace(".", " ").split():
        parts = [p for p in word.split("-") if p]
        initials.append("-".join(p[0].upper() for p in parts))
    return "".join(initials)


def _text_of(author: dict, name: str) -> str:
    value = author.get(name)
    return value.strip() if isinstance(value, str) else ""


def format_author(author) -> str:
    """Return one author in AMA form, "Surname AB" ("Surname AB Jr"), or a group author's name as written."""
    if isinstance(author, str):
        return author.strip()
    if not isinstance(author, dict):
        return ""
    if literal := _text_of(author, "literal"):
        return literal
    name = f"{_text_of(author, 'family')} {_initials(_text_of(author, 'given'))}".strip()
    return f"{name} {_text_of(author, 'suffix')}".strip() if _text_of(author, "family") else name


def format_authors(authors) -> str:
    names = [name for name in map(format_author, authors if isinstance(authors, list) else []) if name]
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


def format_ama_html(ref, links: dict | None = None) -> SafeString:
    """Return a reference in AMA style as HTML: journal in italics, DOI linked (`links`: see reference_links)."""
    authors, title, journal, details, doi = _ama_parts(ref)
    parts = [escape(authors), escape(title)]
    if journal:
        parts.append(format_html("<i>{}</i>", journal))
    parts.append(escape(details))
    if doi:
        parts.append(_link(f"https://doi.org/{ref.doi}", doi, links))
    return mark_safe(" ".join(part for part in parts if part))  # noqa: S308 - each part is escaped above


def _link(href: str, text: str, links: dict | None) -> str:
    """Return a link through the one link policy (sanitize.py): the addresses come from reference records."""
    return (links or {}).get((href, text)) or clean_link(href, text)


def _links_shown(ref) -> list[tuple[str, str]]:
    return [
        (ref.pubmed_url, f"PubMed {ref.pmid}"),
        (ref.pmc_url, gettext("Free full text (%(pmcid)s)") % {"pmcid": ref.pmcid}),
        (ref.open_access_pdf if not ref.pmcid else "", gettext("Free full text (PDF)")),
    ]


def link_targets(ref) -> list[tuple[str, str]]:
    """Return the (address, text) of each link the reference shows, its DOI's too, for sanitize.clean_links."""
    doi = [(f"https://doi.org/{ref.doi}", f"doi:{ref.doi}")] if ref.doi else []
    return [(href, text) for href, text in [*doi, *_links_shown(ref)] if href]


def reference_links(ref, links: dict | None = None) -> SafeString:
    """Return the PubMed, PMC and open-access links of a reference as HTML, in the active language.

    `links`: these links as sanitize.clean_links made them for a whole reference list (else each is cleaned)."""
    shown = (_link(href, text, links) for href, text in _links_shown(ref) if href)
    return mark_safe(" · ".join(shown))  # noqa: S308 - clean_link
