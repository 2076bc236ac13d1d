"""Kept public pages answered at the WSGI level, before Django builds a response or runs any middleware.

A page the page cache keeps (articles.page_cache) is stored with the status line, headers and body the whole
middleware stack gave it, so answering it needs nothing of Django but the address it is kept under. `KeptPages`
wraps the project's WSGI application (clinic_site/wsgi.py): for a plain GET it reads the request's address the
way Django does (a `WSGIRequest`, so the scheme behind a proxy, the host and ALLOWED_HOSTS are Django's), asks
Redis in the same one round trip `CachedPageMiddleware` makes, and on a current page writes it out as kept. Every
other request, and any it cannot judge alone (a host Django would refuse, a conditional request, the cache out
of reach), goes to Django, where `CachedPageMiddleware` answers it or the page is rendered and kept.

This is the path of most patient requests, so it does as little as it can: no signals, no HttpResponse, no
header checks that were made when the page was kept.
"""

import functools
import io

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest

from articles import page_cache

CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")


class KeptPages:
    """WSGI middleware: a kept page as it was kept, else the wrapped application (Django)."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        kept = self.kept(environ)
        if kept is None:
            return self.application(environ, start_response)
        content, headers = kept
        start_response("200 OK", list(headers.items()))
        return [content]

    def kept(self, environ) -> tuple[bytes, dict] | None:
        """Return the current kept page for this request (body, headers), or None to let Django answer it."""
        if environ.get("REQUEST_METHOD") != "GET" or any(name in environ for name in CONDITIONAL):
            return None  # the middleware answers a browser's check (304) as ConditionalGetMiddleware would
        names = ADDRESS + ((settings.SECURE_PROXY_SSL_HEADER[0],) if settings.SECURE_PROXY_SSL_HEADER else ())
        address = tuple((name, environ[name]) for name in names if name in environ)
        # A long address is worked out each time, not remembered: nobody fills this process's memory with them.
        short = sum(len(value) for _name, value in address) <= LONGEST_REMEMBERED
        page_key = _remembered_key_of(address) if short else _key_of(address)
        return page_cache.kept_page(page_key) if page_key else None


# What Django reads of the environment to build a request's absolute address (HttpRequest.build_absolute_uri,
# get_host, is_secure, with the proxy's scheme header where SECURE_PROXY_SSL_HEADER names one): the key a page
# is kept under is a function of these alone, so each address is worked out once per process.
ADDRESS = (
    "wsgi.url_scheme",
    "HTTP_HOST",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
)
LONGEST_REMEMBERED = 2000  # characters of an address worth remembering
REMEMBERED = 4096  # addresses


def _key_of(address: tuple) -> str | None:
    environ = {"REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO(), **dict(address)}
    try:
        return page_cache.key_of(WSGIRequest(environ))
    except Exception:  # a host Django refuses, a malformed query: Django answers it, and logs it
        return None


_remembered_key_of = functools.lru_cache(maxsize=REMEMBERED)(_key_of)
