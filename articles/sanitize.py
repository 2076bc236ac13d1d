"""The one bleach policy for everything staff type that patients read.

Rich text (article bodies, disclaimers, bios) goes through `clean_html`; text that must carry no
markup at all (titles, abstracts imported from aggregators) goes through `plain_text`. A link is on the site
only when a browser would take it to SITE_URL's host; every other link is marked external (EXTERNAL_LINK_REL).
"""

import html
import re

import bleach
from ada_url import URL
from bleach.html5lib_shim import Filter, convert_entities
from django.conf import settings
from django.utils.html import format_html

from articles.parse_once import parsed

ALLOWED_TAGS = frozenset(
    {
        "h2", "h3", "h4", "p", "br", "ul", "ol", "li",
        "strong", "b", "em", "i", "sub", "sup",
        "a", "blockquote",
        "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel"],
    "th": ["scope", "colspan", "rowspan"],
    "td": ["colspan", "rowspan"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
EXTERNAL_LINK_REL = "noopener nofollow"

# Elements whose content is code or embedded documents, not prose: dropped with their content
# rather than left behind as stray text. An element left open loses only its opening tag, so the
# staff text after it survives (as text) instead of vanishing to the end of the field.
_CODE_ELEMENTS = r"script|style|template|iframe|object|embed|noscript|textarea|title|xmp|noembed|noframes|svg|math"
_CLOSED_CODE_ELEMENT = re.compile(rf"<({_CODE_ELEMENTS})\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_CODE_ELEMENT_TAG = re.compile(rf"</?(?:{_CODE_ELEMENTS})\b[^>]*>?", re.IGNORECASE)


def _drop_code(value: str, replacement: str) -> str:
    return _CODE_ELEMENT_TAG.sub(replacement, _CLOSED_CODE_ELEMENT.sub(replacement, value))


_EMPTY_PARAGRAPH = re.compile(r"<p>(\s|&nbsp;|<br>)*</p>")


def _link_destination(href: str) -> URL | None:
    """Return where a browser on this site goes for `href`, or None if it goes nowhere.

    By the WHATWG URL rules browsers follow, not RFC 3986: they strip tabs and newlines, read a backslash as
    a slash and `///host` as `//host`, so `/\\evil.example` leaves the site although it looks like a path.
    """
    try:
        return URL(href, base=settings.SITE_URL)
    except ValueError:
        return None


def _link_attributes(attrs: dict, site_host: str) -> dict:
    attrs.pop((None, "rel"), None)
    href = attrs.get((None, "href"))
    if href is None:
        return attrs
    # bleach hands filters the attribute as written and writes back the character references it knows:
    # those are what a browser decodes.
    destination = _link_destination(convert_entities(href))
    if destination is None or destination.protocol.rstrip(":") not in ALLOWED_PROTOCOLS:
        del attrs[(None, "href")]
    elif destination.hostname != site_host:
        attrs[(None, "rel")] = EXTERNAL_LINK_REL
    return attrs


class ExternalLinkFilter(Filter):
    """Give every link that leaves SITE_URL's host rel="noopener nofollow"; drop any rel staff typed.

    Also drop an href whose scheme, as the browser reads it, is not allowed: bleach's own check reads
    the href differently from a browser.
    """

    def __iter__(self):
        site_host = URL(settings.SITE_URL).hostname
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["name"] == "a":
                token["data"] = _link_attributes(dict(token["data"]), site_host)
            yield token


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[ExternalLinkFilter],
)

# What bleach.clean(tags=set(), strip=True) builds on each call, built once: a body's plain text is made a
# paragraph at a time. Like _cleaner, one per process (the workers are sync: one request at a time).
_text_cleaner = bleach.Cleaner(tags=set(), strip=True, strip_comments=True)


_TAG_LIKE = re.compile(r"<[/!?a-zA-Z]")  # as a browser reads "<": followed by a space it is text
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates: PostgreSQL cannot store them
MAX_PASSES = 3


def storable_text(value: str) -> str:
    """Return `value` without the characters a database cannot store (NUL, lone surrogates)."""
    return _UNSTORABLE.sub("", value)


def clean_html(value: str) -> str:
    """Return `value` reduced to the tags, attributes and link schemes patients may be shown."""
    if not value:
        return ""
    cleaned = storable_text(value)
    # Cleaning again until nothing changes: html5lib rebuilds some broken nesting (<a> in <a>) differently
    # on each pass, and a saved body must not change every time it is saved.
    for _ in range(MAX_PASSES):
        previous, cleaned = cleaned, _EMPTY_PARAGRAPH.sub("", _cleaner.clean(_drop_code(cleaned, ""))).strip()
        if cleaned == previous:
            break
    return cleaned


def clean_link(href: str, text: str) -> str:
    """Return a link to `href` reading `text`, through the same policy as clean_html but in one pass.

    Built from escaped parts, it is one element with nothing to re-nest: a second pass would change nothing
    (tests/test_sanitize.py compares the two), and a reference list makes dozens of these per rendering.
    """
    return _cleaner.clean(format_html('<a href="{}">{}</a>', storable_text(href), storable_text(text))).strip()


def clean_links(links: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Return each (href, text) as clean_link makes it, all in one pass: a reference list shows dozens of links."""
    links = list(dict.fromkeys(links))
    # Each in a paragraph of its own: its escaped text cannot close one, so the cleaned pieces split apart again.
    source = "".join(format_html('<p><a href="{}">{}</a></p>', storable_text(h), storable_text(t)) for h, t in links)
    pieces = _cleaner.clean(source).removeprefix("<p>").removesuffix("</p>").split("</p><p>") if links else []
    if len(pieces) != len(links):
        pieces = [clean_link(href, text) for href, text in links]
    return dict(zip(links, pieces, strict=True))


def plain_text(value: str) -> str:
    """Return `value` with all markup removed and entities decoded, whitespace collapsed."""
    if not value:
        return ""
    return _plain_from(_text_cleaner.clean(_drop_code(storable_text(value), " ")))


def _plain_from(stripped: str) -> str:
    """Finish plain_text from the cleaner's first pass over the value."""
    text = " ".join(html.unescape(stripped).split())
    # Decoding entities can reveal markup ("&lt;b&gt;"): strip again until none is left.
    for _ in range(MAX_PASSES - 1):
        if not _TAG_LIKE.search(text):
            return text
        text = " ".join(html.unescape(_text_cleaner.clean(_drop_code(text, " "))).split())
    if not _TAG_LIKE.search(text):
        return text
    return " ".join(_TAG_LIKE.sub(" ", text).split())


_BLOCK_END = re.compile(r"</(?:p|li|h2|h3|h4|blockquote|td|th|caption)\s*>", re.IGNORECASE)
# Between the blocks of one cleaner pass: a private-use character, which the cleaner keeps as text.
_BLOCK_SEPARATOR = "\ue000"


def plain_paragraphs(value: str) -> list[str]:
    """Return the plain text of each paragraph, heading, list item or cell of sanitized HTML."""
    return parsed(_plain_paragraphs, value or "")


def _plain_paragraphs(value: str) -> list[str]:
    """plain_text of each block, from one pass of the cleaner over them all (a body has dozens)."""
    blocks = [_drop_code(storable_text(block), " ") for block in _BLOCK_END.split(value)]
    left_open = any("<" in block.rpartition(">")[2] for block in blocks)  # a tag or comment cut by a block's end
    stripped = []
    if not left_open and _BLOCK_SEPARATOR not in value:
        stripped = _text_cleaner.clean(_BLOCK_SEPARATOR.join(blocks)).split(_BLOCK_SEPARATOR)
    if len(stripped) != len(blocks):
        # Unsanitized markup a separator could fall into (a comment left open), or one in the text: each block alone.
        stripped = [_text_cleaner.clean(block) for block in blocks]
    return [text for text in map(_plain_from, stripped) if text]


def plain_lines(value: str) -> str:
    """Return `value` as plain text, one item a line: each line as plain_text leaves it, empty lines dropped."""
    lines = (plain_text(line) for line in storable_text(value or "").splitlines())
    return "\n".join(line for line in lines if line)
