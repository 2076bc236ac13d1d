"""Races against PostgreSQL with real threads, each on its own database connection."""

import datetime
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from articles import workflow
from articles.models import Article, PublishedSnapshot, Reference, StatementApproval
from tests.factories import ArticleFactory, ReferenceFactory, TopicFactory, member_of, review, sitewide_disclaimer

pytestmark = pytest.mark.usefixtures("roles")


def run_together(*functions):
    """Run the functions in threads that start at the same moment; return what each returned or raised."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def runner(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as error:  # the test inspects what each thread met
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def signed_off_article():
    sitewide_disclaimer()
    reference = ReferenceFactory()
    article = ArticleFactory(body=f"<p>In mice, wounds closed faster [@{reference.citation_key}].</p>")
    article.topics.add(TopicFactory())
    review(article)
    article.refresh_from_db()
    return article


def test_two_editors_publishing_at_once_make_one_snapshot():
    article = signed_off_article()
    first, second = member_of("Editors"), member_of("Editors")

    results = run_together(
        lambda: workflow.publish(Article.objects.get(pk=article.pk), by=first),
        lambda: workflow.publish(Article.objects.get(pk=article.pk), by=second),
    )

    assert PublishedSnapshot.objects.filter(article=article).count() == 1
    refusals = [r for r in results if isinstance(r, workflow.WorkflowError)]
    assert len(refusals) == 1
    assert "already live" in str(refusals[0])


def test_an_approval_waits_for_a_writers_save_and_then_refuses_the_new_text():
    reference = ReferenceFactory()
    article = ArticleFactory(
        body=f"<p>In mice, wounds closed faster [@{reference.citation_key}].</p>", topics=[TopicFactory()]
    )
    workflow.submit_for_review(article, by=article.author)
    statement = article.evidence_statements.get()
    seen = statement.statement_hash
    reviewer = member_of("Reviewers")
    saved = threading.Event()

    def writer_saves():
        with transaction.atomic():
            working = Article.objects.get(pk=article.pk)
            working.body = f"<p>In people, wounds closed faster [@{reference.citation_key}].</p>"
            working.save()  # holds the row lock until the transaction commits
            saved.set()
            time.sleep(0.5)

    def reviewer_approves():
        saved.wait(5)
        return workflow.approve_statement(statement, by=reviewer, seen_hash=seen, evidence_level="E", certainty="low")

    _saved, approval = run_together(writer_saves, reviewer_approves)

    assert isinstance(approval, workflow.WorkflowError)
    assert "changed while you were reading it" in str(approval)
    assert not StatementApproval.objects.exists()


def test_saves_racing_approvals_never_leave_an_approval_on_unseen_text():
    reference = ReferenceFactory()
    reviewer = member_of("Reviewers")
    for attempt in range(5):
        article = ArticleFactory(
            body=f"<p>In mice, wounds closed faster [@{reference.citation_key}].</p>", topics=[TopicFactory()]
        )
        workflow.submit_for_review(article, by=article.author)
        statement = article.evidence_statements.get()
        seen = statement.statement_hash

        def edit(article=article, attempt=attempt):
            working = Article.objects.get(pk=article.pk)
            working.body = f"<p>In people, wounds closed {attempt} times faster [@{reference.citation_key}].</p>"
            working.save()

        run_together(
            edit,
            lambda statement=statement, seen=seen: workflow.approve_statement(
                statement, by=reviewer, seen_hash=seen, evidence_level="E", certainty="low"
            ),
        )
        article.refresh_from_db()
        current = {s.hash for s in article.statements}
        assert set(StatementApproval.objects.filter(article=article).values_list("statement_hash", flat=True)) <= {seen}
        assert seen not in current
        assert [s.state for s in workflow.review_status(article).statements] != ["approved"]


def test_two_publish_scheduled_runs_at_once_publish_each_article_once():
    editor = member_of("Editors")
    articles = [signed_off_article() for _ in range(4)]
    soon = timezone.now() + datetime.timedelta(seconds=2)
    for article in articles:
        workflow.schedule(article, by=editor, at=soon)
    later = soon + datetime.timedelta(minutes=1)

    first, second = run_together(
        lambda: workflow.publish_scheduled(now=later), lambda: workflow.publish_scheduled(now=later)
    )

    assert not isinstance(first, Exception), first
    assert not isinstance(second, Exception), second
    published = [outcome.article.pk for outcome in first + second if not outcome.error]
    assert sorted(published) == sorted(article.pk for article in articles)
    for article in articles:
        assert PublishedSnapshot.objects.filter(article=article).count() == 1


def test_publishing_waits_for_a_reference_edit_and_then_refuses_the_changed_record():
    article = signed_off_article()
    reference = article.resolve_citations()[0][0]
    editor = member_of("Editors")
    edited = threading.Event()

    def edit_reference():
        with transaction.atomic():
            record = Reference.objects.select_for_update().get(pk=reference.pk)
            record.title = "Exosome effects on mouse fibroblasts in vitro"
            record.save()
            edited.set()
            time.sleep(0.5)

    def publish():
        edited.wait(5)
        return workflow.publish(Article.objects.get(pk=article.pk), by=editor)

    _edited, result = run_together(edit_reference, publish)

    assert isinstance(result, workflow.WorkflowError)
    assert "record changed after approval" in str(result)
    assert not PublishedSnapshot.objects.exists()
