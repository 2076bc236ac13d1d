"""Turn an article's working copy into the HTML and reference list patients read."""

from dataclasses import dataclass, field

from articles import citations
from articles.models import Article, Reference


@dataclass
class RenderedArticle:
    body_html: str
    references: list[dict] = field(default_factory=list)
    unknown_keys: list[str] = field(default_factory=list)
    malformed_markers: list[str] = field(default_factory=list)


def reference_entry(ref: Reference, number: int, backlink: str = "") -> dict:
    """Return the JSON-ready form of one numbered reference, as a snapshot stores it."""
    return {
        "number": number,
        "key": ref.citation_key,
        "ama": citations.format_ama(ref),
        "ama_html": str(citations.format_ama_html(ref)),
        "links_html": str(citations.reference_links(ref)),
        "doi": ref.doi,
        "pmid": ref.pmid,
        "is_retracted": ref.is_retracted,
        "retraction_note": ref.retraction_note,
        "backlink": backlink,
    }


def render_article(article: Article) -> RenderedArticle:
    """Render the working copy: numbered citations, reference list in order of first citation."""
    references, unknown = article.resolve_citations()
    numbers = {ref.citation_key: number for number, ref in enumerate(references, start=1)}
    anchors = citations.first_citation_anchors(article.body, numbers)
    return RenderedArticle(
        body_html=citations.render_markers(article.body, numbers),
        references=[
            reference_entry(ref, numbers[ref.citation_key], anchors.get(numbers[ref.citation_key], ""))
            for ref in references
        ],
        unknown_keys=unknown,
        malformed_markers=citations.malformed_markers(article.body),
    )
