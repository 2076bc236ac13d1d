"""The patient site's page cache: whole rendered pages, shared by every app process through Redis.

Public pages are the same for every visitor, so a page is rendered once and then served without touching the
database. Each page names what it shows (its tags, the `Surrogate-Key` of articles.edge.tags), and Redis keeps,
beside the pages, a change number per tag. Whenever something patients see changes, after the change commits,
its tags move on to a new change number (a publish, unpublish or archive: `workflow.writes.save_state`;
featuring an article; any save or delete of a model patient_visible.VISIBLE names in `stale_on`, through the
signals below), and then the edges in front are purged of the same tags (articles.edge.outbox). A page stored
with an older number for any of its tags is stale, in every process at once; the rest stay: publishing one
article leaves the other articles' pages cached.

Every request for a cached page checks its tags afresh, in the same round trip as the page: a Lua script
compares the numbers the page was stored with to the current ones and returns the page unless this process
already holds that very copy. So a popular page costs one small round trip and no transfer of the page, a page
asked for after a publish is acknowledged is never an older one (nothing waits for processes to notice), and a
cached page never costs two round trips. A page rendered while a change to one of its tags committed is not
kept: the change number read before rendering tells.

It talks to Redis through redis-py directly (`PAGE_CACHE_REDIS_URL`, by default `REDIS_URL`), with one
`redis.Redis` and its connection pool per process (and, for the read before every public page, a connection of
each thread's own, outside the pool), rather than through Django's cache API: Django's Redis
backend builds a new client for every call (setting up its reply handlers each time was more than half of
a cached page's cost, tests/perf/benchmark.py), and its API cannot send the scripts that make one round trip
of the check and the page. The scripts read keys they compute from the tags: one Redis server, not a cluster.

It is on when `PAGE_CACHE_SECONDS` is above zero, which by default it is only with Redis: a per-process
memory cache could not hear another process's invalidation. A Redis server that is down or slow is logged
and passed by for a few seconds; pages are then rendered from the database.

A page is kept under its whole address (scheme, host, path and query), and only when its query string is one
the public pages read (`q`, and `page` as a plain number), so nobody can fill the cache with copies of a page
by adding parameters; such requests are served, just not kept.
"""

import functools
import hashlib
import logging
import os
import pickle
import re
import threading
import time
import uuid
from collections import OrderedDict

import hiredis
import redis
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, set_response_etag
from django.utils.http import parse_http_date_safe

from articles import patient_visible
from articles.page_cache_scripts import (
    INVALIDATE_SCRIPT,
    KEEP_SCRIPT,
    READ_SCRIPT,
    READ_SCRIPT_SHA,
    SCRIPT_SHAS,
    SCRIPTS,
)

logger = logging.getLogger(__name__)

# The change counter: every invalidation takes the next number, and gives it to each tag it makes stale.
GENERATION_KEY = "public-pages:generation"
PAGE_KEY = "page"
STAMP_KEY = "stamp"  # a kept page's copy id and the change number of each of its tags
TAG_KEY = "public-tag:"  # a tag's change number
# Where staff work, and files: never a kept page, so not worth a round trip to Redis before the middleware.
NEVER_KEPT = ("/admin/", "/review/", "/staff/", "/reach/", "/static/", "/media/")
# After a cache error, leave the cache server alone this long rather than wait on it in every request.
RETRY_AFTER_ERROR_SECONDS = 5
# A Redis server that is down or stuck must cost a request milliseconds, not a timeout.
SOCKET_TIMEOUT_SECONDS = 0.25
# The query parameters public pages read, each with the one spelling of a value that is kept.
QUERY_PARAMETERS = {"q": re.compile(r".+", re.DOTALL), "page": re.compile(r"[1-9][0-9]{0,5}|last")}
# The most this process keeps of the pages it served last (their bodies, in bytes).
LOCAL_PAGE_BYTES = 32 * 1024 * 1024


_unreachable_until = 0.0


