"""articles/patient_visible.py: the one list of what patients see, and every place that reads it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from articles import patient_visible, workflow
from articles.models import Article, Disclaimer, Image, Page, RedFlagPhrase, StaffProfile, Topic, UrgentHelp
from articles.sanitize import clean_html, plain_text
from tests.factories import ArticleFactory, ReferenceFactory, TopicFactory

pytestmark = pytest.mark.django_db

READING_TIME = patient_visible.Visible(
    "reading_time",
    hashed=lambda article, cited: "4 minutes",
    # body_text: a snapshot field no entry freezes (save() derives it), standing in for the new entry's column
    frozen=lambda article, publishing: {"body_text": "Reading time: 4 minutes"},
    compared=("reading time", lambda record: f"{len(record.body.split())} words"),
    stale_on=("RedFlagPhrase",),
)


def test_a_new_entry_reaches_the_content_hash_the_revision_history_the_snapshot_and_the_page_cache(
    client, editor, monkeypatch
):
    reference = ReferenceFactory()
    article = ArticleFactory(topics=[TopicFactory()], body=f"<p>In mice, hair grew [@{reference.citation_key}].</p>")
    article.title = "A new title"
    article.save()
    older, newer = article.history.earliest("history_date"), article.history.latest("history_date")
    before = article.content_hash()

    monkeypatch.setattr(patient_visible, "VISIBLE", (*patient_visible.VISIBLE, READING_TIME))

    assert patient_visible.hashed(article, cited=[reference])["reading_time"] == "4 minutes"
    assert article.content_hash() != before
    assert patient_visible.revision_values(newer)["reading time"] == "5 words"
    client.force_login(editor)
    compared = client.get(
        reverse("admin:articles_article_compare", args=[article.pk]), {"from": older.history_id, "to": newer.history_id}
    )
    assert "Reading time" in compared.content.decode()
    snapshot = workflow.build_snapshot(article, workflow.review_status(article), by=editor, now=timezone.now())
    assert snapshot.body_text == "Reading time: 4 minutes"
    assert RedFlagPhrase in patient_visible.stale_on_models()


def test_the_list_keeps_what_each_place_did_before():
    """The declared list is the same content hash, revision compare, page-cache models and sanitizing as before."""
    pinned = [
        "title",
        "slug",
        "language",  # issue 17: English adds nothing to the hash, so earlier articles keep theirs
        *("summary", "body", "topics", "author", "drafted_with_ai", "review_interval_months"),
        "correction_note",  # issue 15: blank, it adds nothing to the hash (tests/test_corrections.py)
        "key_points",  # issue 15: blank, it adds nothing to the hash (tests/test_models.py)
    ]
    assert patient_visible.pinned(patient_visible.ARTICLE_FIELDS) == pinned
    assert set(patient_visible.ARTICLE_FIELDS) == {*pinned, "is_featured", "translation_of"}
    compared = ["title", "slug", "language", "summary", "body", "topics", "author", "correction note", "key points"]
    assert compared == patient_visible.COMPARED
    assert set(patient_visible.stale_on_models()) == {Disclaimer, Page, StaffProfile, Topic, UrgentHelp}
    policies = {
        target: policy.__name__ for entry in patient_visible.VISIBLE for target, policy in entry.sanitized.items()
    }
    assert policies == {
        "Article.title": "plain_text",
        "Article.summary": "plain_text",
        "Article.body": "clean_html",
        "Topic.name": "plain_text",
        "Topic.description": "plain_text",
        "Topic.name_es": "plain_text",
        "Topic.description_es": "plain_text",
        "Article.correction_note": "plain_text",
        "Article.key_points": "clean_html",
        "StaffProfile.display_name": "plain_text",
        "StaffProfile.credentials": "plain_text",
        "StaffProfile.bio": "clean_html",
        "StaffProfile.conflicts_of_interest": "plain_text",
        "Reference.title": "plain_text",
        "Reference.abstract": "plain_text",
        "Disclaimer.title": "plain_text",
        "Disclaimer.text": "clean_html",
        "Page.title": "plain_text",
        "Page.body": "clean_html",
        # issue 15: a topic's urgent-help box; its symptoms are plain text one to a line
        "UrgentHelp.heading": "plain_text",
        "UrgentHelp.symptoms": "plain_lines",
        "UrgentHelp.same_day_contact": "plain_text",
        "UrgentHelp.same_day_phone": "plain_text",
        "UrgentHelp.emergency_symptoms": "plain_lines",
        "UrgentHelp.emergency_phone": "plain_text",
        # issue 16: what a figure says of its library image (articles/figures.py)
        "Image.alt_text": "plain_text",
        "Image.caption": "plain_text",
        "Image.credit": "plain_text",
    }


def test_no_field_is_sanitized_by_two_entries_and_each_names_a_real_field():
    targets = [target for entry in patient_visible.VISIBLE for target in entry.sanitized]
    assert len(targets) == len(set(targets))
    models = {model.__name__: model for model in (Article, Disclaimer, Image, Page, StaffProfile, Topic, UrgentHelp)}
    for target in targets:
        model, name = target.split(".")
        if model in models:
            models[model]._meta.get_field(name)


def test_saving_sanitizes_by_the_declared_policy():
    markup = '<p onclick="x()">Hair <script>alert(1)</script>loss</p>'
    topic = TopicFactory(name=markup, description=markup)
    article = ArticleFactory(title=markup, summary=markup, body=markup)
    assert (topic.name, topic.description) == (plain_text(markup), plain_text(markup))
    assert (article.title, article.summary) == (plain_text(markup), plain_text(markup))
    assert article.body == clean_html(markup)


def test_two_entries_freezing_the_same_snapshot_field_are_refused(editor, monkeypatch):
    article = ArticleFactory(topics=[TopicFactory()])
    twice = patient_visible.Visible("title_again", frozen=lambda article, publishing: {"title": "Again"})
    monkeypatch.setattr(patient_visible, "VISIBLE", (*patient_visible.VISIBLE, twice))
    with pytest.raises(ValueError, match="Two entries freeze the snapshot's title"):
        workflow.build_snapshot(article, workflow.review_status(article), by=editor, now=timezone.now())
