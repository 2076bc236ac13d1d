"""Readers and a publisher at once, through the edge: is every page patients get a whole, current snapshot?

    python tests/load/reader_load.py                                   # 50 readers for 60 s, hit ratio judged
    python tests/load/reader_load.py --readers 50 --seconds 5 --smoke  # what CI runs

Starts Redis, gunicorn (2 sync workers, production settings, the page cache on, public pages kept an hour at
the edge) and Varnish in front of it (docs/varnish/clinic.vcl), against a database of its own on the local
PostgreSQL server. While the readers fetch article pages, listings, topic pages, searches and a feed through
Varnish (half of them conditionally, with the ETag they saw last), a publisher edits each article, has it
reviewed and publishes it again, over and over, through `articles.workflow`, and each round unpublishes one
article until its next turn; this process has Varnish as its edge, so each change purges its tags after the
commit (and again, the echo, 2 s later). Every edit writes its version number into the title, the summary and
each statement, so a reader can tell a page that mixes two versions. Counted:
  - requests, by status; anything but 200 and 304 is an error, except an article page gone while it was
    being unpublished;
  - half-updated pages: an article page whose version numbers disagree, that is cut short, or that shows a
    version no publish had begun (a working copy);
  - stale pages: an article page requested after a publish was acknowledged that shows an older version or
    is gone; shown after an unpublish: one requested after the unpublish returned that still shows it;
  - versions published and unpublishes;
  - the edge's hit ratio over the load: MAIN.cache_hit / (cache_hit + cache_miss) from varnishstat, read
    before and after (the cache warmed first), required above 99% (not with --smoke: a CI run of 5 s on a
    busy machine makes few requests per change, so it prints the ratio and asks only that it was measured).
    Each change purges the article's page and every listing (all of them list it), so the ratio depends on
    how many reads come between changes. A clinic publishes a few times a day; the publisher here pauses
    --publish-every seconds (1) between changes, thousands of times that rate, and listings are a quarter of
    the reads. Hit shares per kind of page, from Varnish's X-Cache header, are printed too.
Prints the counts and exits 1 if there is any error, half-updated, stale or unpublished page shown, or (full
run) a hit ratio of 99% or less. Loopback only; stops what it started and drops its database.
"""

import argparse
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import servers

DATABASE = f"clinic_load_run_{os.getpid()}"  # runs side by side never share one
ARTICLES = 4
VERSION = re.compile(rb"version (\d+)")
# Related articles name other articles, each at its own version: the check reads the page without them.
RELATED = re.compile(rb'<nav class="related-articles".*?</nav>', re.DOTALL)
PAGE_VERDICTS = ("whole page", "half-updated page", "stale page", "shown after an unpublish")
HIT_RATIO = 0.99  # of lookups at the edge during the load, in the full run


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--publish-every", type=float, default=1.0, help="seconds between changes (default 1)")
    parser.add_argument(
        "--smoke", action="store_true", help="CI: print the edge's hit ratio, judge only that it was measured"
    )
    return parser.parse_args(argv)


