"""The fault run's edge parts (tests/load/fault_run.py): Varnish down under load, and a purge API failing.

Both run Varnish (docs/varnish/clinic.vcl) in front of gunicorn, which keeps public pages an hour
(PUBLIC_CACHE_SECONDS=3600) because each change purges them. Changes are made in this process through
`articles.workflow`, whose purge goes out after the commit; the echo purge is off here (EDGE_PURGE_ECHO_SECONDS=0)
so that what is pending is exactly what failed (tests/test_varnish.py checks the echo). Where a purge waits for
its retry, the run makes it due at once, as cron's next `send_purges` a minute later would find it.
"""

import io
import tempfile
import time
from pathlib import Path

from tests import servers
from tests.load.under_load import Readers, wait_for


def edge_faults(options, environment: dict) -> list[tuple[bool, list[str]]]:
    """Run both edge parts against one gunicorn; return each part's verdict and lines."""
    from django.conf import settings

    settings.EDGE_PURGE_ECHO_SECONDS = 0
    folder = Path(tempfile.mkdtemp(prefix="clinic-edge-"))
    with servers.Servers() as started:
        # The app first, then Varnish in front of it. The app only reads here (this process makes the changes and
        # purges), so it needs the edge's TTL, not its address.
        app = started.add(servers.gunicorn({**environment, "PUBLIC_CACHE_SECONDS": "3600"}))
        edge = started.add(servers.varnish(app.url, folder))
        settings.EDGE_PURGERS = [{"BACKEND": "varnish", "URL": edge.url}]
        people, article = edge_site()
        again = folder / "again"
        again.mkdir()
        down, edge = edge_down(options, started, edge, app, again, people, article)
        failing = purge_api_failing(options, edge, people, article)
    settings.EDGE_PURGERS = []
    return [down, failing]


def edge_site():
    from tests.factories import ArticleFactory, ReferenceFactory, member_of, publish_reviewed

    people = {"writer": member_of("Writers"), "reviewer": member_of("Reviewers"), "editor": member_of("Editors")}
    reference = ReferenceFactory()
    article = ArticleFactory(
        author=people["writer"],
        summary="The summary as first published.",
        body=f"<p>In studies in mice, the cells helped [@{reference.citation_key}].</p>",
    )
    publish_reviewed(article, editor=people["editor"], reviewer=people["reviewer"])
    article.refresh_from_db()
    return people, article


def publish_summary(article, people, summary: str) -> None:
    """Edit the summary, have it reviewed and publish it, as staff would."""
    from articles import workflow
    from tests.factories import review

    article.refresh_from_db()
    article.summary = summary
    article.save()
    workflow.record_edit(article, by=people["writer"])
    review(article, reviewer=people["reviewer"], submitter=people["writer"])
    workflow.publish(article, by=people["editor"])


def pending_for(article):
    from articles.models import EdgePurge

    return EdgePurge.objects.pending().filter(tags__contains=[f"article-{article.pk}"])


def send_purges_when_due() -> str:
    """Run `manage.py send_purges` as cron would a minute later (every kept purge due); return what it said."""
    from django.core.management import CommandError, call_command
    from django.utils import timezone

    from articles.models import EdgePurge

    EdgePurge.objects.pending().update(next_attempt_at=timezone.now())
    said = io.StringIO()
    try:
        call_command("send_purges", stdout=said, stderr=said)
    except CommandError as error:  # cron's non-zero exit: purges still failing
        said.write(str(error))
    return said.getvalue()


def edge_down(options, started, edge, app, directory, people, article):
    """Varnish stopped under load: the app serves, a publish commits and keeps its purge; then it all recovers."""
    path = article.live_snapshot.get_absolute_url()
    servers.get(edge.url + path)
    summary = "The summary published while the edge was down."
    with Readers(app.url, [path, "/articles/", "/"]) as readers:
        wait_for(lambda: readers.between(0)["200"] > 0, options.recovery_limit)
        down = time.monotonic()
        edge.stop()
        publish_summary(article, people, summary)
        committed = summary.encode() in servers.get(app.url + path)[2]
        kept = list(pending_for(article))
        time.sleep(options.outage)  # readers keep reading from the app meanwhile
        up = time.monotonic()
        edge = started.add(servers.varnish(app.url, directory, port=int(edge.url.rsplit(":", 1)[1])))
    during = readers.between(down, up)
    fresh = summary.encode() in servers.get(edge.url + path)[2]  # an empty cache: the new version
    said = send_purges_when_due()
    sent = bool(kept) and not pending_for(article).exists()
    attempts = max((row.attempts for row in kept), default=0)
    error = kept[0].last_error if kept else "none"
    lines = [
        "Edge (Varnish) down under load",
        f"  answers from the app while the edge was down: {dict(during)}",
        f"  publish committed: {'yes' if committed else 'no'}  purge kept: {len(kept)} (attempts {attempts}: {error})",
        f"  edge started again serves the new version: {'yes' if fresh else 'no'}",
        f"  kept purge sent by send_purges: {'yes' if sent else 'no'} ({said.strip()})",
    ]
    ok = set(during) == {"200"} and committed and len(kept) == 1 and attempts >= 1 and fresh and sent
    return (ok, lines), edge


def purge_api_failing(options, edge, people, article):
    """A purge API answering 500: the purge is retried, editors see it; once it recovers nothing is stale."""
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from articles.edge import outbox

    path = article.live_snapshot.get_absolute_url()
    servers.get(edge.url + path)
    old_kept = servers.get(edge.url + path)[1].get("X-Cache") == "HIT"
    summary = "The summary published while the purge API was failing."
    with servers.PurgeRecorder(forward_to=edge.url) as api:  # a CDN's purge API in front of Varnish
        settings.EDGE_PURGERS = [{"BACKEND": "varnish", "URL": api.url}]
        api.status = 500
        publish_summary(article, people, summary)
        attempts = [row.attempts for row in pending_for(article)]
        for _retry in range(1, outbox.FAILING_AFTER_ATTEMPTS):  # until editors are told
            send_purges_when_due()
            attempts += [row.attempts for row in pending_for(article)]
        stale_while_failing = summary.encode() not in servers.get(edge.url + path)[2]
        failing = outbox.failing().count()
        client = Client()
        client.force_login(people["editor"])
        desk = client.get(reverse("articles:review_queue"), secure=True, headers={"host": "127.0.0.1"})
        shown = desk.status_code == 200 and b'id="failing-purges"' in desk.content
        api.status = 200
        said = send_purges_when_due()
        pending = pending_for(article).count()
        page = servers.get(edge.url + path)[2]
        tags = set().union(*(purged for purged, status in api.received if status == 200))
    fresh = summary.encode() in page
    lines = [
        "Purge API failing (500), then recovering",
        f"  purge retried by send_purges: attempts {attempts}  shown to editors: failing purges {failing}, "
        f"review desk {'shows' if shown else 'does not show'} them",
        f"  old page kept by the edge while failing: {'yes' if old_kept and stale_while_failing else 'no'}",
        f"  after recovery: pending {pending}  failing {outbox.failing().count()}  "
        f"page through the edge is the new one: {'yes' if fresh else 'no'} ({said.strip()})",
    ]
    ok = (
        len(attempts) >= outbox.FAILING_AFTER_ATTEMPTS
        and attempts == sorted(attempts)
        and failing >= 1
        and shown
        and pending == 0
        and not outbox.failing().exists()
        and f"article-{article.pk}" in tags
        and fresh
    )
    return ok, lines
