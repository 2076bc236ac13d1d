"""Honest dates (issue #15): the overdue notice on the live page, truthful JSON-LD, and the grace period after
which an overdue article leaves the site through the gate (workflow/withdrawing.py, `manage.py withdraw_overdue`)."""

import datetime
import time
import zoneinfo
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from articles import desk, page_cache, workflow
from articles.models import Article, AuditEvent
from articles.models.site_content import GRACE_DAYS_INVALID
from tests.factories import TopicFactory, deliver_queued_mail, live_article
from tests.test_page_cache import shared_cache  # noqa: F401 - the fixture
from tests.test_structured_data import json_ld
from tests.test_views import ARTICLE_PAGE_QUERIES

pytestmark = pytest.mark.django_db

NOTICE = "This page is due for review."
MAY_BE_OUT_OF_DATE = "The information may be out of date."
DAY = datetime.timedelta(days=1)


def on(day: datetime.date):
    """Make it midday on `day` in the clinic's time zone (`localdate()` then says `day`; dates of stored
    moments still read as they are)."""
    midday = datetime.datetime.combine(day, datetime.time(12), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
    return mock.patch("django.utils.timezone.now", return_value=midday)


def overdue_article(*, grace_days: int | None = 30, **fields) -> Article:
    """Return a live article in a topic with the given grace period, with its review due date."""
    return live_article(topics=[TopicFactory(overdue_grace_days=grace_days)], **fields)


# --- The notice --------------------------------------------------------------------------------------------------


def test_the_notice_shows_from_the_day_after_the_due_date_and_not_on_it(client, django_assert_num_queries):
    article = overdue_article()
    due = article.live_snapshot.next_review_due
    url = article.get_absolute_url()
    for day in (due - DAY, due):
        with on(day):
            page = client.get(url).content.decode()
        assert NOTICE not in page, day
        assert "review-overdue" not in page
    with on(due + DAY), django_assert_num_queries(ARTICLE_PAGE_QUERIES):  # no extra query
        page = client.get(url).content.decode()
    assert NOTICE in page
    assert MAY_BE_OUT_OF_DATE in page
    # Near the top: after the dates, before the body.
    assert page.index("Next review due") < page.index(NOTICE) < page.index('class="prose"')
    assert f'<time datetime="{due:%Y-%m-%d}">' in page


def test_the_notice_reads_the_clinics_time_zone(client, settings):
    article = overdue_article()
    due = article.live_snapshot.next_review_due
    settings.TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: already the day after when it is still the due date in UTC
    utc_evening = datetime.datetime.combine(due, datetime.time(12), tzinfo=datetime.UTC)
    with mock.patch("django.utils.timezone.now", return_value=utc_evening):
        assert NOTICE in client.get(article.get_absolute_url()).content.decode()
    settings.TIME_ZONE = "America/New_York"
    with mock.patch("django.utils.timezone.now", return_value=utc_evening):
        assert NOTICE not in client.get(article.get_absolute_url()).content.decode()


@pytest.mark.usefixtures("shared_cache")
def test_a_cached_page_shows_the_notice_once_its_copy_expires_without_an_invalidation(
    client, monkeypatch, django_assert_num_queries
):
    article = overdue_article()
    due, url = article.live_snapshot.next_review_due, article.get_absolute_url()
    with on(due):
        assert NOTICE not in client.get(url).content.decode()
    with on(due + DAY), django_assert_num_queries(0):  # just after midnight: this process's copy, as kept
        assert NOTICE not in client.get(url).content.decode()
    later = time.time() + settings.PAGE_CACHE_SECONDS + 1
    monkeypatch.setattr(page_cache.time, "time", lambda: later)
    with on(due + DAY):  # PAGE_CACHE_SECONDS on, in this process as in Redis, the page is rendered again
        assert NOTICE in client.get(url).content.decode()


# --- JSON-LD -----------------------------------------------------------------------------------------------------


def test_json_ld_stays_truthful_once_the_review_is_overdue(client):
    article = overdue_article()
    snapshot = article.live_snapshot
    due = snapshot.next_review_due
    with on(due - DAY):
        before = json_ld(client.get(article.get_absolute_url()).content.decode())
    with on(due + 400 * DAY):
        after = json_ld(client.get(article.get_absolute_url()).content.decode())
    assert after == before  # nothing in it moves on with the calendar
    assert after["lastReviewed"] == timezone.localdate(snapshot.reviewed_at).isoformat()  # the real review date
    assert after["dateModified"] == snapshot.published_at.isoformat()
    # No claim fresher than the real review: no invented review date, no "next review" or expiry.
    dates = [value for key, value in after.items() if key.startswith("date") or key == "lastReviewed"]
    assert all(value[:10] <= snapshot.published_at.date().isoformat() for value in dates)
    assert not {"reviewDue", "expires", "nextReview"} & set(after)


# --- The grace period in the admin -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-3", "thirty", "2.5", "99999"])
def test_a_malformed_grace_period_gets_a_clear_message_in_the_admin(client, editor, value):
    topic = TopicFactory()
    client.force_login(editor)
    data = {"name": topic.name, "slug": topic.slug, "description": "", "overdue_grace_days": value}
    response = client.post(reverse("admin:articles_topic_change", args=[topic.pk]), data)
    assert response.status_code == 200
    assert GRACE_DAYS_INVALID in response.content.decode().replace("&#x27;", "'")
    topic.refresh_from_db()
    assert topic.overdue_grace_days is None


def test_the_topic_admin_sets_and_clears_a_grace_period_and_says_what_it_does(client, editor):
    topic = TopicFactory()
    client.force_login(editor)
    url = reverse("admin:articles_topic_change", args=[topic.pk])
    assert "withdraw_overdue" in client.get(url).content.decode()  # the help text
    data = {"name": topic.name, "slug": topic.slug, "description": ""}
    assert client.post(url, {**data, "overdue_grace_days": "30"}).status_code == 302
    topic.refresh_from_db()
    assert topic.overdue_grace_days == 30
    assert client.post(url, {**data, "overdue_grace_days": ""}).status_code == 302
    topic.refresh_from_db()
    assert topic.overdue_grace_days is None


# --- Withdrawal through the gate ---------------------------------------------------------------------------------


def test_an_article_stays_within_its_grace_period_and_is_withdrawn_after_it(client, editor):
    article = overdue_article(grace_days=30)
    due = article.live_snapshot.next_review_due
    deliver_queued_mail().clear()
    assert workflow.withdraw_overdue_articles(today=due + 30 * DAY) == []  # the last day of grace
    article.refresh_from_db()
    assert article.live_snapshot_id is not None

    (outcome,) = workflow.withdraw_overdue_articles(today=due + 31 * DAY)
    assert outcome.article.pk == article.pk
    assert not outcome.error
    article.refresh_from_db()
    assert (article.status, article.live_snapshot_id, article.live_review_due) == (Article.Status.DRAFT, None, None)
    event = AuditEvent.objects.get(article=article, action=workflow.WITHDRAW_OVERDUE.action)
    assert (event.actor, event.from_state, event.to_state) == (None, "published", "draft")
    assert event.message == outcome.reason
    assert f"{due:%-d %B %Y}" in event.message
    assert "30 day(s)" in event.message
    assert client.get(article.get_absolute_url()).status_code == 404
    # Editors and the writer are told, through the outbox.
    (sent,) = deliver_queued_mail()
    editors = {user.email for user in get_user_model().objects.filter(groups__name="Editors")}
    assert editor.email in editors
    assert set(sent.to) == editors | {article.author.email}
    assert outcome.reason in sent.body
    assert article.title in sent.subject


def test_the_shortest_grace_among_the_topics_wins():
    article = live_article(
        topics=[TopicFactory(overdue_grace_days=90), TopicFactory(overdue_grace_days=7), TopicFactory()]
    )
    grace = workflow.grace_of(article)
    assert grace.days == 7
    due = article.live_snapshot.next_review_due
    assert [w.article for w in workflow.withdrawals_due(due + 7 * DAY)] == []
    assert [w.article for w in workflow.withdrawals_due(due + 8 * DAY)] == [article]


def test_a_topic_without_a_grace_period_never_withdraws():
    article = overdue_article(grace_days=None)
    far = article.live_snapshot.next_review_due + 3650 * DAY
    assert workflow.withdraw_overdue_articles(today=far) == []
    with pytest.raises(workflow.WorkflowError) as refused:
        workflow.withdraw_overdue(article, today=far)
    assert str(refused.value) == workflow.NO_GRACE_PERIOD.format(title=article.title)
    article.refresh_from_db()
    assert article.live_snapshot_id is not None


def test_only_the_scheduled_job_withdraws_a_person_unpublishes(editor):
    article = overdue_article(grace_days=1)
    far = article.live_snapshot.next_review_due + 10 * DAY
    with pytest.raises(workflow.WorkflowError) as refused:
        workflow.withdraw_overdue(article, by=editor, today=far)
    assert str(refused.value) == workflow.ONLY_THE_DAILY_JOB_WITHDRAWS.format(title=article.title)
    with pytest.raises(workflow.WorkflowError, match="within its grace period"):
        workflow.withdraw_overdue(article, today=article.live_snapshot.next_review_due + DAY)


def test_a_re_review_under_way_is_not_withdrawn(editor):
    article = overdue_article(grace_days=1)
    due = article.live_snapshot.next_review_due
    workflow.submit_for_review(article, by=editor)
    assert workflow.withdraw_overdue_articles(today=due + 10 * DAY) == []
    with pytest.raises(workflow.WorkflowError) as refused:
        workflow.withdraw_overdue(article, today=due + 10 * DAY)
    assert str(refused.value) == workflow.RE_REVIEW_UNDER_WAY.format(title=article.title, state="in review")


@pytest.mark.usefixtures("shared_cache")
def test_the_page_cache_forgets_a_withdrawn_page(client, django_assert_num_queries, django_capture_on_commit_callbacks):
    article = overdue_article(grace_days=1)
    url = article.get_absolute_url()
    assert client.get(url).status_code == 200
    with django_assert_num_queries(0):  # kept
        assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):  # the invalidation runs once the step commits
        workflow.withdraw_overdue_articles(today=article.live_snapshot.next_review_due + 2 * DAY)
    assert client.get(url).status_code == 404


