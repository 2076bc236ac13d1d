import pytest

from articles import permissions
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


def test_nobody_edits_an_archived_article(writer):
    assert not permissions.can_edit(writer, ArticleFactory(status=Article.Status.ARCHIVED))


@pytest.mark.parametrize(
    ("role", "allowed"), [("writer", True), ("editor", True), ("reviewer", False), ("patient", False)]
)
def test_can_import_references(request, role, allowed):
    assert permissions.can_import_references(request.getfixturevalue(role)) is allowed


@pytest.mark.parametrize(("role", "allowed"), [("editor", True), ("writer", False), ("reviewer", False)])
def test_can_manage_disclaimers(request, role, allowed):
    assert permissions.can_manage_disclaimers(request.getfixturevalue(role)) is allowed


def test_inactive_staff_can_do_nothing(editor):
    editor.is_active = False
    assert not permissions.can_publish(editor)
