"""One predicate per verb. Workflow, views and templates all ask these; none re-implements them."""

from articles.models import Article


def _is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def can_edit(user, article: Article | None = None) -> bool:
    """Return True if the user may change the article's working copy."""
    if article is not None and article.status == Article.Status.ARCHIVED:
        return False
    return _is_staff(user) and user.has_perm("articles.change_article")


def can_publish(user, article: Article | None = None) -> bool:
    """Return True if the user may publish, unpublish or archive articles."""
    return _is_staff(user) and user.has_perm("articles.publish_article")


def can_import_references(user) -> bool:
    """Return True if the user may add and update references through the importers."""
    return _is_staff(user) and user.has_perm("articles.add_reference") and user.has_perm("articles.change_reference")


def can_manage_disclaimers(user) -> bool:
    """Return True if the user may add, change or retire disclaimers."""
    return _is_staff(user) and user.has_perm("articles.change_disclaimer")