class _ProcessCopy:
    """The pages this process served last, each with the id of its copy in Redis (which says whether it is current).

    A page is kept no longer than Redis keeps it (PAGE_CACHE_SECONDS from its rendering): without an
    invalidation, what a page shows may still change with the date (an article's review falling overdue).
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.pages: OrderedDict[str, tuple] = OrderedDict()
        self.size = 0

    def page(self, key: str) -> tuple | None:
        with self.lock:
            entry = self.pages.get(key)
            if entry is not None and len(entry) > 3 and entry[3] <= time.time():
                self.size -= len(self.pages.pop(key)[1])  # past its time
                return None
            if entry is not None:
                self.pages.move_to_end(key)
            return entry

    def keep(self, key: str, entry: tuple) -> None:
        with self.lock:
            if key in self.pages:
                self.size -= len(self.pages.pop(key)[1])
            self.pages[key] = entry
            self.size += len(entry[1])
            while self.size > LOCAL_PAGE_BYTES and self.pages:
                self.size -= len(self.pages.popitem(last=False)[1][1])

    def forget(self) -> None:
        with self.lock:
            self.pages.clear()
            self.size = 0


_process = _ProcessCopy()


_servers: dict[str, redis.Redis] = {}
_servers_lock = threading.Lock()


def server() -> redis.Redis:
    """Return this process's client of the page cache's Redis (PAGE_CACHE_REDIS_URL): thread-safe, with its pool."""
    url = settings.PAGE_CACHE_REDIS_URL
    found = _servers.get(url)
    if found is None:
        with _servers_lock:
            found = _servers.get(url) or _servers.setdefault(
                url,
                redis.Redis.from_url(
                    url, socket_connect_timeout=SOCKET_TIMEOUT_SECONDS, socket_timeout=SOCKET_TIMEOUT_SECONDS
                ),
            )
    return found


def key(name: str) -> str:
    """Return the Redis key of `name`, under this site's prefix (PAGE_CACHE_KEY_PREFIX)."""
    return f"{settings.PAGE_CACHE_KEY_PREFIX}:{name}"


def enabled() -> bool:
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and bool(settings.PAGE_CACHE_REDIS_URL)
        and time.monotonic() >= _unreachable_until
    )


def _unreachable(error: Exception) -> None:
    global _unreachable_until
    _process.forget()  # what it knew may be outdated by the time the cache server answers again
    if time.monotonic() >= _unreachable_until:  # once per outage window, not once per request
        logger.warning("Page cache unreachable, serving from the database: %s", error)
    _unreachable_until = time.monotonic() + RETRY_AFTER_ERROR_SECONDS


def _page_key(request) -> str:
    # The host and scheme too: feeds write absolute links with the address they were asked for.
    return key(hashlib.sha256(request.build_absolute_uri().encode()).hexdigest())


def _keepable_query(request) -> bool:
    """Return True if every query parameter is one public pages read, given once, in its one spelling."""
    for name, values in request.GET.lists():
        pattern = QUERY_PARAMETERS.get(name)
        if pattern is None or len(values) != 1 or not pattern.fullmatch(values[0]):
            return False
    return True


def _counter_start() -> int:
    # Never a number given before (the clock, in microseconds), so pages kept before the server lost the counter
    # cannot match again.
    return time.time_ns() // 1000


def _run(script: str, keys: list[str], *arguments):
    # EVALSHA itself: redis-py's Script wrapper costs a third again as much as the round trip (measured).
    sha = READ_SCRIPT_SHA if script is READ_SCRIPT else SCRIPT_SHAS[script]
    try:
        return server().evalsha(sha, len(keys), *keys, *arguments)
    except redis.exceptions.NoScriptError:  # a new or restarted server: EVAL teaches it the script
        return server().eval(SCRIPTS.get(sha, script), len(keys), *keys, *arguments)


_reading = threading.local()  # each thread's connection for `_read`


def _reading_connection() -> redis.Connection:
    """Return this thread's connection for `_read`: made with the client's settings, kept apart from its pool.

    The read runs before every public page, and the pool's checkout and return with the command's encoding in
    Python cost about as much again as the round trip itself (measured in process). A forked process makes its own.
    """
    pool = server().connection_pool
    if getattr(_reading, "pool", None) is not pool or _reading.pid != os.getpid():
        _reading.connection = pool.connection_class(**pool.connection_kwargs)
        _reading.pool, _reading.pid = pool, os.getpid()
    return _reading.connection


