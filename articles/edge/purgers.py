"""The edges the app purges (settings.EDGE_PURGERS): Varnish with xkey. (Interim: the full set lands with tests.)"""

import functools
import http.client
import urllib.parse

from django.conf import settings


class PurgeFailed(Exception):
    """The edge did not confirm the purge: the message says why, in words an editor can act on."""


class Purger:
    name = "edge"

    def purge(self, tags: list[str]) -> None:
        raise NotImplementedError

    def response_headers(self, tags: list[str]) -> dict[str, str]:
        return {}


class Varnish(Purger):
    def __init__(self, url: str):
        self.url = url
        self.name = f"Varnish at {url}"

    def purge(self, tags: list[str]) -> None:
        address = urllib.parse.urlsplit(self.url)
        connection = http.client.HTTPConnection(
            address.hostname, address.port or 80, timeout=settings.EDGE_PURGE_TIMEOUT_SECONDS
        )
        try:
            connection.request("PURGE", "/", headers={"xkey-purge": " ".join(tags)})
            reply = connection.getresponse()
            reply.read()
        except OSError as error:
            raise PurgeFailed(f"could not reach it ({error})") from None
        finally:
            connection.close()
        if reply.status != 200:
            raise PurgeFailed(f"it answered {reply.status} {reply.reason}")


@functools.cache
def _built(configuration: tuple) -> list[Purger]:
    return [Varnish(url) for entry in configuration for url in dict(entry)["URLS"]]


def configured() -> list[Purger]:
    frozen = tuple(
        tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in e.items()) for e in settings.EDGE_PURGERS
    )
    return _built(frozen)
