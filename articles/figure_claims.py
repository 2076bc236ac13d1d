"""Before/after photographs as claims: each such figure of a body is an evidence statement a reviewer approves.

A before/after photograph tells patients what a treatment did, so it is reviewed like a cited sentence (DESIGN.md,
rule 2) and carries "Results vary" where patients see it (`figures.figure_html`). It joins the article's statements
(`Article.statements`) as a `FigureClaim`: its text is the figure's marker and caption, and its hash is pinned to
the picture's content hash and its description too, so replacing the photograph or re-describing it withdraws the
approval (the desk then shows it again as "edited after approval"). Everything else is the statement machinery's:
the stored `EvidenceStatement`, `approve_statement` with a level and certainty, the desk, the snapshot's record.
"""

import hashlib
import json
from dataclasses import dataclass

from articles import citations, figures

RESULTS_VARY = figures.RESULTS_VARY  # what patients read next to the photograph
FIGURE_CLAIM_TEXT = "{marker} Before/after photograph: {caption}"


@dataclass(frozen=True)
class FigureClaim(citations.Sentence):
    """A before/after figure of the body, as the statement a reviewer approves; it cites no reference."""

    image_id: int = 0
    alt: str = ""
    pin: tuple = ()  # what the approval is pinned to besides the text: the picture's file and description

    @property
    def is_statement(self) -> bool:
        return True

    @property
    def hash(self) -> str:
        payload = {"figure": self.image_id, "text": self.normalised_text, "pin": list(self.pin)}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def statements(html: str) -> list[FigureClaim]:
    """Return a claim for each before/after photograph the body shows, in order (one query, none without figures)."""
    from articles.models import Image

    ids = figures.figure_ids(html)
    if not ids:
        return []
    found = {image.pk: image for image in Image.objects.filter(pk__in=ids, before_after=True)}
    return [claim(found[i]) for i in ids if i in found]


def claim(image) -> FigureClaim:
    marker = f"[[figure:{image.pk}]]"
    caption = image.caption or image.alt_text or image.title
    return FigureClaim(
        text=FIGURE_CLAIM_TEXT.format(marker=marker, caption=caption),
        image_id=image.pk,
        alt=image.alt_text,
        pin=(image.content_hash, image.decorative, image.alt_text, image.caption, image.credit),
    )


def marker_regex(image) -> str:
    """Return a database regular expression matching the image's figure marker (spaces allowed, as figures.py)."""
    return figures.MARKER_PATTERN.replace(r"(\d{1,9})", str(image.pk))


def articles_using(image):
    """Return the articles (not archived) whose working copy shows the image."""
    from articles.models import Article

    live = Article.objects.exclude(status=Article.Status.ARCHIVED)
    return live.filter(body__iregex=marker_regex(image)).order_by("pk")


def resync(image) -> None:
    """Store anew the statements of the articles showing the image: a before/after claim is pinned to the picture."""
    from articles.models import EvidenceStatement

    for article in articles_using(image):
        EvidenceStatement.objects.sync(article)