def test_a_withdrawal_shows_in_the_desk_and_admin_timeline_with_its_reason(client, editor):
    article = overdue_article(grace_days=1)
    workflow.withdraw_overdue_articles(today=article.live_snapshot.next_review_due + 2 * DAY)
    (entry,) = [entry for entry in desk.timeline_of(article) if entry[0].action == workflow.WITHDRAW_OVERDUE.action]
    assert entry[1:] == ("The system", workflow.WITHDRAW_OVERDUE.done, "published", "draft")
    client.force_login(editor)
    for url in (
        reverse("articles:review_article", args=[article.pk]),
        reverse("admin:articles_article_change", args=[article.pk]),
    ):
        page = client.get(url).content.decode()
        assert "withdrew it from the site" in page, url
        assert "grace period of 1 day(s)" in page, url


def test_one_failure_does_not_stop_the_rest(monkeypatch):
    first, second = overdue_article(grace_days=1), overdue_article(grace_days=1)
    today = max(first.live_review_due, second.live_review_due) + 5 * DAY
    real = workflow.withdrawing.notifications.withdrawn_overdue

    def fails_for_the_first(article, reason):
        if article.pk == first.pk:
            raise ConnectionError("the outbox table is locked")
        return real(article, reason)

    monkeypatch.setattr(workflow.withdrawing.notifications, "withdrawn_overdue", fails_for_the_first)
    outcomes = {outcome.article.pk: outcome for outcome in workflow.withdraw_overdue_articles(today=today)}
    assert "the outbox table is locked" in outcomes[first.pk].error
    assert not outcomes[first.pk].refused
    assert not outcomes[second.pk].error
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.live_snapshot_id is not None  # its transaction rolled back whole: still live, no audit entry
    assert not AuditEvent.objects.filter(article=first, action=workflow.WITHDRAW_OVERDUE.action).exists()
    assert second.live_snapshot_id is None


