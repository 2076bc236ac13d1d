"""The site's icons and link previews: the web app manifest, /favicon.ico, and the Open Graph and Twitter tags."""

import html as html_lib
import json

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import get_language, gettext, gettext_noop

ICONS = "articles/icons/"
THEME_COLOR = "#0b5cab"  # site.css --accent, the colour of the drawing (manage.py draw_site_icons)
CARD = {"path": ICONS + "card.png", "width": 1200, "height": 630, "type": "image/png"}
CARD_ALT = gettext_noop("A white cross on blue, beside the words: Health information checked by our clinicians.")
DESCRIPTION_WORDS = 40
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
OPEN_GRAPH_LOCALES = {"en": "en_US", "es": "es_US"}  # settings.LANGUAGES, as read in the clinic's country


def absolute(path: str) -> str:
    """Return the address of a path of this site, as a link preview needs it (settings.SITE_URL)."""
    return settings.SITE_URL + path


def plain_text(html: str) -> str:
    """Return the words of staff-typed HTML (a page's body) as a description reads them."""
    return " ".join(html_lib.unescape(strip_tags(html)).split())


def media_address(url: str) -> str:
    """Return a stored file's address whole: the storage gives a path on this site, or a CDN's full address."""
    return absolute(url) if url.startswith("/") else url


def link_preview(*, title: str, description: str, path: str, kind: str = "website", image: dict | None = None) -> dict:
    """Return what the Open Graph and Twitter card tags of a page say (templates/articles/_site_head.html).

    `image`: an article's lead figure (figures.lead_image) to show instead of the site's card.
    """
    if image:
        media_type = MEDIA_TYPES.get(image["format"], "")
        image = {"url": media_address(image["url"]), "width": image["width"], "height": image["height"],
                 "type": media_type, "alt": image["alt"]}  # fmt: skip
    return {
        "type": kind,
        "title": title,
        "description": Truncator(description).words(DESCRIPTION_WORDS),
        "url": absolute(path),
        "locale": OPEN_GRAPH_LOCALES.get(get_language(), get_language()),
        "image": image or {**CARD, "url": absolute(static(CARD["path"])), "alt": gettext(CARD_ALT)},
    }


def web_app_manifest(request):
    """Serve the web app manifest: the clinic's name and the icons a phone puts on its home screen."""
    icons = [
        {"src": static(ICONS + f"icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
        for size in (192, 512)
    ]
    manifest = {
        "name": settings.CLINIC["name"],
        "short_name": Truncator(settings.CLINIC["name"]).chars(12),
        "start_url": "/",
        "display": "browser",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOR,
        "icons": [*icons, {"src": static(ICONS + "icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    return HttpResponse(json.dumps(manifest, indent=1), content_type="application/manifest+json")


def favicon(request):
    """Send browsers that ask for /favicon.ico without reading the page's links to the icon file."""
    return redirect(static(ICONS + "favicon.ico"), permanent=True)
