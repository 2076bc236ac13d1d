"""Purgers: telling each edge cache (Varnish, a CDN) to drop what carries some tags, once a change has committed.

Each purger speaks one edge's protocol over the standard library's http.client, with a short timeout: a purge
runs after the change committed and is retried from the outbox when it fails, so a stuck edge must cost seconds,
not a worker. Whatever goes wrong (refused, timed out, an error reply, a reply that does not confirm) raises
`PurgeFailed`, whose message an editor can act on, and nothing else.

settings.EDGE_PURGERS lists the edges, each a dict with "BACKEND" (a name in BACKENDS) and its options;
`configured()` builds them. CloudFront, which purges by address rather than by tag, is in edge/cloudfront.py.
"""

import functools
import http.client
import inspect
import json
import re
import ssl
import urllib.parse

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

BACKENDS = {
    "varnish": "articles.edge.purgers.VarnishPurger",
    "cloudflare": "articles.edge.purgers.CloudflarePurger",
    "fastly": "articles.edge.purgers.FastlyPurger",
    "cloudfront": "articles.edge.cloudfront.CloudFrontPurger",
}
TAG_RE = re.compile(r"[a-z0-9][a-z0-9-]*")  # the vocabulary in docs/deploy.md: lowercase ASCII, never a separator
MAX_REPLY_BYTES = 64 * 1024  # purge replies are a few hundred bytes; never hold a misbehaving server's stream

NOT_A_TAG = "{tag!r} is not a tag (lowercase letters, digits and dashes): nothing was purged."
NO_ANSWER = "{name} did not answer within {timeout:g} seconds. The purge will be tried again."
REFUSED = "{name} refused the connection: check that it is running and that its address is right."
UNREACHABLE = "{name} could not be reached ({error}). The purge will be tried again."
UNSENDABLE = "{name} was not asked: its settings hold characters a request cannot carry (check its API token)."
PARTLY_DONE = " The first {done} of {total} tags were purged; the rest were not."


class PurgeFailed(Exception):
    """The edge did not confirm the purge: the message says why, in words an editor can act on."""


