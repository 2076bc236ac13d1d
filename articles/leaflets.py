"""Printed leaflets: an article's live snapshot as an A4 PDF, made by WeasyPrint and kept per snapshot.

The leaflet's HTML is rendered on every request (milliseconds); its hash, with the snapshot's id and
LEAFLET_VERSION, names the PDF in Django's cache, so the slow part (WeasyPrint, ~0.5-2 s) runs once per
snapshot and day ("Printed on" names the day) and again only when something printed changes: a disclaimer,
the clinic's details, the template. WeasyPrint fetches nothing from the network: LeafletFetcher refuses every
address but the site's own static files and the pictures of the snapshot's figures, whatever its HTML names.

WeasyPrint needs the Pango library (Debian's libpango-1.0-0 and libpangoft2-1.0-0). Without it the leaflet
raises LeafletUnavailable, and the view answers with a page saying so.
"""

import dataclasses
import hashlib
import logging
import mimetypes
from pathlib import Path
from urllib.parse import urljoin

import segno
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_noop

logger = logging.getLogger(__name__)

TEMPLATE = "articles/leaflet.html"
# Move it on when a PDF would change with the same HTML (a new WeasyPrint, fonts), so none is served stale.
LEAFLET_VERSION = 1
CACHE_SECONDS = 8 * 24 * 60 * 60  # a day's leaflet is asked for again within days, or never
NOT_AVAILABLE = gettext_noop("Leaflets are not available on this server")  # what patients read
PANGO_MISSING = (
    "Leaflets are not available: WeasyPrint, which makes them, needs the Pango library "
    "(Debian packages libpango-1.0-0 and libpangoft2-1.0-0); see .ci/system-packages"
)  # what the log says
REFUSED_FETCH = "A leaflet fetches nothing but the site's own static files; refused: {url}"


class LeafletUnavailable(Exception):
    """WeasyPrint, or the Pango library it needs, is not installed on this server."""


@dataclasses.dataclass(frozen=True)
class Leaflet:
    pdf: bytes
    digest: str  # of what was printed: the PDF's ETag
    filename: str


def leaflet_for(snapshot, *, context: dict) -> Leaflet:
    """Return the leaflet of `snapshot`, from the cache or rendered now; `context` is the article page's."""
    live_url = context["canonical_url"]
    html = render_to_string(
        TEMPLATE,
        {
            **context,
            "clinic": settings.CLINIC,
            "live_url": live_url,
            "qr_code": qr_code_svg(live_url),
            "printed_on": timezone.localdate(),
        },
    )
    digest = hashlib.sha256(f"{LEAFLET_VERSION}\n{html}".encode()).hexdigest()
    key = f"leaflet:{snapshot.pk}:{LEAFLET_VERSION}:{digest}"
    pdf = _cached(key)
    if pdf is None:
        pdf = render_pdf(html, pictures=figure_files(snapshot))
        _keep(key, pdf)
    return Leaflet(pdf=pdf, digest=digest, filename=f"{snapshot.slug}-leaflet.pdf")


def qr_code_svg(url: str) -> str:
    """Return a QR code of `url` as inline SVG, black on white, sized by the leaflet's CSS."""
    svg = segno.make(url, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff", omitsize=True)
    return mark_safe(svg)  # noqa: S308 - segno's own markup; the URL is encoded as modules, not text


def figure_files(snapshot) -> dict[str, str]:
    """Return the stored file of each figure picture the snapshot froze, by the absolute address its HTML names."""
    base = settings.SITE_URL + "/"
    return {
        urljoin(base, rendition["url"]): rendition["file"]
        for figure in snapshot.figures or []
        for rendition in figure["renditions"]
    }


def render_pdf(html: str, *, pictures: dict[str, str] | None = None) -> bytes:
    """Return `html` printed to PDF by WeasyPrint, fetching nothing but the site's static files and `pictures`.

    `pictures` maps the addresses of the snapshot's figure pictures to their files in the storage.
    """
    weasyprint = _weasyprint()
    fetcher = _fetcher(weasyprint, pictures)
    return weasyprint.HTML(string=html, base_url=settings.SITE_URL + "/", url_fetcher=fetcher).write_pdf()


def _weasyprint():
    try:
        import weasyprint  # here: it loads Pango, which a server may lack
    except (ImportError, OSError) as error:  # OSError: cffi could not load Pango
        logger.warning("%s (%s)", PANGO_MISSING, error)
        raise LeafletUnavailable(PANGO_MISSING) from error
    return weasyprint


def _fetcher(weasyprint, pictures: dict[str, str] | None = None):
    """Return a fetcher that serves the site's static files and the figures' pictures, and refuses every other
    address."""
    static_prefix = settings.SITE_URL + settings.STATIC_URL if settings.STATIC_URL.startswith("/") else None
    pictures = pictures or {}

    class LeafletFetcher(weasyprint.urls.URLFetcher):
        def fetch(self, url, headers=None):
            if url in pictures:
                with default_storage.open(pictures[url]) as picture:
                    content = picture.read()
                kind = mimetypes.guess_type(pictures[url])[0] or "application/octet-stream"
                return weasyprint.urls.URLFetcherResponse(url, content, {"Content-Type": kind})
            path = static_file(url, static_prefix)
            if path is None:
                raise ValueError(REFUSED_FETCH.format(url=url[:200]))
            return weasyprint.urls.URLFetcherResponse(
                url,
                path.read_bytes(),
                {"Content-Type": mimetypes.guess_type(path.name)[0] or "application/octet-stream"},
            )

    return LeafletFetcher(allowed_protocols=())


def static_file(url: str, static_prefix: str | None) -> Path | None:
    """Return the file of one of the site's static files at `url`, or None for any other address."""
    if not static_prefix or not url.startswith(static_prefix):
        return None
    name = url.removeprefix(static_prefix).split("?")[0].split("#")[0]
    if not name or ".." in name.split("/") or "\\" in name:
        return None
    found = finders.find(name)
    return Path(found) if isinstance(found, str) and Path(found).is_file() else None


def _cached(key: str) -> bytes | None:
    try:
        return cache.get(key)
    except Exception:  # a cache server down costs a render, not the leaflet
        logger.warning("Could not read a leaflet from the cache", exc_info=True)
        return None


def _keep(key: str, pdf: bytes) -> None:
    try:
        cache.set(key, pdf, CACHE_SECONDS)
    except Exception:
        logger.warning("Could not keep a leaflet in the cache", exc_info=True)
