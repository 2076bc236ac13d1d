import pytest
from django.core.exceptions import ValidationError

from articles import workflow
from articles.models import Article, AuditEvent, PublishedSnapshot
from tests.factories import ArticleFactory, ReferenceFactory, TopicFactory

pytestmark = pytest.mark.django_db


def test_editor_publishes_a_snapshot_with_numbered_references(editor):
    first, second = ReferenceFactory(), ReferenceFactory()
    article = ArticleFactory(
        body=f"<p>A [@{second.citation_key}]. B [@{first.citation_key}].</p>", topics=[TopicFactory()]
    )

    snapshot = workflow.publish(article, by=editor)

    article.refresh_from_db()
    assert article.live_snapshot == snapshot
    assert article.status == Article.Status.PUBLISHED
    assert [r["key"] for r in snapshot.references] == [second.citation_key, first.citation_key]
    assert 'href="#ref-1"' in snapshot.body_html
    assert "[@" not in snapshot.body_html
    event = AuditEvent.objects.get(action="article.publish")
    assert (event.actor, event.from_state, event.to_state) == (editor, "draft", "published")
    assert event.content_hash == snapshot.content_hash


@pytest.mark.parametrize("role", ["writer", "reviewer", "patient"])
def test_only_editors_publish(request, role):
    user = request.getfixturevalue(role)
    article = ArticleFactory()
    with pytest.raises(workflow.WorkflowError, match="permission to publish"):
        workflow.publish(article, by=user)
    assert not PublishedSnapshot.objects.exists()
    assert not AuditEvent.objects.exists()


def test_publishing_refuses_unknown_citation_keys(editor):
    article = ArticleFactory(body="<p>A claim [@nosuchkey].</p>")
    with pytest.raises(workflow.WorkflowError, match=r"nosuchkey.*match no reference"):
        workflow.publish(article, by=editor)
    assert not PublishedSnapshot.objects.exists()


def test_publishing_refuses_unreadable_markers(editor):
    article = ArticleFactory(body="<p>A claim [@smith 2020].</p>")
    with pytest.raises(workflow.WorkflowError, match="cannot be read"):
        workflow.publish(article, by=editor)


def test_publishing_refuses_empty_required_fields(editor):
    article = ArticleFactory(summary="")
    with pytest.raises(workflow.WorkflowError, match="without summary"):
        workflow.publish(article, by=editor)


def test_archived_articles_cannot_be_published(editor):
    article = ArticleFactory()
    workflow.archive(article, by=editor, reason="Superseded")
    with pytest.raises(workflow.WorkflowError, match="archived"):
        workflow.publish(article, by=editor)


def test_unpublish_needs_a_reason_and_keeps_the_snapshot(editor):
    article = ArticleFactory()
    snapshot = workflow.publish(article, by=editor)
    with pytest.raises(workflow.WorkflowError, match="reason"):
        workflow.unpublish(article, by=editor, reason="  ")
    workflow.unpublish(article, by=editor, reason="Evidence changed")
    article.refresh_from_db()
    assert article.live_snapshot is None
    assert PublishedSnapshot.objects.filter(pk=snapshot.pk).exists()
    assert AuditEvent.objects.filter(action="article.unpublish", message="Evidence changed").exists()


def test_unpublish_of_a_draft_is_refused(editor):
    with pytest.raises(workflow.WorkflowError, match="not published"):
        workflow.unpublish(ArticleFactory(), by=editor, reason="x")


def test_snapshots_and_audit_entries_are_immutable(editor):
    snapshot = workflow.publish(ArticleFactory(), by=editor)
    snapshot.title = "Changed"
    with pytest.raises(ValidationError):
        snapshot.save()
    with pytest.raises(ValidationError):
        snapshot.delete()
    event = AuditEvent.objects.get()
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()


def test_workflow_state_changes_do_not_create_revisions(editor):
    article = ArticleFactory()
    revisions = article.history.count()
    workflow.publish(article, by=editor)
    assert article.history.count() == revisions
