import datetime
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from articles import workflow
from articles.models import Article
from tests.factories import (
    ArticleFactory,
    ReferenceFactory,
    TopicFactory,
    deliver_queued_mail,
    publish_reviewed,
    review,
    sitewide_disclaimer,
)

pytestmark = pytest.mark.django_db


def scheduled_article(editor, *, minutes_from_now):
    sitewide_disclaimer()
    reference = ReferenceFactory()
    article = ArticleFactory(body=f"<p>In mice, it helped [@{reference.citation_key}].</p>", topics=[TopicFactory()])
    review(article)
    article.refresh_from_db()
    workflow.schedule(article, by=editor, at=timezone.now() + datetime.timedelta(minutes=minutes_from_now))
    return article


def test_publish_scheduled_publishes_what_is_due(editor, capsys):
    due = scheduled_article(editor, minutes_from_now=1)
    later = scheduled_article(editor, minutes_from_now=120)
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + datetime.timedelta(minutes=2)):
        call_command("publish_scheduled")
    assert f"Published: “{due.title}”" in capsys.readouterr().out
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, later.status) == (Article.Status.PUBLISHED, Article.Status.SCHEDULED)


def test_publish_scheduled_with_nothing_due_says_so(capsys):
    call_command("publish_scheduled")
    assert "Nothing is due." in capsys.readouterr().out


def test_publish_scheduled_fails_loudly_when_an_article_cannot_be_published(editor, capsys):
    article = scheduled_article(editor, minutes_from_now=1)
    article.body = article.body.replace("it helped", "it helped people")
    article.save()
    with (
        mock.patch("django.utils.timezone.now", return_value=timezone.now() + datetime.timedelta(minutes=2)),
        pytest.raises(CommandError, match="could not be published"),
    ):
        call_command("publish_scheduled")
    assert "edited after approval" in capsys.readouterr().err
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_publish_scheduled_refuses_unknown_arguments():
    with pytest.raises(CommandError):
        call_command("publish_scheduled", "--now", "yesterday")


def test_send_review_reminders(editor, reviewer, capsys):
    reference = ReferenceFactory()
    article = ArticleFactory(body=f"<p>In mice, it helped [@{reference.citation_key}].</p>", topics=[TopicFactory()])
    snapshot = publish_reviewed(article, editor=editor, reviewer=reviewer)
    deliver_queued_mail().clear()  # the steps' own mail

    call_command("send_review_reminders")
    assert "No article is due for re-review." in capsys.readouterr().out
    assert deliver_queued_mail() == []

    with mock.patch("django.utils.timezone.localdate", return_value=snapshot.next_review_due):
        call_command("send_review_reminders")
    assert f"Due for re-review: “{article.title}”" in capsys.readouterr().out
    (reminder,) = deliver_queued_mail()
    assert reviewer.email in reminder.to


def test_send_review_reminders_refuses_unknown_arguments():
    with pytest.raises(CommandError):
        call_command("send_review_reminders", "--all")
