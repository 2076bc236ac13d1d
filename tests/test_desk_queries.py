"""The review desk's article page reads a fixed number of queries, whatever the article's size.

`desk_article` builds an article the way staff do (tests/factories.py and the workflow's own steps) at any
size: statements, references, revisions, approvals, requested changes, findings, timeline events and a
translation all grow with it. The page is then counted for a reviewer and an editor, small and large (and in
each state, at two sizes), and read to check that the large one still shows everything.
"""

import re
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from articles import translations, workflow
from articles.models import Article, AuditEvent, RedFlagPhrase, Reference
from tests import test_desk
from tests.factories import ArticleFactory, ReferenceFactory, TopicFactory, member_of, publish_reviewed

pytestmark = pytest.mark.django_db

# Six for the session, the user, their permissions and second factor; the rest one query per kind of record the
# page shows (the article, its translations or its original with its live statements, its contributors,
# references, statements, approvals, requests, sign-offs, retractions, topics, claim checks and justifications,
# disclaimers, the reviewer's last review, the timeline), never one per record. Two fewer since the gate reads
# through workflow.GateReads: the article's and its statements' change requests in one query, its topics once.
DESK_ARTICLE_QUERIES = 26

SMALL = {"statements": 1, "references": 1, "revisions": 1}
LARGE = {"statements": 40, "references": 30, "revisions": 25}


@dataclass
class DeskArticle:
    """An article back in review after a live version, and what it was built with, to check its page against."""

    article: Article
    cited: list[list[Reference]]  # by statement, in order
    approved_by: dict[int, object]  # statement number: the reviewer who approved it in this round
    changes_requested: list[int]
    reviewer: object  # approved, requested changes and accepted a finding: "Changes since your last review"
    retracted: Reference
    translation: Article  # in review beside its live original, half its statements approved


def _markers(references: list[Reference]) -> str:
    return "[" + "; ".join(f"@{ref.citation_key}" for ref in references) + "]"


def _body(cited: list[list[Reference]], *, edit: int = 0) -> str:
    # Once edited, every third statement speaks of people: graded E (an animal study), its label contradicts it.
    return "".join(
        f"<p>{'In people, c' if number % 3 == 0 and edit else 'C'}laim {number} about exosomes holds"
        f"{f' (edit {edit})' if number == 1 and edit else ''} {_markers(refs)}.</p>"
        for number, refs in enumerate(cited, start=1)
    )


def _approve_every_other(article: Article, *, by, level: str) -> list[int]:
    stored = {s.statement_hash: s for s in article.evidence_statements.all()}
    numbers = []
    for number, sentence in enumerate(article.statements, start=1):
        if number % 2 == 1:
            workflow.approve_statement(
                stored[sentence.hash], by=by(number), seen_hash=sentence.hash, evidence_level=level, certainty="low"
            )
            numbers.append(number)
    return numbers


def desk_article(*, statements: int, references: int, revisions: int) -> DeskArticle:
    """Return an article published once, then edited `revisions` times and back in review: every other statement
    approved again (by two reviewers), every sixth with changes requested, a red-flag finding accepted, its last
    reference retracted since, its summary edited after the review, and a Spanish translation in review.

    Statement n cites reference n (wrapping round); every fifth cites the next one as well.
    """
    RedFlagPhrase.objects.update_or_create(phrase="miracle", defaults={"why": "Overstates.", "instead": "Say what."})
    refs = ReferenceFactory.create_batch(references)
    cited = [[refs[n % references]] + ([refs[(n + 1) % references]] if n % 5 == 4 else []) for n in range(statements)]
    article = ArticleFactory(title="Exosomes, claim by claim", body=_body(cited), topics=[TopicFactory()])
    reviewer, other_reviewer, editor = member_of("Reviewers"), member_of("Reviewers"), member_of("Editors")
    publish_reviewed(article, editor=editor, reviewer=reviewer)
    article.refresh_from_db()

    translation = translations.start_translation(article, "es", by=member_of("Writers"))
    translation.body = "".join(
        f"<p>Afirmación número {number} sobre exosomas {_markers(refs)}.</p>"
        for number, refs in enumerate(cited, start=1)
    )
    translation.save()
    workflow.submit_for_review(translation, by=editor)
    translation.refresh_from_db()
    _approve_every_other(translation, by=lambda number: reviewer, level="C")

    for edit in range(1, revisions + 1):  # each save is one revision in the article's history
        article.title, article.body = "A miracle of exosomes", _body(cited, edit=edit)
        article.save()
        workflow.record_edit(article, by=article.author)
    workflow.submit_for_review(article, by=editor)
    article.refresh_from_db()

    def approver(number: int):
        return reviewer if number % 4 == 1 else other_reviewer

    approved_by = {number: approver(number) for number in _approve_every_other(article, by=approver, level="E")}
    stored = {s.statement_hash: s for s in article.evidence_statements.all()}
    changes = list(range(6, statements + 1, 6))
    for number in changes:
        sentence = article.statements[number - 1]
        workflow.request_statement_changes(
            stored[sentence.hash], by=reviewer, seen_hash=sentence.hash, comment=f"Say which trial for {number}."
        )
    (finding,) = [f for f in workflow.review_status(article).findings if f.rule == "red_flag"]
    workflow.justify_finding(article, by=reviewer, finding_key=finding.key, reason="The title quotes a claim.")
    retracted = refs[-1]
    retracted.is_retracted, retracted.retraction_note = True, "Data could not be verified."
    retracted.save()
    article.summary += " Updated after the review."
    article.save()
    article.refresh_from_db()
    return DeskArticle(article, cited, approved_by, changes, reviewer, retracted, translation)