def _read(page_key: str, held: str | None) -> tuple[int, bool, bytes | None]:
    """Return the change counter, whether the kept page is current and, unless this process holds that very copy
    (`held`, its id), the stored page."""
    keys = [key(GENERATION_KEY), f"{page_key}:{STAMP_KEY}", f"{page_key}:{PAGE_KEY}"]
    arguments = (held or "", _counter_start(), key(TAG_KEY))
    command = [hiredis.pack_command(("EVALSHA", READ_SCRIPT_SHA, len(keys), *keys, *arguments))]
    connection = _reading_connection()
    try:
        try:
            connection.send_packed_command(command)
            reply = connection.read_response()
        except redis.exceptions.ConnectionError:  # closed by a server restarted since the last read: once more
            connection.send_packed_command(command)
            reply = connection.read_response()
    except redis.exceptions.NoScriptError:  # a new or restarted server: EVAL teaches it the script
        reply = _run(READ_SCRIPT, keys, *arguments)
    changes, current, *page = reply
    return int(changes), bool(current), page[0] if page else None


def _kept_page(page_key: str) -> tuple[int, tuple | None]:
    """Return the change counter, and the page kept under `page_key` if it is current: from this process's
    memory, else from Redis."""
    held = _process.page(page_key)
    changes, current, stored = _read(page_key, held[0] if held else None)
    if not current:
        return changes, None
    if stored is None:
        return changes, held  # this process's own copy is the current one
    entry = pickle.loads(stored)  # noqa: S301 - written by this module only
    if entry[3] <= time.time():  # past its time (Redis may keep it a moment longer): render it
        return changes, None
    _process.keep(page_key, entry)
    return changes, entry


def _keep(page_key: str, changes: int, response) -> None:
    """Keep the page under the tags it names, unless one of them changed since `changes` was read."""
    from articles.edge import tags

    copy = uuid.uuid4().hex
    # The copy's id, the page, and the wall-clock time this copy expires in every process.
    entry = (copy, response.content, dict(response.items()), time.time() + settings.PAGE_CACHE_SECONDS)
    shown = response.get(tags.HEADER, tags.SITE).split()
    keys = [f"{page_key}:{STAMP_KEY}", f"{page_key}:{PAGE_KEY}"]
    stored = pickle.dumps(entry, pickle.HIGHEST_PROTOCOL)
    arguments = (changes, settings.PAGE_CACHE_SECONDS, copy, stored, key(TAG_KEY), *shown)
    if _run(KEEP_SCRIPT, keys, *arguments):
        _process.keep(page_key, entry)


def _kept_response(page_key: str):
    """Return the kept page as a response, or the change counter to render it under (None: the cache is down)."""
    try:
        changes, entry = _kept_page(page_key)
    except Exception as error:
        _unreachable(error)
        return None
    return HttpResponse(entry[1], headers=entry[2]) if entry is not None else changes


def key_of(request) -> str | None:
    """Return the key a GET `request`'s page is kept under, or None if such a page is never kept (a staff area, a
    query the public pages do not read). Raises DisallowedHost for a host Django refuses."""
    if request.path_info.startswith(NEVER_KEPT) or not _keepable_query(request):
        return None
    return _page_key(request)


def kept_page(page_key: str) -> tuple[bytes, dict] | None:
    """Return the page kept under `page_key` as (body, headers) if it is current, else None (also when the cache
    is off or out of reach). articles.kept_pages answers with it before Django."""
    if not enabled():
        return None
    try:
        _changes, entry = _kept_page(page_key)
    except Exception as error:
        _unreachable(error)
        return None
    return (entry[1], entry[2]) if entry is not None else None


def _may_be_kept(request) -> bool:
    return request.method == "GET" and enabled() and _keepable_query(request)


