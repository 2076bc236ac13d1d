"""The publishing queue's batched gate (workflow.review_statuses): the same verdicts as review_status, in a fixed
number of queries however many signed-off and scheduled rows the review desk shows."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles import workflow
from articles.models import Article, Disclaimer, RedFlagPhrase
from tests.factories import (
    ArticleFactory,
    DisclaimerFactory,
    ReferenceFactory,
    TopicFactory,
    member_of,
    publish_reviewed,
    review,
    sitewide_disclaimer,
)

pytestmark = pytest.mark.django_db


def cited_article(*, claims: int = 2, **fields) -> Article:
    """A draft whose body makes `claims` statements, each citing its own reference, in a topic."""
    references = ReferenceFactory.create_batch(claims)
    body = "".join(f"<p>In mice, claim {n} held [@{ref.citation_key}].</p>" for n, ref in enumerate(references))
    fields.setdefault("topics", [TopicFactory()])
    return ArticleFactory(body=fields.pop("body", "") + body, **fields)


def signed_off(**fields) -> Article:
    article = cited_article(**fields)
    review(article)
    article.refresh_from_db()
    return article


def scheduled(editor, **fields) -> Article:
    article = signed_off(**fields)
    workflow.schedule(article, by=editor, at=timezone.now() + datetime.timedelta(days=2))
    article.refresh_from_db()
    return article


def reference_changed(article: Article) -> Article:
    """Change the record of the article's first cited reference, as an import does: its approval stops counting."""
    reference = article.resolve_citations()[0][0]
    reference.title = "A different title for the same study"
    reference.save()
    article.refresh_from_db()
    return article


def submitted(article: Article) -> Article:
    workflow.submit_for_review(article, by=member_of("Editors"))
    article.refresh_from_db()
    return article


def approve_all(article: Article, reviewer) -> Article:
    for statement in article.evidence_statements.all():
        workflow.approve_statement(
            statement, by=reviewer, seen_hash=statement.statement_hash, evidence_level="E", certainty="low"
        )
    return article


def articles_in_every_state(editor, settings) -> list[Article]:
    """One article in each state the gate tells apart: each problem it reports, re-approval, and ready."""
    sitewide_disclaimer()
    reviewer = member_of("Reviewers")
    made = [signed_off(), scheduled(editor), reference_changed(signed_off()), reference_changed(scheduled(editor))]

    words_changed = reference_changed(signed_off())  # a writer's change besides: back through review, not re-approval
    words_changed.summary = "A summary changed in the shell."
    words_changed.save()
    stale = signed_off()
    stale.body += "<p>A new paragraph says more.</p>"
    stale.save()
    retracted = signed_off()
    reference = retracted.resolve_citations()[0][0]
    reference.is_retracted = True
    reference.save()
    made += [words_changed, stale, retracted]

    made.append(ArticleFactory(body="<p>It works [@no-such-key] and [@ broken.</p>", summary=" "))  # draft, no topic
    made.append(ArticleFactory(body="<p>Figure one.</p><p>[[figure:987654]]</p>", topics=[TopicFactory()]))
    asked = submitted(cited_article())
    statement = asked.evidence_statements.first()
    workflow.request_statement_changes(
        statement, by=reviewer, seen_hash=statement.statement_hash, comment="Say it was in mice."
    )
    sent_back = submitted(cited_article())
    workflow.request_changes(sent_back, by=reviewer, comment="Rewrite the introduction.")
    edited = approve_all(submitted(cited_article()), reviewer)
    edited.body = edited.body.replace("claim 0 held", "claim 0 clearly held")
    edited.save()
    made += [asked, sent_back, edited]

    live = cited_article()
    publish_reviewed(live)
    archived = cited_article()
    workflow.archive(archived, by=editor, reason="Out of scope.")
    made += [live, archived]

    RedFlagPhrase.objects.get_or_create(
        phrase="cure", language="en", defaults={"why": "Promises an outcome.", "instead": "Say what studies found."}
    )
    made.append(approve_all(submitted(cited_article(body="<p>This cures scars.</p>")), reviewer))  # no sign-off
    made.append(signed_off(language="es"))  # no site-wide disclaimer in Spanish
    made.append(signed_off(topics=[TopicFactory(requires_topic_disclaimer=True)]))
    covered = TopicFactory(not_fda_approved=True)
    DisclaimerFactory(scope=Disclaimer.Scope.TOPICS).topics.add(covered)
    made.append(signed_off(topics=[covered]))

    settings.ALLOW_SELF_REVIEW = True  # the reviewer who wrote it approves and signs off; then the rule is back
    own = cited_article(author=reviewer)
    review(own, reviewer=reviewer)
    settings.ALLOW_SELF_REVIEW = False
    made.append(own)
    return made


def test_the_batched_gate_says_what_review_status_says_of_every_article(editor, settings):
    ids = [article.pk for article in articles_in_every_state(editor, settings)]
    fresh = lambda: list(Article.objects.filter(pk__in=ids).select_related("author__staff_profile").order_by("pk"))  # noqa: E731

    batched = [(status.problems, status.reference_reapproval) for status in workflow.review_statuses(fresh())]
    one_by_one = [(s.problems, s.reference_reapproval) for s in map(workflow.review_status, fresh())]

    assert batched == one_by_one
    # Each state was reached: the comparison above covers every problem the gate reports.
    said = "\n".join(problem for problems, _ in one_by_one for problem in problems)
    for fragment in [
        "is a draft",
        "has no topic",
        "cannot go further without summary",
        "no-such-key",
        "cannot be read",
        "no image in the library has the number 987654",
        "has changes requested (“Say it was in mice.”)",
        "has changes requested (“Rewrite the introduction.”)",
        "was edited after approval",
        "has not been approved",
        "changed after it was signed off",
        "is already live as it is",
        "is archived",
        "retracted",
        "Claim check",
        "site-wide",
        "topic",
        "by someone who wrote or edited it",
        "whose record changed after approval",
    ]:
        assert fragment in said, fragment
    assert [reapproval for _, reapproval in one_by_one].count(True) == 3  # signed off, scheduled, retracted
    assert sum(1 for problems, _ in one_by_one if not problems) == 3  # ready: signed off, scheduled, covered topic


def test_the_queue_sorts_by_the_batched_verdicts(editor):
    sitewide_disclaimer()
    ready, reapproval, stale = signed_off(), reference_changed(scheduled(editor)), signed_off()
    stale.body += "<p>More.</p>"
    stale.save()

    queue = workflow.publishing_queue([ready, reapproval, stale])

    assert (queue.ready, queue.reapproval, queue.blocked) == ([ready], [reapproval], [stale])
    assert ready.publish_problems == []
    assert stale.publish_problems == workflow.review_status(stale).problems


def test_no_articles_make_no_queries(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert workflow.review_statuses([]) == []


def test_the_desk_queue_makes_as_many_queries_for_15_publishing_rows_as_for_1(
    client, editor, django_assert_num_queries
):
    sitewide_disclaimer()
    reference_changed(signed_off())  # a re-approval among them from the start: its revision is read either way
    client.force_login(member_of("Reviewers"))
    with CaptureQueriesContext(connection) as one_row:
        assert client.get(reverse("articles:review_queue")).status_code == 200
    for _ in range(7):
        signed_off(claims=3)
        scheduled(editor, claims=1)

    with django_assert_num_queries(len(one_row)):
        response = client.get(reverse("articles:review_queue"))

    assert response.status_code == 200
    assert Article.objects.filter(status__in=["signed_off", "scheduled"]).count() == 15
