import ast
import datetime
import io
import itertools
import re
import time
import tokenize
import zoneinfo
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles import admin as admin_module
from articles import citations, forms, workflow
from articles.admin import PICKER_NO_MATCH, PICKER_PROMPT, PICKER_RESULTS
from articles.admin_site import DESK_ROWS, RECORDS_TITLE
from articles.forms import NOT_UTF8, NOTHING_TO_IMPORT, PASTE_OR_UPLOAD
from articles.models import (
    BIO_MAX_CHARS,
    BODY_MAX_CHARS,
    DESCRIPTION_MAX_CHARS,
    NOTE_MAX_CHARS,
    Article,
    ChangeRequest,
    Disclaimer,
    PublishedSnapshot,
    Reference,
)
from tests.factories import (
    ArticleFactory,
    DisclaimerFactory,
    ReferenceFactory,
    TopicFactory,
    UserFactory,
    admin_form_data,
    member_of,
    publish_reviewed,
    review,
    sitewide_disclaimer,
)
from tests.large_bodies import function_calls, large_body
from tests.large_records import FORMATS, large_record

pytestmark = pytest.mark.django_db

SEED_RECORD = (
    '{"title":"Exosomes: A Comprehensive Review for the Practicing Dermatologist.","authors":"Rami H Mahmoud, '
    'Erik Peterson, Evangelos V Badiavas, Michael Kaminer, Ariel E Eber","doi":"","abstract":"<p><p>Review.</p>",'
    '"journal":{"name":"Journal of Clinical and Aesthetic Dermatology","volume":"18 4","pages":"33-40"},'
    '"publicationDate":"2025-04-01","publicationTypes":"Journal Article"}'
)


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def article_form(**overrides):
    topic = TopicFactory()
    return {
        "title": "Exosomes for hair loss",
        "slug": "exosomes-for-hair-loss",
        "language": "en",
        "summary": "What the research shows so far.",
        "body": "<p>In mice, hair grew back faster [@kost2022].</p>",
        "topics": [topic.pk],
        **overrides,
    }


def test_writer_creates_an_article_and_sees_its_references_in_citation_order(client, writer):
    first, second = ReferenceFactory(citation_key="kost2022"), ReferenceFactory(citation_key="hu2016")
    client.force_login(writer)
    data = article_form(
        body="<p>Hair [@hu2016].</p><p>More [@kost2022; @hu2016].</p><script>x()</script>", author=writer.pk
    )
    response = client.post(reverse("admin:articles_article_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    article = Article.objects.get(slug="exosomes-for-hair-loss")
    assert "<script>" not in article.body
    assert article.history.count() == 1

    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert page.index(second.title) < page.index(first.title)
    assert "All 2 citation keys match a reference." in page


def test_unknown_citation_key_is_reported_on_save_and_on_the_page(client, writer):
    client.force_login(writer)
    response = client.post(
        reverse("admin:articles_article_add"),
        {**article_form(body="<p>Claim [@nosuch2020].</p>", author=writer.pk), "_save": "Save"},
        follow=True,
    )
    assert any("nosuch2020" in message for message in messages_of(response))
    assert citations.UNKNOWN_KEY.format(key="nosuch2020", suggestion="") in response.content.decode()


def test_reviewer_cannot_add_articles(client, reviewer):
    client.force_login(reviewer)
    assert client.get(reverse("admin:articles_article_add")).status_code == 403


def test_admin_form_rejects_bad_input_without_saving(client, writer):
    client.force_login(writer)
    response = client.post(reverse("admin:articles_article_add"), article_form(slug="not a slug!", title=""))
    assert response.status_code == 200
    assert not Article.objects.exists()


def test_bulk_publish_reports_each_article(client, editor):
    good = ArticleFactory(title="Good one")
    review(good)
    sitewide_disclaimer()
    bad = ArticleFactory(title="Bad one", body="<p>Claim [@missing1].</p>")
    client.force_login(editor)
    response = client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "publish_selected", "_selected_action": [good.pk, bad.pk]},
        follow=True,
    )
    texts = messages_of(response)
    assert "Published “Good one”." in texts
    assert any(t.startswith("“Bad one”:") and "missing1" in t for t in texts)
    assert PublishedSnapshot.objects.filter(article=good).exists()
    assert not PublishedSnapshot.objects.filter(article=bad).exists()


def test_writers_do_not_get_the_publish_action(client, writer):
    ArticleFactory()
    client.force_login(writer)
    page = client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert "publish_selected" not in page


def test_published_article_cannot_be_deleted(client, editor, admin_user):
    article = ArticleFactory()
    publish_reviewed(article, editor=editor)
    client.force_login(admin_user)
    assert client.get(reverse("admin:articles_article_delete", args=[article.pk])).status_code == 403


def test_compare_two_revisions_field_by_field(client, writer):
    article = ArticleFactory(title="Old title", body="<p>Exosomes are small.</p>")
    article.title = "New title"
    article.body = "<p>Exosomes are tiny.</p>"
    article.save()
    old, new = article.history.order_by("history_date")
    client.force_login(writer)
    page = client.get(
        reverse("admin:articles_article_compare", args=[article.pk]), {"from": old.history_id, "to": new.history_id}
    ).content.decode()
    assert "<del>Old</del>" in page
    assert "<ins>New</ins>" in page
    assert "<del>small.</del>" in page
    assert "<ins>tiny.</ins>" in page


@pytest.mark.parametrize("params", [{}, {"from": "x", "to": "1"}, {"from": "999999", "to": "999998"}])
def test_compare_with_bad_revisions_redirects_with_a_message(client, writer, params):
    article = ArticleFactory()
    client.force_login(writer)
    response = client.get(reverse("admin:articles_article_compare", args=[article.pk]), params, follow=True)
    assert response.status_code == 200
    assert "Choose two revisions" in " ".join(messages_of(response))


def test_restoring_a_revision_brings_back_its_topics(client, writer):
    old_topic, new_topic = TopicFactory(), TopicFactory()
    article = ArticleFactory(title="Before", topics=[old_topic])
    article.title = "After"
    article.save()
    article.topics.set([new_topic])
    first = article.history.filter(title="Before").latest("history_date")
    client.force_login(writer)
    form = client.get(reverse("admin:articles_article_simple_history", args=[article.pk, first.history_id]))
    assert form.context["adminform"].form.initial["topics"] == [old_topic.pk]
    assert form.context["adminform"].form.initial["title"] == "Before"


def test_import_pasted_seed_record(client, writer):
    client.force_login(writer)
    preview = client.post(reverse("admin:articles_reference_import"), {"records": SEED_RECORD})
    assert not Reference.objects.exists()  # a preview first: nothing is saved until Confirm
    confirm = {**preview.context["confirm_form"].initial, "confirm": "Confirm"}
    response = client.post(reverse("admin:articles_reference_import"), confirm, follow=True)
    reference = Reference.objects.get()
    assert reference.citation_key == "mahmoud2025"
    assert any("mahmoud2025" in m for m in messages_of(response))
    change = client.get(reverse("admin:articles_reference_change", args=[reference.pk])).content.decode()
    assert "Mahmoud RH, Peterson E, Badiavas EV, Kaminer M, Eber AE." in change


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"records": ""}, NOTHING_TO_IMPORT),
        ({"records": SEED_RECORD, "file": SimpleUploadedFile("a.bib", b"@article{x, title={T}}")}, PASTE_OR_UPLOAD),
        ({"file": SimpleUploadedFile("a.ris", "TY  - JOUR\nTI  - Caf\xe9\nER  - \n".encode("latin-1"))}, NOT_UTF8),
        ({"records": '{"title": "Broken",'}, "Nothing was imported"),
    ],
)
def test_import_form_explains_bad_input_and_imports_nothing(client, writer, data, expected):
    client.force_login(writer)
    response = client.post(reverse("admin:articles_reference_import"), data)
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert not Reference.objects.exists()