class CachedPageMiddleware:
    """Answer a kept public page first, before any other middleware: it is kept with the headers the whole stack
    gave it (security, CSP, frame options, language, ETag), and a kept page read no session and set no cookie,
    so the session, authentication, CSRF, second-factor and login-throttling middleware have nothing to do for it.

    settings.MIDDLEWARE places it first. A browser's conditional request for a kept page is answered 304 here, as
    ConditionalGetMiddleware would. What it cannot answer goes down the whole stack, with the change counter it
    read; on the way back, a page `cached_page` marked keepable is kept with its final headers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        page_key = key_of(request) if request.method == "GET" and enabled() else None
        if page_key is None:
            return self.get_response(request)
        request.page_cache_key = page_key
        kept = _kept_response(page_key)
        if isinstance(kept, HttpResponse):
            last_modified = parse_http_date_safe(kept.get("Last-Modified"))
            return get_conditional_response(request, etag=kept.get("ETag"), last_modified=last_modified, response=kept)
        changes = request.page_cache_changes = kept  # the counter read before rendering (None: out of reach)
        response = self.get_response(request)
        if changes is not None and getattr(response, "page_cache_keepable", False) and _cacheable(request, response):
            try:
                _keep(page_key, changes, response)
            except Exception as error:
                _unreachable(error)
        return response


def cached_page(view):
    """Serve a public GET from the cache when every tag it shows is unchanged since; else render and keep it.

    Behind CachedPageMiddleware the lookup is done already, and the middleware keeps the page once every other
    middleware has added its headers; without it (a view called on its own) both are done here.
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _may_be_kept(request):
            return view(request, *args, **kwargs)
        page_key = getattr(request, "page_cache_key", None)
        behind_middleware = page_key is not None
        if behind_middleware:
            changes = request.page_cache_changes
        else:
            page_key = _page_key(request)
            changes = _kept_response(page_key)
            if isinstance(changes, HttpResponse):
                return changes
        if changes is None:  # the cache server is out of reach
            return view(request, *args, **kwargs)
        # The counter was read before rendering, so a change to the page's tags that commits meanwhile keeps
        # this rendering out of the cache.
        response = view(request, *args, **kwargs)
        if hasattr(response, "render"):
            response.render()
        if _cacheable(request, response):
            set_response_etag(response)  # once here, rather than hashing the page in every request
            if behind_middleware:
                response.page_cache_keepable = True
            else:
                try:
                    _keep(page_key, changes, response)
                except Exception as error:
                    _unreachable(error)
        return response

    return wrapper


def _cacheable(request, response) -> bool:
    return response.status_code == 200 and not response.streaming and same_for_everyone(request, response)


def same_for_everyone(request, response) -> bool:
    """Return True if the response was built for no one in particular: no cookie set or read, no CSRF token."""
    session = getattr(request, "session", None)
    return (
        not (session is not None and session.accessed)
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not response.cookies
        and "Cookie" not in response.get("Vary", "")
        and "private" not in response.get("Cache-Control", "")
    )


def invalidate(stale=None) -> None:
    """Make every cached page showing the `stale` tags stale (all pages if None), in every process, before
    returning. Call it after the change has committed."""
    from articles.edge import tags

    if settings.PAGE_CACHE_SECONDS <= 0 or not settings.PAGE_CACHE_REDIS_URL:
        return
    stale = sorted(stale) if stale else [tags.SITE]  # every page names the site
    try:
        _run(INVALIDATE_SCRIPT, [key(GENERATION_KEY)], _counter_start(), key(TAG_KEY), *stale)
    except Exception:
        _process.forget()
        # Pages cached before the change may then show until they expire (PAGE_CACHE_SECONDS).
        logger.exception(
            "Could not invalidate the page cache; cached pages expire within %ss", settings.PAGE_CACHE_SECONDS
        )


class _Invalidation:
    """One transaction's invalidation: however many of its changes registered it, the first to run does it, with
    the tags of them all (a rolled-back savepoint's too: a page made stale for nothing is only rendered again)."""

    def __init__(self):
        self.done = False
        self.tags: set[str] = set()

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            invalidate(self.tags)


_pending = threading.local()  # this thread's transaction's _Invalidation, in `invalidation`


def invalidate_on_commit(stale) -> None:
    """Once the transaction commits, make pages showing the `stale` tags stale here, then at the edges in front
    (articles.edge.outbox), once per transaction however many changes it holds.

    Each change registers a callback of its own, so a savepoint rolled back takes only its own along and a
    change that commits always has one; the callbacks of a transaction share one _Invalidation, which runs once.
    """
    from articles.edge import outbox

    invalidation = getattr(_pending, "invalidation", None)
    if invalidation is None or invalidation.done:
        invalidation = _pending.invalidation = _Invalidation()
    invalidation.tags.update(stale)
    transaction.on_commit(invalidation)
    outbox.purge_on_commit(stale)  # registered after: an edge asking again at once gets the new page


def _changed(sender, instance, **kwargs) -> None:
    from articles.edge import tags

    invalidate_on_commit(tags.of_saved(instance))


def connect_signals() -> None:
    """Saves and deletes of what public pages show besides snapshots (called from the app's ready())."""
    for model in patient_visible.stale_on_models():
        post_save.connect(_changed, sender=model, dispatch_uid=f"page_cache_save_{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"page_cache_delete_{model.__name__}")
