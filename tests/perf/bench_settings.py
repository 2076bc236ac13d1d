"""The production settings, plus the benchmark's reference view (a constant string) at /bench/constant/."""

from clinic_site.settings import *  # noqa: F403

ROOT_URLCONF = "tests.perf.bench_urls"
