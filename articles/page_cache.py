"""The patient site's page cache: whole rendered pages, shared by every app process through the cache server.

Public pages are the same for every visitor, so a page is rendered once and then served without touching the
database. Beside the pages the cache keeps a generation number. Whenever something patients see changes, the
generation moves on, after the change commits: a publish, unpublish or archive (`workflow._save_state`), and
any save or delete of a disclaimer, policy page, topic or staff profile (the signals below). A page stored
under an older generation is stale, in every process at once, because they all read the same number.

It is on when `PAGE_CACHE_SECONDS` is above zero, which by default it is only with a shared cache server
(`REDIS_URL`): a per-process memory cache could not hear another process's invalidation. A cache server that
is down or slow is logged and passed by for a few seconds; pages are then rendered from the database.

A page is kept under its whole address (scheme, host, path and query), and only when its query string is one
the public pages read (`q`, and `page` as a plain number), so nobody can fill the cache with copies of a page
by adding parameters; such requests are served, just not kept.
"""

import functools
import hashlib
import logging
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.utils.cache import set_response_etag

logger = logging.getLogger(__name__)

GENERATION_KEY = "public-pages:generation"
# After a cache error, leave the cache server alone this long rather than wait on it in every request.
RETRY_AFTER_ERROR_SECONDS = 5
# The query parameters public pages read, each with the one spelling of a value that is kept.
QUERY_PARAMETERS = {"q": re.compile(r".+", re.DOTALL), "page": re.compile(r"[1-9][0-9]{0,5}|last")}

_unreachable_until = 0.0


def enabled() -> bool:
    return settings.PAGE_CACHE_SECONDS > 0 and time.monotonic() >= _unreachable_until


def _unreachable(error: Exception) -> None:
    global _unreachable_until
    if time.monotonic() >= _unreachable_until:  # once per outage window, not once per request
        logger.warning("Page cache unreachable, serving from the database: %s", error)
    _unreachable_until = time.monotonic() + RETRY_AFTER_ERROR_SECONDS


def _page_key(request) -> str:
    # The host and scheme too: feeds write absolute links with the address they were asked for.
    return "public-page:" + hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()


def _keepable_query(request) -> bool:
    """Return True if every query parameter is one public pages read, given once, in its one spelling."""
    for name, values in request.GET.lists():
        pattern = QUERY_PARAMETERS.get(name)
        if pattern is None or len(values) != 1 or not pattern.fullmatch(values[0]):
            return False
    return True


def _new_generation() -> int:
    # Never a number used before, so pages kept before the server lost the generation cannot match again.
    return time.time_ns()


def _current_generation(stored) -> int:
    if stored is None:  # a new or emptied cache server, or one that evicted the generation
        cache.add(GENERATION_KEY, _new_generation(), timeout=None)
        return cache.get(GENERATION_KEY)
    return stored


def cached_page(view):
    """Serve a public GET from the cache when it is as new as the current generation; else render and keep it."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "GET" or not enabled() or not _keepable_query(request):
            return view(request, *args, **kwargs)
        key = _page_key(request)
        try:
            found = cache.get_many([GENERATION_KEY, key])
            generation = _current_generation(found.get(GENERATION_KEY))
        except Exception as error:
            _unreachable(error)
            return view(request, *args, **kwargs)
        entry = found.get(key)
        if entry is not None and generation is not None and entry[0] == generation:
            _, content, headers = entry
            return HttpResponse(content, headers=headers)
        # The generation was read before rendering, so a change that commits meanwhile makes this copy stale.
        response = view(request, *args, **kwargs)
        if hasattr(response, "render"):
            response.render()
        if generation is not None and _cacheable(request, response):
            set_response_etag(response)  # once here, rather than hashing the page in every request
            try:
                cache.set(key, (generation, response.content, dict(response.items())), settings.PAGE_CACHE_SECONDS)
            except Exception as error:
                _unreachable(error)
        return response

    return wrapper


def _cacheable(request, response) -> bool:
    """Only what is the same for everyone: no cookie set or read, no CSRF token in the page."""
    session = getattr(request, "session", None)
    return (
        response.status_code == 200
        and not (session is not None and session.accessed)
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not response.streaming
        and not response.cookies
        and "Cookie" not in response.get("Vary", "")
        and "private" not in response.get("Cache-Control", "")
    )


def invalidate() -> None:
    """Make every cached page stale, in every process. Call it after the change has committed."""
    if settings.PAGE_CACHE_SECONDS <= 0:
        return
    try:
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:  # no generation (an emptied server): a new one, which no kept page carries
            cache.set(GENERATION_KEY, _new_generation(), timeout=None)
    except Exception:
        # Pages cached before the change may then show until they expire (PAGE_CACHE_SECONDS).
        logger.exception(
            "Could not invalidate the page cache; cached pages expire within %ss", settings.PAGE_CACHE_SECONDS
        )


def invalidate_on_commit() -> None:
    transaction.on_commit(invalidate)


def _changed(sender, **kwargs) -> None:
    invalidate_on_commit()


def connect_signals() -> None:
    """Saves and deletes of what public pages show besides snapshots (called from the app's ready())."""
    from articles.models import Disclaimer, Page, StaffProfile, Topic

    for model in (Disclaimer, Page, StaffProfile, Topic):
        post_save.connect(_changed, sender=model, dispatch_uid=f"page_cache_save_{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"page_cache_delete_{model.__name__}")
