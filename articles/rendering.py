"""Turn an article's working copy into the HTML and reference list patients read."""

from dataclasses import dataclass, field

from django.utils.html import format_html

from articles import citations
from articles.models import Article, EvidenceLevel, Reference

NOT_YET_APPROVED = "Not yet approved"


@dataclass
class RenderedArticle:
    body_html: str
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


def render_article(
    article: Article, *, levels: dict[str, str] | None = None, mark_unapproved: bool = False
) -> RenderedArticle:
    """Render the working copy: numbered citations, reference list in order of first citation.

    `levels` maps statement hashes to approved evidence levels; each statement then carries its label.
    With `mark_unapproved` (previews), statements without an approved level are marked as such.
    """
    references, unknown = article.resolve_citations()
    numbers = {ref.citation_key: number for number, ref in enumerate(references, start=1)}
    anchors = citations.first_citation_anchors(article.body, numbers)
    labels = {}
    if levels is not None or mark_unapproved:
        for statement in citations.statements(article.body):
            level = (levels or {}).get(statement.hash)
            if level:
                labels[statement.marker_indices[-1]] = evidence_label(level)
            elif mark_unapproved:
                labels[statement.marker_indices[-1]] = unapproved_label()
    return RenderedArticle(
        body_html=citations.render_markers(article.body, numbers, after=labels),
        references=[
            reference_entry(ref, numbers[ref.citation_key], anchors.get(numbers[ref.citation_key], ""))
            for ref in references
        ],
        unknown_keys=unknown,
        malformed_markers=citations.malformed_markers(article.body),
        cited=references,
    )
