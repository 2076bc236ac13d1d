"""The benchmark's floor: the bench settings with no middleware at all, so /bench/constant/ costs only what
gunicorn and Django's request handling cost around the view."""

from tests.perf.bench_settings import *  # noqa: F403

MIDDLEWARE = []
