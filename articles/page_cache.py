"""The patient site's page cache: whole rendered pages, shared by every app process through Redis.

Public pages are the same for every visitor, so a page is rendered once and then served without touching the
database. Beside the pages Redis keeps a generation number. Whenever something patients see changes, the
generation moves on, after the change commits: a publish, unpublish or archive (`workflow.writes.save_state`),
featuring an article, and any save or delete of a model patient_visible.VISIBLE names in `stale_on` (the
signals below). A page stored under an older generation is stale, in every process at once.

Every request for a cached page reads the generation afresh, in the same round trip as the page: a Lua script
returns the generation and, unless this process already holds the page under that generation, the page. So
a popular page costs one small round trip and no transfer of the page, a page asked for after a publish is
acknowledged is never an older one (nothing waits for processes to notice), and a cached page never costs
two round trips.

It talks to Redis through redis-py directly (`PAGE_CACHE_REDIS_URL`, by default `REDIS_URL`), with one
`redis.Redis` and its connection pool per process, rather than through Django's cache API: Django's Redis
backend builds a new client for every call (setting up its reply handlers each time was more than half of
a cached page's cost, tests/perf/benchmark.py), and its API cannot send the script that makes one round trip
of the generation and the page.

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
import pickle
import re
import threading
import time
from collections import OrderedDict

import redis
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.utils.cache import set_response_etag

from articles import patient_visible

logger = logging.getLogger(__name__)

GENERATION_KEY = "public-pages:generation"
PAGE_KEY = "public-page:"
# After a cache error, leave the cache server alone this long rather than wait on it in every request.
RETRY_AFTER_ERROR_SECONDS = 5
# A Redis server that is down or stuck must cost a request milliseconds, not a timeout.
SOCKET_TIMEOUT_SECONDS = 0.25
# The query parameters public pages read, each with the one spelling of a value that is kept.
QUERY_PARAMETERS = {"q": re.compile(r".+", re.DOTALL), "page": re.compile(r"[1-9][0-9]{0,5}|last")}
# The most this process keeps of the pages it served last (their bodies, in bytes).
LOCAL_PAGE_BYTES = 32 * 1024 * 1024

# KEYS: the generation, the page. ARGV: the generation of this process's copy of the page ("" if none), and a
# new generation in case Redis lost it. Returns the generation, then the page unless the copy is current.
READ_SCRIPT = """
local generation = redis.call('GET', KEYS[1])
if not generation then
    redis.call('SET', KEYS[1], ARGV[2])
    return {ARGV[2]}
end
if generation == ARGV[1] then
    return {generation}
end
return {generation, redis.call('GET', KEYS[2])}
"""
READ_SCRIPT_SHA = hashlib.sha1(READ_SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1

_unreachable_until = 0.0


class _ProcessCopy:
    """The pages this process served last, each with the generation it was rendered under.

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
    return key(PAGE_KEY + hashlib.sha256(request.build_absolute_uri().encode()).hexdigest())


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


def _read(page_key: str, held: int | None) -> tuple[int, bytes | None]:
    """Return the generation and, unless this process holds the page under it (`held`), the stored page."""
    arguments = (2, key(GENERATION_KEY), page_key, "" if held is None else held, _new_generation())
    # EVALSHA itself: redis-py's Script wrapper costs a third again as much as the round trip (measured).
    try:
        generation, *page = server().evalsha(READ_SCRIPT_SHA, *arguments)
    except redis.exceptions.NoScriptError:  # a new or restarted server: EVAL teaches it the script
        generation, *page = server().eval(READ_SCRIPT, *arguments)
    return int(generation), page[0] if page else None


def _kept_page(page_key: str) -> tuple[int, tuple | None]:
    """Return the current generation, and the page kept under `page_key` if it is as new: from this process's
    memory, else from Redis."""
    held = _process.page(page_key)
    generation, stored = _read(page_key, held[0] if held else None)
    if held is not None and held[0] == generation:
        return generation, held
    entry = pickle.loads(stored) if stored is not None else None  # noqa: S301 - written by this module only
    # Past its time (Redis may keep it a moment longer), or from before entries carried their time: render it.
    if entry is None or entry[0] != generation or len(entry) < 4 or entry[3] <= time.time():
        return generation, None
    _process.keep(page_key, entry)
    return generation, entry


def cached_page(view):
    """Serve a public GET from the cache when it is as new as the current generation; else render and keep it."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "GET" or not enabled() or not _keepable_query(request):
            return view(request, *args, **kwargs)
        page_key = _page_key(request)
        try:
            generation, entry = _kept_page(page_key)
        except Exception as error:
            _unreachable(error)
            return view(request, *args, **kwargs)
        if entry is not None:
            content, headers = entry[1], entry[2]
            return HttpResponse(content, headers=headers)
        # The generation was read before rendering, so a change that commits meanwhile makes this copy stale.
        response = view(request, *args, **kwargs)
        if hasattr(response, "render"):
            response.render()
        if _cacheable(request, response):
            set_response_etag(response)  # once here, rather than hashing the page in every request
            # The generation, the page, and the wall-clock time this copy expires in every process.
            expires = time.time() + settings.PAGE_CACHE_SECONDS
            entry = (generation, response.content, dict(response.items()), expires)
            try:
                stored = pickle.dumps(entry, pickle.HIGHEST_PROTOCOL)
                server().set(page_key, stored, ex=settings.PAGE_CACHE_SECONDS)
            except Exception as error:
                _unreachable(error)
            else:
                _process.keep(page_key, entry)
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


def invalidate() -> None:
    """Make every cached page stale, in every process, before returning. Call it after the change has committed."""
    if settings.PAGE_CACHE_SECONDS <= 0 or not settings.PAGE_CACHE_REDIS_URL:
        return
    try:
        # One round trip: a server that lost the generation gets a new one first, which no kept page carries.
        with server().pipeline() as pipe:
            pipe.set(key(GENERATION_KEY), _new_generation(), nx=True).incr(key(GENERATION_KEY)).execute()
    except Exception:
        _process.forget()
        # Pages cached before the change may then show until they expire (PAGE_CACHE_SECONDS).
        logger.exception(
            "Could not invalidate the page cache; cached pages expire within %ss", settings.PAGE_CACHE_SECONDS
        )


class _Invalidation:
    """One transaction's invalidation: however many of its changes registered it, the first to run does it."""

    def __init__(self):
        self.done = False

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            invalidate()


_pending = threading.local()  # this thread's transaction's _Invalidation, in `invalidation`


def invalidate_on_commit() -> None:
    """Invalidate once the transaction commits: once per transaction, however many changes it holds.

    Each change registers a callback of its own, so a savepoint rolled back takes only its own along and a
    change that commits always has one; the callbacks of a transaction share one _Invalidation, which runs once.
    """
    invalidation = getattr(_pending, "invalidation", None)
    if invalidation is None or invalidation.done:
        invalidation = _pending.invalidation = _Invalidation()
    transaction.on_commit(invalidation)


def _changed(sender, instance, **kwargs) -> None:
    from articles.edge import outbox, tags

    invalidate_on_commit()
    outbox.purge_on_commit(tags.of_saved(instance))  # after the page cache: an edge asking again gets the new page


def connect_signals() -> None:
    """Saves and deletes of what public pages show besides snapshots (called from the app's ready())."""
    for model in patient_visible.stale_on_models():
        post_save.connect(_changed, sender=model, dispatch_uid=f"page_cache_save_{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"page_cache_delete_{model.__name__}")
