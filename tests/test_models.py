import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from articles import identity, patient_visible, workflow
from articles.models import (
    BIO_MAX_CHARS,
    BODY_MAX_CHARS,
    DESCRIPTION_MAX_CHARS,
    NOTE_MAX_CHARS,
    TOO_LONG,
    Article,
    Disclaimer,
    Page,
    Reference,
    StaffProfile,
    normalise_doi,
)
from tests.factories import ArticleFactory, DisclaimerFactory, ReferenceFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("https://doi.org/10.1038/SREP32993", "10.1038/srep32993"),
        ("http://dx.doi.org/10.1/x", "10.1/x"),
        ("doi: 10.1/X ", "10.1/x"),
        ("", ""),
    ],
)
def test_normalise_doi(raw, normalised):
    assert normalise_doi(raw) == normalised


def test_doi_is_unique_whatever_its_case():
    ReferenceFactory(doi="10.1038/srep32993")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferenceFactory(doi="https://doi.org/10.1038/SREP32993")


def test_pmid_is_unique_when_present():
    ReferenceFactory(pmid="29890746")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferenceFactory(pmid="29890746")


def test_many_references_may_lack_doi_and_pmid():
    ReferenceFactory(doi="", pmid="")
    ReferenceFactory(doi="", pmid="")
    assert Reference.objects.filter(doi="", pmid="").count() == 2


@pytest.mark.parametrize("bad_key", ["", "-lead", "trail-", "has space", "semi;colon", "at@sign", "x" * 65])
def test_citation_key_validation(bad_key):
    with pytest.raises(ValidationError):
        ReferenceFactory.build(citation_key=bad_key).full_clean()


def test_retracted_reference_needs_a_note():
    with pytest.raises(ValidationError, match="retraction"):
        ReferenceFactory.build(is_retracted=True, retraction_note="").full_clean()


def test_reference_title_and_abstract_keep_no_markup():
    reference = ReferenceFactory(title="<i>In vitro</i> study", abstract="<p><p>Text &amp; more</p><script>x</script>")
    assert (reference.title, reference.abstract) == ("In vitro study", "Text & more")


def test_article_save_sanitizes_and_strips():
    article = ArticleFactory(
        title="<b>Title</b>", summary="<em>Sum</em>", body='<p onclick="x()">Hi</p><iframe src="x"></iframe>'
    )
    assert (article.title, article.summary, article.body) == ("Title", "Sum", "<p>Hi</p>")


def test_status_is_constrained_in_the_database():
    article = ArticleFactory()
    with pytest.raises(IntegrityError), workflow.gate():  # even the gate cannot store an unknown status
        Article.objects.filter(pk=article.pk).update(status="bogus")


def test_disclaimer_scope_is_constrained_in_the_database():
    disclaimer = DisclaimerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Disclaimer.objects.filter(pk=disclaimer.pk).update(scope="some")


def test_disclaimers_applying_to_topics():
    topic, other = TopicFactory(), TopicFactory()
    sitewide = DisclaimerFactory(position=1)
    for_topic = DisclaimerFactory(scope=Disclaimer.Scope.TOPICS)
    for_topic.topics.set([topic, other])
    DisclaimerFactory(scope=Disclaimer.Scope.TOPICS).topics.set([other])
    DisclaimerFactory(is_active=False)
    assert list(Disclaimer.objects.applying_to([topic.pk], "en")) == [sitewide, for_topic]


def test_what_a_disclaimer_said_on_a_given_day_can_be_reconstructed():
    disclaimer = DisclaimerFactory(text="<p>First wording.</p>")
    first_day = timezone.now()
    disclaimer.history.filter().update(history_date=first_day - datetime.timedelta(days=10))
    disclaimer.text = "<p>Second wording.</p>"
    disclaimer.save()
    then = disclaimer.history.as_of(first_day - datetime.timedelta(days=5))
    assert then.text == "<p>First wording.</p>"
    assert Disclaimer.objects.get().text == "<p>Second wording.</p>"


def test_content_hash_changes_with_what_patients_see():
    reference = ReferenceFactory()
    article = ArticleFactory(body=f"<p>Claim [@{reference.citation_key}].</p>")
    before = article.content_hash()
    reference.title = "A corrected title"
    reference.save()
    assert article.content_hash() != before


