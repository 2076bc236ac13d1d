"""What an uploaded image must be before anything of it is stored, and what its alt text must say.

`read_upload` refuses, with a message staff can act on, anything but a whole JPEG, PNG or WebP picture whose
content matches its file name: SVG and other text, truncated files, files with something appended or hidden
after the picture (a ZIP, HTML or a script: polyglots such as a GIFAR), decompression bombs and oversized
files. What it accepts is decoded to pixels, turned upright by its EXIF orientation and encoded again, so no
EXIF, GPS, XMP or comment of the original survives. It reads and stores nothing: `renditions.py` stores.
"""

import hashlib
import io
import re
import struct
import warnings
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from PIL import Image as PILImage
from PIL import ImageFile, ImageOps

try:
    from PIL import ImageCms
except ImportError:  # Pillow built without LittleCMS: profiles are dropped without converting
    ImageCms = None

ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is refused, never padded with grey

# format (as Pillow names it): (file name extensions, media type, encoder options)
FORMATS = {
    "JPEG": (("jpg", "jpeg"), "image/jpeg", {"quality": 85, "optimize": True, "progressive": True}),
    "PNG": (("png",), "image/png", {"optimize": True}),
    "WEBP": (("webp",), "image/webp", {"quality": 80, "method": 4}),
}
EXTENSION = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}

TOO_LARGE = "This file is {size:,} bytes; images of at most {limit:,} bytes are accepted. Nothing was stored."
EMPTY_FILE = "This file is empty. Nothing was stored."
SVG_REFUSED = (
    "SVG and other text files are not accepted: they can carry scripts. Export the picture as PNG (for a "
    "diagram) or JPEG (for a photograph). Nothing was stored."
)
NOT_AN_IMAGE = "This file is not a JPEG, PNG or WebP picture. Nothing was stored."
UNSUPPORTED_FORMAT = "{format} pictures are not accepted: upload a JPEG, PNG or WebP file. Nothing was stored."
WRONG_EXTENSION = (
    "This file is named .{extension} but holds a {format} picture: name it .{expected} or export it again. "
    "Nothing was stored."
)
NO_EXTENSION = "The file name must end in .jpg, .jpeg, .png or .webp. Nothing was stored."
TOO_MANY_PIXELS = (
    "This picture is {width:,} × {height:,} pixels; at most {limit:,} pixels in all are accepted. Scale it down "
    "and upload it again. Nothing was stored."
)
FAR_TOO_MANY_PIXELS = (
    "This picture has far more pixels than the {limit:,} accepted (a decompression bomb?). Nothing was stored."
)
TRUNCATED = "This picture is cut short (the file is damaged or incomplete): export it again. Nothing was stored."
HIDDEN_CONTENT = (
    "This file holds something besides the picture ({what}). It is refused: export the picture again from an "
    "image editor. Nothing was stored."
)
ANIMATED = "Animated pictures are not accepted: upload a still JPEG, PNG or WebP. Nothing was stored."

# Anything a browser or an unzipper could read out of a file that is also a picture.
HIDDEN_MARKERS = [
    (re.compile(rb"<\s*(script|html|body|iframe|svg|object|embed)\b", re.IGNORECASE), "HTML or a script"),
    (re.compile(rb"<\?php", re.IGNORECASE), "PHP code"),
]
SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF")  # how a JPEG, a PNG and a WebP file start
ZIP_END = b"PK\x05\x06"  # end of a ZIP's central directory, which unzippers look for at the end of a file
ZIP_LOCAL = b"PK\x03\x04"


class UnsafeImage(ValueError):
    """A file refused as an image; its message says why and what to do."""


@dataclass(frozen=True)
class CleanImage:
    """A picture decoded from an upload, upright, without metadata, and encoded again in its own format."""

    image: PILImage.Image
    format: str
    content: bytes

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def max_upload_bytes() -> int:
    return settings.IMAGE_MAX_UPLOAD_BYTES


def max_pixels() -> int:
    return settings.IMAGE_MAX_PIXELS


def read_upload(upload, name: str | None = None) -> CleanImage:
    """Return the upload as a clean picture, or raise UnsafeImage saying why it is refused."""
    limit = max_upload_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise UnsafeImage(TOO_LARGE.format(size=size, limit=limit))
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise UnsafeImage(TOO_LARGE.format(size=size or len(data), limit=limit))
    return clean_image(data, name or getattr(upload, "name", "") or "")


