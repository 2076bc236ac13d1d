"""The writer's steps: submit the working copy for review, and what a save does to a reviewed article."""

from articles import notifications
from articles.models import Article
from articles.workflow.gate import gate
from articles.workflow.messages import ALREADY_SIGNED_OFF, WorkflowError
from articles.workflow.status import content_problems, review_status, shows_working_copy
from articles.workflow.transitions import EDIT_LIVE, REOPEN, SUBMIT, implements
from articles.workflow.writes import locked, record, refuse_archived, save_state


@implements(SUBMIT)
@gate()
def submit_for_review(article: Article, *, by) -> None:
    """Send the working copy to the reviewers."""
    refuse_archived(article)  # first: "restore it first" helps more than "you may not submit" (can_submit says no)
    SUBMIT.refuse_unless_allowed(by, article)
    article = locked(article)
    SUBMIT.refuse_unless_from(article)
    signed_off = article.status in (Article.Status.SIGNED_OFF, Article.Status.SCHEDULED)
    if signed_off and review_status(article).sign_off is not None:
        raise WorkflowError(ALREADY_SIGNED_OFF.format(title=article.title))
    if problems := content_problems(article):
        raise WorkflowError(" ".join(problems))
    from_state = article.status
    # A sign-off that no longer holds (the content changed outside the admin) reopens the review too.
    article.status, article.scheduled_for, article.scheduled_by = Article.Status.IN_REVIEW, None, None
    save_state(article, "status", "scheduled_for", "scheduled_by")
    record(article, by=by, action=SUBMIT.action, from_state=from_state)
    notifications.article_submitted(article)


@gate()
def record_edit(article: Article, *, by) -> str:
    """After a save of the working copy, reopen a signed-off, scheduled or live article whose content changed.

    Returns the article's status afterwards. The live page is untouched: only publishing changes it.
    """
    article = locked(article)
    content_hash = article.content_hash()
    from_state = article.status
    if from_state in (Article.Status.SIGNED_OFF, Article.Status.SCHEDULED):
        status = review_status(article)
        if status.sign_off is None and not status.reference_reapproval:
            article.status, article.scheduled_for, article.scheduled_by = Article.Status.DRAFT, None, None
            save_state(article, "status", "scheduled_for", "scheduled_by")
            message = "Edited after sign-off: it needs review again."
            record(article, by=by, action=REOPEN, from_state=from_state, message=message)
    elif from_state == Article.Status.PUBLISHED and not shows_working_copy(
        article.live_snapshot, article, content_hash
    ):
        article.status = Article.Status.DRAFT
        save_state(article, "status")
        message = "Edited after publication: the live page stays as it was until the edit is reviewed and published."
        record(article, by=by, action=EDIT_LIVE, from_state=from_state, message=message)
    return article.status