def test_staff_byline():
    user = UserFactory(profile__display_name="Jane Doe", profile__credentials="MD, board-certified dermatologist")
    assert user.staff_profile.byline == "Jane Doe, MD, board-certified dermatologist"


def test_an_ordinary_save_never_writes_workflow_state(editor):
    from articles import workflow

    stale = ArticleFactory()
    workflow.archive(stale, by=editor, reason="Superseded")
    stale.title = "Edited from a stale copy"
    stale.save()
    stale.refresh_from_db()
    assert (stale.title, stale.status) == ("Edited from a stale copy", Article.Status.ARCHIVED)


def test_a_new_article_always_starts_as_a_draft(editor):
    article = ArticleFactory(status=Article.Status.PUBLISHED)
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


@pytest.mark.parametrize(
    ("build", "field", "limit"),
    [
        (lambda: ArticleFactory.build(), "body", BODY_MAX_CHARS),
        (lambda: ArticleFactory.build(), "summary", 300),
        (lambda: Page(title="Editorial policy", slug="editorial"), "body", BODY_MAX_CHARS),
        (lambda: StaffProfile(display_name="Jane Doe", slug="jane"), "bio", BIO_MAX_CHARS),
        (lambda: StaffProfile(display_name="Jane Doe", slug="jane"), "conflicts_of_interest", NOTE_MAX_CHARS),
        (lambda: TopicFactory.build(), "description", DESCRIPTION_MAX_CHARS),
        (lambda: DisclaimerFactory.build(), "text", NOTE_MAX_CHARS),
        (lambda: ReferenceFactory.build(), "title", 2_000),
        (lambda: ReferenceFactory.build(), "abstract", 30_000),
        (lambda: ReferenceFactory.build(), "retraction_note", NOTE_MAX_CHARS),
    ],
)
def test_texts_patients_read_are_limited_by_the_model_with_their_length_in_the_message(build, field, limit):
    instance = build()
    setattr(instance, field, "x" * limit)
    instance.clean_fields(exclude=[name for name in ("user", "author", "topics") if name != field])
    setattr(instance, field, "x" * (limit + 1))
    with pytest.raises(ValidationError) as caught:
        instance.clean_fields(exclude=[name for name in ("user", "author", "topics") if name != field])
    assert caught.value.message_dict[field] == [TOO_LONG % {"limit_value": limit, "show_value": limit + 1}]


# --- Key points (issue 15) -----------------------------------------------------------------------------------------


def test_key_points_statements_come_first_and_their_keys_are_cited_first():
    for key in ("body2020", "point2021"):
        ReferenceFactory(citation_key=key)
    article = ArticleFactory(
        key_points="<ul><li>Point one [@point2021].</li><li>Uncited point.</li></ul>",
        body="<p>Body claim [@body2020]. Again [@point2021].</p>",
    )
    assert [s.text for s in article.statements] == [
        "Point one [@point2021].",
        "Body claim [@body2020].",
        "Again [@point2021].",
    ]
    assert article.citation_keys == ["point2021", "body2020"]
    stored = list(article.evidence_statements.order_by("position").values_list("text", flat=True))
    assert stored == ["Point one [@point2021].", "Body claim [@body2020].", "Again [@point2021]."]
    assert list(Article.objects.citing("point2021")) == [article]


def test_editing_only_the_key_points_extracts_their_statements_again():
    ReferenceFactory(citation_key="point2021")
    article = ArticleFactory()
    article.key_points = "<ul><li>A new point [@point2021].</li></ul>"
    article.save(update_fields=["key_points"])
    assert list(article.evidence_statements.values_list("text", flat=True)) == ["A new point [@point2021]."]


def test_key_points_are_sanitized_and_blank_ones_leave_the_content_hash_as_it_was():
    article = ArticleFactory(key_points='<ul><li onclick="x()">Point<script>alert(1)</script></li></ul>')
    assert article.key_points == "<ul><li>Point</li></ul>"
    article.key_points = ""
    blank = article.content_hash()
    payload = patient_visible.hashed(article, cited=[])
    assert "key_points" not in payload
    assert identity.content_hash(payload) == blank
    article.key_points = "<ul><li>Point</li></ul>"
    assert article.content_hash() != blank
