"""The benchmark's table rows (tests/perf/benchmark.py), and the rows measured on gunicorn alone: the floor (a
constant view with no middleware), the article page rendered on every request, and the article page while
it is published again under 50 readers."""

import concurrent.futures
import html
import time
from dataclasses import dataclass

from tests import servers

FLOOR_PATH = "/bench/constant/"  # tests/perf/bench_urls.py
# Issue #19's comparison, which this run cannot make itself: Wagtail 8 rendering the demo wound-healing article
# on every request, under gunicorn (2 sync workers, persistent database connections), loaded with
# `wrk -t2 -c16 -d15s` on a quiet 2-core machine, made 128 and 133 req/s in two runs. The uncached article page
# must make five times that, judged as an absolute number (so only in full runs on a quiet machine).
WAGTAIL_PER_SECOND = 130
WAGTAIL_CONNECTIONS = 16
UNCACHED_TIMES_WAGTAIL = 5
READERS = 50
AFTER_PUBLISH_SECONDS = 5
AFTER_PUBLISH_GOAL = 0.70


@dataclass
class Row:
    target: str
    per_second: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    ratio: float | None = None
    measured: str = ""
    goal: str = ""
    passed: bool | None = None  # None: a reference, not a target


def throughput(
    name: str,
    url: str,
    options,
    reference: Row | None = None,
    goal: float | None = None,
    *,
    connections: int = 0,
    fresh: bool = False,
) -> Row:
    """Load `url` with wrk; compare it with `reference` as a ratio, judged against `goal` unless that is None.
    `fresh`: the server has served nothing yet, so a second of load first reaches every worker."""
    servers.get(url)  # warm: the page cache and every worker's first-request costs are not what is measured
    if fresh and options.judge_speed:  # the smoke run judges no speed: its rows need no warm-up
        servers.wrk(url, seconds=1, connections=4, timeout=_timeout(options))
    result = servers.wrk(url, seconds=options.seconds, connections=connections or options.connections,
                         timeout=_timeout(options))  # fmt: skip
    return _row(name, result, options, reference, goal)


def _timeout(options) -> float | None:
    # A busy machine may answer slowly, never wrongly: the smoke run gives each request longer than wrk's 2 s.
    return None if options.judge_speed else 60


def _row(name: str, result: servers.LoadResult, options, reference: Row | None, goal: float | None) -> Row:
    numbers = (name, result.per_second, result.p50_ms, result.p99_ms)
    if result.errors:
        return Row(*numbers, None, f"{result.errors} errors", "0", False)
    if reference is None:
        return Row(*numbers, measured="reference")
    if not reference.per_second:
        return Row(*numbers, measured="no reference", passed=False)
    ratio = result.per_second / reference.per_second
    if goal is None:  # reported, not a target
        return Row(*numbers, ratio, f"{ratio:.0%}")
    threshold = goal * options.strictness
    judged = ratio >= threshold if options.judge_speed else None
    return Row(*numbers, ratio, f"{ratio:.0%}", f">= {threshold:.0%}", judged)


def floor(run: servers.Servers, environment: dict, options) -> Row:
    """The constant view on a gunicorn of its own whose settings have no middleware (bench_bare_settings), stopped
    after its row: the least a Django view costs through the same gunicorn setup."""
    from tests.perf.bench_urls import CONSTANT

    name = "bare Django view (no middleware)"
    bare = run.add(servers.gunicorn(environment, settings_module="tests.perf.bench_bare_settings"))
    try:
        status, headers, body = servers.get(bare.url + FLOOR_PATH)
        # The middleware would have added X-Frame-Options: its absence shows the chain is really empty.
        if status != 200 or body != CONSTANT or "x-frame-options" in {header.lower() for header in headers}:
            return Row(name, measured=f"{status}, not bare", goal="bare view", passed=False)
        return throughput(name, bare.url + FLOOR_PATH, options, fresh=True)
    finally:
        bare.stop()


def uncached_page(run: servers.Servers, environment: dict, snapshot, options) -> Row:
    """The article page on a gunicorn of its own with the page cache off (PAGE_CACHE_SECONDS=0), so every request
    renders it, under the load the Wagtail figure was measured with; judged in absolute requests per second."""
    name = "article page (gunicorn, no page cache)"
    uncached = run.add(
        servers.gunicorn({**environment, "PAGE_CACHE_SECONDS": "0"}, settings_module="tests.perf.bench_settings")
    )
    try:
        url = uncached.url + snapshot.get_absolute_url()
        status, _headers, body = servers.get(url)
        if status != 200 or html.escape(snapshot.title).encode() not in body:
            return Row(name, measured=f"{status}, no article", goal="the article", passed=False)
        row = throughput(name, url, options, connections=WAGTAIL_CONNECTIONS, fresh=True)
    finally:
        uncached.stop()
    if row.passed is False:
        return row
    goal = UNCACHED_TIMES_WAGTAIL * WAGTAIL_PER_SECOND * options.strictness
    row.measured = f"{row.per_second / WAGTAIL_PER_SECOND:.1f}x Wagtail"
    row.goal = f">= {goal:.0f}/s"
    row.passed = row.per_second >= goal if options.judge_speed else None
    return row


def after_publish(app_url: str, article, options) -> list[Row]:
    """50 readers on the article page (page cache on): their throughput just before, then in the 5 s from the start
    of a publish of a new version of it, which makes the page stale in every process and has it rendered again.

    The new version (a changed title) is reviewed through the workflow before the readers start; a reader right
    after the publish returns must see it."""
    from django.contrib.auth import get_user_model

    from articles import workflow
    from tests.factories import review

    people = get_user_model().objects.exclude(pk=article.author_id).order_by("pk")
    # The site's own staff, not new ones: a reused database still holds the users a factory made last time.
    editor, reviewer = (people.filter(groups__name=group).first() for group in ("Editors", "Reviewers"))
    url = app_url + article.live_snapshot.get_absolute_url()
    article.refresh_from_db()
    # A title of this run's own (a run on a reused database finds the last run's): what the readers must see.
    article.title = new_title = f"{article.title.split(' (revised')[0]} (revised at {time.strftime('%H:%M:%S')})"
    article.save()
    workflow.record_edit(article, by=article.author)
    review(article, reviewer=reviewer, submitter=article.author)
    servers.get(url)
    result = servers.wrk(url, seconds=options.seconds, connections=READERS, timeout=_timeout(options))
    steady = _row(f"article page (gunicorn, {READERS} readers, steady)", result, options, None, None)
    name = f"article page right after a publish ({AFTER_PUBLISH_SECONDS} s, {READERS} readers)"
    window = AFTER_PUBLISH_SECONDS if options.judge_speed else 1  # the smoke run judges only what readers see
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        load = pool.submit(servers.wrk, url, seconds=window, connections=READERS, timeout=_timeout(options))
        workflow.publish(article, by=editor)
        status, _headers, body = servers.get(url)
        result = load.result()
    if status != 200 or html.escape(new_title).encode() not in body:
        return [steady, Row(name, result.per_second, result.p50_ms, result.p99_ms, measured="old version",
                            goal="new version", passed=False)]  # fmt: skip
    return [steady, _row(name, result, options, steady, AFTER_PUBLISH_GOAL)]
