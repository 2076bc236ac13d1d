import pytest

from articles import permissions, workflow
from articles.models import Article
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "allowed"), [("editor", True), ("writer", False), ("reviewer", False), ("patient", False)]
)
def test_can_publish(request, role, allowed):
    assert permissions.can_publish(request.getfixturevalue(role)) is allowed


@pytest.mark.parametrize(
    ("role", "allowed"), [("writer", True), ("editor", True), ("reviewer", False), ("patient", False)]
)
def test_can_edit(request, role, allowed):
    assert permissions.can_edit(request.getfixturevalue(role), ArticleFactory()) is allowed


def test_nobody_edits_an_archived_article(writer, editor):
    article = ArticleFactory()
    workflow.archive(article, by=editor, reason="Superseded")
    article.refresh_from_db()
    assert article.status == Article.Status.ARCHIVED
    assert not permissions.can_edit(writer, article)


@pytest.mark.parametrize(
    ("role", "allowed"), [("writer", True), ("editor", True), ("reviewer", False), ("patient", False)]
)
def test_can_import_references(request, role, allowed):
    assert permissions.can_import_references(request.getfixturevalue(role)) is allowed


@pytest.mark.parametrize(("role", "allowed"), [("editor", True), ("writer", False), ("reviewer", False)])
def test_can_manage_disclaimers(request, role, allowed):
    assert permissions.can_manage_disclaimers(request.getfixturevalue(role)) is allowed


@pytest.mark.parametrize(
    ("role", "allowed"), [("editor", True), ("writer", False), ("reviewer", False), ("patient", False)]
)
def test_can_manage_urgent_help(request, role, allowed):
    assert permissions.can_manage_urgent_help(request.getfixturevalue(role)) is allowed


def test_inactive_staff_can_do_nothing(editor):
    editor.is_active = False
    assert not permissions.can_publish(editor)


@pytest.mark.parametrize(
    ("role", "allowed"), [("writer", True), ("editor", True), ("reviewer", False), ("patient", False)]
)
def test_can_submit(request, role, allowed):
    assert permissions.can_submit(request.getfixturevalue(role), ArticleFactory()) is allowed


@pytest.mark.parametrize(
    ("role", "allowed"), [("reviewer", True), ("writer", False), ("editor", False), ("patient", False)]
)
def test_can_review(request, role, allowed):
    assert permissions.can_review(request.getfixturevalue(role), ArticleFactory()) is allowed


@pytest.mark.parametrize(
    ("role", "allowed"), [("reviewer", True), ("editor", True), ("writer", False), ("patient", False)]
)
def test_can_use_review_desk(request, role, allowed):
    assert permissions.can_use_review_desk(request.getfixturevalue(role)) is allowed


def test_a_reviewer_may_approve_someone_elses_article(reviewer):
    assert permissions.can_approve(reviewer, ArticleFactory())


def test_a_reviewer_may_not_approve_an_article_they_wrote(reviewer):
    assert not permissions.can_approve(reviewer, ArticleFactory(author=reviewer))


def test_a_reviewer_may_not_approve_an_article_they_edited(reviewer):
    article = ArticleFactory()
    article._history_user = reviewer
    article.save()
    assert not permissions.can_approve(reviewer, article)


def test_superusers_are_held_to_the_separation_of_duties(admin_user):
    assert permissions.can_approve(admin_user, ArticleFactory())
    assert not permissions.can_approve(admin_user, ArticleFactory(author=admin_user))


def test_self_review_only_when_the_clinic_allows_it(settings, reviewer):
    article = ArticleFactory(author=reviewer)
    settings.ALLOW_SELF_REVIEW = True
    assert permissions.can_approve(reviewer, article)


IMAGE_PREDICATES = {
    # predicate: roles that have it (the others, and patients, do not)
    "can_view_images": {"writer", "reviewer", "editor"},
    "can_upload_images": {"writer", "editor"},
    "can_edit_images": {"writer", "editor"},
    "can_delete_images": {"editor"},
    "can_view_consent": {"editor"},
    "can_record_consent": {"editor"},
}


@pytest.mark.parametrize("predicate", IMAGE_PREDICATES)
@pytest.mark.parametrize("role", ["writer", "reviewer", "editor", "patient"])
def test_image_library_predicates(request, predicate, role):
    allowed = role in IMAGE_PREDICATES[predicate]
    assert getattr(permissions, predicate)(request.getfixturevalue(role)) is allowed


@pytest.mark.parametrize("predicate", IMAGE_PREDICATES)
def test_image_library_predicates_refuse_inactive_staff(editor, predicate):
    assert getattr(permissions, predicate)(editor)
    editor.is_active = False
    assert not getattr(permissions, predicate)(editor)