def clean_image(data: bytes, name: str) -> CleanImage:
    """Return the bytes as a clean picture named `name`, or raise UnsafeImage saying why they are refused."""
    if not data:
        raise UnsafeImage(EMPTY_FILE)
    if looks_like_text(data):
        raise UnsafeImage(SVG_REFUSED)
    extension = PurePath(name).suffix.lower().lstrip(".")
    if not extension:
        raise UnsafeImage(NO_EXTENSION)
    picture = open_picture(data)
    expected_extensions = FORMATS[picture.format][0]
    if extension not in expected_extensions:
        raise UnsafeImage(
            WRONG_EXTENSION.format(extension=extension, format=picture.format, expected=expected_extensions[0])
        )
    check_nothing_hidden(data, picture.format)
    try:
        picture.load()
    except (OSError, SyntaxError, ValueError, struct.error) as error:
        raise UnsafeImage(TRUNCATED) from error
    upright = in_srgb(ImageOps.exif_transpose(picture))
    return CleanImage(image=upright, format=picture.format, content=encode(upright, picture.format))


def in_srgb(image: PILImage.Image) -> PILImage.Image:
    """Return the picture's pixels converted to sRGB from its embedded colour profile, which is then dropped.

    Profiles can carry free text, and browsers assume sRGB without one; a profile that cannot be read is
    dropped and the pixels are kept as they are.
    """
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    if ImageCms is None:
        return image
    try:
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, io.BytesIO(profile), ImageCms.createProfile("sRGB"), outputMode=mode)
    except (OSError, ValueError, ImageCms.PyCMSError):
        return image


def looks_like_text(data: bytes) -> bool:
    """Return True if the file starts like SVG, XML, HTML or other text rather than a binary picture."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n\x00")
    return head[:1] == b"<" or b"<svg" in data[:4096].lower()


def open_picture(data: bytes) -> PILImage.Image:
    """Return the picture's header read by Pillow (pixels not yet decoded), refusing what is not wanted."""
    limit = max_pixels()
    with warnings.catch_warnings():
        # Pillow's own guard (MAX_IMAGE_PIXELS) stays as it is for the whole process; its warning is an error here.
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            picture = PILImage.open(io.BytesIO(data))
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as error:
            raise UnsafeImage(FAR_TOO_MANY_PIXELS.format(limit=limit)) from error
        except (OSError, SyntaxError, ValueError, struct.error) as error:
            damaged = data.startswith(SIGNATURES) and not (data[:4] == b"RIFF" and data[8:12] != b"WEBP")
            raise UnsafeImage(TRUNCATED if damaged else NOT_AN_IMAGE) from error
    if picture.format not in FORMATS:
        raise UnsafeImage(UNSUPPORTED_FORMAT.format(format=picture.format or "These"))
    width, height = picture.size
    if width * height > limit:
        raise UnsafeImage(TOO_MANY_PIXELS.format(width=width, height=height, limit=limit))
    if width < 1 or height < 1:
        raise UnsafeImage(NOT_AN_IMAGE)
    if getattr(picture, "n_frames", 1) > 1:
        raise UnsafeImage(ANIMATED)
    return picture


def check_nothing_hidden(data: bytes, format: str) -> None:
    """Raise UnsafeImage if anything follows the picture's end, or the file carries markup or an archive."""
    end = {"JPEG": jpeg_end, "PNG": png_end, "WEBP": webp_end}[format](data)
    if end is None:
        raise UnsafeImage(TRUNCATED)
    trailing = data[end:]
    if trailing.strip(b"\x00"):
        raise UnsafeImage(HIDDEN_CONTENT.format(what=describe(trailing)))
    for pattern, what in HIDDEN_MARKERS:
        if pattern.search(data):
            raise UnsafeImage(HIDDEN_CONTENT.format(what=what))
    if ZIP_LOCAL in data and ZIP_END in data:
        raise UnsafeImage(HIDDEN_CONTENT.format(what="a ZIP archive"))


def describe(trailing: bytes) -> str:
    if trailing.startswith(ZIP_LOCAL) or ZIP_END in trailing:
        return "a ZIP archive"
    for pattern, what in HIDDEN_MARKERS:
        if pattern.search(trailing):
            return what
    return f"{len(trailing):,} bytes after the end of the picture"


