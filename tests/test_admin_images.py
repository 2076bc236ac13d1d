"""The image library in the admin (`articles/admin/images.py`): uploads, refusals, alt text, consent, the preview."""

import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles import images
from articles.models import CONSENT_NEEDED, CONSENT_WITHDRAWN, Image, ImageRendition, PatientConsent
from articles.models.images import CONSENT_IN_FUTURE, WITHDRAWN_BEFORE_CONSENT
from tests.data import hostile_images as hostile
from tests.factories import UserFactory, library_image, member_of

pytestmark = pytest.mark.django_db
ADD = "admin:articles_image_add"
DESCRIBED = {"title": "Layers of the skin", "alt_text": "The skin's three layers, labelled: epidermis, dermis, fat"}
NO_CONSENTS = {"consents-TOTAL_FORMS": "0", "consents-INITIAL_FORMS": "0"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    return tmp_path


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def files_in(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def post_upload(client, name: str, content: bytes, **fields):
    return client.post(
        reverse(ADD), {**DESCRIBED, **NO_CONSENTS, **fields, "upload": SimpleUploadedFile(name, content)}
    )


def form_errors(response) -> str:
    form = response.context["adminform"].form
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def test_a_writer_uploads_a_picture_with_alt_text(writer, media):
    response = post_upload(client_for(writer), "skin-layers.png", hostile.picture("PNG", size=(700, 350)))
    assert response.status_code == 302
    image = Image.objects.get()
    assert (image.uploaded_by, image.original_name, image.width) == (writer, "skin-layers.png", 700)
    assert image.alt_text == DESCRIBED["alt_text"]
    assert image.current_renditions().count() == 6
    assert len(files_in(media)) == 7


@pytest.mark.parametrize("case", list(hostile.CASES))
def test_each_hostile_file_is_refused_in_the_admin_and_nothing_is_stored(writer, media, case):
    file_name, _make, message = hostile.CASES[case]
    response = post_upload(client_for(writer), file_name, hostile.content(case))
    assert response.status_code == 200
    errors = form_errors(response)
    assert message in errors if message else "Nothing was stored." in errors
    assert not Image.objects.exists()
    assert not ImageRendition.objects.exists()
    assert files_in(media) == []


def test_an_add_without_a_file_is_refused(writer):
    response = client_for(writer).post(reverse(ADD), {**DESCRIBED, **NO_CONSENTS})
    assert response.status_code == 200
    assert "This field is required." in form_errors(response)


@pytest.mark.parametrize(
    ("alt_text", "decorative", "message"),
    [
        ("", False, images.ALT_REQUIRED),
        ("Image of the skin's layers", False, images.ALT_REDUNDANT_START.format(start="Image of")),
        ("skin-layers.png", False, images.ALT_IS_FILE_NAME),
        ("skin layers", False, images.ALT_IS_FILE_NAME),
        ("The skin's layers", True, images.ALT_WITH_DECORATIVE),
    ],
)
def test_alt_text_is_checked_and_nothing_is_stored_while_it_is_wrong(writer, media, alt_text, decorative, message):
    fields = {"alt_text": alt_text, **({"decorative": "on"} if decorative else {})}
    response = post_upload(client_for(writer), "skin-layers.png", hostile.picture("PNG"), **fields)
    assert message in form_errors(response)
    assert files_in(media) == []


def test_decorative_is_a_deliberate_choice_of_empty_alt_text(writer):
    response = post_upload(client_for(writer), "divider.png", hostile.picture("PNG"), alt_text="", decorative="on")
    assert response.status_code == 302
    image = Image.objects.get()
    assert (image.decorative, image.alt_text) == (True, "")


def test_changing_the_description_keeps_the_file_and_replacing_it_keeps_the_old_renditions(writer, media):
    image = library_image(uploaded_by=writer)
    old_hash, old_files = image.content_hash, {p: p.read_bytes() for p in files_in(media)}
    client = client_for(writer)
    change = reverse("admin:articles_image_change", args=[image.pk])
    fields = {**DESCRIBED, **NO_CONSENTS, "caption": "The three layers of the skin."}
    assert client.post(change, fields).status_code == 302
    image.refresh_from_db()
    assert (image.caption, image.content_hash) == ("The three layers of the skin.", old_hash)
    assert {p: p.read_bytes() for p in files_in(media)} == old_files

    upload = SimpleUploadedFile("skin-layers-v2.png", hostile.picture("PNG", size=(500, 250)))
    assert client.post(change, {**fields, "upload": upload}).status_code == 302
    image.refresh_from_db()
    assert image.content_hash != old_hash
    assert image.original_name == "skin-layers-v2.png"
    assert ImageRendition.objects.filter(image=image, source_hash=old_hash).count() == 6
    assert all(path.read_bytes() == content for path, content in old_files.items())


def test_a_refused_replacement_leaves_the_image_as_it_was(writer, media):
    image = library_image()
    before = {p: p.read_bytes() for p in files_in(media)}
    change = reverse("admin:articles_image_change", args=[image.pk])
    upload = SimpleUploadedFile("skin-layers.png", hostile.content("png-then-script"))
    response = client_for(writer).post(change, {**DESCRIBED, **NO_CONSENTS, "upload": upload})
    assert images.HIDDEN_CONTENT.format(what="HTML or a script") in form_errors(response)
    assert {p: p.read_bytes() for p in files_in(media)} == before
    assert Image.objects.get().content_hash == image.content_hash


# --- Consent ----------------------------------------------------------------------------------------------


def consent_fields(**fields) -> dict:
    today = timezone.localdate()
    return {
        "consents-TOTAL_FORMS": "1", "consents-INITIAL_FORMS": "0",
        "consents-0-consented_by": "The patient, Ana Ruiz", "consents-0-consented_on": today.isoformat(),
        "consents-0-use": "The clinic's patient-education website and printed leaflets",
        "consents-0-form_reference": "Consent form CF-2026-114, patient record 4411",
        **{f"consents-0-{name}": value for name, value in fields.items()},
    }  # fmt: skip


def test_a_photograph_of_a_patient_is_not_usable_until_an_editor_records_consent(editor):
    image = library_image(shows_patient=True)
    other = library_image(hostile.picture("PNG", size=(300, 200)), "diagram.png", title="Diagram")
    assert list(Image.objects.usable()) == [other]
    assert list(Image.objects.needing_consent()) == [image]
    assert image.usable_problem() == CONSENT_NEEDED

    change = reverse("admin:articles_image_change", args=[image.pk])
    response = client_for(editor).post(change, {**DESCRIBED, "shows_patient": "on", **consent_fields()})
    assert response.status_code == 302
    consent = PatientConsent.objects.get()
    assert (consent.image, consent.recorded_by) == (image, editor)
    assert image.usable_problem() is None
    assert set(Image.objects.usable()) == {image, other}


def test_withdrawn_consent_makes_the_photograph_unusable_again(editor):
    image = library_image(shows_patient=True)
    PatientConsent.objects.create(
        image=image, consented_by="Ana Ruiz", consented_on=datetime.date(2026, 1, 5), use="Website",
        form_reference="CF-1", withdrawn_on=datetime.date(2026, 3, 1),
    )  # fmt: skip
    assert image.usable_problem() == CONSENT_WITHDRAWN
    assert not Image.objects.usable().exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"consented_on": (timezone.localdate() + datetime.timedelta(days=2)).isoformat()}, CONSENT_IN_FUTURE),
        ({"consented_on": "2026-03-01", "withdrawn_on": "2026-02-01"}, WITHDRAWN_BEFORE_CONSENT),
        ({"consented_on": "yesterday"}, "Enter a valid date."),
    ],
)
def test_a_consent_record_with_impossible_dates_is_refused(editor, fields, message):
    image = library_image(shows_patient=True)
    change = reverse("admin:articles_image_change", args=[image.pk])
    response = client_for(editor).post(change, {**DESCRIBED, "shows_patient": "on", **consent_fields(**fields)})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PatientConsent.objects.exists()


