"""The production settings, plus the benchmark's views: a constant string at /bench/constant/ (the floor, with
bench_bare_settings's empty middleware) and the static copy of an article page at /bench/static-copy/."""

from clinic_site.settings import *  # noqa: F403

ROOT_URLCONF = "tests.perf.bench_urls"