@pytest.mark.parametrize("format", FORMATS)
def test_import_form_refuses_a_2_mb_record_quickly_and_imports_nothing(client, writer, format):
    client.force_login(writer)
    started = time.perf_counter()
    response = client.post(
        reverse("admin:articles_reference_import"), {"records": large_record(format, "title", 2_000_000)}
    )
    assert time.perf_counter() - started < 20  # about 0.5 s here; a machine 10x slower still passes
    assert response.status_code == 200
    assert "Line 1: the title field is " in response.content.decode()
    assert not Reference.objects.exists()


def test_reviewer_cannot_import(client, reviewer):
    client.force_login(reviewer)
    assert client.get(reverse("admin:articles_reference_import")).status_code == 403


def test_reference_page_lists_citing_articles(client, writer):
    reference = ReferenceFactory(citation_key="hu2016")
    citing = ArticleFactory(title="Citing it", body="<p>Claim [@hu2016].</p>")
    ArticleFactory(title="Citing a longer key", body="<p>Claim [@hu2016b].</p>")
    client.force_login(writer)
    page = client.get(reverse("admin:articles_reference_change", args=[reference.pk])).content.decode()
    assert citing.title in page
    assert "Citing a longer key" not in page


def test_topic_disclaimer_needs_topics(client, editor):
    client.force_login(editor)
    response = client.post(
        reverse("admin:articles_disclaimer_add"),
        {
            "title": "FDA",
            "text": "<p>Not approved.</p>",
            "language": "en",
            "scope": "topics",
            "position": 0,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "Choose at least one topic" in response.content.decode()
    assert not Disclaimer.objects.exists()


def test_disclaimer_edits_keep_version_history(client, editor):
    disclaimer = DisclaimerFactory(text="<p>Version one.</p>")
    client.force_login(editor)
    client.post(
        reverse("admin:articles_disclaimer_change", args=[disclaimer.pk]),
        {
            "title": disclaimer.title,
            "text": "<p>Version two.</p>",
            "language": "en",
            "scope": "all",
            "position": 0,
            "is_active": "on",
        },
    )
    texts = list(disclaimer.history.order_by("history_date").values_list("text", flat=True))
    assert texts == ["<p>Version one.</p>", "<p>Version two.</p>"]


@pytest.mark.parametrize("role", ["writer", "reviewer"])
def test_writers_and_reviewers_cannot_change_or_delete_disclaimers(client, request, role):
    disclaimer = DisclaimerFactory()
    client.force_login(request.getfixturevalue(role))
    url = reverse("admin:articles_disclaimer_change", args=[disclaimer.pk])
    assert client.post(url, {"title": "x", "text": "y", "scope": "all", "position": 0}).status_code == 403
    assert client.get(reverse("admin:articles_disclaimer_delete", args=[disclaimer.pk])).status_code == 403


def test_editors_cannot_delete_disclaimers_either(client, editor):
    disclaimer = DisclaimerFactory()
    client.force_login(editor)
    assert client.get(reverse("admin:articles_disclaimer_delete", args=[disclaimer.pk])).status_code == 403


def test_snapshots_and_audit_are_read_only_in_the_admin(client, editor, admin_user):
    article = ArticleFactory()
    snapshot = publish_reviewed(article, editor=editor)
    client.force_login(admin_user)
    assert client.get(reverse("admin:articles_publishedsnapshot_change", args=[snapshot.pk])).status_code == 200
    response = client.post(reverse("admin:articles_publishedsnapshot_change", args=[snapshot.pk]), {"title": "x"})
    assert response.status_code == 403
    assert client.get(reverse("admin:articles_publishedsnapshot_delete", args=[snapshot.pk])).status_code == 403


def test_live_key_check_names_unknown_keys(client, writer):
    ReferenceFactory(citation_key="hu2016")
    client.force_login(writer)
    response = client.get(reverse("admin:articles_reference_check_keys"), {"keys": "hu2016,nosuch2020"})
    assert response.json() == {
        "unknown": ["nosuch2020"],
        "messages": [citations.UNKNOWN_KEY.format(key="nosuch2020", suggestion="")],
    }


@pytest.mark.parametrize(
    "keys", ["", ",,,", "x" * 10_000, ",".join(f"k{i}" for i in range(5_000)), "'; DROP TABLE x;--"]
)
def test_live_key_check_survives_odd_input(client, writer, keys):
    client.force_login(writer)
    response = client.get(reverse("admin:articles_reference_check_keys"), {"keys": keys})
    assert response.status_code == 200
    assert len(response.json()["unknown"]) <= 500


def test_live_key_check_is_for_staff_only(client, patient):
    client.force_login(patient)
    response = client.get(reverse("admin:articles_reference_check_keys"), {"keys": "hu2016"})
    assert response.status_code == 302


# --- Workflow from the admin -------------------------------------------------------------------------


def test_writer_saves_and_submits_for_review_from_the_change_form(client, writer, reviewer):
    reference = ReferenceFactory()
    article = ArticleFactory(author=writer, body=f"<p>In mice, it helped [@{reference.citation_key}].</p>")
    article.topics.add(TopicFactory())
    client.force_login(writer)
    response = client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        admin_form_data(article, _submit_for_review="Save and submit for review"),
        follow=True,
    )
    assert "Submitted for review" in " ".join(messages_of(response))
    article.refresh_from_db()
    assert article.status == Article.Status.IN_REVIEW


def test_submitting_an_article_without_a_topic_is_refused_with_the_reason(client, writer):
    article = ArticleFactory(author=writer)
    client.force_login(writer)
    response = client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        admin_form_data(article, _submit_for_review="Save and submit for review"),
        follow=True,
    )
    assert any("has no topic" in m for m in messages_of(response))
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_the_change_form_lists_what_blocks_publishing_with_the_reviewers_comment(client, writer, reviewer):
    reference = ReferenceFactory()
    article = ArticleFactory(author=writer, body=f"<p>Exosomes help wounds [@{reference.citation_key}].</p>")
    article.topics.add(TopicFactory())
    workflow.submit_for_review(article, by=writer)
    statement = article.evidence_statements.get()
    workflow.request_statement_changes(
        statement, by=reviewer, seen_hash=statement.statement_hash, comment="Say this was in mice."
    )
    client.force_login(writer)
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert "What still blocks publishing" in page
    assert "Statement 1: changes requested" in page
    assert "Say this was in mice." in page
    assert "has not been signed off" in page
    # The timeline reads as sentences, as on the review desk; the dotted action only under "Record details".
    assert f"{workflow.person_name(writer)} submitted it for review, <time" in page
    assert "<summary>Record details</summary>articles.article.submit" in page


def test_preview_shows_the_working_copy_with_unapproved_statements_marked(client, writer):
    reference = ReferenceFactory()
    article = ArticleFactory(author=writer, body=f"<p>In mice, it helped [@{reference.citation_key}].</p>")
    client.force_login(writer)
    page = client.get(reverse("admin:articles_article_preview", args=[article.pk])).content.decode()
    assert "Preview: not published." in page
    assert "Not yet approved" in page
    assert '<meta name="robots" content="noindex">' in page
    assert reference.title in page


def test_preview_is_for_staff_who_may_view_articles(client, patient):
    article = ArticleFactory()
    client.force_login(patient)
    assert client.get(reverse("admin:articles_article_preview", args=[article.pk])).status_code == 302


