"""Hostile and broken image files, made here from nothing (never downloaded), each with the refusal it must get.

`python -m tests.data.hostile_images DIR` writes them to DIR to look at or to try in the admin by hand.
"""

import io
import struct
import sys
import zipfile
import zlib
from functools import cache
from pathlib import Path

from PIL import Image

from articles import images

SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
)
HTML = b"<html><body><script>fetch('/admin/').then(r => r.text())</script></body></html>"


def picture(format: str, size=(64, 48), **options) -> bytes:
    """Return a small, honest picture in `format`: a gradient, so compression has something to do."""
    image = Image.new("RGB", size)
    image.putdata([(x * 4 % 256, y * 5 % 256, 120) for y in range(size[1]) for x in range(size[0])])
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def halved(data: bytes) -> bytes:
    return data[: len(data) // 2]


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nMain-Class: Payload\n")
        archive.writestr("Payload.class", b"\xca\xfe\xba\xbe" + b"\x00" * 32)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header_only(width: int, height: int) -> bytes:
    """Return a PNG that claims `width` × `height` grey pixels and holds a few rows of them."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    rows = zlib.compress(b"\x00" * (width + 1) * 4)
    return b"\x89PNG\r\n\x1a\n" + header + png_chunk(b"IDAT", rows) + png_chunk(b"IEND", b"")


def png_bomb(side: int) -> bytes:
    """Return a whole, valid PNG of `side` × `side` black pixels that compresses to a few tens of kilobytes."""
    row = b"\x00" * (side + 1)
    compressor, parts = zlib.compressobj(9), []
    for _ in range(side):
        parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + png_chunk(b"IDAT", b"".join(parts)) + png_chunk(b"IEND", b"")


def jpeg_with_comment(comment: bytes) -> bytes:
    """Return a JPEG with `comment` in a COM segment right after its start-of-image marker."""
    jpeg = picture("JPEG")
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + jpeg[2:]


def animated_webp() -> bytes:
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="WEBP", save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


def oversized() -> bytes:
    jpeg = picture("JPEG")
    return jpeg + b"\x00" * (images.max_upload_bytes() + 1 - len(jpeg))


# name: (file name, how to make its bytes, the refusal it must get, formatted as far as it can be)
CASES = {
    "svg": ("diagram.svg", lambda: SVG, images.SVG_REFUSED),
    "svg-named-png": ("diagram.png", lambda: SVG, images.SVG_REFUSED),
    "html-named-jpg": ("photo.jpg", lambda: HTML, images.SVG_REFUSED),
    "jpeg-then-zip": ("photo.jpg", lambda: picture("JPEG") + zip_archive(),
                      images.HIDDEN_CONTENT.format(what="a ZIP archive")),
    "jpeg-then-html": ("photo.jpg", lambda: picture("JPEG") + HTML,
                       images.HIDDEN_CONTENT.format(what="HTML or a script")),
    "jpeg-script-in-comment": ("photo.jpg", lambda: jpeg_with_comment(b"<script>alert(1)</script>"),
                               images.HIDDEN_CONTENT.format(what="HTML or a script")),
    "png-then-script": ("chart.png", lambda: picture("PNG") + b"<script>alert(1)</script>",
                        images.HIDDEN_CONTENT.format(what="HTML or a script")),
    "png-then-php": ("chart.png", lambda: picture("PNG") + b"<?php system($_GET['c']); ?>",
                     images.HIDDEN_CONTENT.format(what="PHP code")),
    "webp-then-zip": ("photo.webp", lambda: picture("WEBP") + zip_archive(),
                      images.HIDDEN_CONTENT.format(what="a ZIP archive")),
    "jpeg-then-bytes": ("photo.jpg", lambda: picture("JPEG") + b"\x01\x02\x03trailing",
                        images.HIDDEN_CONTENT.format(what="11 bytes after the end of the picture")),
    "gifar": ("photo.jpg", lambda: picture("GIF") + zip_archive(), images.UNSUPPORTED_FORMAT.format(format="GIF")),
    "gif": ("animation.gif", lambda: picture("GIF"), images.UNSUPPORTED_FORMAT.format(format="GIF")),
    "bmp": ("scan.bmp", lambda: picture("BMP"), images.UNSUPPORTED_FORMAT.format(format="BMP")),
    "tiff": ("scan.tif", lambda: picture("TIFF"), images.UNSUPPORTED_FORMAT.format(format="TIFF")),
    "png-named-jpg": ("photo.jpg", lambda: picture("PNG"),
                      images.WRONG_EXTENSION.format(extension="jpg", format="PNG", expected="png")),
    "jpeg-named-png": ("chart.png", lambda: picture("JPEG"),
                       images.WRONG_EXTENSION.format(extension="png", format="JPEG", expected="jpg")),
    "webp-named-jpeg": ("photo.jpeg", lambda: picture("WEBP"),
                        images.WRONG_EXTENSION.format(extension="jpeg", format="WEBP", expected="webp")),
    "no-extension": ("photo", lambda: picture("JPEG"), images.NO_EXTENSION),
    "truncated-jpeg": ("photo.jpg", lambda: halved(picture("JPEG", size=(200, 150))), images.TRUNCATED),
    "truncated-png": ("chart.png", lambda: halved(picture("PNG", size=(200, 150))), images.TRUNCATED),
    "truncated-webp": ("photo.webp", lambda: halved(picture("WEBP", size=(200, 150))), images.TRUNCATED),
    "random-bytes": ("photo.jpg", lambda: bytes(range(256)) * 8, images.NOT_AN_IMAGE),
    "zip-named-png": ("chart.png", zip_archive, images.NOT_AN_IMAGE),
    "pdf-named-jpg": ("leaflet.jpg", lambda: b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n", images.NOT_AN_IMAGE),
    "empty": ("photo.jpg", lambda: b"", images.EMPTY_FILE),
    "animated-webp": ("loop.webp", animated_webp, images.ANIMATED),
    "bomb-8000px": ("chart.png", lambda: png_bomb(8000),
                    images.TOO_MANY_PIXELS.format(width=8000, height=8000, limit=40_000_000)),
    "bomb-header-30000px": ("chart.png", lambda: png_header_only(30_000, 30_000),
                            images.FAR_TOO_MANY_PIXELS.format(limit=40_000_000)),
    "oversized": ("photo.jpg", oversized, None),  # the message names the size: tested on its own
}  # fmt: skip


@cache
def content(name: str) -> bytes:
    return CASES[name][1]()


def write_corpus(folder: Path) -> list[Path]:
    """Write every case to `folder`, named after the case and keeping the file name's extension."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (file_name, _make, _message) in CASES.items():
        target = folder / f"{name}{Path(file_name).suffix}"
        target.write_bytes(content(name))
        written.append(target)
    return written


if __name__ == "__main__":
    import django

    django.setup()
    for written in write_corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-images")):
        print(written)