def desk_url(article: Article) -> str:
    return reverse("articles:review_article", args=[article.pk])


def name_of(user) -> str:
    return escape(workflow.person_name(user))


def statement_card(page: str, number: int) -> str:
    match = re.search(rf'<article [^>]*id="statement-{number}".*?</article>', page, re.S)
    assert match, f"statement {number} is not on the page"
    return match.group(0)


# --- The count ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["small", "large"])
@pytest.mark.parametrize("role", ["reviewer", "editor"])
def test_the_article_page_makes_a_fixed_number_of_queries(client, size, role, django_assert_num_queries):
    built = desk_article(**size)
    client.force_login(built.reviewer if role == "reviewer" else member_of("Editors"))

    with django_assert_num_queries(DESK_ARTICLE_QUERIES):
        response = client.get(desk_url(built.article))
    assert response.status_code == 200
    with django_assert_num_queries(DESK_ARTICLE_QUERIES):
        response = client.get(desk_url(built.translation))
    assert response.status_code == 200
    with workflow.gate():  # as the original's republication with changed statements would set it
        Article.objects.filter(pk=built.translation.pk).update(source_changed_at=timezone.now())
    with django_assert_num_queries(DESK_ARTICLE_QUERIES):  # out of date: the grace period is read with it
        response = client.get(desk_url(built.translation))
    assert 'id="out-of-date"' in response.content.decode()


def test_a_reviewer_who_never_reviewed_the_article_costs_the_same(client, reviewer, django_assert_num_queries):
    built = desk_article(**SMALL)
    client.force_login(reviewer)
    with django_assert_num_queries(DESK_ARTICLE_QUERIES):
        assert client.get(desk_url(built.article)).status_code == 200


# Articles whose statements each cite their own reference, in each state the desk shows, with how many more
# queries a reviewer's page makes: out of review, whether they may send it back, which they may only for a live
# article overdue for re-review (permissions.can_submit), one query each time a step asks it.
IN_STATE = {
    "in_review": (lambda claims: test_desk.in_review(claims=claims), 0),
    "signed_off": (lambda claims: test_desk.signed_off(claims=claims), 1),
    "scheduled": (lambda claims: test_desk.scheduled(member_of("Editors"), claims=claims), 1),
    "published": (lambda claims: test_desk.published(claims=claims), 2),
    "changes_requested": (lambda claims: test_desk.changes_requested(member_of("Reviewers"), claims=claims), 2),
}


@pytest.mark.parametrize("state", list(IN_STATE))
def test_the_count_is_fixed_in_every_state(client, state, reviewer, editor, django_assert_num_queries):
    make, reviewer_extra = IN_STATE[state]
    for claims in (1, 12):
        article = make(claims)
        for person, extra in ((editor, 0), (reviewer, reviewer_extra)):
            client.force_login(person)
            with django_assert_num_queries(DESK_ARTICLE_QUERIES + extra):
                assert client.get(desk_url(article)).status_code == 200


# --- What the large page shows -----------------------------------------------------------------------------------


@pytest.fixture
def large_page(client):
    built = desk_article(**LARGE)
    client.force_login(built.reviewer)
    return built, client.get(desk_url(built.article)).content.decode()


def test_the_large_page_shows_each_statement_with_its_references(large_page):
    built, page = large_page
    assert re.search(r'id="statements-heading".*?<span class="badge[^"]*">40</span>', page, re.S)
    for number, refs in enumerate(built.cited, start=1):
        card = statement_card(page, number)
        assert f"laim {number} about exosomes holds" in card
        assert card.count('<li class="mb-2">') == len(refs)
        for ref in refs:
            assert f'href="{ref.doi_url}"' in card
            assert escape(ref.title) in card
        assert ("Retracted: Data could not be verified." in card) == (built.retracted in refs)


def test_the_large_page_shows_each_approval_request_and_label_check(large_page):
    built, page = large_page
    for number, reviewer in built.approved_by.items():
        card = statement_card(page, number)
        assert f"Approved by {name_of(reviewer)}" in card
        if built.retracted in built.cited[number - 1]:
            assert "the record of a reference it cites changed since" in card
        else:
            assert "Approved: level E, Animal study" in card
        assert ("label-contradiction" in card) == (number % 3 == 0)
    for number in built.changes_requested:
        card = statement_card(page, number)
        assert "Changes requested" in card
        assert f"{escape(built.reviewer.staff_profile)}: “Say which trial for {number}.”" in card
    # The rest read as they did when first published, and the approvals of that first review still count.
    for number in set(range(1, 41)) - set(built.approved_by) - set(built.changes_requested):
        assert f"Approved by {name_of(built.reviewer)}" in statement_card(page, number)


def test_the_large_page_shows_the_findings_timeline_translation_and_comparisons(large_page):
    built, page = large_page
    article = built.article
    assert f"Accepted by {escape(built.reviewer.staff_profile)}" in page
    assert "The title quotes a claim." in page
    assert f"Retracted reference: [@{built.retracted.citation_key}]" in page
    assert 'id="comparison-heading"' in page  # against the live version
    assert 'id="since-last-review-heading"' in page
    assert "Updated after the review." in page
    translations_section = re.search(r'<section [^>]*id="translations".*?</section>', page, re.S).group(0)
    assert escape(built.translation.title) in translations_section
    events = AuditEvent.objects.filter(article=article)
    assert page.count('class="timeline-sentence"') == min(events.count(), 100) > 60
    for user in get_user_model().objects.filter(pk__in=events.values("actor")):
        assert name_of(user) in page
