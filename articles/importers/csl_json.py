"""CSL-JSON as Zotero and Crossref export it, and reading a JSON document of records."""

import json
import re
from typing import Any

from articles.importers.field_values import field_text, note_identifiers, split_date
from articles.importers.names import expand_initials, name_suffix, person_name, split_name
from articles.importers.records import ParsedReference, Problem, build_reference
from articles.publication_types import normalise_publication_type

JSON_TOO_DEEP = "The JSON is nested too deeply to be a reference export: check that it is the file you meant."

# Problems with one record or line, shown as "Line 12: ...".
INVALID_JSON = "invalid JSON: {error} (column {column})."
NOT_A_JSON_OBJECT = "expected a JSON object or an array of objects, found {found}."

CROSSREF_RETRACTION_NOTE = "Crossref lists a retraction: doi:{doi}."

JSON_KINDS = {dict: "an object", list: "an array", str: "a string", bool: "true or false", type(None): "null"}

_JSON_SEPARATORS = re.compile(r"[\s,]*")


def parse_csl_json(text: str, problems: list[Problem]) -> list[ParsedReference | None]:
    """Read CSL-JSON as Zotero and Crossref export it: one object, an array, or a Crossref API response."""
    return json_records(text, problems, _csl_record)


def json_records(text: str, problems: list[Problem], read_record) -> list[ParsedReference | None]:
    """Read a JSON document of records with `read_record(item, line, problems)`; a problem for each non-record."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        problems.append(Problem(error.lineno, INVALID_JSON.format(error=error.msg, column=error.colno)))
        return []
    except RecursionError:
        problems.append(Problem(None, JSON_TOO_DEEP))
        return []
    records = []
    for line, item in _csl_items(text, data):
        if isinstance(item, dict):
            records.append(read_record(item, line, problems))
        else:
            problems.append(Problem(line, NOT_A_JSON_OBJECT.format(found=JSON_KINDS.get(type(item), "a number"))))
    return records


def _csl_items(text: str, data: Any) -> list[tuple[int, Any]]:
    """Return the items with the line each starts on."""
    first_line = text[: len(text) - len(text.lstrip())].count("\n") + 1
    if isinstance(data, dict) and isinstance(data.get("message"), dict):  # Crossref REST API response
        message = data["message"]
        items = message.get("items") if isinstance(message.get("items"), list) else [message]
        return [(first_line, item) for item in items]
    if not isinstance(data, list):
        return [(first_line, data)]
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    line, items = text.count("\n", 0, position) + 1, []
    for item in data:
        start = _JSON_SEPARATORS.match(text, position).end()
        line += text.count("\n", position, start)
        items.append((line, item))
        _, end = decoder.raw_decode(text, start)
        line += text.count("\n", start, end)
        position = end
    return items


def _csl_record(item: dict, line: int, problems: list[Problem]) -> ParsedReference | None:
    title, subtitle = field_text(item.get("title")), field_text(item.get("subtitle"))
    date = next(
        (item[name] for name in ("issued", "published-print", "published-online", "published") if item.get(name)),
        None,
    )
    year, month, day = _csl_date(date)
    notes = note_identifiers(field_text(item.get("note")))
    updates = [update for update in _list(item.get("updated-by")) if isinstance(update, dict)]
    retraction = next((update for update in updates if update.get("type") == "retraction"), None)
    return build_reference(
        problems,
        line=line,
        source_key=item.get("citation-key") or item.get("id"),
        title=f"{title}: {subtitle}" if title and subtitle else title,
        authors=(  # CSL names are objects; some tools write plain strings ("Mahmoud RH")
            csl_name(name) if isinstance(name, dict) else split_name(name)
            for name in _list(item.get("author"))
            if isinstance(name, dict | str)
        ),
        journal=item.get("container-title"),
        journal_abbrev=item.get("container-title-short")
        or item.get("short-container-title")
        or item.get("journalAbbreviation"),
        year=year,
        month=month,
        day=day,
        volume=item.get("volume"),
        issue=item.get("issue"),
        pages=item.get("page"),
        doi=item.get("DOI"),
        pmid=item.get("PMID") or notes.get("PMID"),
        pmcid=item.get("PMCID") or notes.get("PMCID"),
        url=item.get("URL"),
        publication_type=normalise_publication_type(item.get("type"), source="csl-json"),
        abstract=item.get("abstract"),
        is_retracted=retraction is not None,
        retraction_note=CROSSREF_RETRACTION_NOTE.format(doi=retraction.get("DOI", "")) if retraction else "",
    )


def csl_name(name: dict) -> dict[str, str] | None:
    """Return a CSL name: family and given (particles and suffix apart), or a literal (Zotero's organisations)."""
    literal = field_text(name.get("literal") or name.get("name"))
    if literal:
        return {"literal": literal}
    family, given = field_text(name.get("family")), field_text(name.get("given"))
    if family and not given and " " in family:  # a whole name in the family field ("WHO", "Mahmoud RH")
        return split_name(family)
    particles = [field_text(name.get(part)) for part in ("dropping-particle", "non-dropping-particle")]
    family = " ".join(part for part in [*particles, family] if part)
    if not family:
        return {"literal": given} if given else None
    suffix = field_text(name.get("suffix"))
    return person_name(family, expand_initials(given.split(), family), name_suffix(suffix) or suffix)


def _csl_date(value: Any) -> tuple[Any, Any, Any]:
    if not isinstance(value, dict):
        return None, None, None
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0] and parts[0][0] is not None:
        return (*parts[0], None, None)[:3]
    return split_date(value.get("raw") or value.get("literal"))


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []
