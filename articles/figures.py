"""Figures in an article's body: `[[figure:<image id>]]` on a paragraph of its own names a picture in the library.

Staff never type an image into the body (the bleach policy admits no <img>, <figure> or <picture>): the marker is
text, and rendering replaces it with a figure built here from the library's record and its stored renditions. What
a figure shows is frozen into the published snapshot (its HTML in `body_html`, its record in `figures`), so
replacing or re-describing the image in the library changes no published page, only the working copy's content
hash (patient_visible.py), which withdraws the sign-off.
"""

import re
from collections.abc import Iterable

from django.core.files.storage import default_storage
from django.db.models import Prefetch
from django.utils.html import escape, format_html
from django.utils.translation import gettext, gettext_noop

MARKER_PATTERN = r"\[\[\s*figure\s*:\s*(\d{1,9})\s*\]\]"
# A marker alone in its paragraph of sanitized HTML (the body's <p> carry no attributes).
_FIGURE_PARAGRAPH = re.compile(rf"<p>\s*{MARKER_PATTERN}\s*</p>", re.IGNORECASE)
_LOOKS_LIKE_FIGURE = re.compile(r"\[\[\s*figure\b[^\]\n<]{0,40}\]?\]?", re.IGNORECASE)
SIZES = "(min-width: 46rem) 44rem, calc(100vw - 2rem)"  # site.css .wrap: 46rem wide less 1rem padding each side
CREDIT_SEPARATOR = " · "
RESULTS_VARY = gettext_noop("Results vary: this shows one person's result, and yours may be different.")

UNKNOWN_FIGURE = (
    "“{title}”: no image in the library has the number {id} ([[figure:{id}]]). Choose the picture again with "
    "“Insert a figure”, or remove the marker."
)
FIGURE_NOT_USABLE = "“{title}”: the figure [[figure:{id}]] (“{image}”) cannot be shown. {reason}"
FIGURE_NOT_STORED = (
    "“{title}”: the figure [[figure:{id}]] (“{image}”) has no stored picture yet: ask an administrator to run "
    "`manage.py make_image_renditions`."
)
MALFORMED_FIGURES = (
    "“{title}” has figure markers that cannot be read ({markers}): write [[figure:<image number>]] alone on a "
    "paragraph of its own, or insert it with “Insert a figure”."
)
PREVIEW_MISSING = "Figure [[figure:{id}]] cannot be shown: see “What still blocks publishing”."


def figure_ids(html: str) -> list[int]:
    """Return the image ids of the body's figure markers, each once, in order of first use."""
    return list(dict.fromkeys(int(match.group(1)) for match in _FIGURE_PARAGRAPH.finditer(html or "")))


def without_markers(html: str) -> str:
    """Return the HTML without its figure paragraphs: the words patients read around the pictures."""
    return _FIGURE_PARAGRAPH.sub("", html or "")


def malformed_markers(html: str) -> list[str]:
    """Return each `[[figure...` snippet that is not a marker alone in its paragraph, once."""
    rest = _FIGURE_PARAGRAPH.sub("", html or "")
    return list(dict.fromkeys(match.group(0).strip() for match in _LOOKS_LIKE_FIGURE.finditer(rest)))


def library_images(ids: Iterable[int]) -> dict:
    """Return the library's images with these ids, by id, each with its renditions (two queries, or none)."""
    from articles.models import Image, ImageRendition

    ids = list(ids)
    if not ids:
        return {}
    renditions = Prefetch("renditions", queryset=ImageRendition.objects.order_by("format", "width"))
    return {image.pk: image for image in Image.objects.with_consent().filter(pk__in=ids).prefetch_related(renditions)}


def is_usable(image) -> bool:
    return not image.shows_patient or image.has_consent


def record(image) -> dict:
    """Return what a snapshot freezes of one figure: its description and the stored files of its current picture."""
    current = [r for r in image.renditions.all() if r.source_hash == image.content_hash]
    return {
        "image": image.pk,
        "source_hash": image.content_hash,
        "alt": "" if image.decorative else image.alt_text,
        "decorative": image.decorative,
        "caption": image.caption,
        "credit": image.credit,
        "before_after": image.before_after,
        "format": image.format,
        "renditions": [
            {
                "file": r.file,
                "format": r.format,
                "width": r.width,
                "height": r.height,
                "url": default_storage.url(r.file),
            }
            for r in current
        ],
    }


