"""articles/kept_pages.py: kept public pages answered by the WSGI application before Django handles the request."""

import gc

import pytest
from django.core.handlers.base import BaseHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory

from articles import page_cache
from clinic_site.wsgi import application
from tests.servers import free_port
from tests.test_page_cache import live_article, shared_cache  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def served(path: str, *, method: str = "GET", **headers) -> tuple[str, dict, bytes]:
    """Call the project's WSGI application as gunicorn does; return the status line, headers and body."""
    environ = RequestFactory().generic(method, path, headers=headers).environ
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer.update(status=status, headers=dict(response_headers))

    # As Django's test client does: the handler must not close the test's database connection between requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(application(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], body


def test_a_kept_page_leaves_as_the_whole_stack_gave_it_without_django(editor, shared_cache, monkeypatch):  # noqa: F811
    url = live_article(editor).get_absolute_url()
    status, rendered_headers, rendered = served(url)  # rendered by Django, and kept on its way out
    assert status == "200 OK"
    assert rendered_headers["Content-Security-Policy"]
    assert rendered_headers["ETag"]

    def ran(self, request):
        raise AssertionError(f"Django handled {request.path}")

    monkeypatch.setattr(BaseHandler, "get_response", ran)
    assert served(url) == (status, rendered_headers, rendered)


@pytest.mark.parametrize(
    ("method", "path_suffix", "headers", "status"),
    [
        ("POST", "", {}, "403"),  # not a read: Django answers it (here CSRF refuses it)
        ("GET", "?utm_source=mail", {}, "200"),  # a query the pages do not read: served, never kept
        ("GET", "", {"host": "attacker.example"}, "400"),  # a host Django refuses
        ("GET", "", {"if_none_match": "*"}, "304"),  # a browser's check: the middleware answers it by the ETag
    ],
)
def test_what_it_cannot_answer_alone_goes_to_django(
    editor,
    shared_cache,  # noqa: F811
    method,
    path_suffix,
    headers,
    status,
):
    url = live_article(editor).get_absolute_url()
    served(url)  # kept
    calls = []
    real = BaseHandler.get_response

    def counted(self, request):
        calls.append(request.path)
        return real(self, request)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseHandler, "get_response", counted)
        answer = served(url + path_suffix, method=method, **headers)
    assert answer[0].startswith(status)
    assert calls == [url]


def test_with_the_cache_out_of_reach_django_renders_the_page(editor, settings):
    url = live_article(editor).get_absolute_url()
    settings.PAGE_CACHE_SECONDS = 60
    settings.PAGE_CACHE_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    try:
        status, _headers, body = served(url)
    finally:
        page_cache._unreachable_until = 0.0
    assert status == "200 OK"
    assert b"Exosome therapy for hair loss" in body


def test_long_addresses_are_answered_but_not_remembered(editor, shared_cache):  # noqa: F811
    from articles import kept_pages

    url = live_article(editor).get_absolute_url()
    kept_pages._remembered_key_of.cache_clear()
    served(url)
    served(url)
    remembered = kept_pages._remembered_key_of.cache_info().currsize
    long_query = "?q=" + "scar" * kept_pages.LONGEST_REMEMBERED
    assert served(url + long_query)[0] == "200 OK"
    assert kept_pages._remembered_key_of.cache_info().currsize == remembered == 1


def test_the_wsgi_application_leaves_what_it_made_starting_up_out_of_the_collectors_full_passes():
    # clinic_site/wsgi.py freezes it: a full pass over Django's start-up objects added 60-90 ms to a heavy page.
    assert gc.get_freeze_count() > 10_000
