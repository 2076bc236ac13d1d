"""The mail each workflow step sends, written to the outbox inside the step's transaction.

`workflow` calls these from within its transaction, so the mail (a django-post-office `Email` row) commits or
rolls back with the step: a refused step leaves no mail, and the mail of a step that committed survives the
process dying a moment later. Nothing is sent here, and nothing waits on a mail server in a web request:
`manage.py send_queued_mail`, run every minute by cron, delivers the outbox and retries a server that fails
(settings.POST_OFFICE). Staff see failed mail, and send it again, in the admin (articles/admin/outbox.py).
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.urls import reverse
from post_office import mail
from post_office.models import PRIORITY, Email

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


def _deliverable(address: str) -> bool:
    """Return True if the outbox can hold the address (a comma would split it in the outbox's list of them)."""
    try:
        validate_email(address)
    except ValidationError:
        return False
    return "," not in address


def _queue(subject: str, body: str, recipients) -> Email | None:
    """Write one mail to the outbox for the recipients whose address is usable; return it (None if nobody).

    A malformed address (typed into a user's profile, or imported) is logged and left out: it must not refuse
    the step, nor keep the mail from everyone else.
    """
    addresses = []
    for address in sorted({address for address in recipients if address}):
        if _deliverable(address):
            addresses.append(address)
        else:
            logger.warning("Not mailing %r about %r: it is not a valid email address.", address, subject)
    if not addresses:
        return None
    # Titles reach the subject; a line break in a mail header would make every try of it fail.
    subject = " ".join(f"[{settings.CLINIC['name']}] {subject}".split())
    return mail.send(addresses, subject=subject, message=body, priority=PRIORITY.medium)  # medium: queued


def article_submitted(article: Article) -> Email | None:
    contributors = article.contributor_ids()
    reviewers = [user.email for user in _holders_of("review_article") if user.pk not in contributors]
    body = (
        f"“{article.title}” is waiting for review.\n\n"
        f"Approve its evidence statements and sign it off on the review desk:\n{_desk_url(article)}\n"
    )
    return _queue(f"Ready for review: {article.title}", body, reviewers)


def changes_requested(article: Article, request: ChangeRequest) -> Email | None:
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
    return _queue(f"Changes requested: {article.title}", body, [article.author.email])


def article_signed_off(article: Article) -> Email | None:
    editors = [user.email for user in _holders_of("publish_article")]
    body = f"“{article.title}” has been signed off and can be published:\n{_desk_url(article)}\n"
    return _queue(f"Signed off: {article.title}", body, editors)


def article_published(article: Article) -> Email | None:
    body = f"“{article.title}” is live:\n{settings.SITE_URL}{article.get_absolute_url()}\n"
    return _queue(f"Published: {article.title}", body, [article.author.email])


def scheduled_publication_failed(article: Article, editor, reason: str) -> Email | None:
    body = (
        f"“{article.title}” was scheduled for publication but could not be published:\n\n{reason}\n\n"
        f"It is no longer scheduled. {_desk_url(article)}\n"
    )
    return _queue(f"Not published: {article.title}", body, [editor.email])


def review_due(article: Article) -> Email | None:
    body = (
        f"“{article.title}” is live and its review was due on {article.live_snapshot.next_review_due:%d %b %Y}.\n\n"
        f"Start the re-review on the review desk:\n{_desk_url(article)}\n"
    )
    reviewers = [user.email for user in _holders_of("review_article")]
    return _queue(f"Due for re-review: {article.title}", body, reviewers)


def withdrawn_overdue(article: Article, reason: str) -> Email | None:
    editors = [user.email for user in _holders_of("publish_article")]
    body = (
        f"“{article.title}” has been taken off the site.\n\n{reason}\n\n"
        f"Start its re-review on the review desk; once it is signed off, it can be published again:\n"
        f"{_desk_url(article)}\n"
    )
    return _queue(f"Withdrawn, review overdue: {article.title}", body, [*editors, article.author.email])


def photograph_withdrawn(article: Article, reason: str) -> Email | None:
    """Tell the editors and the writer that a withdrawn consent took the article off the site."""
    editors = [user.email for user in _holders_of("publish_article")]
    body = (
        f"“{article.title}” has been taken off the site.\n\n{reason}\n\n"
        f"Remove the figure from its body, have it reviewed and publish it again:\n{_admin_url(article)}\n"
    )
    return _queue(f"Taken off the site, consent withdrawn: {article.title}", body, [*editors, article.author.email])
