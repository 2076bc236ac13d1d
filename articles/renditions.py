"""Storing a library image and its renditions, through Django's storage API (the filesystem or S3-compatible).

Every file is written once under a name made of its content's hash, and never changed or deleted: replacing an
image's file stores a new original and new renditions beside the old ones, so a published page that points at
the old files keeps working. Renditions are made here, when staff upload (or by `make_image_renditions` for
images stored before), never while a patient's request waits.
"""

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from articles import images
from articles.models import Image, ImageRendition

ORIGINALS = "images/originals"
RENDITIONS = "images/renditions"
RENDITION_FORMATS = ("WEBP", "ORIGINAL")  # WebP for browsers that take it, the original's format for the rest


def rendition_widths(width: int) -> list[int]:
    """Return the widths to make for a picture `width` pixels wide: the configured ones below it, never larger."""
    widths = [w for w in settings.IMAGE_RENDITION_WIDTHS if w < width]
    if width <= max(settings.IMAGE_RENDITION_WIDTHS):
        widths.append(width)  # the picture at its own size; a narrower one is never upscaled
    return sorted(set(widths))


def write_once(folder: str, content: bytes, extension: str, *, stem: str = "", written: list | None = None) -> str:
    """Store `content` under a name made of its hash and return the name; an identical file is not written again.

    The names of files this call wrote are added to `written`, so a failed upload can remove them again.
    """
    digest = hashlib.sha256(content).hexdigest()
    name = f"{folder}/{digest[:32]}{stem}.{extension}"
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(content))
        if saved != name:  # a storage that renamed rather than overwrite: a race wrote the same bytes first
            default_storage.delete(saved)
        elif written is not None:
            written.append(name)
    return name


def store_original(image: Image, clean: images.CleanImage, *, written: list | None = None) -> None:
    """Store a clean upload as `image`'s file and fill the fields that describe it; the caller saves the row."""
    image.file.name = write_once(ORIGINALS, clean.content, images.EXTENSION[clean.format], written=written)
    image.format = clean.format
    image.width, image.height = clean.width, clean.height
    image.content_hash = clean.content_hash
    image.file_size = len(clean.content)


def make_renditions(
    image: Image, clean: images.CleanImage | None = None, *, written: list | None = None
) -> list[ImageRendition]:
    """Make (or find) the renditions of `image`'s current file and return their rows."""
    existing = list(image.renditions.filter(source_hash=image.content_hash))
    wanted = {(w, f) for w in rendition_widths(image.width) for f in (fmt_for(image, f) for f in RENDITION_FORMATS)}
    missing = wanted - {(r.width, r.format) for r in existing}
    if not missing:
        return existing
    if clean is None:
        with default_storage.open(image.file.name, "rb") as stored:
            clean = images.clean_image(stored.read(), image.file.name)
    made = []
    for width, format in sorted(missing):
        content = images.encode(clean.image, format, width=width)
        name = write_once(RENDITIONS, content, images.EXTENSION[format], stem=f"-{width}w", written=written)
        height = max(1, round(clean.height * width / clean.width))
        made.append(
            ImageRendition(
                image=image, source_hash=image.content_hash, file=name, format=format, width=width, height=height,
                content_hash=hashlib.sha256(content).hexdigest(), file_size=len(content),
            )
        )  # fmt: skip
    ImageRendition.objects.bulk_create(made, ignore_conflicts=True)
    return list(image.renditions.filter(source_hash=image.content_hash))


def fmt_for(image: Image, format: str) -> str:
    return image.format if format == "ORIGINAL" else format


def save_upload(image: Image, clean: images.CleanImage, *, save) -> list[ImageRendition]:
    """Store the upload, call `save()` for the row, and make its renditions, in one transaction.

    Files written for this upload are removed again if anything fails, so a refused save leaves nothing
    behind; files an earlier upload wrote (the same bytes, or the image's previous file) are never touched.
    """
    written: list[str] = []
    try:
        with transaction.atomic():
            store_original(image, clean, written=written)
            save()
            return make_renditions(image, clean, written=written)
    except BaseException:
        for name in written:
            default_storage.delete(name)
        raise


def url(name: str) -> str:
    """Return the address of a stored file, from the storage in use (a CDN's, where one is configured)."""
    return default_storage.url(name)