# --- The command -------------------------------------------------------------------------------------------------


def test_the_command_withdraws_and_prints_what_it_withdrew(capsys):
    article = overdue_article(grace_days=1, title="Exosomes for knees")
    kept = overdue_article(grace_days=None, title="Exosomes for hair")
    with on(article.live_snapshot.next_review_due + 2 * DAY):
        call_command("withdraw_overdue")
    out = capsys.readouterr().out
    assert f"Withdrew: “{article.title}”" in out
    assert "1 article(s) withdrawn." in out
    assert kept.title not in out
    article.refresh_from_db()
    assert article.live_snapshot_id is None


def test_the_commands_dry_run_changes_nothing(capsys):
    article = overdue_article(grace_days=1)
    deliver_queued_mail().clear()
    events = AuditEvent.objects.count()
    with on(article.live_snapshot.next_review_due + 2 * DAY):
        call_command("withdraw_overdue", "--dry-run")
    out = capsys.readouterr().out
    assert f"Would withdraw: “{article.title}”" in out
    assert "nothing changed" in out
    article.refresh_from_db()
    assert article.live_snapshot_id is not None
    assert article.status == Article.Status.PUBLISHED
    assert AuditEvent.objects.count() == events
    assert deliver_queued_mail() == []


def test_the_command_with_nothing_to_withdraw_says_so(capsys):
    overdue_article(grace_days=30)
    call_command("withdraw_overdue")
    assert "No article is overdue past its grace period." in capsys.readouterr().out


def test_the_command_fails_loudly_when_an_article_could_not_be_withdrawn(monkeypatch, capsys):
    article = overdue_article(grace_days=1)
    monkeypatch.setattr(
        workflow.withdrawing.notifications, "withdrawn_overdue", mock.Mock(side_effect=ConnectionError("down"))
    )
    with on(article.live_snapshot.next_review_due + 2 * DAY), pytest.raises(CommandError, match="still on the site"):
        call_command("withdraw_overdue")
    assert f"Could not withdraw “{article.title}”: down" in capsys.readouterr().err


def test_the_command_refuses_unknown_arguments():
    with pytest.raises(CommandError):
        call_command("withdraw_overdue", "--today", "2030-01-01")