class Published:
    """What the publisher has done: per article page, each publish and unpublish, and when.

    A version is also known from the moment its publish begins: it is live once committed, a little before
    `workflow.publish` returns (which waits until every app process sees it). Likewise an unpublished page may
    go from the moment the unpublish begins; it must be gone once the call returns (its purge went out first).
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.events: dict[str, list[tuple[str, int, float]]] = {}  # (what, version, when), in order
        self.publishing: dict[str, int] = {}

    def _add(self, path: str, what: str, version: int = 0) -> None:
        with self.lock:
            self.events.setdefault(path, []).append((what, version, time.monotonic()))

    def begin(self, path: str, version: int) -> None:
        with self.lock:
            self.publishing[path] = version

    def acknowledge(self, path: str, version: int) -> None:
        self._add(path, "published", version)

    def unpublishing(self, path: str) -> None:
        self._add(path, "unpublishing")

    def unpublished(self, path: str) -> None:
        self._add(path, "unpublished")

    def newest_before(self, path: str, moment: float) -> int:
        with self.lock:
            return max(
                (v for what, v, at in self.events.get(path, []) if what == "published" and at < moment), default=0
            )

    def gone_before(self, path: str, moment: float) -> bool:
        """Whether the last change acknowledged before `moment` was an unpublish."""
        with self.lock:
            done = [what for what, _, at in self.events.get(path, []) if what != "unpublishing" and at < moment]
        return bool(done) and done[-1] == "unpublished"

    def may_be_gone(self, path: str, started: float, finished: float) -> bool:
        """Whether an unpublish began after the last publish acknowledged before `started`, and before `finished`."""
        with self.lock:
            events = self.events.get(path, [])
            last_publish = max((at for what, _, at in events if what == "published" and at < started), default=0)
            return any(what == "unpublishing" and last_publish < at < finished for what, _, at in events)

    def known(self, path: str, version: int) -> bool:
        with self.lock:
            return self.publishing.get(path) == version or any(
                what == "published" and v == version for what, v, _ in self.events.get(path, [])
            )

    def count(self, what: str) -> int:
        with self.lock:
            return sum(1 for events in self.events.values() for kind, _, _ in events if kind == what)


def make_site() -> tuple[list, dict]:
    from tests.factories import ArticleFactory, ReferenceFactory, TopicFactory, member_of, publish_reviewed

    people = {"writer": member_of("Writers"), "reviewer": member_of("Reviewers"), "editor": member_of("Editors")}
    topic = TopicFactory(name="Load testing", slug="load-testing")
    references = ReferenceFactory.create_batch(3)
    articles = []
    for number in range(ARTICLES):
        article = ArticleFactory(title=f"Load article {number}", slug=f"load-article-{number}", author=people["writer"])
        article.topics.set([topic])
        write_version(article, references, 1)
        publish_reviewed(article, editor=people["editor"], reviewer=people["reviewer"])
        article.refresh_from_db()
        articles.append(article)
    return articles, {**people, "references": references}


def write_version(article, references, version: int) -> None:
    article.title = f"Load article {article.slug[-1]}, version {version}"
    article.summary = f"What the research shows, version {version}."
    article.body = "".join(
        f"<p>In studies in mice, version {version} of this claim held [@{reference.citation_key}].</p>"
        for reference in references
    )
    article.save()


def publisher(articles, people, published: Published, options, stop: threading.Event, failures: list) -> None:
    """Republish every article at a new version, over and over; each round also unpublishes one of them until
    its next turn. Between two changes it waits `options.publish_every` seconds."""
    from django.db import close_old_connections

    from articles import workflow
    from tests.factories import review

    paths = {article.pk: article.live_snapshot.get_absolute_url() for article in articles}
    version = 1
    while not stop.is_set():
        version += 1
        for article in articles:
            if stop.is_set():
                return
            path = paths[article.pk]
            close_old_connections()
            try:
                article.refresh_from_db()
                write_version(article, people["references"], version)
                workflow.record_edit(article, by=people["writer"])
                review(article, reviewer=people["reviewer"], submitter=people["writer"])
                published.begin(path, version)
                workflow.publish(article, by=people["editor"])
                published.acknowledge(path, version)
                if article is articles[version % len(articles)] and not stop.wait(options.publish_every):
                    published.unpublishing(path)
                    workflow.unpublish(article, by=people["editor"], reason="Load run: taken down for a while.")
                    published.unpublished(path)
            except Exception as error:  # reported, and the run fails: the publisher must never be refused
                failures.append(f"publishing {article.slug} version {version}: {error!r}")
            stop.wait(options.publish_every)


def page_kind(path: str) -> str:
    return "article page" if path.startswith("/articles/load-article-") else "listing"


def reader(base: str, paths: list[str], published: Published, stop: threading.Event, counts: Counter) -> None:
    etags: dict[str, str] = {}
    chooser = random.Random()
    while not stop.is_set():
        path = chooser.choice(paths)
        headers = {"If-None-Match": etags[path]} if path in etags and chooser.random() < 0.5 else {}
        started = time.monotonic()
        try:
            status, response_headers, body = servers.get(base + path, headers=headers, timeout=60)
        except OSError as error:
            counts[f"connection error: {type(error).__name__}"] += 1
            continue
        counts[status] += 1
        counts[(page_kind(path), response_headers.get("X-Cache", "no X-Cache"))] += 1
        if status == 200 and "ETag" in response_headers:
            etags[path] = response_headers["ETag"]
        if status == 200 and page_kind(path) == "article page":
            check_article_page(path, body, started, published, counts)
        elif status in (404, 410) and page_kind(path) == "article page":
            gone = published.may_be_gone(path, started, time.monotonic())
            counts["gone (being unpublished)" if gone else "gone after a publish"] += 1


def check_article_page(path: str, body: bytes, started: float, published: Published, counts: Counter) -> None:
    versions = {int(v) for v in VERSION.findall(RELATED.sub(b"", body))}
    if len(versions) != 1 or not body.rstrip().endswith(b"</html>"):
        counts["half-updated page"] += 1
        return
    (version,) = versions
    newest = published.newest_before(path, started)
    if not published.known(path, version):
        counts["half-updated page"] += 1  # a version nobody published completely
    elif published.gone_before(path, started) and version <= newest:
        counts["shown after an unpublish"] += 1
    elif version < newest:
        counts["stale page"] += 1
    else:
        counts["whole page"] += 1


def main(argv=None) -> int:
    options = arguments(argv)
    database_url = servers.fresh_database(DATABASE)
    try:
        return run(options, database_url)
    finally:
        servers.drop_database(DATABASE)


def run(options, database_url: str) -> int:
    with servers.Servers() as started, tempfile.TemporaryDirectory(prefix="clinic-load-edge-") as folder:
        redis = started.add(servers.redis_server())
        environment = servers.production_environment(database_url, REDIS_URL=redis.url)
        servers.manage(environment, "migrate", "--noinput", "-v0")
        servers.collect_static(environment)
        servers.setup_django(environment)
        from django.conf import settings

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the run's mail goes nowhere
        articles, people = make_site()
        published = Published()
        for article in articles:
            published.acknowledge(article.live_snapshot.get_absolute_url(), 1)
        # The app keeps pages an hour at the edge, as with VARNISH_PURGE_URLS set; it only reads here. This
        # process makes every change, so it is the one that purges: its settings name the edge.
        app = started.add(servers.gunicorn({**environment, "PUBLIC_CACHE_SECONDS": "3600"}))
        edge = started.add(servers.varnish(app.url, Path(folder)))
        settings.EDGE_PURGERS = [{"BACKEND": "varnish", "URL": edge.url}]

        paths = [a.live_snapshot.get_absolute_url() for a in articles] * 4 + [
            "/", "/articles/", "/topics/load-testing/", "/search/?q=mice", "/feeds/articles.rss",
        ]  # fmt: skip
        for path in set(paths):  # the cache warm, as a site's is: the run counts hits under load, not a cold start
            servers.get(edge.url + path)
        before = servers.varnish_counters(edge, *CACHE_COUNTERS)
        stop, counts, failures = threading.Event(), Counter(), []
        readers = [
            threading.Thread(target=reader, args=(edge.url, paths, published, stop, counts), daemon=True)
            for _ in range(options.readers)
        ]
        writer = threading.Thread(
            target=publisher, args=(articles, people, published, options, stop, failures), daemon=True
        )
        for thread in [*readers, writer]:
            thread.start()
        time.sleep(options.seconds)
        stop.set()
        for thread in [*readers, writer]:
            thread.join(timeout=30)
        after = servers.varnish_counters(edge, *CACHE_COUNTERS)
        settings.EDGE_PURGERS = []  # an echo purge still waiting has no edge left to purge
    return report(options, counts, failures, published, {name: after[name] - before[name] for name in after})


CACHE_COUNTERS = ("MAIN.cache_hit", "MAIN.cache_miss")


def report(options, counts: Counter, failures: list, published: Published, cache: dict) -> int:
    versions = published.count("published") - ARTICLES
    judged_missing = counts["gone (being unpublished)"] + counts["gone after a publish"]  # verdicts, not errors
    errors = sum(n for key, n in counts.items() if isinstance(key, int) and key not in (200, 304)) - judged_missing
    errors += sum(n for key, n in counts.items() if str(key).startswith("connection"))
    total = sum(n for key, n in counts.items() if isinstance(key, int) or str(key).startswith("connection"))
    stale = counts["stale page"] + counts["gone after a publish"]
    looked_up = cache["MAIN.cache_hit"] + cache["MAIN.cache_miss"]
    ratio = cache["MAIN.cache_hit"] / looked_up if looked_up else None
    print(f"{options.readers} readers for {options.seconds:g} s through Varnish in front of gunicorn (2 workers), "
          f"changing articles meanwhile ({options.publish_every:g} s between changes)")  # fmt: skip
    print(f"requests: {total}  200: {counts[200]}  304: {counts[304]}  errors: {errors}")
    print(f"article pages checked: {sum(counts[v] for v in PAGE_VERDICTS)}  "
          f"half-updated: {counts['half-updated page']}  stale after a publish: {stale}  "
          f"shown after an unpublish: {counts['shown after an unpublish']}")  # fmt: skip
    print(f"versions published during the run: {versions}  unpublished: {published.count('unpublished')}  "
          f"publisher failures: {len(failures)}")  # fmt: skip
    hits = "not measured" if ratio is None else f"{ratio:.2%}"
    print(f"edge cache hit ratio over the load: {hits} ({looked_up} lookups)")
    for kind in ("article page", "listing"):
        seen = {cache_status: counts[(kind, cache_status)] for cache_status in ("HIT", "MISS")}
        share = seen["HIT"] / sum(seen.values()) if sum(seen.values()) else 0
        print(f"  {kind}s: {share:.2%} hits ({seen['HIT']} hits, {seen['MISS']} misses, from X-Cache)")
    for key, n in sorted(counts.items(), key=str):
        if key not in (200, 304, "whole page") and not isinstance(key, tuple):
            print(f"  {key}: {n}")
    for failure in failures[:5]:
        print(f"  {failure}")
    wrong = counts["half-updated page"] + stale + counts["shown after an unpublish"]
    ratio_ok = ratio is not None and (options.smoke or ratio > HIT_RATIO)
    ok = not errors and not failures and not wrong and versions and ratio_ok
    print("result: pass" if ok else "result: FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
