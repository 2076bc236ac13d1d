"""The patient site's page cache: whole rendered pages, shared by every app process through the cache server.

Public pages are the same for every visitor, so a page is rendered once and then served without touching the
database. Beside the pages the cache keeps a generation number. Whenever something patients see changes, the
generation moves on, after the change commits: a publish, unpublish or archive (`workflow._save_state`), and
any save or delete of a disclaimer, policy page, topic or staff profile (the signals below). A page stored
under an older generation is stale, in every process at once, because they all read the same number.

Each app process also keeps the pages it served last in its own memory, and reads the generation from the
cache server at most every GENERATION_CHECK_SECONDS, so a popular page costs no round trip at all. An
invalidation returns only after that long: by then every process has read the new generation, so a page
asked for after a publish is acknowledged is never an older one.

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
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.utils.cache import set_response_etag

from articles import patient_visible

logger = logging.getLogger(__name__)

GENERATION_KEY = "public-pages:generation"
# After a cache error, leave the cache server alone this long rather than wait on it in every request.
RETRY_AFTER_ERROR_SECONDS = 5
# The query parameters public pages read, each with the one spelling of a value that is kept.
QUERY_PARAMETERS = {"q": re.compile(r".+", re.DOTALL), "page": re.compile(r"[1-9][0-9]{0,5}|last")}

# How stale this process's copy of the generation may be; invalidate() waits this long before it returns.
GENERATION_CHECK_SECONDS = 0.1
# The most this process keeps of the pages it served last (their bodies, in bytes).
LOCAL_PAGE_BYTES = 32 * 1024 * 1024

_unreachable_until = 0.0


class _ProcessCopy:
    """What this process knows: the generation as last read (and when that read began), and recent pages."""

    def __init__(self):
        self.lock = threading.Lock()
        self.generation: int | None = None
        self.read_at = float("-inf")
        self.pages: OrderedDict[str, tuple] = OrderedDict()
        self.size = 0

    def generation_if_recent(self) -> int | None:
        if time.monotonic() - self.read_at < GENERATION_CHECK_SECONDS:
            return self.generation
        return None

    def learn_generation(self, generation: int | None, read_at: float) -> None:
        with self.lock:
            if generation is not None and read_at >= self.read_at:
                self.generation, self.read_at = generation, read_at

    def page(self, key: str, generation: int) -> tuple | None:
        with self.lock:
            entry = self.pages.get(key)
            if entry is None or entry[0] != generation:
                return None
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
            self.generation, self.read_at = None, float("-inf")
            self.pages.clear()
            self.size = 0


_process = _ProcessCopy()


def enabled() -> bool:
    return settings.PAGE_CACHE_SECONDS > 0 and time.monotonic() >= _unreachable_until


def _unreachable(error: Exception) -> None:
    global _unreachable_until
    _process.forget()  # what it knew may be outdated by the time the cache server answers again
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


def _current_generation() -> int | None:
    """Return the generation: this process's copy if read within GENERATION_CHECK_SECONDS, else the server's."""
    generation = _process.generation_if_recent()
    if generation is not None:
        return generation
    read_at = time.monotonic()  # the value read is at least as new as the moment the read began
    generation = cache.get(GENERATION_KEY)
    if generation is None:  # a new or emptied cache server, or one that evicted the generation
        cache.add(GENERATION_KEY, _new_generation(), timeout=None)
        generation = cache.get(GENERATION_KEY)
    _process.learn_generation(generation, read_at)
    return generation


def _kept_page(key: str, generation: int) -> tuple | None:
    """Return the page kept under `key` for this generation: from this process's memory, else the server's."""
    entry = _process.page(key, generation)
    if entry is None:
        entry = cache.get(key)
        if entry is None or entry[0] != generation:
            return None
        _process.keep(key, entry)
    return entry


def cached_page(view):
    """Serve a public GET from the cache when it is as new as the current generation; else render and keep it."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "GET" or not enabled() or not _keepable_query(request):
            return view(request, *args, **kwargs)
        key = _page_key(request)
        try:
            generation = _current_generation()
            entry = _kept_page(key, generation) if generation is not None else None
        except Exception as error:
            _unreachable(error)
            return view(request, *args, **kwargs)
        if entry is not None:
            _, content, headers = entry
            return HttpResponse(content, headers=headers)
        # The generation was read before rendering, so a change that commits meanwhile makes this copy stale.
        response = view(request, *args, **kwargs)
        if hasattr(response, "render"):
            response.render()
        if generation is not None and _cacheable(request, response):
            set_response_etag(response)  # once here, rather than hashing the page in every request
            entry = (generation, response.content, dict(response.items()))
            try:
                cache.set(key, entry, settings.PAGE_CACHE_SECONDS)
            except Exception as error:
                _unreachable(error)
            else:
                _process.keep(key, entry)
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
    if settings.PAGE_CACHE_SECONDS <= 0:
        return
    read_at = time.monotonic()
    try:
        try:
            generation = cache.incr(GENERATION_KEY)
        except ValueError:  # no generation (an emptied server): a new one, which no kept page carries
            generation = _new_generation()
            cache.set(GENERATION_KEY, generation, timeout=None)
    except Exception:
        _process.forget()
        # Pages cached before the change may then show until they expire (PAGE_CACHE_SECONDS).
        logger.exception(
            "Could not invalidate the page cache; cached pages expire within %ss", settings.PAGE_CACHE_SECONDS
        )
        return
    _process.learn_generation(generation, read_at)
    # Every other process reads the generation again within this time; only then is the change live for all.
    time.sleep(GENERATION_CHECK_SECONDS)


def invalidate_on_commit() -> None:
    """Invalidate once the transaction commits: once per transaction, however many changes it holds.

    A pending invalidation always covers this change too: Django drops the callbacks of a savepoint that is
    rolled back, so any still pending was made in this change's savepoints or in ones already released.
    """
    pending = transaction.get_connection().run_on_commit
    if not any(callback is invalidate for _savepoints, callback, *_ in pending):
        transaction.on_commit(invalidate)


def _changed(sender, **kwargs) -> None:
    invalidate_on_commit()


def connect_signals() -> None:
    """Saves and deletes of what public pages show besides snapshots (called from the app's ready())."""
    for model in patient_visible.stale_on_models():
        post_save.connect(_changed, sender=model, dispatch_uid=f"page_cache_save_{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"page_cache_delete_{model.__name__}")


class ReusedRedisClients(RedisCacheClient):
    """Django's Redis cache client, keeping one redis.Redis per server rather than building one for every call.

    Building one sets up its ~170 reply handlers each time; on a page served from the cache that was more than
    half of the work (measured by tests/perf/benchmark.py). A redis.Redis is safe to share between threads.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class SharedRedisCache(RedisCache):
    """The shared cache (`REDIS_URL`): Django's Redis backend with its clients reused."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedRedisClients
