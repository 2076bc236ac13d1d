"""The demo's labelled diagram: the layers of the skin in cross-section, with a wound reaching the dermis.

Drawn with Pillow when `seed_demo` runs (Pillow's own font, so nothing is fetched or committed), stored in the image
library like any upload, and shown in the wound-healing article.
"""

import io

from PIL import Image, ImageDraw, ImageFont

TITLE = "Layers of the skin, with a wound"
FILE_NAME = "skin-layers-wound.png"
ALT_TEXT = (
    "Diagram of skin in cross-section. A thin top layer labelled epidermis lies over a thicker layer labelled "
    "dermis, with blood vessels, over a layer of fat. A wound cuts through the epidermis into the dermis."
)
CAPTION = "The layers of the skin, and a wound that reaches the dermis."
CREDIT = "Drawing: Harbourside Skin & Wellness Clinic"
LICENCE = "Clinic's own"

WIDTH, HEIGHT = 1200, 640
SKIN_RIGHT = 820  # the labels sit to the right of the drawing
LAYERS = [  # label, top, bottom, fill
    ("Epidermis: the outer layer", 110, 170, (240, 196, 160)),
    ("Dermis: collagen and blood vessels", 170, 420, (226, 140, 140)),
    ("Fat: the layer beneath the skin", 420, 600, (250, 226, 150)),
]
INK = (27, 31, 36)
WOUND = [(330, 110), (470, 110), (420, 300), (380, 300)]


def draw() -> bytes:
    """Return the diagram as PNG bytes."""
    picture = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    pen = ImageDraw.Draw(picture)
    font, heading = ImageFont.load_default(size=26), ImageFont.load_default(size=32)
    pen.text((40, 20), TITLE, fill=INK, font=heading)
    for label, top, bottom, fill in LAYERS:
        pen.rectangle((40, top, SKIN_RIGHT, bottom), fill=fill, outline=INK, width=2)
        middle = (top + bottom) // 2
        pen.line((SKIN_RIGHT - 60, middle, SKIN_RIGHT + 30, middle), fill=INK, width=3)
        pen.multiline_text((SKIN_RIGHT + 40, middle - 16), label.replace(": ", ":\n", 1), fill=INK, font=font)
    for x in range(120, SKIN_RIGHT - 100, 160):  # blood vessels in the dermis
        pen.ellipse((x, 330, x + 44, 360), fill=(170, 40, 50), outline=INK, width=2)
    pen.polygon(WOUND, fill=(255, 255, 255), outline=INK, width=3)
    pen.line((410, 220, 560, 86), fill=INK, width=3)
    pen.text((570, 70), "Wound", fill=INK, font=font)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()