def hashed(article, cited) -> object:
    """Return what the content hash covers of the body's figures: each image's file, alt text, caption and credit.

    A body without figures adds nothing to the hash (patient_visible.NOT_HASHED), so no earlier hash changes.
    """
    from articles.patient_visible import NOT_HASHED

    ids = figure_ids(article.body)
    if not ids:
        return NOT_HASHED
    found = library_images(ids)
    return [[i, *(_pinned(found[i]) if i in found else [None])] for i in ids]


def _pinned(image) -> list:
    # "Results vary" shows under a before/after photograph: the flag is pinned only when set, so no earlier hash moves.
    flags = ["before_after"] if image.before_after else []
    return [image.content_hash, image.decorative, image.alt_text, image.caption, image.credit, *flags]


def problems(article, found: dict) -> list[str]:
    """Return what stops the body's figures being published: unknown, unusable or unstored images, bad markers."""
    said = []
    for i in figure_ids(article.body):
        image = found.get(i)
        if image is None:
            said.append(UNKNOWN_FIGURE.format(title=article.title, id=i))
        elif not is_usable(image):
            said.append(
                FIGURE_NOT_USABLE.format(title=article.title, id=i, image=image.title, reason=image.usable_problem())
            )
        elif not record(image)["renditions"]:
            said.append(FIGURE_NOT_STORED.format(title=article.title, id=i, image=image.title))
    if bad := malformed_markers(article.body):
        said.append(MALFORMED_FIGURES.format(title=article.title, markers=", ".join(bad)))
    return said


def figure_html(figure: dict, *, first: bool) -> str:
    """Return the <figure> patients see: WebP and the original format at each width, sized before it loads."""
    by_format: dict[str, list[dict]] = {}
    for rendition in figure["renditions"]:
        by_format.setdefault(rendition["format"], []).append(rendition)
    fallback = by_format.get(figure["format"]) or next(iter(by_format.values()))
    widest = max(fallback, key=lambda r: r["width"])
    webp = by_format.get("WEBP") if figure["format"] != "WEBP" else None
    source = format_html('<source type="image/webp" srcset="{}" sizes="{}">', srcset(webp), SIZES) if webp else ""
    words = [part for part in (figure["caption"], figure["credit"]) if part]
    # A before/after photograph is a claim (figure_claims.py): patients read that results vary, next to it.
    vary = (
        format_html(' <strong class="results-vary">{}</strong>', gettext(RESULTS_VARY))
        if figure.get("before_after")
        else ""
    )
    caption = format_html("<figcaption>{}{}</figcaption>", CREDIT_SEPARATOR.join(words), vary) if words or vary else ""
    return format_html(
        '<figure class="article-figure"><picture>{}<img src="{}" srcset="{}" sizes="{}" width="{}" height="{}" '
        'alt="{}" loading="{}" decoding="{}"></picture>{}</figure>',
        source, widest["url"], srcset(fallback), SIZES, widest["width"], widest["height"], figure["alt"],
        "eager" if first else "lazy", "async", caption,
    )  # fmt: skip


def srcset(renditions: list[dict]) -> str:
    return ", ".join(f"{r['url']} {r['width']}w" for r in sorted(renditions, key=lambda r: r["width"]))


def render(html: str, found: dict, *, mark_missing: bool = False) -> tuple[str, list[dict]]:
    """Replace each figure marker of sanitized HTML by its figure; return the HTML and the figures' records.

    A marker naming an image that cannot be shown leaves nothing (publishing refuses it: `problems`), or in a
    preview (`mark_missing`) a note saying so.
    """
    figures: list[dict] = []

    def replace(match: re.Match) -> str:
        image = found.get(int(match.group(1)))
        figure = record(image) if image is not None and is_usable(image) else None
        if figure is None or not figure["renditions"]:
            note = PREVIEW_MISSING.format(id=escape(match.group(1)))
            return f'<p><mark class="figure-missing">{note}</mark></p>' if mark_missing else ""
        figures.append(figure)
        return figure_html(figure, first=len(figures) == 1)

    return _FIGURE_PARAGRAPH.sub(replace, html or ""), figures


def lead_image(figures: list[dict]) -> dict | None:
    """Return the first described (not decorative) figure's widest original-format rendition, with its alt text."""
    for figure in figures:
        if figure["decorative"]:
            continue
        own = [r for r in figure["renditions"] if r["format"] == figure["format"]] or figure["renditions"]
        widest = max(own, key=lambda r: r["width"])
        return {**widest, "alt": figure["alt"], "caption": figure["caption"]}
    return None
