"""The mail of workflow steps (articles/notifications.py) goes through the outbox (django-post-office).

A step writes its mail in its own transaction and sends nothing; the sender (`send_queued_mail`) delivers it
later and retries a mail server that fails. Tested against the real SMTP backend and a real SMTP server on
loopback (aiosmtpd), and against a process killed right after a step committed.
"""

import datetime
import email
import email.policy
import logging
import os
import subprocess
import time
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from post_office.models import STATUS, Email, Log

from articles import notifications, workflow
from articles.models import Article, AuditEvent
from tests.factories import (
    ArticleFactory,
    ReferenceFactory,
    TopicFactory,
    admin_form_data,
    deliver_queued_mail,
    member_of,
    publish_reviewed,
)
from tests.servers import PROJECT, PYTHON, SmtpRecorder, free_port


def ready_for_review(writer) -> Article:
    reference = ReferenceFactory()
    body = f"<p>In mice, exosomes helped wounds heal [@{reference.citation_key}].</p>"
    return ArticleFactory(author=writer, body=body, topics=[TopicFactory()])


def submitted_mail(article: Article) -> tuple[str, str]:
    """Return the subject and body the reviewers are sent when the article is submitted."""
    desk = f"{settings.SITE_URL}/review/{article.pk}/"
    body = (
        f"“{article.title}” is waiting for review.\n\n"
        f"Approve its evidence statements and sign it off on the review desk:\n{desk}\n"
    )
    return f"[{settings.CLINIC['name']}] Ready for review: {article.title}", body


def send_queued_mail(tmp_path) -> None:
    """Run the sender as cron does (its lock file in the test's own folder, so parallel test runs do not meet)."""
    call_command("send_queued_mail", lockfile=str(tmp_path / "send_queued_mail"))


# --- In the step's transaction, sent by the sender -----------------------------------------------------


@pytest.mark.django_db
def test_a_step_writes_its_mail_to_the_outbox_and_the_request_sends_nothing(client, writer, reviewer):
    article = ready_for_review(writer)
    subject, body = submitted_mail(article)
    client.force_login(writer)

    response = client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        admin_form_data(article, _submit_for_review="Save and submit for review"),
    )

    assert response.status_code == 302
    assert mail.outbox == []
    (queued,) = Email.objects.all()
    assert (queued.status, queued.to, queued.subject) == (STATUS.queued, [reviewer.email], subject)
    (sent,) = deliver_queued_mail()
    assert (sent.to, sent.subject, sent.body) == ([reviewer.email], subject, body)
    queued.refresh_from_db()
    assert queued.status == STATUS.sent
    assert deliver_queued_mail() == [sent]  # sent once: a second run finds nothing queued


@pytest.mark.django_db
def test_a_step_that_is_rolled_back_leaves_no_mail(writer, reviewer):
    article = ready_for_review(writer)

    with transaction.atomic():
        workflow.submit_for_review(article, by=writer)
        assert Email.objects.count() == 1  # written inside the step's transaction ...
        transaction.set_rollback(True)  # ... which something after the step rolls back

    assert Email.objects.count() == 0  # ... so the mail went with it
    assert Article.objects.get(pk=article.pk).status == Article.Status.DRAFT
    assert deliver_queued_mail() == []


KILLED = 75  # the exit status of the process killed after its commit, unlike any a Python error ends with


