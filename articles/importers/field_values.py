"""Field values as export files write them: read as plain text, and checked for size before any decoding."""

import re
from typing import Any

from articles.models import Reference
from articles.sanitize import plain_text, storable_text

# A field takes at most its Reference column's max_length (title 2,000, abstract 30,000 characters); a longer one
# is fields run together. Each is checked on the text as the file writes it (markup and LaTeX included) before
# any of it is decoded, so that reading a record costs time in proportion to its size: decoding LaTeX or HTML
# takes more than linear time per field.
MAX_ABSTRACT_CHARS = Reference._meta.get_field("abstract").max_length  # the longest field
MAX_NAME_CHARS = 300
MAX_AUTHORS = 5000
MAX_DATE_CHARS = 40  # "2017-10-12", "2017 Oct-Dec", "{April}"

# Problems with one record, shown as "Line 12: ...".
FIELD_TOO_LONG = (
    "the {field} field is {length:,} characters long; a reference takes at most {limit:,}. Check that the "
    "record's fields are not run together."
)
NAME_TOO_LONG = "the author name “{name}…” is {length:,} characters long; a name takes at most {limit:,}."
TOO_MANY_AUTHORS = "record lists more than {limit:,} authors; a reference takes at most {limit:,}."

_DATE = re.compile(r"^\s*(\d{4})(?:[-/](\d{1,2})?(?:[-/](\d{1,2}))?)?")
_BLOCK_TAG = re.compile(r"</?(?:[\w-]+:)?(?:p|div|br|li|h[1-6]|title|sec|section|label|tr|td)\b[^>]*>", re.I)
_ABSTRACT_HEADING = re.compile(r"<(?:[\w-]+:)?title>\s*abstract\s*</(?:[\w-]+:)?title>", re.I)
_NOTE_IDENTIFIER = re.compile(r"\b(PMID|PMCID)\s*:\s*(\S+)", re.I)


def _field_limits() -> dict[str, int]:
    """Return the most characters each Reference field takes: its max_length (a date or year, a few)."""
    limits = {field.name: field.max_length for field in Reference._meta.fields if field.max_length}
    return limits | {"year": MAX_DATE_CHARS, "published_on": MAX_DATE_CHARS}


FIELD_LIMITS = _field_limits()


def oversized_fields(**values: Any) -> list[str]:
    """Return a message for each Reference field whose value, as the record writes it, is longer than it takes."""
    found = []
    for name, value in values.items():
        length = len(value.strip() if isinstance(value, str) else str(value or ""))
        if length > FIELD_LIMITS[name]:
            label = Reference._meta.get_field(name).verbose_name
            found.append(FIELD_TOO_LONG.format(field=label, length=length, limit=FIELD_LIMITS[name]))
    return found


def too_many_or_too_long(names: list[str]) -> list[str]:
    """Return a message if a record lists more authors than a reference takes, or a name longer than one takes."""
    found = []
    if len(names) > MAX_AUTHORS:
        found.append(TOO_MANY_AUTHORS.format(limit=MAX_AUTHORS))
    name = next((name.strip() for name in names if len(name.strip()) > MAX_NAME_CHARS), None)
    if name:
        found.append(NAME_TOO_LONG.format(name=name[:60], length=len(name), limit=MAX_NAME_CHARS))
    return found


def field_text(value: Any) -> str:
    """Return a value as plain text: lists give their first item, markup is removed, spacing collapsed."""
    if isinstance(value, list):
        value = next((item for item in value if item not in (None, "")), "")
    if value is None or isinstance(value, dict | bool):
        return ""
    value = storable_text(str(value))
    if len(value) > MAX_ABSTRACT_CHARS:  # longer than any field takes: its size check refuses it, unstripped
        return value
    if "<" not in value and "&" not in value:
        return " ".join(value.split())  # what plain_text would return, without running bleach
    return plain_text(_BLOCK_TAG.sub(" ", _ABSTRACT_HEADING.sub(" ", value)))


def field_url(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def as_number(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if re.fullmatch(r"[0-9]{1,4}", text) else None


def split_date(value: Any) -> tuple[Any, int | None, int | None]:
    """Split "2025-04-01", "2017/10/12/" or "2017" into year, month and day (the year as found, to be checked)."""
    text = field_text(value)
    match = _DATE.match(text)
    if not match:
        return text or None, None, None
    return match.group(1), as_number(match.group(2)), as_number(match.group(3))


def note_identifiers(notes: str) -> dict[str, str]:
    """Return {"PMID": ..., "PMCID": ...} written in free-text notes as "PMID: 123"."""
    return {name.upper(): value.rstrip(".,;") for name, value in _NOTE_IDENTIFIER.findall(notes)}