def test_writers_neither_see_nor_record_consent(writer):
    image = library_image(shows_patient=True)
    PatientConsent.objects.create(image=image, consented_by="Ana Ruiz", consented_on=datetime.date(2026, 1, 5),
                                  use="Website", form_reference="CF-1")  # fmt: skip
    client = client_for(writer)
    change = reverse("admin:articles_image_change", args=[image.pk])
    page = client.get(change).content.decode()
    assert "Ana Ruiz" not in page
    assert "consents-TOTAL_FORMS" not in page
    client.post(change, {**DESCRIBED, "shows_patient": "on", **consent_fields(consented_by="Someone else")})
    assert list(PatientConsent.objects.values_list("consented_by", flat=True)) == ["Ana Ruiz"]


def test_the_editors_see_the_consent_and_may_not_delete_it(editor):
    image = library_image(shows_patient=True)
    PatientConsent.objects.create(image=image, consented_by="Ana Ruiz", consented_on=datetime.date(2026, 1, 5),
                                  use="Website", form_reference="CF-1")  # fmt: skip
    page = client_for(editor).get(reverse("admin:articles_image_change", args=[image.pk])).content.decode()
    assert "Ana Ruiz" in page
    assert "consents-0-DELETE" not in page


def test_the_change_list_says_which_photographs_need_consent(editor):
    library_image(shows_patient=True, title="Scar, week 6")
    response = client_for(editor).get(reverse("admin:articles_image_changelist") + "?consent=needed")
    assert "Scar, week 6" in response.content.decode()
    assert "Needed" in response.content.decode()


