"""Before/after photographs as claims (figure_claims.py), and what image changes do (image_events.py)."""

import datetime
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles import figure_claims, figures, image_events, leaflets, workflow
from articles.models import Article, AuditEvent, PatientConsent
from articles.workflow.transitions import RECORD_CONSENT, REPLACE_IMAGE, UNPUBLISH, WITHDRAW_CONSENT
from tests.data.hostile_images import picture
from tests.factories import (
    ArticleFactory,
    ReferenceFactory,
    TopicFactory,
    UserFactory,
    deliver_queued_mail,
    library_image,
    member_of,
    publish_reviewed,
    sitewide_disclaimer,
)
from tests.test_figures import replace_file

pytestmark = pytest.mark.django_db
FILESYSTEM = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
CAPTION = "The same forearm before treatment and eight weeks after"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": FILESYSTEM}
    return tmp_path


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def before_after(**fields):
    fields = {"caption": CAPTION, "alt_text": "A scar on a forearm, before and after", "before_after": True, **fields}
    return library_image(**fields)


def article_with(image, **fields) -> Article:
    key = ReferenceFactory().citation_key
    body = f"<p>In mice, wounds closed faster [@{key}].</p><p>[[figure:{image.pk}]]</p>"
    return ArticleFactory(body=body, topics=[TopicFactory()], **fields)


def with_consent(image, **fields) -> PatientConsent:
    values = {"consented_by": "The patient", "consented_on": datetime.date(2026, 1, 5), "use": "Website", **fields}
    return PatientConsent.objects.create(image=image, form_reference="CF-7", **values)


# --- a before/after figure is a statement ---------------------------------------------------------------------


def test_a_before_after_figure_is_a_statement_with_its_caption_and_marker_and_no_reference():
    image = before_after()
    plain = library_image(title="Diagram")
    key = ReferenceFactory().citation_key
    article = ArticleFactory(body=f"<p>Faster [@{key}].</p><p>[[figure:{image.pk}]]</p><p>[[figure:{plain.pk}]]</p>")
    stored = list(article.evidence_statements.order_by("position"))
    assert len(stored) == 2  # the diagram is no claim
    assert stored[1].text == f"[[figure:{image.pk}]] Before/after photograph: {CAPTION}"
    assert stored[1].cited_keys == []


def test_sign_off_waits_for_the_before_after_figure_to_be_approved(editor, reviewer):
    sitewide_disclaimer()
    article = article_with(before_after())
    workflow.submit_for_review(article, by=editor)
    text, photo = article.evidence_statements.order_by("position")
    workflow.approve_statement(text, by=reviewer, seen_hash=text.statement_hash, evidence_level="E", certainty="low")
    with pytest.raises(workflow.WorkflowError, match="Statement 2"):
        workflow.sign_off(article, by=reviewer, seen_hash=article.content_hash())
    workflow.approve_statement(photo, by=reviewer, seen_hash=photo.statement_hash, evidence_level="D", certainty="low")
    workflow.sign_off(article, by=reviewer, seen_hash=article.content_hash())
    snapshot = workflow.publish(Article.objects.get(pk=article.pk), by=editor)
    assert snapshot.statements[1]["level"] == "D"
    assert snapshot.statements[1]["references"] == []


@pytest.mark.parametrize(
    "change",
    [
        lambda image: replace_file(image, picture("PNG", size=(640, 480))),
        lambda image: (setattr(image, "alt_text", "Another forearm"), image.save()),
        lambda image: (setattr(image, "caption", "Two weeks after"), image.save()),
    ],
    ids=["file", "alt text", "caption"],
)
def test_replacing_or_redescribing_the_photograph_withdraws_its_approval_and_it_can_be_approved_again(
    change, editor, reviewer
):
    image = before_after()
    article = article_with(image)
    publish_reviewed(article, editor=editor, reviewer=reviewer)
    article.refresh_from_db()
    assert all(item.is_approved for item in workflow.review_status(article).statements)

    change(image)
    status = workflow.review_status(Article.objects.get(pk=article.pk))
    photo = status.statements[1]
    assert not photo.is_approved
    assert photo.stored is not None
    assert "Statement 2" in " ".join(status.problems)


def test_the_before_after_flag_changes_the_content_hash():
    image = library_image()
    article = article_with(image)
    before = article.content_hash()
    image.before_after = True
    image.save()
    assert article.content_hash() != before


# --- "Results vary" where patients see it ----------------------------------------------------------------------