def test_the_mail_of_a_step_survives_the_process_dying_right_after_the_commit(roles, tmp_path):
    reviewer, writer = member_of("Reviewers"), member_of("Writers")
    article = ready_for_review(writer)
    subject, body = submitted_mail(article)
    database = connection.settings_dict
    database_url = (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    )
    # Another process submits the article and is killed the moment its transaction commits: the first thing
    # run after the commit ends it, before any other after-commit work (a mail sent "on commit" would be lost).
    script = (
        "import os, django; django.setup()\n"
        "from django.db import transaction\n"
        "from articles import workflow\n"
        "from articles.models import Article\n"
        f"article = Article.objects.get(pk={article.pk})\n"
        "with transaction.atomic():\n"
        f"    transaction.on_commit(lambda: os._exit({KILLED}))\n"
        "    workflow.submit_for_review(article, by=article.author)\n"
    )
    environment = {"DJANGO_SETTINGS_MODULE": "clinic_site.settings", "DATABASE_URL": database_url, "REDIS_URL": ""}
    died = subprocess.run(
        [PYTHON, "-c", script],
        cwd=PROJECT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert died.returncode == KILLED, died.stderr
    assert Article.objects.get(pk=article.pk).status == Article.Status.IN_REVIEW
    (queued,) = Email.objects.all()
    assert (queued.status, queued.to, queued.subject) == (STATUS.queued, [reviewer.email], subject)
    send_queued_mail(tmp_path)
    (sent,) = mail.outbox
    assert (sent.to, sent.subject, sent.body) == ([reviewer.email], subject, body)


# --- A mail server that is down, then up ----------------------------------------------------------------


@pytest.fixture
def smtp_on_loopback(settings):
    """Deliver through Django's SMTP backend to a port on 127.0.0.1 where nothing listens yet; retry after 1 s."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    settings.POST_OFFICE = {**settings.POST_OFFICE, "MAX_RETRIES": 3, "RETRY_INTERVAL": datetime.timedelta(seconds=1)}
    return settings


def wait_until(moment: datetime.datetime) -> None:
    while timezone.now() <= moment:
        time.sleep(0.1)


def test_a_mail_that_finds_the_server_down_is_delivered_once_it_is_up(roles, smtp_on_loopback, tmp_path):
    reviewer, writer = member_of("Reviewers"), member_of("Writers")
    article = ready_for_review(writer)
    subject, body = submitted_mail(article)
    workflow.submit_for_review(article, by=writer)  # no test transaction around it: it commits

    send_queued_mail(tmp_path)  # the mail server is down

    (queued,) = Email.objects.all()
    assert (queued.status, queued.number_of_retries) == (STATUS.requeued, 1)
    (failure,) = Log.objects.filter(email=queued)
    assert (failure.status, failure.exception_type) == (STATUS.failed, "ConnectionRefusedError")
    assert Article.objects.get(pk=article.pk).status == Article.Status.IN_REVIEW

    with SmtpRecorder(smtp_on_loopback.EMAIL_PORT) as server:
        wait_until(queued.scheduled_time)  # the retry interval, 1 s here
        send_queued_mail(tmp_path)

    queued.refresh_from_db()
    assert queued.status == STATUS.sent
    (delivered,) = server.delivered
    assert delivered.rcpt_tos == [reviewer.email]
    message = email.message_from_bytes(delivered.original_content, policy=email.policy.default)
    assert message["Subject"] == subject
    assert message["Message-ID"] == queued.message_id  # the same on every try
    assert message.get_payload(decode=True).decode().replace("\r\n", "\n") == body
    assert list(Log.objects.filter(email=queued).order_by("date").values_list("status", flat=True)) == [
        STATUS.failed,
        STATUS.sent,
    ]


# --- Failed mail in the admin ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_editors_see_failed_mail_in_the_admin_and_queue_it_again(client, smtp_on_loopback, writer, reviewer, editor):
    smtp_on_loopback.POST_OFFICE = {**smtp_on_loopback.POST_OFFICE, "MAX_RETRIES": 0}
    article = ready_for_review(writer)
    workflow.submit_for_review(article, by=writer)
    assert deliver_queued_mail() == []  # refused: nothing listens on the port, and no retry is left
    (failed,) = Email.objects.all()
    assert failed.status == STATUS.failed

    client.force_login(editor)
    outbox = reverse("admin:post_office_email_changelist")
    assert outbox in client.get(reverse("admin:index")).content.decode()
    listing = client.get(outbox, {"status__exact": STATUS.failed}).content.decode()
    assert f"Ready for review: {article.title}" in listing
    page = client.get(reverse("admin:post_office_email_change", args=[failed.pk])).content.decode()
    assert "ConnectionRefusedError" in page
    response = client.post(outbox, {"action": "send_again", "_selected_action": [failed.pk]}, follow=True)
    assert "1 mail(s) queued again" in response.content.decode()

    failed.refresh_from_db()
    assert (failed.status, failed.number_of_retries, failed.scheduled_time) == (STATUS.queued, 0, None)
    smtp_on_loopback.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    (sent,) = deliver_queued_mail()
    assert sent.to == [reviewer.email]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["writer", "reviewer"])
def test_writers_and_reviewers_do_not_see_the_outbox(client, role, request):
    client.force_login(request.getfixturevalue(role))
    outbox = reverse("admin:post_office_email_changelist")
    assert outbox not in client.get(reverse("admin:index")).content.decode()
    assert client.get(outbox).status_code == 403


@pytest.mark.django_db
def test_the_outbox_never_sends_from_a_web_request(admin_client):
    """post_office's own "resend" page sends on a GET, in the request: the outbox admin does not serve it."""
    assert admin_client.get(reverse("admin:post_office_email_changelist")).status_code == 200
    for name in ("admin:resend", "admin:post_office_email_preview"):
        with pytest.raises(NoReverseMatch):
            reverse(name, args=[1])


# --- Bad input, and reminders ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_malformed_address_is_left_out_and_the_step_goes_ahead(writer, reviewer, caplog):
    member_of("Reviewers", email="dr.reyes@@clinic")
    article = ready_for_review(writer)

    with caplog.at_level(logging.WARNING, logger="articles.notifications"):
        workflow.submit_for_review(article, by=writer)

    assert Article.objects.get(pk=article.pk).status == Article.Status.IN_REVIEW
    (queued,) = Email.objects.all()
    assert queued.to == [reviewer.email]
    assert "'dr.reyes@@clinic'" in caplog.text
    (sent,) = deliver_queued_mail()
    assert sent.to == [reviewer.email]


@pytest.mark.django_db
def test_a_step_whose_only_recipient_has_a_malformed_address_goes_ahead_without_mail(reviewer, editor):
    article = ready_for_review(member_of("Writers", email="writer at clinic"))
    publish_reviewed(article, editor=editor, reviewer=reviewer)

    assert Article.objects.get(pk=article.pk).status == Article.Status.PUBLISHED
    assert not Email.objects.filter(subject__contains="Published").exists()


@pytest.mark.django_db
def test_each_reminder_is_recorded_with_its_mail_or_not_at_all(editor, reviewer):
    first, second = ready_for_review(member_of("Writers")), ready_for_review(member_of("Writers"))
    snapshot = publish_reviewed(first, editor=editor, reviewer=reviewer)
    publish_reviewed(second, editor=editor, reviewer=reviewer)
    Email.objects.all().delete()  # the steps' own mail
    real_review_due = notifications.review_due

    def fails_the_second(article):
        if article.pk == second.pk:
            raise ConnectionError("the database went away")
        return real_review_due(article)

    later = snapshot.next_review_due + datetime.timedelta(days=1)
    with (
        mock.patch("django.utils.timezone.localdate", return_value=later),
        mock.patch.object(notifications, "review_due", side_effect=fails_the_second),
        pytest.raises(ConnectionError),
    ):
        workflow.send_review_reminders()

    reminded = AuditEvent.objects.filter(action="articles.review.remind")
    assert list(reminded.values_list("article", flat=True)) == [first.pk]
    (reminder,) = Email.objects.all()
    assert reminder.subject.endswith(f"Due for re-review: {first.title}")