def jpeg_end(data: bytes) -> int | None:
    """Return the offset just past a JPEG's end-of-image marker, walking its segments and scans, or None."""
    if data[:2] != b"\xff\xd8":
        return None
    position, length = 2, len(data)
    while position + 1 < length:
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD9:
            return position + 2
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            position += 2
            continue
        if position + 4 > length:
            return None
        (segment,) = struct.unpack(">H", data[position + 2 : position + 4])
        position += 2 + segment
        if marker == 0xDA:  # a scan: entropy-coded data runs to the next marker that is not stuffing or a restart
            while True:
                position = data.find(b"\xff", position)
                if position < 0 or position + 1 >= length:
                    return None
                following = data[position + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    position += 1 if following == 0xFF else 2
                    continue
                break
    return None


def png_end(data: bytes) -> int | None:
    """Return the offset just past a PNG's IEND chunk, or None."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    position = 8
    while position + 8 <= len(data):
        (size,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        position += 12 + size
        if kind == b"IEND":
            return position if position <= len(data) else None
    return None


def webp_end(data: bytes) -> int | None:
    """Return the length the RIFF header declares for a WebP file, or None."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    (size,) = struct.unpack("<I", data[4:8])
    return 8 + size if 8 + size <= len(data) else None


def encode(image: PILImage.Image, format: str, width: int | None = None) -> bytes:
    """Return the picture encoded in `format` from its pixels alone, scaled down to `width` if given."""
    if width is not None and width < image.width:
        height = max(1, round(image.height * width / image.width))
        image = image.resize((width, height), PILImage.Resampling.LANCZOS)
    image = pixels_for(image, format).copy()
    image.info = {}  # Pillow's encoders copy a comment, profile or XMP from `info`: only the pixels are written
    buffer = io.BytesIO()
    image.save(buffer, format=format, **FORMATS[format][2])
    return buffer.getvalue()


def pixels_for(image: PILImage.Image, format: str) -> PILImage.Image:
    """Return the picture in a colour mode `format` can hold, keeping transparency where it can."""
    transparent = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if format == "JPEG":
        if transparent:
            background = PILImage.new("RGB", image.size, (255, 255, 255))
            background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
            return background
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    if transparent:
        return image if image.mode == "RGBA" else image.convert("RGBA")
    return image if image.mode in ("RGB", "L") and format == "PNG" else image.convert("RGB")


# --- Alt text --------------------------------------------------------------------------------------------

ALT_MAX_CHARS = 250
ALT_REQUIRED = (
    "Say what the picture shows for someone who cannot see it, or tick 'Decorative' if it adds nothing to the text."
)
ALT_WITH_DECORATIVE = "A decorative picture has no alt text: clear the alt text, or untick 'Decorative'."
ALT_IS_FILE_NAME = "This is the file's name, not a description: say what the picture shows."
ALT_REDUNDANT_START = (
    "Screen readers already say it is an image: leave out '{start}' and start with what it shows "
    "(for example 'Diagram of the layers of the skin, ...')."
)
ALT_PLACEHOLDER = "'{alt}' does not describe the picture: say what it shows."
ALT_TOO_LONG = (
    "Alt text is {length} characters; keep it under {limit} and put the rest in the caption, which everyone reads."
)
REDUNDANT_STARTS = re.compile(
    r"^\s*((an?|the)\s+)?(image|picture|photo|photograph|pic|graphic|img|screenshot)\s+(of|showing|shows)\b",
    re.IGNORECASE,
)
PLACEHOLDERS = {"image", "picture", "photo", "photograph", "img", "graphic", "untitled", "alt", "alt text",
                "figure", "diagram", "chart", "logo", "icon", "placeholder", "todo", "tbd", "-", "."}  # fmt: skip
FILE_NAME = re.compile(r"^\S+\.(jpe?g|png|webp|gif|svg|tiff?|bmp|heic)$", re.IGNORECASE)


def alt_text_problem(alt_text: str, *, decorative: bool, file_name: str = "") -> str | None:
    """Return what is wrong with the alt text (a message staff can act on), or None if it will do."""
    alt = " ".join((alt_text or "").split())
    if decorative:
        return ALT_WITH_DECORATIVE if alt else None
    if not alt:
        return ALT_REQUIRED
    if len(alt) > ALT_MAX_CHARS:
        return ALT_TOO_LONG.format(length=len(alt), limit=ALT_MAX_CHARS)
    if (file_name and alt.casefold() in file_name_forms(file_name)) or FILE_NAME.match(alt):
        return ALT_IS_FILE_NAME
    start = REDUNDANT_STARTS.match(alt)
    if start:
        return ALT_REDUNDANT_START.format(start=start.group(0).strip())
    if alt.casefold().strip(" .!") in PLACEHOLDERS:
        return ALT_PLACEHOLDER.format(alt=alt)
    return None


def file_name_forms(file_name: str) -> set[str]:
    """Return the ways staff might type a file's name: whole, without its extension, with spaces for - and _."""
    whole = PurePath(file_name).name.casefold()
    stem = PurePath(whole).stem
    return {whole, stem, re.sub(r"[-_.]+", " ", stem).strip()}
