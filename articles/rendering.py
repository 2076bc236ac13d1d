"""Turn an article's working copy into the HTML and reference list patients read."""

import re
from dataclasses import dataclass, field

from django.utils.html import format_html
from django.utils.text import slugify

from articles import citations
from articles.models import Article, EvidenceLevel, Reference
from articles.sanitize import plain_text

NOT_YET_APPROVED = "Not yet approved"
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


def reference_entry(ref: Reference, number: int, backlink: str = "") -> dict:
    """Return the JSON-ready form of one numbered reference, as a snapshot stores it."""
    return {
        "number": number,
        "key": ref.citation_key,
        "title": ref.title,
        "ama": citations.format_ama(ref),
        "ama_html": str(citations.format_ama_html(ref)),
        "links_html": str(citations.reference_links(ref)),
        "doi": ref.doi,
        "pmid": ref.pmid,
        "is_retracted": ref.is_retracted,
        "retraction_note": ref.retraction_note,
        "backlink": backlink,
    }


def evidence_label(level: str) -> str:
    """Return the inline label that tells patients (and screen readers) what kind of study backs a claim."""
    return format_html(
        ' <span class="evidence-label evidence-{}"><span class="visually-hidden">Evidence: </span>{}</span>',
        level.lower(),
        EvidenceLevel(level).label,
    )


def unapproved_label() -> str:
    return format_html(' <mark class="evidence-label evidence-unapproved">{}</mark>', NOT_YET_APPROVED)


def _labels(html: str, levels: dict[str, str] | None, mark_unapproved: bool) -> dict[int, str]:
    """Return the evidence label to place after each statement's last marker, by marker index in `html`."""
    labels = {}
    if levels is not None or mark_unapproved:
        for statement in citations.statements(html):
            level = (levels or {}).get(statement.hash)
            if level:
                labels[statement.marker_indices[-1]] = evidence_label(level)
            elif mark_unapproved:
                labels[statement.marker_indices[-1]] = unapproved_label()
    return labels


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
        contents.append({"id": anchor, "title": title or f"Section {number}"})
    ids = iter(contents)
    return _H2.sub(lambda match: f'<h2 id="{next(ids)["id"]}">{match.group(1)}</h2>', body_html), contents


def render_article(
    article: Article, *, levels: dict[str, str] | None = None, mark_unapproved: bool = False
) -> RenderedArticle:
    """Render the working copy: numbered citations, reference list in order of first citation.

    `levels` maps statement hashes to approved evidence levels; each statement then carries its label.
    With `mark_unapproved` (previews), statements without an approved level are marked as such.
    """
    references, unknown = article.resolve_citations()
    numbers = {ref.citation_key: number for number, ref in enumerate(references, start=1)}
    key_points = article.key_points
    # A reference's backlink goes to its first citation: in the key points if they cite it, else in the body.
    anchors = {
        **citations.first_citation_anchors(article.body, numbers),
        **citations.first_citation_anchors(key_points, numbers, id_prefix=KEY_POINT_CITE_PREFIX),
    }
    body_html, contents = with_section_ids(
        citations.render_markers(article.body, numbers, after=_labels(article.body, levels, mark_unapproved)),
        article.body,
    )
    key_points_html = citations.render_markers(
        key_points,
        numbers,
        after=_labels(key_points, levels, mark_unapproved),
        id_prefix=KEY_POINT_CITE_PREFIX,
    )
    return RenderedArticle(
        body_html=body_html,
        key_points_html=key_points_html,
        contents=contents,
        references=[
            reference_entry(ref, numbers[ref.citation_key], anchors.get(numbers[ref.citation_key], ""))
            for ref in references
        ],
        unknown_keys=unknown,
        malformed_markers=list(
            dict.fromkeys(citations.malformed_markers(key_points) + citations.malformed_markers(article.body))
        ),
        cited=references,
    )