def test_editing_a_live_article_in_the_admin_keeps_the_live_page_and_says_so(client, editor):
    reference = ReferenceFactory()
    article = ArticleFactory(title="Live title", body=f"<p>In mice, it helped [@{reference.citation_key}].</p>")
    publish_reviewed(article, editor=editor)
    article.refresh_from_db()
    client.force_login(editor)
    response = client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        admin_form_data(article, title="Edited title", _continue="Save and continue editing"),
        follow=True,
    )
    assert any("Patients still see the published version" in m for m in messages_of(response))
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT
    assert article.live_snapshot.title == "Live title"
    assert "Live title" in client.get(article.get_absolute_url()).content.decode()


def test_status_and_live_snapshot_cannot_be_set_through_the_change_form(client, editor):
    article = ArticleFactory()
    client.force_login(editor)
    client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        admin_form_data(article, status="published", live_snapshot="1", scheduled_for="2030-01-01 00:00"),
    )
    article.refresh_from_db()
    assert (article.status, article.live_snapshot_id, article.scheduled_for) == ("draft", None, None)


def test_bulk_submit_reports_each_article(client, writer):
    ready = ArticleFactory(title="Ready one", author=writer)
    ready.topics.add(TopicFactory())
    not_ready = ArticleFactory(title="No topic", author=writer)
    client.force_login(writer)
    response = client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "submit_selected", "_selected_action": [ready.pk, not_ready.pk]},
        follow=True,
    )
    texts = messages_of(response)
    assert "Submitted “Ready one” for review." in texts
    assert any(t.startswith("“No topic”:") and "has no topic" in t for t in texts)


def test_reviewers_do_not_get_the_publish_or_submit_actions(client, reviewer):
    ArticleFactory()
    client.force_login(reviewer)
    page = client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert "publish_selected" not in page
    assert "submit_selected" not in page


def test_an_article_that_went_to_review_cannot_be_deleted(client, writer, admin_user):
    article = ArticleFactory(author=writer)
    article.topics.add(TopicFactory())
    workflow.submit_for_review(article, by=writer)
    client.force_login(admin_user)
    assert client.get(reverse("admin:articles_article_delete", args=[article.pk])).status_code == 403


@pytest.mark.parametrize(
    "model", ["statementapproval", "reviewsignoff", "changerequest", "retractionacknowledgement", "auditevent"]
)
def test_review_records_cannot_be_added_in_the_admin(client, admin_user, model):
    client.force_login(admin_user)
    assert client.get(reverse(f"admin:articles_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:articles_{model}_add")).status_code == 403


