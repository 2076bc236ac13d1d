"""Faults under load: PostgreSQL restarted, Redis stopped, the mail server down, the edge down, a purge API
failing. Nothing lost, no traceback, nothing stale.

    python tests/load/fault_run.py             # outages of 5 s
    python tests/load/fault_run.py --quick     # what CI runs: outages of 2 s, recovery time not judged

1. PostgreSQL restarted. A cluster of the run's own (so nobody else's database goes down) serves gunicorn
   (2 sync workers, production settings, persistent connections with health checks) while readers fetch pages
   and a writer saves edits. The cluster is stopped for the outage and started again. Counted: answers by
   status (during the outage every answer must be the friendly 503 page, never a traceback or a dropped
   connection), seconds from the restart to the first good page, and edits the writer was told were saved
   that are not in the database afterwards (lost edits, which must be none).
2. Redis stopped. With the page cache on, Redis is killed under load and started again: every answer must
   still be a 200 served from the database, and pages are cached again afterwards.
3. Mail server down. A workflow step with SMTP pointed at a closed port must commit and queue its mail; the
   sender (send_queued_mail) finds the server down and leaves the mail for a retry; once a mail server listens
   there, the next runs deliver it: mails lost must be none.
4. Edge down (tests/load/edge_faults.py). Varnish in front of gunicorn is stopped under load: the app still
   serves every page (200), a publish still commits and its purge is kept (refused, attempts 1); Varnish
   started again (empty) serves the new version, and `manage.py send_purges` then sends the kept purge.
5. Purge API failing. The purge goes to a stand-in for a CDN's API that answers 500: `send_purges` retries it
   until editors are told (outbox.failing(), and the review desk shows `id="failing-purges"` to an editor);
   once the API recovers (passing purges on to the real Varnish), the next run confirms it, nothing is pending,
   and the page read through the edge is the new one.
Prints the counts of each and exits 1 if any check fails. Loopback only; stops and removes what it started.
After each outage the run waits for recovery rather than for a fixed time; with --quick (CI, on a machine that
may be busy) it asks only that the site recovers, not that it does so within 10 s.
"""

import argparse
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import servers
from tests.load.edge_faults import edge_faults
from tests.load.under_load import Readers, wait_for


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short outages (CI)")
    options = parser.parse_args(argv)
    options.outage = 2 if options.quick else 5
    options.steady = 2 if options.quick else 5
    options.recovery_limit = 120 if options.quick else 10  # seconds from the restart to the first good page
    return options


def database_restart(options, cluster: servers.PrivatePostgres, environment: dict) -> tuple[bool, list[str]]:
    article = published_article()
    with servers.Servers() as started:
        app = started.add(servers.gunicorn(environment))
        paths = [article.live_snapshot.get_absolute_url(), "/articles/", "/search/?q=mice"]
        acknowledged: list[str] = []
        writer_stop = threading.Event()
        writer = threading.Thread(target=write_edits, args=(article.pk, acknowledged, writer_stop), daemon=True)
        with Readers(app.url, paths) as readers:
            writer.start()
            time.sleep(options.steady)
            down = time.monotonic()
            cluster.stop("fast")  # every connection is cut, as in a restart or a failover
            time.sleep(options.outage)
            cluster.start()
            up = time.monotonic()
            if wait_for(lambda: readers.first("200", up) is not None, options.recovery_limit):
                time.sleep(3)  # the settled window below: answers from 2 s after the first good page
            writer_stop.set()
            writer.join(timeout=30)
    during, after = readers.between(down, up), readers.between(up)
    first_good = readers.first("200", up)
    recovered_in = None if first_good is None else first_good - up
    settled = readers.between(first_good + 2) if first_good is not None else Counter()
    lost = lost_edits(article.pk, acknowledged)
    lines = [
        "PostgreSQL restarted under load",
        f"  answers during the outage: {dict(during)}",
        f"  answers after it: {dict(after)}",
        f"  first good page {recovered_in:.1f} s after the restart"
        if recovered_in is not None
        else "  never recovered",
        f"  edits acknowledged: {len(acknowledged)}  lost edits: {len(lost)}",
    ]
    ok = (
        set(during) <= {"200", "503 friendly"}  # a request that began before the cut may finish with a 200
        and during["503 friendly"] > 0
        and set(after) <= {"200", "503 friendly"}
        and recovered_in is not None
        and recovered_in <= options.recovery_limit
        and sum(settled.values()) > 0
        and set(settled) <= {"200"}
        and bool(acknowledged)
        and not lost
    )
    return ok, lines


def published_article():
    from tests.factories import ArticleFactory, ReferenceFactory, member_of, publish_reviewed

    reference = ReferenceFactory()
    article = ArticleFactory(body=f"<p>In studies in mice, the cells helped [@{reference.citation_key}].</p>")
    publish_reviewed(article, editor=member_of("Editors"), reviewer=member_of("Reviewers"))
    article.refresh_from_db()
    return article