def test_the_patient_page_and_the_leaflet_say_results_vary_under_a_before_after_photograph(client, editor, monkeypatch):
    image, plain = before_after(), library_image(title="Diagram", caption="The skin's layers")
    article = article_with(image)
    article.body += f"<p>[[figure:{plain.pk}]]</p>"
    article.save()
    snapshot = publish_reviewed(article, editor=editor)
    assert snapshot.body_html.count(figures.RESULTS_VARY.replace("'", "&#x27;")) == 1  # frozen, once: not the diagram
    assert [f["before_after"] for f in snapshot.figures] == [True, False]
    page = client.get(article.get_absolute_url()).content.decode()
    assert f'{CAPTION} <strong class="results-vary">Results vary' in page

    printed = []
    monkeypatch.setattr(leaflets, "render_pdf", lambda html, **kwargs: printed.append(html) or b"%PDF-1.7")
    assert client.get(reverse("articles:article_leaflet", args=[snapshot.slug])).status_code == 200
    assert "Results vary" in printed[0]


# --- the desk shows the photograph ----------------------------------------------------------------------------


def test_the_desk_shows_the_photograph_beside_its_statement_and_the_reviewer_approves_it(editor, reviewer):
    image = before_after()
    article = article_with(image)
    workflow.submit_for_review(article, by=editor)
    client = client_for(reviewer)
    page = client.get(reverse("articles:review_article", args=[article.pk])).content.decode()
    picture_url = reverse("admin:articles_image_picture", args=[image.pk])
    assert f'<img src="{picture_url}" alt="{image.alt_text}"' in page
    assert client.get(picture_url).status_code == 200

    photo = article.evidence_statements.get(position=2)
    response = client.post(
        reverse("articles:review_approve", args=[article.pk, photo.pk]),
        {f"s{photo.pk}-seen_hash": photo.statement_hash, f"s{photo.pk}-evidence_level": "D",
         f"s{photo.pk}-certainty": "low"},
    )  # fmt: skip
    assert response.status_code == 302
    assert workflow.review_status(article).statements[1].is_approved


# --- consent withdrawn after publication ----------------------------------------------------------------------


def withdraw_in_admin(user, image, consent, on: str):
    data = {
        "title": image.title, "alt_text": image.alt_text, "caption": image.caption, "shows_patient": "on",
        "before_after": "on", "consents-TOTAL_FORMS": "1", "consents-INITIAL_FORMS": "1",
        "consents-0-id": consent.pk, "consents-0-image": image.pk, "consents-0-consented_by": consent.consented_by,
        "consents-0-consented_on": consent.consented_on.isoformat(), "consents-0-use": consent.use,
        "consents-0-form_reference": consent.form_reference, "consents-0-withdrawn_on": on,
    }  # fmt: skip
    return client_for(user).post(reverse("admin:articles_image_change", args=[image.pk]), data)


def live_photo_article(editor):
    image = before_after(shows_patient=True)
    consent = with_consent(image)
    article = article_with(image, title="Healing scars")
    publish_reviewed(article, editor=editor)
    return image, consent, Article.objects.get(pk=article.pk)


def test_withdrawing_consent_takes_the_live_articles_showing_the_photograph_off_the_site(client, editor):
    image, consent, article = live_photo_article(editor)
    draft = article_with(image, title="Scar care")
    mail.outbox.clear()
    response = withdraw_in_admin(editor, image, consent, timezone.localdate().isoformat())
    assert response.status_code == 302
    (said,) = [str(m) for m in get_messages(response.wsgi_request) if "withdrawn" in str(m)]
    expected = image_events.WITHDRAWN_AND_UNPUBLISHED.format(image=image.title, titles="“Healing scars”", id=image.pk)
    assert expected in said
    assert "“Scar care”" in said  # its working copy still has the figure, and cannot be published
    article.refresh_from_db()
    assert article.live_snapshot_id is None
    assert article.status == Article.Status.DRAFT
    assert client.get(article.get_absolute_url()).status_code == 404
    events = AuditEvent.objects.filter(action=WITHDRAW_CONSENT)
    assert {e.article_id for e in events} == {None, article.pk, draft.pk}
    assert AuditEvent.objects.filter(article=article, action=UNPUBLISH.action, message__contains="withdrew").exists()
    sent = deliver_queued_mail()
    assert any("consent withdrawn: Healing scars" in m.subject and editor.email in m.to for m in sent)
    with pytest.raises(workflow.WorkflowError, match="cannot be shown"):
        workflow.submit_for_review(draft, by=editor)


def test_withdrawing_is_refused_to_one_who_may_record_consent_but_not_unpublish(editor):
    image, consent, article = live_photo_article(editor)
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(
        *member_of("Editors").user_permissions.model.objects.filter(
            codename__in=["view_image", "change_image", "add_patientconsent", "change_patientconsent",
                          "view_patientconsent"]
        )
    )  # fmt: skip
    response = withdraw_in_admin(clerk, image, consent, timezone.localdate().isoformat())
    assert response.status_code == 200
    assert image_events.CANNOT_WITHDRAW_HERE.format(titles="“Healing scars”") in response.content.decode()
    consent.refresh_from_db()
    article.refresh_from_db()
    assert consent.withdrawn_on is None
    assert article.live_snapshot_id is not None


