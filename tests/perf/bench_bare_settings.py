"""The benchmark's floor: the bench settings with no middleware at all, so /bench/constant/ costs only what
gunicorn and Django's request handling cost around the view."""

from tests.perf.bench_settings import *  # noqa: F403

MIDDLEWARE = []
PAGE_CACHE_SECONDS = 0  # nor the kept pages' WSGI answer in front of Django (articles/kept_pages.py)
