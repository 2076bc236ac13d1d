"""What an upload must be before it is stored (`articles/images.py`), and what its alt text must say."""

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, TiffImagePlugin

from articles import images
from tests.data import hostile_images as hostile


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


@pytest.mark.parametrize("case", [case for case, (_n, _m, message) in hostile.CASES.items() if message])
def test_each_hostile_file_is_refused_with_its_message(case):
    file_name, _make, message = hostile.CASES[case]
    with pytest.raises(images.UnsafeImage) as refusal:
        images.read_upload(upload(file_name, hostile.content(case)))
    assert str(refusal.value) == message
    assert "Nothing was stored." in message


def test_an_oversized_file_is_refused_before_it_is_read(settings):
    data = hostile.content("oversized")
    with pytest.raises(images.UnsafeImage) as refusal:
        images.read_upload(upload("photo.jpg", data))
    assert str(refusal.value) == images.TOO_LARGE.format(size=len(data), limit=settings.IMAGE_MAX_UPLOAD_BYTES)


def noise_png() -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (40, 40), os.urandom(40 * 40 * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_limit_set_lower_in_the_settings_is_the_one_applied(settings):
    settings.IMAGE_MAX_UPLOAD_BYTES = 1_000
    data = noise_png()
    assert len(data) > 1_000
    with pytest.raises(images.UnsafeImage, match="at most 1,000 bytes"):
        images.read_upload(upload("chart.png", data))


def test_the_pixel_limit_comes_from_the_settings(settings):
    settings.IMAGE_MAX_PIXELS = 1_000
    with pytest.raises(images.UnsafeImage) as refusal:
        images.read_upload(upload("chart.png", hostile.picture("PNG", size=(50, 50))))
    assert str(refusal.value) == images.TOO_MANY_PIXELS.format(width=50, height=50, limit=1_000)


@pytest.mark.parametrize(("format", "name"), [("JPEG", "photo.JPG"), ("JPEG", "photo.jpeg"), ("PNG", "chart.png"),
                                              ("WEBP", "photo.webp")])  # fmt: skip
def test_honest_pictures_are_accepted_in_their_own_format(format, name):
    clean = images.read_upload(upload(name, hostile.picture(format)))
    assert (clean.format, clean.width, clean.height) == (format, 64, 48)
    assert Image.open(io.BytesIO(clean.content)).format == format
    assert len(clean.content_hash) == 64


def photograph_with_location(orientation: int = 6) -> bytes:
    """Return a JPEG, 60 wide and 40 high as stored, with a camera, GPS position and orientation in its EXIF."""
    image = Image.new("RGB", (60, 40), "white")
    image.paste((200, 0, 0), (0, 0, 30, 40))  # red on the left as stored
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x0131] = "PhotoApp 1.0"  # Software
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (TiffImagePlugin.IFDRational(40), TiffImagePlugin.IFDRational(26),
                                TiffImagePlugin.IFDRational(46)), 3: "W"}  # fmt: skip
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, comment=b"taken at 12 Harbour Street")
    return buffer.getvalue()


def test_exif_gps_and_comments_are_removed_and_the_orientation_applied():
    original = photograph_with_location()
    assert b"CameraMaker" in original
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    clean = images.read_upload(upload("patient.jpg", original))
    stored = Image.open(io.BytesIO(clean.content))
    assert not stored.getexif()
    assert "exif" not in stored.info
    assert "comment" not in stored.info
    assert "icc_profile" not in stored.info
    assert b"CameraMaker" not in clean.content
    assert b"Harbour" not in clean.content
    assert stored.size == (40, 60)  # orientation 6: turned a quarter clockwise, so it stands upright
    red_on_top = stored.convert("RGB").getpixel((20, 5))
    assert red_on_top[0] > 150
    assert red_on_top[1] < 80


def test_png_text_chunks_are_removed_and_transparency_kept():
    image = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    image.paste((0, 120, 200, 255), (5, 5, 15, 15))
    info = __import__("PIL.PngImagePlugin", fromlist=["PngInfo"]).PngInfo()
    info.add_text("Author", "Dr Secret, patient 4411")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    clean = images.read_upload(upload("diagram.png", buffer.getvalue()))
    stored = Image.open(io.BytesIO(clean.content))
    assert b"patient 4411" not in clean.content
    assert not stored.text
    assert stored.mode == "RGBA"
    assert stored.getpixel((0, 0))[3] == 0