def write_edits(article_pk: int, acknowledged: list[str], stop: threading.Event) -> None:
    """Save the working copy over and over, as the admin would; an edit counts once its save has returned."""
    from django.db import close_old_connections, transaction

    from articles.models import Article

    number = 0
    while not stop.is_set():
        number += 1
        summary = f"Edit number {number} of the summary."
        close_old_connections()  # what Django does at the start of each request: drop a connection that broke
        try:
            with transaction.atomic():
                article = Article.objects.select_for_update().get(pk=article_pk)
                article.summary = summary
                article.save()
        except Exception:  # the database is down: the writer was told the save failed, so it is not lost
            time.sleep(0.1)
            continue
        acknowledged.append(summary)
        time.sleep(0.05)


def lost_edits(article_pk: int, acknowledged: list[str]) -> list[str]:
    from django.db import close_old_connections

    from articles.models import Article

    close_old_connections()
    saved = set(Article.history.filter(id=article_pk).values_list("summary", flat=True))
    return [summary for summary in acknowledged if summary not in saved]


def redis_outage(options, environment: dict) -> tuple[bool, list[str]]:
    from articles import page_cache

    with servers.Servers() as started:
        redis = started.add(servers.redis_server())
        app = started.add(servers.gunicorn({**environment, "REDIS_URL": redis.url}))
        with Readers(app.url, ["/", "/articles/", "/search/?q=mice"]) as readers:
            time.sleep(options.steady)
            down = time.monotonic()
            redis.stop()
            time.sleep(options.outage)
            up = time.monotonic()
            port = int(redis.url.rsplit(":", 1)[1].split("/")[0])
            started.add(servers.redis_server(port))
            # The cache is tried again RETRY_AFTER_ERROR_SECONDS after an error; wait no longer than needed.
            patience = page_cache.RETRY_AFTER_ERROR_SECONDS + options.recovery_limit
            cached_again = wait_for(lambda: page_cached(redis.url), patience)
    during, after = readers.between(down, up), readers.between(up)
    lines = [
        "Redis stopped under load",
        f"  answers while Redis was down: {dict(during)}",
        f"  answers after it came back: {dict(after)}",
        f"  pages cached again after: {'yes' if cached_again else 'no'}",
    ]
    return set(during) == {"200"} and set(after) == {"200"} and cached_again, lines


def page_cached(redis_url: str) -> bool:
    import redis

    from articles import page_cache

    client = redis.Redis.from_url(redis_url)
    return any(key.endswith(f":{page_cache.PAGE_KEY}".encode()) for key in client.scan_iter(count=1000))


def mail_server_down(options) -> tuple[bool, list[str]]:
    import datetime
    import tempfile

    from django.conf import settings
    from django.core.management import call_command
    from post_office.models import STATUS, Email

    from articles import workflow
    from articles.models import Article
    from tests.factories import ArticleFactory, ReferenceFactory, TopicFactory, member_of

    port = servers.free_port()  # nothing listens there until the mail server "comes back"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.EMAIL_TIMEOUT = 2
    settings.POST_OFFICE = {**settings.POST_OFFICE, "RETRY_INTERVAL": datetime.timedelta(seconds=1)}
    lockfile = str(Path(tempfile.mkdtemp(prefix="clinic-mail-")) / "send_queued_mail")
    member_of("Reviewers", email="reviewer@clinic.example")
    reference = ReferenceFactory()
    article = ArticleFactory(
        body=f"<p>In studies in mice, the cells helped [@{reference.citation_key}].</p>", topics=[TopicFactory()]
    )
    workflow.submit_for_review(article, by=article.author)
    committed = Article.objects.get(pk=article.pk).status == Article.Status.IN_REVIEW
    mails = Email.objects.filter(subject__contains=article.title)
    queued = mails.count()
    call_command("send_queued_mail", lockfile=lockfile)  # the server is down: the mail waits for a retry
    waiting = mails.filter(status=STATUS.requeued).count()

    def all_sent() -> bool:
        call_command("send_queued_mail", lockfile=lockfile)
        return not mails.exclude(status=STATUS.sent).exists()

    with servers.SmtpRecorder(port) as mail_server:
        wait_for(all_sent, 5 + options.recovery_limit)  # the retry interval, then the sender's run
    delivered = sum("reviewer@clinic.example" in envelope.rcpt_tos for envelope in mail_server.delivered)
    lines = [
        "Mail server down during a workflow step",
        f"  step committed: {'yes' if committed else 'no'}  mails queued: {queued}"
        f"  waiting for a retry while the server was down: {waiting}",
        f"  delivered once it was up: {delivered}  mails lost: {queued - delivered}",
    ]
    return committed and queued == waiting == delivered == 1, lines


def main(argv=None) -> int:
    options = arguments(argv)
    cluster = servers.PrivatePostgres()  # its own, so restarting it takes nobody else's database down
    try:
        cluster.start()
        cluster.create_database()
        environment = servers.production_environment(cluster.url)
        servers.manage(environment, "migrate", "--noinput", "-v0")
        servers.setup_django(environment)
        from django.conf import settings

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # until the mail server phase
        results = [
            database_restart(options, cluster, environment),
            redis_outage(options, environment),
            mail_server_down(options),
            *edge_faults(options, environment),
        ]
    finally:
        cluster.remove()
    for ok, lines in results:
        print("\n".join(lines))
        print(f"  result: {'pass' if ok else 'FAIL'}")
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
