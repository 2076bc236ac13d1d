"""Turn an article's working copy into the HTML and reference list patients read."""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.html import format_html
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_noop, ngettext

from articles import citations, evidence_legend, figures
from articles.models import Article, EvidenceLevel, Reference
from articles.sanitize import clean_links, plain_text

NOT_YET_APPROVED = gettext_noop("Not yet approved")
CONTENTS_FROM_SECTIONS = 3  # a body with this many h2 sections or more gets "On this page"
KEY_POINT_CITE_PREFIX = "key-point-cite-"  # the key points' citation ids: the body's are "cite-N"
SECTION_PREFIX = "section-"  # section ids: no other id of the article page starts so
_H2 = re.compile(r"<h2>(.*?)</h2>", re.DOTALL)  # sanitized HTML: an h2 carries no attributes (sanitize.py)


@dataclass
class RenderedArticle:
    body_html: str
    key_points_html: str = ""
    contents: list[dict] = field(default_factory=list)  # [{"id": ..., "title": ...}] of the body's h2 sections
    references: list[dict] = field(default_factory=list)
    unknown_keys: list[str] = field(default_factory=list)
    malformed_markers: list[str] = field(default_factory=list)
    cited: list[Reference] = field(default_factory=list)  # the references as resolved, in citation order
    figures: list[dict] = field(default_factory=list)  # each figure shown, as the snapshot freezes it (figures.py)
    figure_problems: list[str] = field(default_factory=list)  # what stops its figures being published


@dataclass
class RenderingProblems:
    """What rendering the working copy would find wrong, found without rendering it (`content_problems` reads it)."""

    unknown_keys: list[str]
    malformed_markers: list[str]
    figure_problems: list[str]


def rendering_problems(article: Article, unknown_keys: list[str], found: dict) -> RenderingProblems:
    """Return the problems `render_article` reports: unknown keys, unreadable markers, unusable figures (`found`:
    the library's images of the body, figures.library_images)."""
    markers = citations.malformed_markers(article.key_points) + citations.malformed_markers(article.body)
    return RenderingProblems(unknown_keys, list(dict.fromkeys(markers)), figures.problems(article, found))


def reference_entry(ref: Reference, number: int, backlink: str = "", links: dict | None = None) -> dict:
    """Return the JSON-ready form of one numbered reference, as a snapshot stores it (`links`: clean_links's)."""
    return {
        "number": number,
        "key": ref.citation_key,
        "title": ref.title,
        "ama": citations.format_ama(ref),
        "ama_html": str(citations.format_ama_html(ref, links)),
        "links_html": str(citations.reference_links(ref, links)),
        "doi": ref.doi,
        "pmid": ref.pmid,
        "is_retracted": ref.is_retracted,
        "retraction_note": ref.retraction_note,
        "backlink": backlink,
    }


def evidence_label(level: str, *, claims: int = 1, closing: str = "", in_link: bool = False) -> str:
    """Return the inline label that tells patients (and screen readers) what kind of study backs a claim.

    It links to the legend on the page, and it carries the punctuation that closes its statement in one
    unbreakable piece: on a narrow screen the label moves to the next line with its full stop, rather than
    leave the stop alone there. The label stays before the stop because it belongs to the claim it qualifies.
    One label may stand for the last `claims` statements of a paragraph (see `render_article`). Its words are in
    the active language: the snapshot freezes them in the article's.
    """
    said = ngettext("Evidence: ", "Evidence for the last %(claims)d claims: ", claims) % {"claims": claims}
    label = format_html(
        '<span class="visually-hidden">{}</span>{}',
        said,
        gettext(EvidenceLevel(level).label),
    )
    element = (
        format_html('<span class="evidence-label evidence-{}">{}</span>', level.lower(), label)
        if in_link  # a link cannot hold a link
        else format_html(
            '<a class="evidence-label evidence-{}" href="#{}">{}</a>', level.lower(), evidence_legend.LEGEND_ID, label
        )
    )
    return format_html(' <span class="evidence-tail">{}{}</span>', element, closing)


def unapproved_label(closing: str = "") -> str:
    return format_html(
        ' <span class="evidence-tail"><mark class="evidence-label evidence-unapproved">{}</mark>{}</span>',
        gettext(NOT_YET_APPROVED),
        closing,
    )


