"""articles/identity.py: fixed expectations for every hash version, and what a version change does.

The expected digests are written out: if one of these tests fails, a change altered what approvals, sign-offs
or snapshots are pinned to. That is a new HASH_VERSION with a migration saying what it does to the records
made before (see identity.py), never an edit of these numbers.
"""

import datetime
import hashlib
import json

import pytest
from django.urls import reverse

from articles import citations, identity, workflow
from articles.models import Article, Reference
from tests.factories import (
    ArticleFactory,
    ReferenceFactory,
    TopicFactory,
    member_of,
    publish_reviewed,
    review,
    sitewide_disclaimer,
)

REFERENCE = {
    "citation_key": "mahmoud2025",
    "authors": [{"family": "Mahmoud", "given": "R H"}, {"family": "Badiavas", "given": "E V"}],
    "title": "Exosomes and wound healing in mice",
    "journal": "Journal of Investigative Dermatology",
    "journal_abbrev": "J Invest Dermatol",
    "year": 2025,
    "published_on": datetime.date(2025, 3, 1),
    "volume": "145",
    "issue": "3",
    "pages": "512-520",
    "doi": "10.1000/jid.2025.512",
    "pmid": "39000001",
    "pmcid": "",
    "url": "",
    "open_access_pdf": "",
    "publication_type": "animal-study",
    "abstract": "In mice, wounds treated with exosomes closed faster.",
    "is_retracted": False,
    "retraction_note": "",
}
ARTICLE = {
    "title": "Exosomes and wound healing",
    "slug": "exosomes-wound-healing",
    "summary": "What studies in mice show, and what they do not.",
    "body": "<p>In mice, wounds closed faster [@mahmoud2025].</p>",
    "topics": ["exosome-therapy", "wound-care"],  # sorted, as patient_visible.hashed gives them
    "author": {"name": "Maya Okafor", "credentials": "RN, patient educator", "slug": "maya-okafor"},
    "drafted_with_ai": False,
    "review_interval_months": None,
}
EXPECTED = {
    ("references", 1): "37de0df4866a84edd7a9e6e1c88ac50cdd2de2ddd9c280b43d590d66abdc5144",
    ("references", 2): "46874daa8b71139cb413f1b664c8df6328ab12d902807abb18abf37ea600ca87",
    ("content", 1): "36b51aa3379ca99af22a76a68d8fb46affc0b4a3f78d542ace0b4d52dd70c081",
    ("content", 2): "2cfa41d3d39b2b20783293f99dd7106afd4f092d03cc86e1a28c06b213994093",
}


def reference() -> Reference:
    return Reference(**REFERENCE)


@pytest.mark.parametrize("version", [1, 2])
def test_each_version_pins_the_same_inputs_to_the_same_hashes(version):
    refs = {"mahmoud2025": reference()}

    assert identity.references_hash(["mahmoud2025"], refs, version=version) == EXPECTED["references", version]
    assert (
        identity.content_hash({**ARTICLE, "references": [refs["mahmoud2025"]]}, version=version)
        == EXPECTED["content", version]
    )


def test_version_1_is_what_records_made_before_versions_hold():
    # The payloads as the code before version 2 wrote them (commit 3e41b4c): AMA strings, no byline or slug.
    ama = reference().ama
    old_references = [["mahmoud2025", ama]]
    old_content = {
        "title": ARTICLE["title"],
        "summary": ARTICLE["summary"],
        "body": ARTICLE["body"],
        "topics": ARTICLE["topics"],
        "references": [ama],
    }

    assert (
        EXPECTED["references", 1] == hashlib.sha256(json.dumps(old_references, ensure_ascii=False).encode()).hexdigest()
    )
    assert EXPECTED["content", 1] == hashlib.sha256(json.dumps(old_content, sort_keys=True).encode()).hexdigest()