class Purger:
    """One edge cache. Subclasses set `name` and implement `send()`; `purge()` is what callers use."""

    name: str = "an edge cache"  # "Varnish at http://...", "Cloudflare zone ...": shown to editors beside a failure

    def __init__(self, *, timeout: float | None = None):
        self.timeout = float(timeout if timeout is not None else settings.EDGE_PURGE_TIMEOUT)

    def __repr__(self):
        return f"<{type(self).__name__}: {self.name}>"

    def purge(self, tags: list[str]) -> None:
        """Drop everything at this edge that carries any of `tags`; raise PurgeFailed unless it confirms."""
        tags = list(dict.fromkeys(tags))  # once each, in order
        for tag in tags:
            if not isinstance(tag, str) or not TAG_RE.fullmatch(tag):
                raise PurgeFailed(NOT_A_TAG.format(tag=tag))
        if tags:
            self.send(tags)

    def send(self, tags: list[str]) -> None:
        raise NotImplementedError

    def response_headers(self, tags: list[str]) -> dict[str, str]:
        """Extra response headers this edge reads tags from (Surrogate-Key itself is always sent)."""
        return {}

    def exchange(self, method: str, url: str, *, headers: dict, body: bytes = b"") -> tuple[int, bytes]:
        """Send one request and return the reply's status and (bounded) body; any failure to talk is PurgeFailed."""
        parts = urllib.parse.urlsplit(url)
        connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        # The timeout bounds the connection and each read; http.client follows no redirects and reads no proxies
        # from the environment, so the request goes where the settings say and nowhere else.
        connection = connection_class(parts.hostname, parts.port, timeout=self.timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read(MAX_REPLY_BYTES)
        except TimeoutError as error:
            raise PurgeFailed(NO_ANSWER.format(name=self.name, timeout=self.timeout)) from error
        except ConnectionRefusedError as error:
            raise PurgeFailed(REFUSED.format(name=self.name)) from error
        except (OSError, ssl.SSLError, http.client.HTTPException) as error:
            raise PurgeFailed(UNREACHABLE.format(name=self.name, error=error or type(error).__name__)) from error
        except ValueError as error:  # a header http.client will not send; its message would show the token
            raise PurgeFailed(UNSENDABLE.format(name=self.name)) from error
        finally:
            connection.close()

    def json_reply(self, status: int, body: bytes):
        """The reply's JSON, or PurgeFailed saying what came instead."""
        try:
            return json.loads(body)
        except ValueError as error:
            said = f"{self.name} answered HTTP {status} with {excerpt(body)}, not the JSON it sends."
            raise PurgeFailed(said) from error


def excerpt(body: bytes, limit: int = 200) -> str:
    """A reply's start, printable, for a failure message."""
    text = " ".join(body.decode("utf-8", "replace").split())
    if not text:
        return "an empty reply"
    return repr(text if len(text) <= limit else text[:limit] + "…")


def in_chunks(items: list, size: int):
    return [items[start : start + size] for start in range(0, len(items), size)]


def required(value, option: str, backend: str, hint: str) -> str:
    """A non-empty string option, or ImproperlyConfigured naming the environment variable that sets it."""
    if not isinstance(value, str) or not value.strip():
        raise ImproperlyConfigured(f'EDGE_PURGERS: the "{backend}" purger needs {option}; {hint}.')
    return value.strip()


def http_address(value, option: str, backend: str, *, base_only: bool = False, hint: str = "") -> str:
    """An http(s) address without credentials, query or fragment (nor path, if `base_only`), or ImproperlyConfigured."""
    try:
        parts = urllib.parse.urlsplit(value.strip())
        valid = (
            parts.scheme in {"http", "https"}
            and bool(parts.hostname)
            and (parts.port or 0) >= 0  # reading it raises ValueError for a port that is not a number
            and not (parts.username or parts.query or parts.fragment or any(c.isspace() for c in value.strip()))
            and not (base_only and parts.path not in {"", "/"})
        )
    except (AttributeError, ValueError):  # not a string; a port that is not a number
        valid = False
    if not valid:
        raise ImproperlyConfigured(
            f'EDGE_PURGERS: the "{backend}" purger\'s {option} is not an http(s) address{hint}: {value!r}.'
        )
    return value.strip().rstrip("/")


class VarnishPurger(Purger):
    """One Varnish with xkey: `PURGE /` with `xkey-purge: <tags>`, which our VCL answers 200 (docs/deploy.md)."""

    def __init__(self, *, url="", timeout=None):
        super().__init__(timeout=timeout)
        hint = " such as http://varnish.internal:6081 (set VARNISH_PURGE_URLS)"
        self.url = http_address(url, "URL", "varnish", base_only=True, hint=hint)
        self.name = f"Varnish at {self.url}"

    MAX_TAGS = 200  # xkey purges every key in the header at once; Varnish takes headers of 8 KB (a backlog's
    # tags, after an outage, would pass that in one header)

    def send(self, tags):
        for number, chunk in enumerate(in_chunks(tags, self.MAX_TAGS)):
            status, body = self.exchange("PURGE", f"{self.url}/", headers={"xkey-purge": " ".join(chunk)})
            if status != 200:
                partly = PARTLY_DONE.format(done=number * self.MAX_TAGS, total=len(tags)) if number else ""
                raise PurgeFailed(
                    f"{self.name} answered HTTP {status} ({excerpt(body, 120)}) instead of confirming the purge: "
                    f"check that it runs our VCL and allows purges from this server (docs/deploy.md, “Purging the "
                    f"edge”).{partly}"
                )


class CloudflarePurger(Purger):
    """A Cloudflare zone, purged by Cache-Tag through its API."""

    API_URL = "https://api.cloudflare.com/client/v4"
    # "Max operations per request: 100" for tags on every plan (developers.cloudflare.com/cache/how-to/purge-cache,
    # updated July 2026; it was 30 before). Each request also counts against a rate limit (5 a minute on the free
    # plan), so fewer, fuller requests are better.
    MAX_TAGS = 100

    def __init__(self, *, zone_id="", api_token="", api_url="", timeout=None):
        super().__init__(timeout=timeout)
        self.zone = required(zone_id, "ZONE_ID", "cloudflare", "set CLOUDFLARE_ZONE_ID (the zone's ID, not its name)")
        self.token = required(api_token, "API_TOKEN", "cloudflare", "set CLOUDFLARE_API_TOKEN (with Cache Purge)")
        self.api_url = http_address(api_url or self.API_URL, "API_URL", "cloudflare")
        self.name = f"Cloudflare zone {self.zone}"

    def response_headers(self, tags):
        return {"Cache-Tag": ",".join(tags)} if tags else {}

    def send(self, tags):
        url = f"{self.api_url}/zones/{urllib.parse.quote(self.zone, safe='')}/purge_cache"
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        for number, chunk in enumerate(in_chunks(tags, self.MAX_TAGS)):
            status, body = self.exchange("POST", url, headers=headers, body=json.dumps({"tags": chunk}).encode())
            reply = self.json_reply(status, body)
            if not (isinstance(reply, dict) and reply.get("success") is True):
                partly = PARTLY_DONE.format(done=number * self.MAX_TAGS, total=len(tags)) if number else ""
                raise PurgeFailed(f"{self.name} refused the purge (HTTP {status}): {api_errors(reply)}.{partly}")


class FastlyPurger(Purger):
    """A Fastly service, purged by surrogate key. A hard purge: a retracted article must never be served stale."""

    API_URL = "https://api.fastly.com"
    MAX_TAGS = 256  # "Up to 256 surrogate keys can be purged in one batch request" (Fastly API, bulk purge)

    def __init__(self, *, service_id="", api_token="", api_url="", timeout=None):
        super().__init__(timeout=timeout)
        self.service = required(service_id, "SERVICE_ID", "fastly", "set FASTLY_SERVICE_ID")
        self.token = required(api_token, "API_TOKEN", "fastly", "set FASTLY_API_TOKEN (with purge_select)")
        self.api_url = http_address(api_url or self.API_URL, "API_URL", "fastly")
        self.name = f"Fastly service {self.service}"

    def send(self, tags):
        url = f"{self.api_url}/service/{urllib.parse.quote(self.service, safe='')}/purge"
        headers = {"Fastly-Key": self.token, "Content-Type": "application/json", "Accept": "application/json"}
        for number, chunk in enumerate(in_chunks(tags, self.MAX_TAGS)):
            body = json.dumps({"surrogate_keys": chunk}).encode()
            status, reply_body = self.exchange("POST", url, headers=headers, body=body)
            reply = self.json_reply(status, reply_body)
            partly = PARTLY_DONE.format(done=number * self.MAX_TAGS, total=len(tags)) if number else ""
            if status != 200 or not isinstance(reply, dict):
                raise PurgeFailed(f"{self.name} refused the purge (HTTP {status}): {api_errors(reply)}.{partly}")
            # Fastly answers each key it purged with the purge's ID; a key missing from the reply was not purged.
            if unconfirmed := [tag for tag in chunk if tag not in reply]:
                raise PurgeFailed(f"{self.name} did not confirm purging {', '.join(unconfirmed)}.{partly}")


def api_errors(reply) -> str:
    """What a CDN's JSON error reply says went wrong (Cloudflare's "errors", Fastly's "msg" and "detail")."""
    if isinstance(reply, dict):
        errors = reply.get("errors")
        if isinstance(errors, list) and errors:
            said = [
                f"{e.get('message') or e.get('title') or e.get('detail')} (code {e.get('code', '?')})"
                if isinstance(e, dict)
                else str(e)
                for e in errors[:3]
            ]
            return "; ".join(said)
        said = " ".join(str(reply[key]) for key in ("msg", "detail", "message") if reply.get(key))
        if said:
            return said
    return f"no reason given ({excerpt(json.dumps(reply).encode(), 120)})"


@functools.lru_cache(maxsize=4)
def _built(configuration: str) -> tuple[Purger, ...]:
    purgers = []
    for number, options in enumerate(json.loads(configuration)):
        if not isinstance(options, dict) or options.get("BACKEND") not in BACKENDS:
            backend = options.get("BACKEND") if isinstance(options, dict) else options
            raise ImproperlyConfigured(
                f"EDGE_PURGERS[{number}] has no known BACKEND ({backend!r}); it is one of {', '.join(BACKENDS)}."
            )
        backend = options["BACKEND"]
        purger_class = import_string(BACKENDS[backend])
        # Options are spelled as Django's settings are (API_TOKEN); the classes take them as keywords (api_token).
        arguments = {key.lower(): value for key, value in options.items() if key != "BACKEND"}
        takes = list(inspect.signature(purger_class).parameters)
        if unknown := [key.upper() for key in arguments if key not in takes]:
            raise ImproperlyConfigured(
                f'EDGE_PURGERS[{number}]: the "{backend}" purger takes no {", ".join(unknown)}; '
                f"its options are {', '.join(name.upper() for name in takes)}."
            )
        purgers.append(purger_class(**arguments))
    return tuple(purgers)


def configured() -> list[Purger]:
    """The purgers settings.EDGE_PURGERS lists, built once per value; ImproperlyConfigured says what is wrong."""
    if not isinstance(settings.EDGE_PURGERS, list | tuple):
        raise ImproperlyConfigured("EDGE_PURGERS is a list of dicts, each with a BACKEND.")
    try:
        configuration = json.dumps(settings.EDGE_PURGERS, sort_keys=True)
    except TypeError as error:
        raise ImproperlyConfigured(f"EDGE_PURGERS holds something that is not plain settings: {error}.") from error
    return list(_built(configuration))