def _labels(
    html: str, levels: dict[str, str], *, mark_unapproved: bool, language: str
) -> dict[int, Callable[[str, bool], str]]:
    """Return, by the index of the marker it follows, the label of each statement (or run of statements).

    Statements next to each other in one paragraph or list item with the same level show one label, after the
    last of them; any sentence without a label (uncited or not yet approved) ends the run.
    """
    labels: dict[int, Callable[[str, bool], str]] = {}
    for block in citations.sentence_blocks(html, language=language):
        run: list[citations.Sentence] = []
        level = ""
        for sentence in [*block, None]:
            this = levels.get(sentence.hash, "") if sentence and sentence.is_statement else ""
            if run and this != level:
                labels[run[-1].marker_indices[-1]] = functools.partial(_label, level, len(run))
                run = []
            if this:
                run.append(sentence)
                level = this
            elif sentence and sentence.is_statement and mark_unapproved:
                labels[sentence.marker_indices[-1]] = lambda closing, _in_link: unapproved_label(closing)
    return labels


def _label(level: str, claims: int, closing: str, in_link: bool) -> str:
    return evidence_label(level, claims=claims, closing=closing, in_link=in_link)


def with_section_ids(body_html: str, source_html: str) -> tuple[str, list[dict]]:
    """Return the body with ids on its h2 headings, and the contents that link them, when it has enough sections.

    Ids come from the heading's words ("section-what-the-research-shows"), numbered when two headings read the
    same, so a link to a section holds while its heading does. `source_html` (the body with its markers) gives
    the headings' words without citation numbers.
    """
    titles = [
        " ".join(citations.MARKER_RE.sub(" ", plain_text(title)).split()) for title in _H2.findall(source_html or "")
    ]
    if len(titles) < CONTENTS_FROM_SECTIONS or len(_H2.findall(body_html)) != len(titles):
        return body_html, []
    contents, taken = [], set()
    for number, title in enumerate(titles, start=1):
        base = SECTION_PREFIX + (slugify(title, allow_unicode=True) or str(number))
        anchor, suffix = base, 2
        while anchor in taken:
            anchor, suffix = f"{base}-{suffix}", suffix + 1
        taken.add(anchor)
        contents.append({"id": anchor, "title": title or gettext("Section %(number)d") % {"number": number}})
    ids = iter(contents)
    return _H2.sub(lambda match: f'<h2 id="{next(ids)["id"]}">{match.group(1)}</h2>', body_html), contents


def render_article(article: Article, **options) -> RenderedArticle:
    """Render the working copy in its own language: the labels and captions it carries are in that language."""
    with translation.override(article.language):
        return _render_article(article, **options)


def _render_article(
    article: Article,
    *,
    levels: dict[str, str] | None = None,
    mark_unapproved: bool = False,
    resolved: tuple[list[Reference], list[str]] | None = None,
    found: dict | None = None,
) -> RenderedArticle:
    """Render the working copy: numbered citations, reference list in order of first citation.

    `levels` maps statement hashes to approved evidence levels; each statement then carries its label.
    With `mark_unapproved` (previews), statements without an approved level are marked as such.
    `resolved`: what `article.resolve_citations()` returns, when the caller has already asked it.
    `found`: the library's images of the body (figures.library_images), when the caller has already read them.
    """
    references, unknown = resolved or article.resolve_citations()
    numbers = {ref.citation_key: number for number, ref in enumerate(references, start=1)}
    key_points = article.key_points

    def labels(html: str) -> dict[int, Callable[[str, bool], str]]:
        if levels is None and not mark_unapproved:
            return {}
        return _labels(html, levels or {}, mark_unapproved=mark_unapproved, language=article.language)

    # A reference's backlink goes to its first citation: in the key points if they cite it, else in the body.
    anchors = {
        **citations.first_citation_anchors(article.body, numbers),
        **citations.first_citation_anchors(key_points, numbers, id_prefix=KEY_POINT_CITE_PREFIX),
    }
    found = found if found is not None else figures.library_images(figures.figure_ids(article.body))
    problems = rendering_problems(article, unknown, found)
    links = clean_links([target for ref in references for target in citations.link_targets(ref)])
    body_html, shown = figures.render(
        citations.render_markers(article.body, numbers, after=labels(article.body)), found, mark_missing=mark_unapproved
    )
    body_html, contents = with_section_ids(body_html, article.body)
    key_points_html = citations.render_markers(
        key_points, numbers, after=labels(key_points), id_prefix=KEY_POINT_CITE_PREFIX
    )
    return RenderedArticle(
        body_html=body_html,
        key_points_html=key_points_html,
        contents=contents,
        references=[
            reference_entry(ref, numbers[ref.citation_key], anchors.get(numbers[ref.citation_key], ""), links)
            for ref in references
        ],
        unknown_keys=problems.unknown_keys,
        malformed_markers=problems.malformed_markers,
        cited=references,
        figures=shown,
        figure_problems=problems.figure_problems,
    )
