"""An edge that keeps refusing purges, as an editor meets it in Chromium: told on the review desk and the admin's
home page, reads why in the list of purges, and sends them again once the edge is back."""

import contextlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from playwright.sync_api import expect

from articles import workflow
from articles.edge import outbox
from articles.models import Article, EdgePurge
from tests.browser.test_accessibility import SCREENSHOTS
from tests.browser.test_authoring import log_in
from tests.factories import live_article, member_of
from tests.servers import PurgeRecorder


@pytest.fixture
def failing_edge(settings):
    with PurgeRecorder() as server:
        server.status = 503
        settings.EDGE_PURGERS = [{"BACKEND": "varnish", "URL": server.url}]
        settings.EDGE_PURGE_ECHO_SECONDS = 0
        yield server


def test_an_editor_is_told_of_a_failing_purge_reads_why_and_sends_it_again(page, failing_edge):
    editor = member_of("Editors")
    article = live_article(title="Exosomes and wound healing")
    EdgePurge.objects.all().delete()  # what making the article purged
    workflow.unpublish(Article.objects.get(pk=article.pk), by=editor, reason="A dose was wrong.")
    for _minute in range(outbox.FAILING_AFTER_ATTEMPTS - 1):  # cron's next runs, each finding it due
        EdgePurge.objects.pending().update(next_attempt_at=EdgePurge.objects.get().created_at)
        with contextlib.suppress(CommandError):  # it fails, naming the purge, from the third failure on
            call_command("send_purges")

    log_in(page, editor)
    warning = page.locator("#failing-purges")
    expect(warning).to_contain_text("Patients may still see pages that changed.")
    page.goto("/review/")
    expect(warning).to_contain_text("1 purge of the edge cache has failed several times")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "edge-purge-failing-desk.png", full_page=True)

    warning.get_by_role("link", name="See why, and send again").click()
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"article {article.pk}, the English lists of articles")
    expect(row).to_contain_text("answered HTTP 503")
    page.screenshot(path=SCREENSHOTS / "edge-purge-list.png", full_page=True)

    failing_edge.status = 200  # the edge is back
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "send_again")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("1 purge(s) confirmed by every edge; 0 still failing.")
    assert {f"article-{article.pk}", "articles-en"} <= failing_edge.all_purged()
    page.goto("/review/")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    expect(page.locator("#failing-purges")).to_have_count(0)
