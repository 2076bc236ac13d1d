"""Mail when the mail server fails (articles/notifications.py), against Django's real SMTP backend on loopback.

The transition commits whatever the mail server does; a failed mail is tried again, and a mail that cannot go
at all is logged at ERROR whole (recipients, subject, body), so nobody is left untold without anyone knowing.
"""

import email
import email.policy
import logging
import socket
import time
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.core import mail
from django.core.mail.backends.smtp import EmailBackend

from articles import notifications, workflow
from articles.models import Article, AuditEvent
from tests.factories import ArticleFactory, ReferenceFactory, TopicFactory, member_of
from tests.servers import free_port


@pytest.fixture
def smtp_on_loopback(settings):
    """Use Django's SMTP backend, plain SMTP on 127.0.0.1; each test says which port."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    settings.EMAIL_SEND_ATTEMPTS = 3
    return settings


class FailsTheFirstTry:
    """An SMTP server's handler that answers the first message with a temporary failure and accepts the rest."""

    def __init__(self):
        self.tries = 0
        self.delivered = []

    async def handle_DATA(self, server, session, envelope):
        self.tries += 1
        if self.tries == 1:
            return "451 4.3.0 Busy: try again later"
        self.delivered.append(envelope)
        return "250 2.0.0 Accepted"


@pytest.fixture
def flaky_smtp_server(smtp_on_loopback):
    handler = FailsTheFirstTry()
    # aiosmtpd logs each connection at INFO from its own thread, which may outlive the test's captured output.
    server_log = logging.getLogger("mail.log")
    level = server_log.level
    server_log.setLevel(logging.WARNING)
    server = Controller(handler, hostname="127.0.0.1", port=free_port())
    server.start()
    smtp_on_loopback.EMAIL_PORT = server.port
    yield handler
    server.stop()
    server_log.setLevel(level)


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


def test_smtp_down_the_submission_commits_and_the_whole_mail_is_logged_for_resending(roles, smtp_on_loopback, caplog):
    smtp_on_loopback.EMAIL_PORT = free_port()
    reviewer, writer = member_of("Reviewers"), member_of("Writers")
    article = ready_for_review(writer)
    subject, body = submitted_mail(article)

    with (
        mock.patch.object(EmailBackend, "open", autospec=True, side_effect=EmailBackend.open) as connections,
        caplog.at_level(logging.WARNING, logger="articles.notifications"),
    ):
        workflow.submit_for_review(article, by=writer)  # no test transaction around it: it commits, then mails

    assert Article.objects.get(pk=article.pk).status == Article.Status.IN_REVIEW
    assert AuditEvent.objects.filter(article=article, action="articles.article.submit").exists()
    assert connections.call_count == 3
    retries = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert [record.getMessage().split("(")[1].split(":")[0] for record in retries] == ["try 1 of 3", "try 2 of 3"]
    (gave_up,) = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert gave_up.getMessage() == (
        f"Could not send this mail after 3 tries; resend it by hand.\n"
        f"To: {reviewer.email}\nSubject: {subject}\n\n{body}"
    )
    assert (gave_up.mail_recipients, gave_up.mail_subject, gave_up.mail_body) == ([reviewer.email], subject, body)
    assert isinstance(gave_up.exc_info[1], ConnectionRefusedError)


def test_a_mail_the_server_refuses_once_is_delivered_once_on_the_next_try(roles, flaky_smtp_server, caplog):
    reviewer, writer = member_of("Reviewers"), member_of("Writers")
    article = ready_for_review(writer)
    subject, body = submitted_mail(article)

    with caplog.at_level(logging.WARNING, logger="articles.notifications"):
        workflow.submit_for_review(article, by=writer)

    assert Article.objects.get(pk=article.pk).status == Article.Status.IN_REVIEW
    assert flaky_smtp_server.tries == 2
    (delivered,) = flaky_smtp_server.delivered
    assert delivered.rcpt_tos == [reviewer.email]
    message = email.message_from_bytes(delivered.original_content, policy=email.policy.default)
    assert message["Subject"] == subject
    assert message.get_payload(decode=True).decode().replace("\r\n", "\n") == body
    (retry,) = [record for record in caplog.records if record.name == "articles.notifications"]
    assert retry.levelname == "WARNING"
    assert "try 1 of 3: (451, b'4.3.0 Busy: try again later')" in retry.getMessage()


@pytest.fixture
def hanging_smtp_port():
    """A port whose server accepts connections and then never says a word, as a stuck mail server does."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)  # the kernel completes each connection; nobody ever answers on it
        yield server.getsockname()[1]


def test_a_hanging_mail_server_is_given_up_on_in_time_and_the_mail_is_logged_whole(
    roles, smtp_on_loopback, hanging_smtp_port, caplog
):
    smtp_on_loopback.EMAIL_PORT = hanging_smtp_port
    smtp_on_loopback.EMAIL_TIMEOUT = 1
    smtp_on_loopback.EMAIL_SEND_ATTEMPTS = 10
    smtp_on_loopback.EMAIL_RETRY_SECONDS = 0.5
    smtp_on_loopback.EMAIL_SEND_SECONDS = 3
    reviewer, writer = member_of("Reviewers"), member_of("Writers")
    article = ready_for_review(writer)
    subject, body = submitted_mail(article)

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="articles.notifications"):
        workflow.submit_for_review(article, by=writer)
    took = time.monotonic() - started

    assert Article.objects.get(pk=article.pk).status == Article.Status.IN_REVIEW
    assert took < smtp_on_loopback.EMAIL_SEND_SECONDS + 1  # never past the budget, whatever the attempts
    (gave_up,) = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert gave_up.getMessage() == (
        f"Could not send this mail after 2 tries; resend it by hand.\n"
        f"To: {reviewer.email}\nSubject: {subject}\n\n{body}"
    )
    assert "timed out" in str(gave_up.exc_info[1])


@pytest.mark.django_db
def test_each_retry_waits_longer_than_the_last(smtp_on_loopback, caplog):
    smtp_on_loopback.EMAIL_PORT = free_port()
    smtp_on_loopback.EMAIL_SEND_ATTEMPTS = 4
    smtp_on_loopback.EMAIL_RETRY_SECONDS = 1
    smtp_on_loopback.EMAIL_SEND_SECONDS = 60
    member_of("Reviewers")
    article = ready_for_review(member_of("Writers"))

    with mock.patch("articles.notifications.time.sleep") as sleep:
        assert notifications.article_submitted(article.pk) == 0

    assert [call.args for call in sleep.call_args_list] == [(1,), (2,), (4,)]
    assert "after 4 tries" in caplog.text


@pytest.mark.django_db
def test_with_the_locmem_backend_a_submission_sends_one_mail_and_logs_nothing(
    django_capture_on_commit_callbacks, caplog
):
    reviewer, writer = member_of("Reviewers"), member_of("Writers")
    article = ready_for_review(writer)
    subject, body = submitted_mail(article)

    with (
        caplog.at_level(logging.WARNING, logger="articles.notifications"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        workflow.submit_for_review(article, by=writer)

    (sent,) = mail.outbox
    assert (sent.to, sent.subject, sent.body) == ([reviewer.email], subject, body)
    assert [record for record in caplog.records if record.name == "articles.notifications"] == []