def test_a_transparent_picture_becomes_a_jpeg_on_white_and_a_webp_with_transparency():
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    assert Image.open(io.BytesIO(images.encode(image, "JPEG"))).getpixel((0, 0)) == (255, 255, 255)
    assert Image.open(io.BytesIO(images.encode(image, "WEBP"))).mode == "RGBA"


def test_a_colour_profile_is_applied_and_dropped():
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10), (10, 200, 30)).save(buffer, format="JPEG", icc_profile=profile)
    assert Image.open(io.BytesIO(buffer.getvalue())).info.get("icc_profile")
    clean = images.read_upload(upload("photo.jpg", buffer.getvalue()))
    assert "icc_profile" not in Image.open(io.BytesIO(clean.content)).info


def test_a_cmyk_jpeg_is_stored_as_rgb():
    buffer = io.BytesIO()
    Image.new("CMYK", (10, 10), (0, 100, 100, 0)).save(buffer, format="JPEG")
    clean = images.read_upload(upload("print.jpg", buffer.getvalue()))
    assert Image.open(io.BytesIO(clean.content)).mode == "RGB"


def test_the_jpeg_walk_finds_the_end_of_progressive_and_restart_marker_files():
    for options in ({"progressive": True}, {"restart_marker_blocks": 1}, {"quality": 20}):
        data = hostile.picture("JPEG", size=(120, 90), **options)
        assert images.jpeg_end(data) == len(data)
        assert images.jpeg_end(data + b"PK\x03\x04") == len(data)


def test_trailing_zero_padding_some_cameras_write_is_accepted():
    images.read_upload(upload("photo.jpg", hostile.picture("JPEG") + b"\x00" * 64))


def test_the_corpus_script_writes_every_case(tmp_path):
    written = hostile.write_corpus(tmp_path)
    assert len(written) == len(hostile.CASES)
    assert {path.suffix for path in written} >= {".svg", ".jpg", ".png", ".webp", ".gif"}


# --- Alt text ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alt", "decorative", "problem"),
    [
        ("", False, images.ALT_REQUIRED),
        ("   ", False, images.ALT_REQUIRED),
        ("Layers of the skin", True, images.ALT_WITH_DECORATIVE),
        ("skin-layers.png", False, images.ALT_IS_FILE_NAME),
        ("skin-layers", False, images.ALT_IS_FILE_NAME),
        ("Skin layers", False, images.ALT_IS_FILE_NAME),
        ("IMG_4411.JPG", False, images.ALT_IS_FILE_NAME),
        ("Image of the layers of the skin", False, images.ALT_REDUNDANT_START.format(start="Image of")),
        ("a picture of a wound", False, images.ALT_REDUNDANT_START.format(start="a picture of")),
        ("Photo of a healed scar", False, images.ALT_REDUNDANT_START.format(start="Photo of")),
        ("photograph showing a rash", False, images.ALT_REDUNDANT_START.format(start="photograph showing")),
        ("image", False, images.ALT_PLACEHOLDER.format(alt="image")),
        ("Diagram.", False, images.ALT_PLACEHOLDER.format(alt="Diagram.")),
        ("x" * 251, False, images.ALT_TOO_LONG.format(length=251, limit=images.ALT_MAX_CHARS)),
    ],
)
def test_alt_text_that_does_not_describe_the_picture_is_refused(alt, decorative, problem):
    assert images.alt_text_problem(alt, decorative=decorative, file_name="skin-layers.png") == problem


@pytest.mark.parametrize(
    ("alt", "decorative"),
    [
        ("Diagram of the skin's three layers: epidermis, dermis and the fat beneath", False),
        ("Imagery from a microscope: round vesicles among skin cells", False),  # starts with "image", not "image of"
        ("", True),
    ],
)
def test_alt_text_that_describes_the_picture_or_a_deliberate_decorative_choice_is_accepted(alt, decorative):
    assert images.alt_text_problem(alt, decorative=decorative, file_name="skin-layers.png") is None
