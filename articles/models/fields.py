"""What the models' text fields share: the longest texts staff may save, and the rich-text editor's toolbar."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_noop

# Longest texts staff may save, in characters of source (HTML for rich text). A clinic's longest article is far
# shorter (the demo's longest body is about 4,000; a long patient leaflet about 40,000); a longer text is a paste
# gone wrong, and checks, previews and saves of it would hold a worker for many seconds.
BODY_MAX_CHARS = 200_000  # article bodies and policy pages
BIO_MAX_CHARS = 20_000  # staff bio pages
NOTE_MAX_CHARS = 5_000  # disclaimers and conflict-of-interest statements
DESCRIPTION_MAX_CHARS = 2_000  # topic descriptions ("one or two plain sentences")
KEY_POINTS_MAX_CHARS = 5_000  # "Key points": a few short list items
CORRECTION_NOTE_MAX_CHARS = 300  # "what changed, for patients, in one sentence"
REFERENCE_TITLE_MAX_CHARS = 2_000  # the longest real titles are a few hundred characters
ABSTRACT_MAX_CHARS = 30_000  # structured abstracts run to a few thousand
TOO_LONG = gettext_noop(
    "This is %(show_value)d characters long; at most %(limit_value)d fit. Shorten it: nothing was cut."
)


def at_most(limit: int) -> dict:
    """Return the options that limit a text field to `limit` characters, checked by its forms and by full_clean."""
    return {"max_length": limit, "validators": [MaxLengthValidator(limit, message=TOO_LONG)]}


BODY_EDITOR_EXTENSIONS = {
    "Bold": True,
    "Italic": True,
    "Subscript": True,
    "Superscript": True,
    "Heading": {"levels": [2, 3, 4]},
    "BulletList": True,
    "OrderedList": True,
    "ListItem": True,
    "Blockquote": True,
    "Link": {"enableTarget": False, "protocols": ["http", "https", "mailto"]},
    "Table": True,
    "TableRow": True,
    "TableHeader": True,
    "TableCell": True,
    "HardBreak": True,
    "History": True,
}

KEY_POINTS_EDITOR_EXTENSIONS = {
    "Bold": True,
    "Italic": True,
    "BulletList": True,
    "ListItem": True,
    "Link": {"enableTarget": False, "protocols": ["http", "https", "mailto"]},
    "HardBreak": True,
    "History": True,
}


def language_field(help_text: str) -> models.CharField:
    """The language patients read a text in (settings.LANGUAGES; English unless set)."""
    return models.CharField(
        max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE, db_index=True, help_text=help_text
    )