def test_version_2_hashes_no_formatting(monkeypatch):
    refs = {"mahmoud2025": reference()}
    monkeypatch.setattr(citations, "format_ama", lambda ref: "Formatted some other way.")

    assert identity.references_hash(["mahmoud2025"], refs) == EXPECTED["references", 2]
    assert identity.content_hash({**ARTICLE, "references": [refs["mahmoud2025"]]}) == EXPECTED["content", 2]


# --- What a version change does to the records made before it (migration 0014) -------------------------------


def cited_article() -> Article:
    ref = ReferenceFactory(citation_key="kost2022")
    return ArticleFactory(topics=[TopicFactory()], body=f"<p>In mice, scars were smaller [@{ref.citation_key}].</p>")


@pytest.fixture
def before_versions(monkeypatch):
    """Make records as the code before version 2 did; calling the result brings the current version back."""
    monkeypatch.setattr(identity, "HASH_VERSION", 1)
    return lambda: monkeypatch.setattr(identity, "HASH_VERSION", 2)


@pytest.mark.django_db
def test_a_page_published_before_the_version_change_is_still_live_as_it_stands(client, before_versions):
    article = cited_article()
    snapshot = publish_reviewed(article)
    assert snapshot.hash_version == 1
    before_versions()
    article.refresh_from_db()

    status = workflow.review_status(article)
    assert status.live_as_it_stands
    assert workflow.record_edit(article, by=member_of("Editors")) == Article.Status.PUBLISHED
    assert client.get(reverse("articles:article_detail", kwargs={"slug": article.slug})).status_code == 200


@pytest.mark.django_db
def test_a_sign_off_from_before_the_version_change_is_given_again_before_publishing(client, before_versions):
    sitewide_disclaimer()
    article = cited_article()
    reviewer = review(article)
    before_versions()
    article.refresh_from_db()
    editor = member_of("Editors")

    status = workflow.review_status(article)
    assert [item.problem for item in status.statements] == [workflow.APPROVED_UNDER_EARLIER_RULES.format(number=1)]
    assert workflow.SIGNED_OFF_UNDER_EARLIER_RULES.format(title=article.title) in status.problems
    assert workflow.publishing_queue([article]).reapproval == [article]  # the desk lists it to approve again
    with pytest.raises(workflow.WorkflowError, match="signed off before sign-offs covered its byline"):
        workflow.publish(article, by=editor)

    [statement] = article.evidence_statements.all()
    workflow.approve_statement(
        statement, by=reviewer, seen_hash=statement.statement_hash, evidence_level="E", certainty="low"
    )
    workflow.sign_off(article, by=reviewer, seen_hash=article.content_hash())
    snapshot = workflow.publish(article, by=editor)

    assert snapshot.hash_version == identity.HASH_VERSION == 2
    assert article.sign_offs.order_by("signed_at").last().hash_version == 2


@pytest.mark.django_db
def test_a_saved_article_hashes_through_the_declared_list_to_the_fixed_digest():
    """patient_visible.VISIBLE gives identity.content_hash exactly what version 2 covers, in its canonical form."""
    from articles import patient_visible
    from tests.factories import WriterFactory

    Reference.objects.create(**REFERENCE)
    author = WriterFactory()
    author.staff_profile.display_name, author.staff_profile.slug = ARTICLE["author"]["name"], "maya-okafor"
    author.staff_profile.credentials = ARTICLE["author"]["credentials"]
    author.staff_profile.save()
    topics = [TopicFactory(slug=slug) for slug in reversed(ARTICLE["topics"])]
    fields = {name: ARTICLE[name] for name in ("title", "slug", "summary", "body", "drafted_with_ai")}
    article = ArticleFactory(**fields, author=author, topics=topics, review_interval_months=None)

    assert set(patient_visible.hashed(article, cited=[])) == {*ARTICLE, "references"}
    assert article.content_hash() == EXPECTED["content", 2]
    assert article.content_hash(version=1) == EXPECTED["content", 1]