def test_before_after_photographs_are_flagged(writer):
    fields = {"before_after": "on", "title": "Scar before and after", "alt_text": "A scar at week 1 and week 12"}
    post_upload(client_for(writer), "scar.jpg", hostile.picture("JPEG"), **fields)
    assert Image.objects.get().before_after


# --- Who may do what, and the preview ---------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("writer", 200), ("editor", 200), ("reviewer", 403)])
def test_writers_and_editors_may_upload_and_reviewers_may_not(request, role, status):
    assert client_for(request.getfixturevalue(role)).get(reverse(ADD)).status_code == status


def test_a_reviewer_may_look_but_not_change(reviewer):
    image = library_image()
    client = client_for(reviewer)
    assert client.get(reverse("admin:articles_image_changelist")).status_code == 200
    change = reverse("admin:articles_image_change", args=[image.pk])
    client.post(change, {**DESCRIBED, **NO_CONSENTS, "title": "Renamed"})
    assert Image.objects.get().title == DESCRIBED["title"]


@pytest.mark.parametrize(("role", "status"), [("editor", 200), ("writer", 403)])
def test_only_editors_may_remove_an_image(request, role, status):
    image = library_image()
    response = client_for(request.getfixturevalue(role)).get(reverse("admin:articles_image_delete", args=[image.pk]))
    assert response.status_code == status


def test_staff_see_the_picture_through_the_admin_from_the_storage(writer):
    image = library_image()
    response = client_for(writer).get(reverse("admin:articles_image_picture", args=[image.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert "private" in response["Cache-Control"]
    assert images.clean_image(b"".join(response.streaming_content), "preview.webp").width == 640


@pytest.mark.parametrize(("who", "status"), [("staff without the library", 403), ("patient", 302)])
def test_the_picture_is_not_shown_to_those_without_the_library(who, status):
    image = library_image()
    user = UserFactory(is_staff=who != "patient")
    assert client_for(user).get(reverse("admin:articles_image_picture", args=[image.pk])).status_code == status


@pytest.mark.parametrize("object_id", ["999999", "abc", "1%00"])
def test_a_picture_address_that_names_no_image_is_not_found(writer, object_id):
    url = reverse("admin:articles_image_picture", args=["0"]).replace("/0/", f"/{object_id}/")
    assert client_for(writer).get(url).status_code == 404


def test_the_change_page_shows_the_picture_with_its_alt_text_and_dimensions(writer):
    image = library_image()
    page = client_for(writer).get(reverse("admin:articles_image_change", args=[image.pk])).content.decode()
    picture = reverse("admin:articles_image_picture", args=[image.pk])
    assert f'<img src="{picture}" alt="{DESCRIBED["alt_text"][:20]}' in page.replace("&#x27;", "'")
    assert 'width="640" height="320"' in page
    assert member_of("Writers")  # the role exists for the browser walk too