def test_restoring_a_revision_of_a_live_article_keeps_the_live_page(client, editor):
    article = ArticleFactory(title="Before")
    publish_reviewed(article, editor=editor)
    article.refresh_from_db()
    article.title = "After"
    article.save()
    first = article.history.filter(title="Before").latest("history_date")
    client.force_login(editor)
    response = client.post(
        reverse("admin:articles_article_simple_history", args=[article.pk, first.history_id]),
        admin_form_data(article, title="Before"),
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.live_snapshot is not None
    assert client.get(article.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("action", ["publish_selected", "delete_selected"])
def test_a_writer_crafting_a_bulk_action_post_changes_nothing(client, writer, action):
    article = ArticleFactory(author=writer)
    review(article)
    sitewide_disclaimer()
    client.force_login(writer)
    response = client.post(
        reverse("admin:articles_article_changelist"),
        {"action": action, "_selected_action": [article.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code in (200, 403)
    article.refresh_from_db()
    assert article.live_snapshot is None
    assert Article.objects.filter(pk=article.pk).exists()
    assert not PublishedSnapshot.objects.exists()


# --- The admin index: each person's work; the change form: the reviewer's open comments ------------------


def sent_back(article, *, reviewer, statement_comment="", article_comment="Please see my comments."):
    """Submit the article, comment on its first statement if asked, and send it back to its writer."""
    if not article.topics.exists():
        article.topics.add(TopicFactory())
    workflow.submit_for_review(article, by=article.author)
    if statement_comment:
        statement = article.evidence_statements.get(position=1)
        workflow.request_statement_changes(
            statement, by=reviewer, seen_hash=statement.statement_hash, comment=statement_comment
        )
    workflow.request_changes(article, by=reviewer, comment=article_comment)
    article.refresh_from_db()
    return article


def index_of(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response


def test_index_shows_a_writer_their_own_drafts_and_not_anothers(client, writer):
    ArticleFactory(author=writer, title="My draft on hair loss")
    ArticleFactory(title="Someone else's draft")
    page = index_of(client, writer).content.decode()
    assert "Your drafts" in page
    assert "My draft on hair loss" in page
    assert "Someone else&#x27;s draft" not in page


def test_index_shows_a_writers_articles_by_state_with_links_to_them(client, writer, editor):
    sitewide_disclaimer()
    draft = ArticleFactory(author=writer)
    in_review = ArticleFactory(author=writer, topics=[TopicFactory()])
    workflow.submit_for_review(in_review, by=writer)
    scheduled = ArticleFactory(author=writer)
    review(scheduled)
    workflow.schedule(scheduled, by=editor, at=timezone.now() + datetime.timedelta(days=2))
    overdue = ArticleFactory(author=writer, review_interval_months=1)
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - datetime.timedelta(days=60)):
        publish_reviewed(overdue)
    response = index_of(client, writer)
    sections = {section.title: section.rows for section in response.context["own_work"]}
    assert sections == {
        "Your drafts": [draft],
        "Changes requested": [],
        "In review or signed off": [in_review],
        "Scheduled": [scheduled],
        "Live, due for re-review": [overdue],
    }
    page = response.content.decode()
    for article in (draft, in_review, scheduled, overdue):
        assert reverse("admin:articles_article_change", args=[article.pk]) in page


def test_index_shows_the_reviewers_open_comments_on_articles_sent_back(client, writer, reviewer):
    reference = ReferenceFactory(citation_key="kost2022")
    article = ArticleFactory(author=writer, body=f"<p>Exosomes cure baldness [@{reference.citation_key}].</p>")
    sent_back(
        article,
        reviewer=reviewer,
        statement_comment="The study was in mice: say so.",
        article_comment="One claim needs rewording.",
    )
    response = index_of(client, writer)
    (row,) = response.context["own_work"][1].rows
    assert row == article
    assert [(c.statement_number, c.comment) for c in row.open_change_requests] == [
        (None, "One claim needs rewording."),
        (1, "The study was in mice: say so."),
    ]
    page = response.content.decode()
    assert "Statement 1: <q>Exosomes cure baldness [@kost2022].</q>" in page
    assert reviewer.staff_profile.display_name in page


def test_index_shows_an_editor_everything_signed_off_or_scheduled_and_a_writer_only_their_own(client, writer, editor):
    sitewide_disclaimer()
    signed_off, scheduled = ArticleFactory(title="Signed off by them"), ArticleFactory(title="Scheduled by them")
    review(signed_off)
    review(scheduled)
    workflow.schedule(scheduled, by=editor, at=timezone.now() + datetime.timedelta(days=1))
    response = index_of(client, editor)
    assert [section.rows for section in response.context["publishing_work"]] == [[signed_off], [scheduled]]
    assert signed_off.author.staff_profile.display_name in response.content.decode()
    assert "You have no articles in progress." in response.content.decode()  # not five empty lists
    response = index_of(client, writer)
    assert response.context["publishing_work"] == []
    assert "Signed off by them" not in response.content.decode()


def test_index_links_a_reviewer_to_the_review_desk_with_counts(client, reviewer):
    for _ in range(2):
        article = ArticleFactory(topics=[TopicFactory()])
        workflow.submit_for_review(article, by=article.author)
    response = index_of(client, reviewer)
    assert not response.context["can_write"]
    assert "Your articles" not in response.content.decode()  # reviewers do not write
    page = response.content.decode()
    assert reverse("articles:review_queue") in page
    assert "2 waiting for review, 0 re-reviews due." in page


def test_index_keeps_the_read_only_records_in_a_collapsed_section_at_the_bottom(client, editor):
    page = index_of(client, editor).content.decode()
    records = page.index("<details")
    assert RECORDS_TITLE in page[records:]
    for model in ("auditevent", "publishedsnapshot", "changerequest", "statementapproval", "reviewsignoff"):
        assert page.index(reverse(f"admin:articles_{model}_changelist")) > records
    assert page.index(reverse("admin:articles_article_changelist")) < records


def test_sidebar_lists_the_records_after_the_working_models(client, editor):
    client.force_login(editor)
    page = client.get(reverse("admin:articles_topic_changelist")).content.decode()
    assert page.index(reverse("admin:articles_topic_changelist")) < page.index(RECORDS_TITLE)
    assert page.index(RECORDS_TITLE) < page.index(reverse("admin:articles_auditevent_changelist"))
    response = client.get(reverse("admin:app_list", args=["articles"]))
    assert [app["name"] for app in response.context["app_list"]] == ["Editorial", RECORDS_TITLE]


def test_index_queries_stop_growing_once_its_lists_are_full(client, django_assert_max_num_queries):
    user = member_of("Editors", is_superuser=True)  # every section of the index: own, review and publishing work
    reviewer = member_of("Reviewers")

    def one_of_each_state():
        ArticleFactory(author=user)
        reference = ReferenceFactory()
        sent_back(
            ArticleFactory(author=user, body=f"<p>A claim [@{reference.citation_key}].</p>"),
            reviewer=reviewer,
            statement_comment="Say where.",
        )
        review(ArticleFactory(author=user))

    client.force_login(user)
    one_of_each_state()
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("admin:index"))
    for _ in range(DESK_ROWS - 1):
        one_of_each_state()
    with CaptureQueriesContext(connection) as full:
        client.get(reverse("admin:index"))
    one_of_each_state()
    one_of_each_state()

    # Session, user, permissions, log entries; each of 7 lists its rows and, when full, a count; the comments;
    # the review desk's 2 counts: 22. The gate's check of the signed-off rows reads for all of them at once
    # (workflow.review_statuses), so filling the lists adds only their counts.
    assert len(full) <= len(one) + 7
    with django_assert_max_num_queries(len(full)):
        response = client.get(reverse("admin:index"))
    sections = response.context["own_work"]
    assert sections[1].count == DESK_ROWS + 2
    assert all(len(article.open_change_requests) == 2 for article in sections[1].rows)


def test_change_form_shows_the_open_comments_above_the_fields(client, writer, reviewer):
    first, second = ReferenceFactory(citation_key="kost2022"), ReferenceFactory(citation_key="hu2016")
    article = ArticleFactory(
        author=writer,
        body=f"<p>Hair grew back in mice [@{first.citation_key}]. Exosomes cure baldness [@{second.citation_key}].</p>",
    )
    sent_back(article, reviewer=reviewer, article_comment="One claim needs rewording.")
    workflow.submit_for_review(article, by=writer)
    statement = article.evidence_statements.get(position=2)
    workflow.request_statement_changes(
        statement, by=reviewer, seen_hash=statement.statement_hash, comment="Overstated: say “may help”."
    )
    workflow.request_changes(article, by=reviewer, comment="Nearly there.")
    client.force_login(writer)
    url = reverse("admin:articles_article_change", args=[article.pk])
    page = client.get(url).content.decode()
    top = page[page.index("The reviewer asked for changes") : page.index('name="title"')]
    assert top.index("Nearly there.") < top.index("Statement 2: <q>Exosomes cure baldness [@hu2016].</q>")
    assert "One claim needs rewording." not in top  # the earlier round's comment was answered by resubmitting
    assert f"Asked by {reviewer.staff_profile.display_name} on" in top

    # Rewording the statement answers its comment; the article's stays until the writer resubmits.
    body = article.body.replace("Exosomes cure baldness", "Exosomes may help hair grow")
    client.post(url, admin_form_data(article, body=body))
    assert [c.comment for c in ChangeRequest.objects.filter(article=article).open()] == ["Nearly there."]
    workflow.submit_for_review(article, by=writer)
    assert "The reviewer asked for changes" not in client.get(url).content.decode()


def test_a_later_approval_closes_a_statements_change_request(writer, reviewer):
    reference = ReferenceFactory()
    article = ArticleFactory(author=writer, body=f"<p>A claim [@{reference.citation_key}].</p>")
    sent_back(article, reviewer=reviewer, statement_comment="Say which study.")
    workflow.submit_for_review(article, by=writer)
    assert [c.statement_number for c in ChangeRequest.objects.filter(article=article).open()] == [1]
    assert workflow.review_status(article).statements[0].state == "changes_requested"
    statement = article.evidence_statements.get()
    workflow.approve_statement(
        statement, by=reviewer, seen_hash=statement.statement_hash, evidence_level="E", certainty="low"
    )
    assert not ChangeRequest.objects.filter(article=article).open().exists()
    assert workflow.review_status(article).statements[0].state == "approved"


# --- The citation picker's reference search ----------------------------------------------------------------


def search_references(client, query):
    response = client.get(reverse("admin:articles_reference_search"), {"q": query})
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def picker_references(db):
    return {
        "mahmoud": ReferenceFactory(
            citation_key="mahmoud2025",
            authors=[{"family": "Mahmoud", "given": "Rami H"}, {"family": "Eber", "given": "Ariel E"}],
            title="Exosomes: a comprehensive review for the practicing dermatologist",
            year=2025,
            doi="10.5555/jcad.2025.18",
            pmid="40291234",
        ),
        "hu": ReferenceFactory(
            citation_key="hu2016",
            authors=[{"family": "Hu", "given": "Li"}, {"literal": "Wound Study Group"}],
            title="Exosomes derived from stem cells accelerate cutaneous wound healing",
            year=2016,
            doi="10.1038/srep32993",
            pmid="27615560",
        ),
    }


def test_reference_search_is_for_staff_who_may_view_references(client, writer, picker_references):
    client.force_login(writer)
    assert search_references(client, "Mahmoud")["results"][0]["key"] == "mahmoud2025"
    client.force_login(UserFactory(is_staff=True))  # staff, but no permission on references
    assert client.get(reverse("admin:articles_reference_search"), {"q": "Mahmoud"}).status_code == 403


def test_reference_search_is_refused_to_a_member_of_the_public(client, patient, picker_references):
    client.force_login(patient)
    response = client.get(reverse("admin:articles_reference_search"), {"q": "Mahmoud"})
    assert response.status_code == 302
    assert "mahmoud2025" not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("Mahmoud", ["mahmoud2025"]),  # an author's family name
        ("eber", ["mahmoud2025"]),  # any author's, in any case
        ("mahm", ["mahmoud2025"]),  # its start
        ("Rami", []),  # not a given name
        ("family", []),  # nor the words the stored record is made of
        ("wound healing", ["hu2016"]),  # words of the title, all of them
        ("exosomes", ["mahmoud2025", "hu2016"]),  # newest first
        ("2016", ["hu2016"]),  # the year
        ("Mahmoud 2016", []),
        ("10.1038/SREP32993", ["hu2016"]),  # a DOI, as written anywhere
        ("https://doi.org/10.1038/srep32993", ["hu2016"]),
        ("40291234", ["mahmoud2025"]),  # a PMID
        ("hu20", ["hu2016"]),  # the citation key
    ],
)
def test_reference_search_finds_by_author_title_year_doi_pmid_and_key(client, writer, picker_references, query, keys):
    client.force_login(writer)
    answer = search_references(client, query)
    assert [result["key"] for result in answer["results"]] == keys
    assert answer["message"] == ("" if keys else PICKER_NO_MATCH)


def test_reference_search_answers_each_result_as_it_will_be_listed(client, writer, picker_references):
    client.force_login(writer)
    (result,) = search_references(client, "Mahmoud")["results"]
    assert result == {"key": "mahmoud2025", "citation": picker_references["mahmoud"].ama}


@pytest.mark.parametrize(
    ("query", "message"),
    [("", PICKER_PROMPT), ("   ", PICKER_PROMPT), ("x" * 500, PICKER_NO_MATCH), ("Mah\x00moud", PICKER_NO_MATCH),
     ("%_", PICKER_NO_MATCH), ('"family": "', PICKER_NO_MATCH), ("10.1038/", PICKER_NO_MATCH)],
)  # fmt: skip
def test_reference_search_answers_empty_or_malformed_text_with_an_empty_result(
    client, writer, picker_references, query, message
):
    client.force_login(writer)
    assert search_references(client, query) == {"results": [], "message": message}


def test_reference_search_lists_a_limited_number(client, writer, django_assert_max_num_queries):
    ReferenceFactory.create_batch(PICKER_RESULTS + 5)
    client.force_login(writer)
    with django_assert_max_num_queries(7):  # session, user, permissions, second-factor checks, the search
        results = search_references(client, "Mahmoud")["results"]
    assert len(results) == PICKER_RESULTS


@pytest.mark.parametrize("role", ["writer", "reviewer", "editor", "admin_user"])
def test_every_role_opens_an_articles_history_and_compares_from_it(client, request, role):
    article = ArticleFactory(title="Old title")
    article.title = "New title"
    article.save()
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("admin:articles_article_history", args=[article.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    action = reverse("admin:articles_article_compare", args=[article.pk])
    assert f'action="{action}"' in page
    older, newer = article.history.order_by("history_date")
    compared = client.get(action, {"from": older.history_id, "to": newer.history_id})
    assert compared.status_code == 200
    assert "<del>Old</del>" in compared.content.decode()


def test_an_unknown_key_is_one_plain_message_with_the_closest_keys_wherever_the_writer_sees_it(client, writer):
    ReferenceFactory(citation_key="mahmoud2025")
    ReferenceFactory(citation_key="hu2016")
    client.force_login(writer)
    body = "<p>Exosomes help [@mahmod2025].</p><p>Hair grew [@hu2016</p><p>More [@mahmod2025; @hu2016].</p>"
    response = client.post(
        reverse("admin:articles_article_add"),
        {**article_form(body=body, author=writer.pk), "_submit_for_review": "Save and submit"},
        follow=True,
    )
    expected = citations.UNKNOWN_KEY.format(key="mahmod2025", suggestion=" Did you mean mahmoud2025?")
    notices = messages_of(response)
    assert sum(expected in notice for notice in notices) == 2  # the warning on save, the refusal to submit
    assert not any("<" in notice for notice in notices)
    page = response.content.decode()
    check = page[page.index('<div class="form-row field-citation_check">') :]
    check = check[: check.index('<div class="form-row', 10)]
    assert check.count(expected) == 1
    assert "&lt;" not in check
    assert admin_module.UNREADABLE_MARKER.format(marker="[@hu2016") in check
    live = client.get(reverse("admin:articles_reference_check_keys"), {"keys": "mahmod2025,hu2016"}).json()
    assert live["messages"] == [expected]


LONG_TITLE = " ".join(["Exosomes"] * 45)  # 404 characters, as pasted from a draft


def test_a_too_long_title_is_refused_with_its_length_and_nothing_is_cut(client, writer):
    client.force_login(writer)
    form = client.get(reverse("admin:articles_article_add")).content.decode()
    title_input = re.search(r'<input type="text" name="title"[^>]*>', form).group(0)
    assert "maxlength" not in title_input  # a browser cuts a longer paste at maxlength without a word
    assert admin_module.LENGTH_LIMIT.format(limit=200) in form
    response = client.post(
        reverse("admin:articles_article_add"), article_form(title=LONG_TITLE, slug="long", author=writer.pk)
    )
    assert response.status_code == 200
    assert not Article.objects.exists()
    errors = response.context["adminform"].form.errors["title"]
    assert errors == [admin_module.TOO_LONG % {"limit_value": 200, "show_value": len(LONG_TITLE)}]
    assert LONG_TITLE in response.content.decode()  # the writer's text comes back whole, to shorten


def test_a_too_long_summary_is_refused_with_its_length(client, writer):
    client.force_login(writer)
    summary = "Plain words. " * 30
    response = client.post(reverse("admin:articles_article_add"), article_form(summary=summary, author=writer.pk))
    assert response.context["adminform"].form.errors["summary"] == [
        admin_module.TOO_LONG % {"limit_value": 300, "show_value": len(summary.strip())}
    ]


# --- Bodies: a stated size limit, and pages whose work grows in proportion to the body ----------------------

SLOW_MACHINE_SECONDS = 30  # at the limit each step takes at most about 4 s here (tests/perf/body_sizes.py)


@pytest.mark.parametrize("length", [BODY_MAX_CHARS + 1, 2_000_000])
def test_a_too_long_body_is_refused_with_its_length_and_nothing_is_saved(client, writer, length):
    article = ArticleFactory(author=writer)
    revisions = article.history.count()
    client.force_login(writer)
    body = large_body(length)
    started = time.perf_counter()
    response = client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        article_form(body=body, title=article.title, slug=article.slug, author=writer.pk),
    )
    assert time.perf_counter() - started < SLOW_MACHINE_SECONDS
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["body"]
    assert errors == [admin_module.TOO_LONG % {"limit_value": BODY_MAX_CHARS, "show_value": length}]
    assert admin_module.LENGTH_LIMIT.format(limit=BODY_MAX_CHARS) in response.content.decode()
    article.refresh_from_db()
    assert article.body == ArticleFactory.body
    assert article.history.count() == revisions


@pytest.mark.parametrize(
    ("url", "field", "limit"),
    [
        ("admin:articles_page_add", "body", BODY_MAX_CHARS),
        ("admin:articles_staffprofile_add", "bio", BIO_MAX_CHARS),
        ("admin:articles_staffprofile_add", "conflicts_of_interest", NOTE_MAX_CHARS),
        ("admin:articles_topic_add", "description", DESCRIPTION_MAX_CHARS),
        ("admin:articles_disclaimer_add", "text", NOTE_MAX_CHARS),
    ],
)
def test_other_texts_patients_read_state_their_limit_and_refuse_a_longer_text(client, url, field, limit):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert admin_module.LENGTH_LIMIT.format(limit=limit) in client.get(reverse(url)).content.decode()
    response = client.post(reverse(url), {field: "Words. " * (limit // 7 + 1)})
    length = len(("Words. " * (limit // 7 + 1)).strip())
    assert response.context["adminform"].form.errors[field] == [
        admin_module.TOO_LONG % {"limit_value": limit, "show_value": length}
    ]


def test_an_article_at_the_body_limit_opens_previews_saves_and_is_checked_in_time(client, writer):
    ReferenceFactory(citation_key="mahmoud2025"), ReferenceFactory(citation_key="hu2016")
    article = ArticleFactory(author=writer, body=large_body(BODY_MAX_CHARS))
    client.force_login(writer)
    change = reverse("admin:articles_article_change", args=[article.pk])
    data = article_form(body=article.body, title=article.title, slug=article.slug, author=writer.pk)
    steps = {
        "change page": lambda: client.get(change),
        "preview": lambda: client.get(reverse("admin:articles_article_preview", args=[article.pk])),
        "save": lambda: client.post(change, {**data, "summary": "Changed."}),
    }
    for step, action in steps.items():
        started = time.perf_counter()
        response = action()
        assert time.perf_counter() - started < SLOW_MACHINE_SECONDS, step
        assert response.status_code in (200, 302), step
    article.refresh_from_db()
    assert article.summary == "Changed."


@pytest.mark.parametrize("page", ["admin:articles_article_change", "admin:articles_article_preview"])
def test_change_page_and_preview_work_in_proportion_to_the_body(client, writer, page):
    ReferenceFactory(citation_key="mahmoud2025"), ReferenceFactory(citation_key="hu2016")
    client.force_login(writer)

    def calls(size: int) -> int:
        article = ArticleFactory(author=writer, body=large_body(size))
        return function_calls(lambda: client.get(reverse(page, args=[article.pk])))

    calls(1_000)  # templates and caches warmed
    small, double = calls(BODY_MAX_CHARS // 8), calls(BODY_MAX_CHARS // 4)
    assert double < 2.5 * small  # a check of each marker against each tag made it 3.5 times (and 73 s at the limit)


def test_view_on_site_opens_the_preview_for_a_draft_and_the_live_page_for_a_live_article(client, editor):
    draft, live = ArticleFactory(), ArticleFactory()
    publish_reviewed(live, editor=editor)
    client.force_login(editor)
    page = client.get(reverse("admin:articles_article_change", args=[draft.pk])).content.decode()
    assert f'href="{reverse("admin:articles_article_preview", args=[draft.pk])}" class="viewsitelink"' in page
    live.refresh_from_db()
    page = client.get(reverse("admin:articles_article_change", args=[live.pk])).content.decode()
    assert f'href="{live.live_snapshot.get_absolute_url()}" class="viewsitelink"' in page


def test_the_admin_stylesheet_keeps_long_headings_clear_of_the_buttons(client, writer):
    client.force_login(writer)
    page = client.get(reverse("admin:articles_article_add")).content.decode()
    assert 'href="/static/articles/admin/admin' in page


def reference_form_data(reference, rows):
    """Post the Reference change form as a browser without JavaScript would, authors as rows."""
    data = {
        "citation_key": reference.citation_key,
        "title": reference.title,
        "journal": reference.journal,
        "journal_abbrev": reference.journal_abbrev,
        "year": reference.year,
        "volume": reference.volume,
        "issue": reference.issue,
        "pages": reference.pages,
        "publication_type": reference.publication_type,
        "doi": reference.doi,
        "pmid": reference.pmid,
        "authors-count": len(rows),
    }
    for index, row in enumerate(rows):
        data.update({f"authors-{index}-{name}": value for name, value in row.items()})
    return data


def test_reference_authors_are_edited_as_labelled_rows(client, writer):
    reference = ReferenceFactory()
    client.force_login(writer)
    page = client.get(reverse("admin:articles_reference_change", args=[reference.pk])).content.decode()
    assert 'name="authors"' not in page  # no JSON to edit
    assert re.search(r'<input[^>]*name="authors-0-family"[^>]*value="Mahmoud"', page)
    assert re.search(r'<input[^>]*name="authors-1-given"[^>]*value="Ariel E"', page)
    for index in range(2 + forms.EXTRA_AUTHOR_ROWS):
        for name in ("order", "family", "given", "suffix", "literal", "remove"):
            assert f'<label for="id_authors_{index}_{name}"' in page
    assert f'name="authors-{2 + forms.EXTRA_AUTHOR_ROWS}-family"' not in page


def test_reference_authors_are_corrected_removed_added_and_reordered_without_json(client, writer):
    reference = ReferenceFactory()
    client.force_login(writer)
    rows = [
        {"order": "2", "family": "Mahmoud", "given": "Rami H."},
        {"order": "3", "family": "Eber", "given": "Ariel E", "remove": "on"},
        {"order": "1", "literal": "Exosome Study Group"},
        {"order": "", "family": "Peterson", "given": "Erik"},
        {"order": "", "family": "", "given": "", "literal": ""},
    ]
    response = client.post(
        reverse("admin:articles_reference_change", args=[reference.pk]), reference_form_data(reference, rows)
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    reference.refresh_from_db()
    assert reference.authors == [
        {"literal": "Exosome Study Group"},
        {"family": "Mahmoud", "given": "Rami H."},
        {"family": "Peterson", "given": "Erik"},
    ]
    assert reference.ama.startswith("Exosome Study Group, Mahmoud RH, Peterson E.")


def test_an_authors_suffix_is_shown_in_its_row_and_kept_when_the_reference_is_saved(client, writer):
    reference = ReferenceFactory(authors=[{"family": "Smith", "given": "John A", "suffix": "Jr"}])
    client.force_login(writer)
    page = client.get(reverse("admin:articles_reference_change", args=[reference.pk])).content.decode()
    assert re.search(r'<input[^>]*name="authors-0-suffix"[^>]*value="Jr"', page)
    rows = [{"order": "1", "family": "Smith", "given": "John A", "suffix": "Jr"}, {"order": "2", "family": "Lee"}]
    response = client.post(
        reverse("admin:articles_reference_change", args=[reference.pk]), reference_form_data(reference, rows)
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    reference.refresh_from_db()
    assert reference.authors == [{"family": "Smith", "given": "John A", "suffix": "Jr"}, {"family": "Lee"}]
    assert reference.ama.startswith("Smith JA Jr, Lee.")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"given": "Rami H"}, forms.AUTHOR_NEEDS_NAME),
        ({"family": "Mahmoud", "literal": "A group"}, forms.PERSON_OR_ORGANISATION),
        ({"order": "first", "family": "Mahmoud"}, forms.ORDER_IS_A_NUMBER),
    ],
)
def test_reference_author_rows_are_validated_with_a_clear_message(client, writer, row, message):
    reference = ReferenceFactory()
    client.force_login(writer)
    rows = [{"order": "1", "family": "Eber", "given": "Ariel E"}, row]
    response = client.post(
        reverse("admin:articles_reference_change", args=[reference.pk]), reference_form_data(reference, rows)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["authors"] == [message.format(row=2)]
    reference.refresh_from_db()
    assert reference.authors[0]["family"] == "Mahmoud"
    page = response.content.decode()
    assert re.search(r'<input[^>]*name="authors-1-given"[^>]*value="' + re.escape(row.get("given", "")), page)


# --- Issue 12: importing or editing a reference first shows what it will do ----------------------------------

SEED_VOLUME_19 = SEED_RECORD.replace('"volume":"18 4"', '"volume":"19 4"')


def _form_fields(html: str, form_id: str | None = None) -> dict:
    """Return what a browser would submit from the page's form (inputs, checked boxes, textareas, selects)."""
    from html.parser import HTMLParser

    class Fields(HTMLParser):
        def __init__(self):
            super().__init__()
            self.data, self.textarea, self.select, self.in_form = {}, None, None, form_id is None

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "form" and form_id is not None:
                self.in_form = attrs.get("id") == form_id
            if not self.in_form or ("name" not in attrs and tag != "option"):
                return
            if tag == "input" and attrs.get("type") not in ("submit", "button", "file", "image", "reset"):
                if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                    self.data.setdefault(attrs["name"], []).append(attrs.get("value") or "")
            elif tag == "textarea":
                self.textarea = attrs["name"]
                self.data.setdefault(self.textarea, []).append("")
            elif tag == "select":
                self.select = attrs["name"]
            elif tag == "option" and self.select and "selected" in attrs:
                self.data.setdefault(self.select, []).append(attrs.get("value", ""))

        def handle_endtag(self, tag):
            if tag == "textarea":
                self.textarea = None
            elif tag == "select":
                self.select = None

        def handle_data(self, data):
            if self.textarea:
                self.data[self.textarea][-1] += data

    parser = Fields()
    parser.feed(html)
    return {name: values if len(values) > 1 else values[0] for name, values in parser.data.items()}


def _change_form(client, reference) -> dict:
    page = client.get(reverse("admin:articles_reference_change", args=[reference.pk])).content.decode()
    data = _form_fields(page, form_id="reference_form")
    data.pop("csrfmiddlewaretoken", None)
    return {name: value.removeprefix("\n") if isinstance(value, str) else value for name, value in data.items()}


@pytest.fixture
def live_citing_seed(db):
    """The seed reference (imported), cited by a live article whose statement is approved and signed off."""
    from articles.importers import import_references

    [reference] = import_references(SEED_RECORD).created
    article = ArticleFactory(title="Exosomes and wound healing", body="<p>In mice, wounds healed [@mahmoud2025].</p>")
    publish_reviewed(article)
    return reference, article


def _preview(client, records, **extra):
    response = client.post(reverse("admin:articles_reference_import"), {"records": records, **extra})
    assert response.status_code == 200
    return response


def test_import_shows_a_preview_of_changes_and_withdrawn_approvals_and_saves_only_on_confirm(
    client, writer, live_citing_seed
):
    reference, article = live_citing_seed
    history = reference.history.count()
    client.force_login(writer)
    preview = _preview(client, SEED_VOLUME_19)
    page = preview.content.decode()
    assert preview.templates[0].name == "admin/articles/reference/import_preview.html"
    assert "would create 0, update 1 and leave" in page
    assert "Volume" in page  # field by field, on file and from the record
    assert ">18<" in page
    assert ">19<" in page
    assert "Exosomes and wound healing" in page
    assert "<strong>live</strong>" in page
    assert "Statement 1 (“In mice, wounds healed.”)" in page
    assert "sign-off" in page
    reference.refresh_from_db()
    assert (reference.volume, reference.history.count()) == ("18", history)  # nothing saved yet

    confirm = {**preview.context["confirm_form"].initial, "confirm": "Confirm"}
    response = client.post(reverse("admin:articles_reference_import"), confirm, follow=True)
    reference.refresh_from_db()
    assert reference.volume == "19"
    shown = " ".join(messages_of(response))
    assert "Updated 1: mahmoud2025." in shown
    assert "“Exosomes and wound healing” (live): the approval of statement 1 and its sign-off were withdrawn." in shown
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED  # importing changes no workflow state


def test_cancelling_the_preview_saves_nothing_and_keeps_the_records(client, writer, live_citing_seed):
    reference, _article = live_citing_seed
    client.force_login(writer)
    preview = _preview(client, SEED_VOLUME_19)
    data = {**preview.context["confirm_form"].initial, "cancel": "Cancel"}
    response = client.post(reverse("admin:articles_reference_import"), data)
    assert response.status_code == 200
    assert response.context["form"].initial["records"] == SEED_VOLUME_19
    assert "Nothing was imported" in " ".join(messages_of(response))
    reference.refresh_from_db()
    assert reference.volume == "18"


def test_confirming_after_the_reference_changed_saves_nothing_and_shows_the_preview_again(
    client, writer, live_citing_seed
):
    reference, _article = live_citing_seed
    client.force_login(writer)
    preview = _preview(client, SEED_VOLUME_19)
    Reference.objects.filter(pk=reference.pk).update(abstract="Corrected meanwhile.")  # someone edits it
    confirm = {**preview.context["confirm_form"].initial, "confirm": "Confirm"}
    response = client.post(reverse("admin:articles_reference_import"), confirm)
    assert response.status_code == 200
    assert response.context["stale"] is True
    assert "changed since you looked at the preview" in response.content.decode()
    assert response.context["confirm_form"].initial["fingerprint"] != confirm["fingerprint"]
    reference.refresh_from_db()
    assert (reference.volume, reference.abstract) == ("18", "Corrected meanwhile.")


def test_confirming_reads_the_posted_records_again(client, writer, live_citing_seed):
    reference, _article = live_citing_seed
    client.force_login(writer)
    preview = _preview(client, SEED_RECORD.replace('"volume":"18 4"', '"volume":"18 5"'))
    # Records changed after the preview (or a forged form) do not match what was previewed: nothing is saved.
    confirm = {**preview.context["confirm_form"].initial, "records": SEED_VOLUME_19, "confirm": "Confirm"}
    response = client.post(reverse("admin:articles_reference_import"), confirm)
    assert response.context["stale"] is True
    reference.refresh_from_db()
    assert (reference.volume, reference.issue) == ("18", "4")
    # A confirmation without its fingerprint saves nothing either.
    del confirm["fingerprint"]
    response = client.post(reverse("admin:articles_reference_import"), confirm, follow=True)
    assert "could not be confirmed" in " ".join(messages_of(response))
    reference.refresh_from_db()
    assert reference.volume == "18"


def test_a_preview_without_consequences_says_so(client, writer):
    client.force_login(writer)
    preview = _preview(client, SEED_RECORD)
    page = preview.content.decode()
    assert "would create 1, update 0" in page
    assert "None: no approval or sign-off depends on what this import changes." in page
    assert "Mahmoud RH, Peterson E, Badiavas EV, Kaminer M, Eber AE." in page
    assert not Reference.objects.exists()


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ('{"title": "Broken", "authors": ["Mahmoud RH"]', "invalid JSON"),
        ('{"title": "", "authors": ["Mahmoud RH"], "year": 2025}', "record has no title"),
        ("TY  - JOUR\nTI  - A title\nAU  - Mahmoud, Rami H\nER  - \n", None),
        (
            '{"title": "' + "Exosomes " * 500 + '", "authors": ["Mahmoud RH"], "year": 2025}',
            "characters long; a reference takes at most 2,000",
        ),
    ],
)
def test_import_form_explains_bad_records_before_any_preview(client, writer, records, expected):
    client.force_login(writer)
    data = {"records": records}
    if expected is None:  # RIS chosen as BibTeX by hand
        data["format"], expected = "bibtex", "looks like RIS"
    response = client.post(reverse("admin:articles_reference_import"), data)
    assert response.status_code == 200
    assert response.templates[0].name == "admin/articles/reference/import.html"
    assert "Nothing was imported" in response.content.decode()
    assert expected in response.content.decode()
    assert not Reference.objects.exists()


def test_saving_a_cited_reference_asks_first_then_saves_on_confirm(client, writer, live_citing_seed):
    reference, article = live_citing_seed
    client.force_login(writer)
    data = {**_change_form(client, reference), "volume": "19", "_save": "Save"}
    url = reverse("admin:articles_reference_change", args=[reference.pk])
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.templates[0].name == "admin/articles/reference/confirm_change.html"
    page = response.content.decode()
    assert "Exosomes and wound healing" in page
    assert "Statement 1" in page
    assert "2025;18(4):33-40" in page
    assert "2025;19(4):33-40" in page
    reference.refresh_from_db()
    assert reference.volume == "18"

    confirmed = {**data, response.context["confirm_field"]: response.context["fingerprint"]}
    response = client.post(url, confirmed, follow=True)
    reference.refresh_from_db()
    assert reference.volume == "19"
    assert any("its sign-off were withdrawn" in message for message in messages_of(response))
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED


def test_the_reference_confirmation_refuses_a_stale_confirm(client, writer, live_citing_seed):
    reference, _article = live_citing_seed
    client.force_login(writer)
    data = {**_change_form(client, reference), "volume": "19", "_save": "Save"}
    url = reverse("admin:articles_reference_change", args=[reference.pk])
    asked = client.post(url, data)
    # Someone saved it meanwhile without changing its record: the approvals it withdraws are the same, yet the
    # reference is no longer the one the person was asked about.
    Reference.objects.filter(pk=reference.pk).update(updated_at=timezone.now())
    response = client.post(url, {**data, asked.context["confirm_field"]: asked.context["fingerprint"]})
    assert response.status_code == 200
    assert response.context["stale"] is True
    reference.refresh_from_db()
    assert reference.volume == "18"


def test_saving_a_reference_no_approval_depends_on_needs_no_confirmation(client, writer):
    reference = ReferenceFactory()
    ArticleFactory(body=f"<p>In mice, wounds healed [@{reference.citation_key}].</p>")  # a draft: nothing approved
    client.force_login(writer)
    data = {**_change_form(client, reference), "volume": "19", "_save": "Save"}
    response = client.post(reverse("admin:articles_reference_change", args=[reference.pk]), data)
    assert response.status_code == 302
    reference.refresh_from_db()
    assert reference.volume == "19"


def test_publication_type_filter_lists_each_kind_once(client, writer):
    import importlib

    from django.apps import apps

    for spelling in ["Journal Article", "Journal article", "article-journal", "article"]:
        ReferenceFactory(publication_type=spelling)
    importlib.import_module("articles.migrations.0011_reference_publication_types").normalise_publication_types(
        apps, None
    )
    client.force_login(writer)
    page = client.get(reverse("admin:articles_reference_changelist")).content.decode()
    assert page.count("publication_type__exact=journal+article") == 1
    for spelling in ["Journal Article", "article-journal", "publication_type__exact=article&"]:
        assert spelling not in page


# --- Change lists filter by their declared filters only -------------------------------------------------------


def test_every_registered_admin_lists_with_declared_filters_only(rf, editor):
    from django.contrib import admin

    from articles.admin_site import DeclaredFiltersChangeList

    request = rf.get("/")
    request.user = editor
    for model, model_admin in admin.site._registry.items():
        assert issubclass(model_admin.get_changelist(request), DeclaredFiltersChangeList), model


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("title__regex=(", "This list has no filter title__regex"),
        ("updated_at__gte=x&status__exact=draft", "This list has no filter updated_at__gte"),
        ("status__exact=%00", "cannot contain a NUL character"),
        ("topics__id__exact=%C2%B2", None),  # "²", a digit to str.isdigit() but not to int()
    ],
)
def test_a_lookup_no_filter_makes_shows_the_whole_list_with_the_reason(client, editor, query, message):
    TopicFactory()  # so that the topic filter is shown
    client.force_login(editor)
    url = reverse("admin:articles_article_changelist")
    response = client.get(f"{url}?{query}")
    assert (response.status_code, response["Location"]) == (302, f"{url}?e=1")
    if message:
        assert message in " ".join(messages_of(client.get(response["Location"])))


def test_a_lookup_across_a_relation_stays_refused_as_django_refuses_it(client, editor):
    client.force_login(editor)
    response = client.get(reverse("admin:articles_article_changelist"), {"author__password__startswith": "pbkdf2"})
    assert response.status_code == 400


def test_declared_filters_and_the_date_hierarchy_still_filter(client, editor):
    ArticleFactory(title="A draft of mine")
    client.force_login(editor)
    drafts = client.get(reverse("admin:articles_article_changelist"), {"status__exact": "draft"})
    assert drafts.status_code == 200
    assert "A draft of mine" in drafts.content.decode()
    year = timezone.now().year
    events = client.get(reverse("admin:articles_auditevent_changelist"), {"at__year": year, "at__month": 1})
    assert events.status_code == 200
    assert client.get(reverse("admin:articles_auditevent_changelist"), {"at__year": 10**30}).status_code == 302


# --- The admin writes no HTML in Python: its markup is in templates, escaped by Django's autoescape -------------

ADMIN_PACKAGE = Path(admin_module.__file__).parent
HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?>")
# Functions whose strings may hold a tag, each with its reason.
TAGS_ALLOWED_IN = {
    ("articles.py", "_revision_values"): "reads HTML (a space after each closing </p> and </li>), writes none",
}


def _docstrings(tree: ast.Module) -> set[int]:
    owners = [tree, *(node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.ClassDef))]
    return {
        id(owner.body[0].value)
        for owner in owners
        if owner.body and isinstance(owner.body[0], ast.Expr) and isinstance(owner.body[0].value, ast.Constant)
    }


def _strings_by_function(node: ast.AST, function: str = ""):
    """Yield each string constant under `node` with the name of the function it is written in."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Constant) and isinstance(child.value, str):
            yield child, function
        inner = child.name if isinstance(child, ast.FunctionDef) else function
        yield from _strings_by_function(child, inner)


def markup_in_python(path: Path) -> list[str]:
    """Return where a module of the admin builds HTML itself instead of rendering a template."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    found = []
    for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
        name = getattr(call.func, "id", getattr(call.func, "attr", ""))
        strings = [arg for arg in call.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        if name in ("format_html", "format_html_join") and any(HTML_TAG.search(s.value) for s in strings):
            found.append(f"{path.name}:{call.lineno}: {name}() with a tag: put the markup in a template")
    for string, function in _strings_by_function(tree):
        allowed = (path.name, function) in TAGS_ALLOWED_IN
        if id(string) not in docstrings and not allowed and HTML_TAG.search(string.value):
            found.append(f"{path.name}:{string.lineno}: an HTML tag in a Python string: {string.value[:60]!r}")
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    comments = {token.start[0]: token.string for token in tokens if token.type == tokenize.COMMENT}
    for token, after in itertools.pairwise(tokens):
        if token.string == "mark_safe" and after.string == "(" and "bleach" not in comments.get(token.start[0], ""):
            found.append(f"{path.name}:{token.start[0]}: mark_safe() without a comment naming the bleach policy")
    return found


@pytest.mark.parametrize("path", sorted(ADMIN_PACKAGE.glob("*.py")), ids=lambda path: path.name)
def test_the_admin_builds_no_html_in_python(path):
    assert markup_in_python(path) == []


def test_the_markup_check_finds_what_it_looks_for(tmp_path):
    module = tmp_path / "example.py"
    module.write_text(
        "def panel(value):\n"
        "    '''Return <b>no</b> markup: a docstring may name a tag.'''\n"
        "    a = format_html('<li>{}</li>', value)\n"
        "    b = mark_safe(value)  # noqa: S308\n"
        "    c = mark_safe(value)  # bleach: passed the one policy already\n"
        "    return f'<p>{value}</p>'\n"
    )
    problems = markup_in_python(module)
    assert {problem.split(": ", 1)[0] for problem in problems} == {"example.py:3", "example.py:4", "example.py:6"}
    assert any("format_html() with a tag" in problem for problem in problems)


def test_the_live_version_panel_gives_the_publication_time_in_the_clinics_time_zone(client, editor, settings):
    settings.TIME_ZONE = "America/New_York"  # never UTC's hour: 4 or 5 hours behind
    article = ArticleFactory()
    publish_reviewed(article, editor=editor)
    article.refresh_from_db()
    published_at = article.live_snapshot.published_at
    client.force_login(editor)
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    local = timezone.localtime(published_at, zoneinfo.ZoneInfo("America/New_York"))
    assert f"Published {local:%-d %b %Y %H:%M}" in page
    assert f"Published {published_at.astimezone(datetime.UTC):%-d %b %Y %H:%M}" not in page
