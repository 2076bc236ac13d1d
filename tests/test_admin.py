import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from articles import workflow
from articles.forms import NOT_UTF8, NOTHING_TO_IMPORT, PASTE_OR_UPLOAD
from articles.models import Article, Disclaimer, PublishedSnapshot, Reference
from tests.factories import (
    ArticleFactory,
    DisclaimerFactory,
    ReferenceFactory,
    TopicFactory,
    admin_form_data,
    publish_reviewed,
    review,
    sitewide_disclaimer,
)

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
    assert "Unknown citation key: <code>nosuch2020</code>" in response.content.decode()


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
        {"title": "FDA", "text": "<p>Not approved.</p>", "scope": "topics", "position": 0, "is_active": "on"},
    )
    assert response.status_code == 200
    assert "Choose at least one topic" in response.content.decode()
    assert not Disclaimer.objects.exists()


def test_disclaimer_edits_keep_version_history(client, editor):
    disclaimer = DisclaimerFactory(text="<p>Version one.</p>")
    client.force_login(editor)
    client.post(
        reverse("admin:articles_disclaimer_change", args=[disclaimer.pk]),
        {"title": disclaimer.title, "text": "<p>Version two.</p>", "scope": "all", "position": 0, "is_active": "on"},
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
    assert response.json() == {"unknown": ["nosuch2020"]}


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
    assert "articles.article.submit" in page  # the timeline


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
    Reference.objects.filter(pk=reference.pk).update(abstract="Corrected meanwhile.")  # not in the AMA form
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
