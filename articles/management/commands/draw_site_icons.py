"""Draw the site's favicon, app icons and link-preview card from one drawing, into articles/static/articles/icons/.

Run once after changing the drawing, and commit what it writes:  python manage.py draw_site_icons
The drawing is a white cross on the site's accent blue (site.css --accent), on a 64-unit grid; the SVG favicon
is written from the same shapes as the PNG and ICO files, so they cannot drift apart. Needs Pillow (a dependency
of WeasyPrint, so installed with requirements.txt).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parents[2] / "static" / "articles" / "icons"
GRID = 64
ACCENT = "#0b5cab"
PAPER = "#ffffff"
INK = "#1b1f24"
CORNER = 12  # the rounded square's corner radius, in grid units
CROSS = [(26, 12, 38, 52), (12, 26, 52, 38)]  # the two bars of the cross: left, top, right, bottom
SUPERSAMPLE = 4  # draw large, then shrink: smooth edges without an anti-aliasing renderer
CARD_SIZE = (1200, 630)
CARD_TEXT = ("Health information", "checked by our clinicians")
PNG_ICONS = {"apple-touch-icon.png": (180, False), "icon-192.png": (192, True), "icon-512.png": (512, True)}
ICO_SIZES = [(16, 16), (32, 32), (48, 48)]


def svg() -> str:
    """Return the drawing as an SVG document."""
    bars = "".join(
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="{PAPER}"/>'
        for left, top, right, bottom in CROSS
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {GRID} {GRID}">'
        f'<rect width="{GRID}" height="{GRID}" rx="{CORNER}" fill="{ACCENT}"/>{bars}</svg>\n'
    )


def icon(size: int, *, rounded: bool) -> Image.Image:
    """Return the drawing as a square image of `size` pixels; without `rounded`, the blue fills the square.

    Apple's home screen rounds the corners itself and shows transparency as black, so its icon is square.
    """
    big = size * SUPERSAMPLE
    scale = big / GRID
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=CORNER * scale if rounded else 0, fill=ACCENT)
    for left, top, right, bottom in CROSS:
        draw.rectangle((left * scale, top * scale, right * scale - 1, bottom * scale - 1), fill=PAPER)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def card() -> Image.Image:
    """Return the default link-preview card: the drawing beside a line about the site, 1200 x 630."""
    width, height = CARD_SIZE
    image = Image.new("RGB", CARD_SIZE, PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height - 24, width, height), fill=ACCENT)
    mark = icon(300, rounded=True)
    image.paste(mark, (110, (height - 24 - 300) // 2), mark)
    font = ImageFont.load_default(size=54)  # Pillow's own font: the same on every machine
    for line, text in enumerate(CARD_TEXT):
        draw.text((470, 215 + line * 80), text, font=font, fill=INK if line == 0 else ACCENT)
    return image


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, default=OUT, help="Folder to write into (default: %(default)s).")

    def handle(self, *args, out: Path, **options):
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"Cannot write the icons into {out}: {error.strerror or error}.") from error
        (out / "icon.svg").write_text(svg(), encoding="utf-8")
        for name, (size, rounded) in PNG_ICONS.items():
            image = icon(size, rounded=rounded)
            (image if rounded else image.convert("RGB")).save(out / name, optimize=True)
        icon(256, rounded=True).save(out / "favicon.ico", sizes=ICO_SIZES)
        card().save(out / "card.png", optimize=True)
        self.stdout.write(f"Wrote the icons and the link-preview card to {out}")
