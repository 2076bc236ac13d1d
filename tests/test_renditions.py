"""Storing library images and their renditions (`articles/renditions.py`, `make_image_renditions`) on disk."""

import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from articles import images, renditions
from articles.models import Image, ImageRendition
from tests.data.hostile_images import picture
from tests.factories import library_image

pytestmark = pytest.mark.django_db
FILESYSTEM = {"BACKEND": "django.core.files.storage.FileSystemStorage"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """Store files in a folder of the test's own, on the filesystem whatever the environment configures."""
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": FILESYSTEM}
    return tmp_path


def stored_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("width", "widths"),
    [(2000, [320, 640, 960, 1280]), (1280, [320, 640, 960, 1280]), (700, [320, 640, 700]), (200, [200])],
)
def test_renditions_are_made_at_the_configured_widths_and_never_wider_than_the_upload(width, widths):
    assert renditions.rendition_widths(width) == widths


def test_an_upload_stores_its_original_and_a_webp_and_an_original_format_rendition_per_width(media):
    image = library_image(picture("JPEG", size=(1000, 500)), "wound.jpg")
    assert (image.format, image.width, image.height) == ("JPEG", 1000, 500)
    assert image.file.name == f"images/originals/{image.content_hash[:32]}.jpg"
    rows = list(image.current_renditions())
    assert {(r.format, r.width, r.height) for r in rows} == {
        (format, width, width // 2) for format in ("JPEG", "WEBP") for width in (320, 640, 960, 1000)
    }
    files = stored_files(media)
    assert len(files) == 1 + len(rows)
    for rendition in rows:
        content = files[rendition.file]
        digest = hashlib.sha256(content).hexdigest()
        assert rendition.content_hash == digest
        extension = images.EXTENSION[rendition.format]
        assert rendition.file == f"images/renditions/{digest[:32]}-{rendition.width}w.{extension}"
        assert rendition.file_size == len(content)
        assert images.clean_image(content, rendition.file).width == rendition.width


def test_replacing_a_picture_adds_new_renditions_and_leaves_every_old_file_and_row_as_it_was(media):
    image = library_image(picture("PNG", size=(700, 350)), "chart.png")
    old_hash, old_rows = image.content_hash, list(image.current_renditions())
    before = stored_files(media)

    clean = images.clean_image(picture("PNG", size=(500, 500)), "chart-v2.png")
    renditions.save_upload(image, clean, save=image.save)

    image.refresh_from_db()
    assert image.content_hash != old_hash
    assert (image.width, image.height) == (500, 500)
    assert {r.width for r in image.current_renditions()} == {320, 500}
    after = stored_files(media)
    assert {name: after[name] for name in before} == before  # every old file is there, byte for byte
    assert set(ImageRendition.objects.filter(source_hash=old_hash)) == set(old_rows)


def test_the_same_picture_uploaded_twice_shares_its_files_and_writes_none_again(media):
    first = library_image(picture("PNG", size=(400, 200)), "a.png")
    files = {p: p.stat().st_mtime_ns for p in media.rglob("*") if p.is_file()}
    second = library_image(picture("PNG", size=(400, 200)), "b.png")
    assert second.file.name == first.file.name
    assert {p: p.stat().st_mtime_ns for p in media.rglob("*") if p.is_file()} == files


def test_a_save_that_fails_removes_the_files_it_wrote_and_no_others(media):
    kept = library_image(picture("PNG", size=(400, 200)), "kept.png")
    before = stored_files(media)

    def refuse():
        raise RuntimeError("the database went away")

    image = Image(title="Wound", alt_text="A healing wound", original_name="wound.jpg")
    with pytest.raises(RuntimeError):
        renditions.save_upload(image, images.clean_image(picture("JPEG", size=(900, 600)), "wound.jpg"), save=refuse)
    assert stored_files(media) == before
    assert list(Image.objects.all()) == [kept]


def test_the_command_makes_missing_renditions_and_leaves_the_rest(media):
    image = library_image(picture("PNG", size=(700, 350)), "chart.png")
    image.renditions.filter(width=640).delete()
    out = StringIO()
    call_command("make_image_renditions", stdout=out)
    assert "2 rendition(s) made." in out.getvalue()
    assert image.current_renditions().count() == 6
    out = StringIO()
    call_command("make_image_renditions", str(image.pk), stdout=out)
    assert "Every image has its renditions." in out.getvalue()


def test_the_command_makes_renditions_at_widths_added_since(media, settings):
    image = library_image(picture("PNG", size=(700, 350)), "chart.png")
    settings.IMAGE_RENDITION_WIDTHS = [320, 480, 640, 960, 1280]
    call_command("make_image_renditions", stdout=StringIO())
    assert sorted({r.width for r in image.current_renditions()}) == [320, 480, 640, 700]


@pytest.mark.parametrize(("arguments", "message"), [(["abc"], "Image ids are whole numbers"), (["999999"], "No image")])
def test_the_command_refuses_what_is_not_an_image_id(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("make_image_renditions", *arguments, stdout=StringIO())


def test_the_command_names_an_image_whose_file_is_missing_and_fails(media):
    image = library_image(picture("PNG", size=(700, 350)), "chart.png")
    image.renditions.all().delete()
    default_storage.delete(image.file.name)
    err = StringIO()
    with pytest.raises(CommandError, match="1 image"):
        call_command("make_image_renditions", stdout=StringIO(), stderr=err)
    assert f"Image {image.pk}" in err.getvalue()
