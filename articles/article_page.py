"""An article page's parts that depend on its snapshot alone, rendered once and assembled on each request.

The body with its evidence labels, the key points, the reference list, the bylines and dates, the JSON-LD and
the feedback form are the same for every reader of a snapshot: they are rendered when the snapshot is published
(`store`, from `workflow.publish`) and kept beside it in `RenderedSnapshot`. The article page
(`views.ArticleDetailView`) then renders only what may change without a publish around them: the disclaimers
and urgent-help boxes in force, the notices that depend on the date or on a translation's original, the related
articles, the language links and the footer. A request does no Markdown, bleach, citation or template work that
grows with the article; the preview renders the same parts on the fly.

Disclaimers are not in the parts on purpose: a site-wide one changes every article's page, and rendering the
parts of every live snapshot again on each edit of it would be work proportional to the site. Each disclaimer's
text is rendered (sanitized) when it is saved, so the page includes the ones in force as they are.

Parts are kept with the `version` they were rendered with: a digest of the templates, translations and
settings they read. After a deploy that changes any of them, a page renders its parts again on its first
request and keeps them (`parts_for`); `manage.py render_article_pages` does it ahead for every live article.
"""

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from articles import figures, structured_data
from articles.models import PublishedSnapshot, RenderedSnapshot

PARTS = ("head", "title", "header", "body", "end")
TEMPLATE = "articles/parts/_{}.html"

PROJECT = Path(settings.BASE_DIR)
# What the parts are made of, besides the snapshot: their templates (and those they include), the translations
# of their words, and the code that writes the JSON-LD and the lead figure.
SOURCES = (
    "templates/articles/**/*.html",
    "articles/locale/**/*.mo",
    "articles/templatetags/*.py",
    "articles/article_page.py",
    "articles/structured_data.py",
    "articles/figures.py",
    "articles/evidence_legend.py",
)
SETTINGS = ("CLINIC", "SITE_URL", "MEDIA_URL", "LANGUAGE_CODE", "TIME_ZONE")


@dataclass(frozen=True)
class Parts:
    head: SafeString
    title: SafeString
    header: SafeString
    body: SafeString
    end: SafeString
    lead_image: dict | None


@functools.cache
def version() -> str:
    """Return the digest of what the parts are rendered with, read once per process."""
    digest = hashlib.sha256()
    for pattern in SOURCES:
        for path in sorted(PROJECT.glob(pattern)):
            digest.update(str(path.relative_to(PROJECT)).encode() + b"\0" + path.read_bytes())
    for name in SETTINGS:
        digest.update(f"{name}={getattr(settings, name)!r}".encode())
    return digest.hexdigest()


def render(snapshot: PublishedSnapshot, *, preview: bool = False) -> Parts:
    """Render the parts of `snapshot`'s page in its language (`preview`: the working copy, not yet published)."""
    with translation.override(snapshot.language):
        url = settings.SITE_URL + snapshot.get_absolute_url() if not preview else ""
        context = {
            "snapshot": snapshot,
            "article": {"pk": snapshot.article_id},
            "clinic": settings.CLINIC,
            "preview": preview,
            "canonical_url": url,
        }
        if not preview:
            context["structured_data"] = structured_data.as_script(structured_data.medical_web_page(snapshot, url=url))
        html = {part: mark_safe(render_to_string(TEMPLATE.format(part), context)) for part in PARTS}  # noqa: S308
    return Parts(**html, lead_image=figures.lead_image(snapshot.figures))


def store(snapshot: PublishedSnapshot) -> Parts:
    """Render the parts of a published snapshot and keep them (again, if they were kept with another version)."""
    parts = render(snapshot)
    kept = RenderedSnapshot(
        snapshot=snapshot,
        version=version(),
        lead_image=parts.lead_image,
        **{f"{part}_html": getattr(parts, part) for part in PARTS},
    )
    # Two first requests after a deploy may render the same parts at once: the later one writes the same again.
    RenderedSnapshot.objects.bulk_create(
        [kept],
        update_conflicts=True,
        unique_fields=["snapshot"],
        update_fields=["version", "lead_image", "rendered_at", *(f"{part}_html" for part in PARTS)],
    )
    return parts


def parts_for(snapshot: PublishedSnapshot) -> Parts:
    """Return the kept parts of a live snapshot (loaded `with_parts`), rendering and keeping them if stale."""
    try:
        kept = snapshot.rendered
    except RenderedSnapshot.DoesNotExist:
        kept = None
    if kept is None or kept.version != version():
        return store(PublishedSnapshot.objects.get(pk=snapshot.pk))  # every field: the deferred ones are read now
    return Parts(
        **{part: mark_safe(getattr(kept, f"{part}_html")) for part in PARTS},  # noqa: S308 - rendered by `render`
        lead_image=kept.lead_image,
    )


def stale():
    """Return the live snapshots whose parts are missing or were rendered with another version."""
    current = RenderedSnapshot.objects.filter(version=version()).values("snapshot")
    return PublishedSnapshot.objects.live().exclude(pk__in=current)


# What only the parts read of a snapshot: the page itself loads the snapshot without them.
PARTS_ONLY = (
    "body_source",
    "body_html",
    "body_text",
    "contents",
    "key_points_source",
    "key_points_html",
    "references",
    "figures",
    "statements",
    "reviewers",
    "disclaimers",
    "earlier_corrections",
)


def with_parts(articles):
    """Load `articles` with their live snapshot's kept parts, leaving in the database what only the parts read."""
    return articles.select_related("live_snapshot__rendered").defer(*(f"live_snapshot__{name}" for name in PARTS_ONLY))
