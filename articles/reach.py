"""Counting readers without knowing them: a one-pixel image on the article page, counted per article per day.

The article page is the same for everyone and may come from the page cache or a CDN, so nothing counted on
the server while rendering it would see most readers. Instead the page carries a 1x1 image whose address names
the article (its id: the same in every cached copy), and the browser asks for it on every reading. This view,
never cached, answers that request with the image and adds one to the article's row for today.

Nothing about the reader is kept or read: no cookie is set or needed, the address and user agent are not
stored, and no script runs (the site's CSP allows images from itself only). Crawlers, link previews, headless
tools and prefetches are not counted (`is_counted`); every answer is the same image, whatever was counted, so
a bad id costs a query and learns nothing.
"""

import base64
import re

from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from articles.models import Article, ArticleDailyViews

# The smallest transparent GIF: 1x1 pixel, one colour, that colour transparent.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")

# User agents that are not a person reading: search and AI crawlers, link-preview fetchers (chat apps, social
# sites), headless browsers and test tools, HTTP libraries, uptime monitors and SEO auditors. Matched anywhere,
# case-insensitive ("bot" as a word, but not the phone maker Cubot); an empty user agent is not counted either.
BOT_USER_AGENT = re.compile(
    r"(?<!cu)bot\b|bot/|crawl|spider|slurp|archiver|fetcher|scanner|"
    r"facebookexternalhit|facebookcatalog|meta-externalagent|whatsapp|telegram|slack|discord|skypeuripreview|"
    r"pinterest|embedly|quora link preview|vkshare|w3c_validator|bitlybot|iframely|outbrain|flipboard|"
    r"headless|phantomjs|puppeteer|playwright|selenium|webdriver|lighthouse|pagespeed|gtmetrix|"
    r"python|curl|wget|httpie|libwww|java/|okhttp|go-http-client|node-fetch|axios|undici|aiohttp|httpx|"
    r"scrapy|guzzle|apache-httpclient|postman|"
    r"monitor|uptime|pingdom|statuscake|site24x7|check_http|preview|google-inspectiontool|googleother|"
    r"feedfetcher|chatgpt|gptbot|claude|anthropic|perplexity|bytespider|ccbot|petalbot|semrush|ahrefs|mj12",
    re.IGNORECASE,
)

LARGEST_ID = 2**63 - 1  # a bigger id names no article, and PostgreSQL would refuse to compare it

# Sent by browsers that fetch a page before anyone asked to see it (a prefetch, or a prerender in Chromium).
PREFETCH_HEADERS = ("HTTP_SEC_PURPOSE", "HTTP_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")


def is_counted(request) -> bool:
    """Return True if the request is a person's browser showing the page: not a bot, a preview or a prefetch."""
    agent = request.META.get("HTTP_USER_AGENT", "").strip()
    if not agent or BOT_USER_AGENT.search(agent):
        return False
    return not any(
        value in request.META.get(header, "").lower()
        for header in PREFETCH_HEADERS
        for value in ("prefetch", "prerender", "preview")
    )


def count_view(article_id: int, *, day=None) -> bool:
    """Add one view of a live article on `day` (today in settings.TIME_ZONE); return False if no such article.

    One statement, whatever the traffic: the row is created or incremented in place under its own row lock,
    so simultaneous readers are all counted and nothing is read first.
    """
    table = connection.ops.quote_name(ArticleDailyViews._meta.db_table)
    articles = connection.ops.quote_name(Article._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (article_id, day, views) "  # noqa: S608 - table names from the models only
            f"SELECT id, %s, 1 FROM {articles} WHERE id = %s AND live_snapshot_id IS NOT NULL "
            f"ON CONFLICT (article_id, day) DO UPDATE SET views = {table}.views + 1",
            [day or timezone.localdate(), article_id],
        )
        return cursor.rowcount == 1


@never_cache  # no-store, private: every reading must reach this view, past any cache
@require_safe  # GET and HEAD; only a GET counts
def beacon(request, pk: int):
    """Answer the article page's image, counting one view of the article if a person's browser asked."""
    if request.method == "GET" and pk <= LARGEST_ID and is_counted(request):
        count_view(pk)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Content-Length"] = str(len(PIXEL))
    response["X-Robots-Tag"] = "noindex"
    return response
