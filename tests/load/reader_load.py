"""Readers and a publisher at once: is every page patients get a whole published snapshot?

    python tests/load/reader_load.py                           # 50 readers for 60 s (the security issue's run)
    python tests/load/reader_load.py --readers 50 --seconds 10 # what CI runs

Starts Redis and gunicorn (2 sync workers, production settings, the page cache on) against a database of its
own on the local PostgreSQL server. While the readers fetch article pages, listings, topic pages and searches
(half of them conditionally, with the ETag they saw last), a publisher edits each article, has it reviewed and
publishes it again, over and over, through `articles.workflow`. Every edit writes its version number into the
title, the summary and each statement, so a reader can tell a page that mixes two versions. Counted:
  - requests, by status; anything but 200 and 304 is an error;
  - half-updated pages: an article page whose version numbers disagree, that is cut short, or that shows a
    version no publish had begun (a working copy);
  - stale pages: an article page requested after a publish was acknowledged that shows an older version;
  - versions published.
Prints the counts and exits 1 if there is any error, half-updated or stale page. Loopback only; stops what it
started and drops its database.
"""

import argparse
import os
import random
import re
import sys
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
PAGE_VERDICTS = ("whole page", "half-updated page", "stale page")


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    return parser.parse_args(argv)


class Published:
    """What the publisher has published: per article, the versions and when each was acknowledged.

    A version is also known from the moment its publish begins: it is live once committed, a little before
    `workflow.publish` returns (which waits until every app process sees it).
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.versions: dict[str, list[tuple[int, float]]] = {}
        self.publishing: dict[str, int] = {}

    def begin(self, path: str, version: int) -> None:
        with self.lock:
            self.publishing[path] = version

    def acknowledge(self, path: str, version: int) -> None:
        with self.lock:
            self.versions.setdefault(path, []).append((version, time.monotonic()))

    def newest_before(self, path: str, moment: float) -> int:
        with self.lock:
            return max((v for v, at in self.versions.get(path, []) if at < moment), default=0)

    def known(self, path: str, version: int) -> bool:
        with self.lock:
            return self.publishing.get(path) == version or any(v == version for v, _ in self.versions.get(path, []))


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


def publisher(articles, people, published: Published, stop: threading.Event, failures: list) -> None:
    from django.db import close_old_connections

    from articles import workflow
    from tests.factories import review

    version = 1
    while not stop.is_set():
        version += 1
        for article in articles:
            if stop.is_set():
                return
            close_old_connections()
            try:
                article.refresh_from_db()
                write_version(article, people["references"], version)
                workflow.record_edit(article, by=people["writer"])
                review(article, reviewer=people["reviewer"], submitter=people["writer"])
                published.begin(article.live_snapshot.get_absolute_url(), version)
                snapshot = workflow.publish(article, by=people["editor"])
            except Exception as error:  # reported, and the run fails: the publisher must never be refused
                failures.append(f"publishing {article.slug} version {version}: {error!r}")
                continue
            published.acknowledge(snapshot.get_absolute_url(), version)


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
        if status == 200 and "ETag" in response_headers:
            etags[path] = response_headers["ETag"]
        if status == 200 and path.startswith("/articles/load-article-"):
            check_article_page(path, body, started, published, counts)


def check_article_page(path: str, body: bytes, started: float, published: Published, counts: Counter) -> None:
    versions = {int(v) for v in VERSION.findall(RELATED.sub(b"", body))}
    if len(versions) != 1 or not body.rstrip().endswith(b"</html>"):
        counts["half-updated page"] += 1
        return
    (version,) = versions
    if not published.known(path, version):
        counts["half-updated page"] += 1  # a version nobody published completely
    elif version < published.newest_before(path, started):
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
    with servers.Servers() as started:
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
        app = started.add(servers.gunicorn(environment))

        paths = [a.live_snapshot.get_absolute_url() for a in articles] * 4 + [
            "/", "/articles/", "/topics/load-testing/", "/search/?q=mice", "/feeds/articles.rss",
        ]  # fmt: skip
        stop, counts, failures = threading.Event(), Counter(), []
        readers = [
            threading.Thread(target=reader, args=(app.url, paths, published, stop, counts), daemon=True)
            for _ in range(options.readers)
        ]
        writer = threading.Thread(target=publisher, args=(articles, people, published, stop, failures), daemon=True)
        for thread in [*readers, writer]:
            thread.start()
        time.sleep(options.seconds)
        stop.set()
        for thread in [*readers, writer]:
            thread.join(timeout=30)

    versions = sum(len(v) - 1 for v in published.versions.values())
    errors = sum(n for key, n in counts.items() if key not in (200, 304, *PAGE_VERDICTS))
    total = sum(n for key, n in counts.items() if not isinstance(key, str) or key.startswith("connection"))
    print(f"{options.readers} readers for {options.seconds:g} s against gunicorn (2 workers), publishing meanwhile")
    print(f"requests: {total}  200: {counts[200]}  304: {counts[304]}  errors: {errors}")
    print(f"article pages checked: {counts['whole page'] + counts['half-updated page'] + counts['stale page']}  "
          f"half-updated: {counts['half-updated page']}  stale after a publish: {counts['stale page']}")  # fmt: skip
    print(f"versions published during the run: {versions}  publisher failures: {len(failures)}")
    for key, n in sorted(counts.items(), key=str):
        if key not in (200, 304, "whole page"):
            print(f"  {key}: {n}")
    for failure in failures[:5]:
        print(f"  {failure}")
    ok = not errors and not failures and not counts["half-updated page"] and not counts["stale page"] and versions
    print("result: pass" if ok else "result: FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