def test_a_withdrawal_with_another_consent_still_on_record_keeps_the_page(editor):
    image, consent, article = live_photo_article(editor)
    with_consent(image, consented_by="Their guardian")
    response = withdraw_in_admin(editor, image, consent, timezone.localdate().isoformat())
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.live_snapshot_id is not None


def test_a_malformed_withdrawal_date_is_a_message_not_an_error(editor):
    image, consent, article = live_photo_article(editor)
    response = withdraw_in_admin(editor, image, consent, "last tuesday")
    assert response.status_code == 200
    assert "Enter a valid date." in response.content.decode()
    article.refresh_from_db()
    assert article.live_snapshot_id is not None


# --- audit events ---------------------------------------------------------------------------------------------


def test_recording_consent_and_replacing_the_file_are_audited(editor):
    image = before_after(shows_patient=True)
    article = article_with(image)
    change = reverse("admin:articles_image_change", args=[image.pk])
    data = {
        "title": image.title, "alt_text": image.alt_text, "caption": image.caption, "shows_patient": "on",
        "consents-TOTAL_FORMS": "1", "consents-INITIAL_FORMS": "0", "consents-0-consented_by": "The patient",
        "consents-0-consented_on": "2026-01-05", "consents-0-use": "Website", "consents-0-form_reference": "CF-9",
    }  # fmt: skip
    assert client_for(editor).post(change, data).status_code == 302
    recorded = AuditEvent.objects.filter(action=RECORD_CONSENT)
    assert {e.article_id for e in recorded} == {None, article.pk}
    assert all("CF-9" in e.message and e.actor == editor for e in recorded)

    old = image.content_hash
    replace_file(image, picture("PNG", size=(640, 480)))
    image_events.image_replaced(image, by=editor, old_hash=old)
    replaced = AuditEvent.objects.get(action=REPLACE_IMAGE, article=None)
    assert old[:12] in replaced.message
    assert image.content_hash[:12] in replaced.message
    assert workflow.TIMELINE[REPLACE_IMAGE]
    assert workflow.TIMELINE[WITHDRAW_CONSENT]


def test_replacing_the_file_in_the_admin_is_audited(editor):
    from django.core.files.uploadedfile import SimpleUploadedFile

    image = before_after()
    change = reverse("admin:articles_image_change", args=[image.pk])
    data = {
        "title": image.title, "alt_text": image.alt_text, "caption": image.caption, "before_after": "on",
        "consents-TOTAL_FORMS": "0", "consents-INITIAL_FORMS": "0",
        "upload": SimpleUploadedFile("new.png", picture("PNG", size=(500, 300))),
    }  # fmt: skip
    assert client_for(editor).post(change, data).status_code == 302
    assert AuditEvent.objects.filter(action=REPLACE_IMAGE, actor=editor).count() == 1
    assert figure_claims.RESULTS_VARY == figures.RESULTS_VARY


def test_a_withdrawal_for_a_photograph_no_live_page_shows_says_so(editor):
    image = before_after(shows_patient=True)
    consent = with_consent(image)
    response = withdraw_in_admin(editor, image, consent, timezone.localdate().isoformat())
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert image_events.WITHDRAWN_NOT_LIVE.format(image=image.title) in said
    assert AuditEvent.objects.filter(action=WITHDRAW_CONSENT, article=None, actor=editor).count() == 1


def test_a_withdrawal_saved_from_a_shell_is_refused_and_the_function_takes_the_page_down(editor):
    _image, consent, article = live_photo_article(editor)
    consent.withdrawn_on = timezone.localdate()
    with pytest.raises(ValidationError, match=r"image_events\.withdraw_consent"):
        consent.save()
    consent.refresh_from_db()
    assert consent.withdrawn_on is None
    told = image_events.withdraw_consent(consent, by=editor, on=timezone.localdate())
    assert "Healing scars" in told
    article.refresh_from_db()
    assert article.live_snapshot_id is None
    consent.refresh_from_db()
    assert consent.withdrawn_on == timezone.localdate()


def test_the_function_refuses_one_who_may_not_take_the_pages_down(editor):
    _image, consent, article = live_photo_article(editor)
    clerk = member_of("Writers")
    with pytest.raises(PermissionDenied, match="Healing scars"):
        image_events.withdraw_consent(consent, by=clerk, on=timezone.localdate())
    consent.refresh_from_db()
    article.refresh_from_db()
    assert (consent.withdrawn_on, article.live_snapshot_id is not None) == (None, True)
