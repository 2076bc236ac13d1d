"""Email the people a workflow step concerns. Called by `workflow` after its transaction commits.

A mail server that is down never undoes a transition: the mail is tried EMAIL_SEND_ATTEMPTS times, a
little longer apart each time, and if it still cannot go, the whole message (recipients, subject, body) is
logged at ERROR so an administrator can resend it by hand. The tries stop within EMAIL_SEND_SECONDS, so a
mail server that hangs cannot hold the staff member's request past the app server's worker timeout, which
would kill the worker before the message was logged.
"""

import logging
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Q
from django.urls import reverse

from articles.models import Article, ChangeRequest

logger = logging.getLogger(__name__)


def _holders_of(codename: str):
    """Active users with an email address who hold the permission through a group or directly."""
    return (
        get_user_model()
        .objects.filter(Q(groups__permissions__codename=codename) | Q(user_permissions__codename=codename))
        .filter(is_active=True)
        .exclude(email="")
        .distinct()
    )


def _desk_url(article: Article) -> str:
    return settings.SITE_URL + reverse("articles:review_article", args=[article.pk])


def _admin_url(article: Article) -> str:
    return settings.SITE_URL + reverse("admin:articles_article_change", args=[article.pk])


def _send(subject: str, body: str, recipients) -> int:
    """Send one mail, retrying a mail server that fails; return how many were sent (0 or 1)."""
    addresses = sorted({address for address in recipients if address})
    if not addresses:
        return 0
    subject = f"[{settings.CLINIC['name']}] {subject}"
    attempts, failure, started = settings.EMAIL_SEND_ATTEMPTS, None, time.monotonic()
    for attempt in range(1, attempts + 1):
        try:
            return send_mail(subject, body, None, addresses)
        except Exception as error:  # refused, timed out, TLS, authentication: whatever the backend raises
            failure = error
            delay = settings.EMAIL_RETRY_SECONDS * 2 ** (attempt - 1)
            worst_finish = time.monotonic() - started + delay + settings.EMAIL_TIMEOUT
            if attempt == attempts or worst_finish > settings.EMAIL_SEND_SECONDS:
                break
            logger.warning(
                "Sending %r failed (try %d of %d: %s); trying again in %gs.", subject, attempt, attempts, error, delay
            )
            time.sleep(delay)
    # The transition has committed; the mail must not be lost silently: log all it takes to resend it.
    logger.error(
        "Could not send this mail after %d tries; resend it by hand.\nTo: %s\nSubject: %s\n\n%s",
        attempt,
        ", ".join(addresses),
        subject,
        body,
        exc_info=failure,
        extra={"mail_recipients": addresses, "mail_subject": subject, "mail_body": body},
    )
    return 0


def article_submitted(article_id: int) -> int:
    article = Article.objects.get(pk=article_id)
    contributors = article.contributor_ids()
    reviewers = [user.email for user in _holders_of("review_article") if user.pk not in contributors]
    body = (
        f"“{article.title}” is waiting for review.\n\n"
        f"Approve its evidence statements and sign it off on the review desk:\n{_desk_url(article)}\n"
    )
    return _send(f"Ready for review: {article.title}", body, reviewers)


def changes_requested(article_id: int, change_request_id: int) -> int:
    article = Article.objects.select_related("author").get(pk=article_id)
    request = ChangeRequest.objects.select_related("requested_by").get(pk=change_request_id)
    open_comments = [
        f"- “{item.statement_text}”\n  {item.comment}"
        for item in article.change_requests.exclude(statement_hash="").order_by("requested_at")
        if item.statement_hash in {s.hash for s in article.statements}
    ]
    body = (
        f"{request.requested_by.get_full_name() or request.requested_by.get_username()} asked for changes to "
        f"“{article.title}”:\n\n{request.comment}\n"
    )
    if open_comments:
        body += "\nComments on statements:\n" + "\n".join(open_comments) + "\n"
    body += f"\nEdit the article, then submit it for review again:\n{_admin_url(article)}\n"
    return _send(f"Changes requested: {article.title}", body, [article.author.email])


def article_signed_off(article_id: int) -> int:
    article = Article.objects.get(pk=article_id)
    editors = [user.email for user in _holders_of("publish_article")]
    body = f"“{article.title}” has been signed off and can be published:\n{_desk_url(article)}\n"
    return _send(f"Signed off: {article.title}", body, editors)


def article_published(article_id: int) -> int:
    article = Article.objects.select_related("author", "live_snapshot").get(pk=article_id)
    body = f"“{article.title}” is live:\n{settings.SITE_URL}{article.get_absolute_url()}\n"
    return _send(f"Published: {article.title}", body, [article.author.email])


def scheduled_publication_failed(article_id: int, editor_id: int, reason: str) -> int:
    article = Article.objects.get(pk=article_id)
    editor = get_user_model().objects.get(pk=editor_id)
    body = (
        f"“{article.title}” was scheduled for publication but could not be published:\n\n{reason}\n\n"
        f"It is no longer scheduled. {_desk_url(article)}\n"
    )
    return _send(f"Not published: {article.title}", body, [editor.email])


def review_due(article_ids: list[int]) -> int:
    articles = Article.objects.filter(pk__in=article_ids).select_related("live_snapshot").order_by("title")
    lines = [
        f"- {article.title} (review was due {article.live_snapshot.next_review_due:%d %b %Y}): {_desk_url(article)}"
        for article in articles
    ]
    body = "These live articles are due for re-review:\n\n" + "\n".join(lines) + "\n"
    reviewers = [user.email for user in _holders_of("review_article")]
    return _send(f"{len(lines)} article(s) due for re-review", body, reviewers)
