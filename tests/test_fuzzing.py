"""Property-based tests (Hypothesis) for the code that reads what staff paste or type.

- importers: any text, mutated sample files and generated records either import cleanly (every reference
  saved passes full_clean) or raise ReferenceImportError with readable problems and leave the database as it was;
- citations: marker parsing, sentence splitting, statements, rendering and hashing never raise and keep their promises;
- sanitize: clean_html is idempotent and lets no script through; every link it keeps either stays on the site
  or is marked external; plain_text leaves no markup;
- claims: check_article and readability never raise and every finding says what is wrong;
- AMA formatting: any Reference the model accepts can be formatted.

The known_bad tests pin the minimal failing inputs found so far, so they fail on every run until fixed.

Budgets come from the settings profiles below. Under CI=true the "fuzz-ci" profile runs a small, derandomized
budget, so CI is deterministic; elsewhere "fuzz-dev" runs a random, somewhat larger one. FUZZ_PROFILE picks a
profile by name (FUZZ_PROFILE=fuzz-thorough for a long local run). No profile writes an example database into the
working tree (Hypothesis's own cache goes to the temp directory), and none is loaded globally: each test takes
its settings from the chosen profile as a parent.
"""

import html
import json
import os
import re
import string
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from articles import citations, claims, importers
from articles.importers import MAX_INPUT_BYTES, SUPPORTED_FORMATS, Problem, ReferenceImportError, import_references
from articles.models import Reference
from articles.sanitize import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_PROTOCOLS,
    ALLOWED_TAGS,
    EXTERNAL_LINK_REL,
    clean_html,
    plain_text,
)

# --- Settings profiles ----------------------------------------------------------------------------------

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    "database": None,  # no .hypothesis/ directory in the working tree
    "print_blob": True,  # a failure prints @reproduce_failure(...) to replay it exactly
}
settings.register_profile("fuzz-dev", max_examples=40, **_COMMON)
settings.register_profile("fuzz-ci", max_examples=15, derandomize=True, **_COMMON)
settings.register_profile("fuzz-thorough", max_examples=1000, **_COMMON)
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):  # Hypothesis caches constants there; not in the repo
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "clinic-cms-hypothesis")
PROFILE = os.environ.get("FUZZ_PROFILE") or ("fuzz-ci" if os.environ.get("CI") == "true" else "fuzz-dev")


def budget(weight: float = 1.0) -> settings:
    """Return the chosen profile's settings with `weight` times its number of examples."""
    profile = settings.get_profile(PROFILE)
    return settings(profile, max_examples=max(3, round(profile.max_examples * weight)))


# --- Shared strategies ----------------------------------------------------------------------------------

DATA = Path(__file__).parent / "data" / "importers"
SAMPLES = {
    "seed_aggregator.txt": "aggregator",
    "zotero.json": "csl-json",
    "crossref_work.json": "csl-json",
    "references.bib": "bibtex",
    "references.ris": "ris",
    "pubmed.nbib": "medline",
}
SAMPLE_TEXT = {name: (DATA / name).read_text(encoding="utf-8") for name in SAMPLES}
KEY_RE = re.compile(rf"^{citations.KEY_PATTERN}$")

# Characters that break parsers: controls, NUL, line separators str.splitlines() knows but editors do not,
# BOM, zero-width, digits that are not ASCII (isdigit() is True for "²", int() refuses it), astral characters.
AWKWARD_CHARACTERS = (
    "\x00\x01\x08\t\x0b\x0c\r\x1b\x1c\x1d\x1e\x1f\x7f\x85\xa0\xad\u2028\u2029\u200b\ufeff\ufffd"
    "²³¹٣٤۵߁०𝟘\U0001f600\U0010fffd\ue000\ue001"
)
STRUCTURE_CHARACTERS = "{}[]()\"'@,;:=\\$%~#-<>&/ \n"
any_text = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(AWKWARD_CHARACTERS + STRUCTURE_CHARACTERS + "aZ09.")),
    st.text(alphabet=st.characters(min_codepoint=0x10000), max_size=30),
)
INJECTIONS = [
    "{", "}", '"', "@", "\\", "$", "~", "%", ",", ";", "=", "#", "[", "]", "\n", "\r\n", "      ",
    "ER  - ", "ER  -", "TY  - JOUR", "TY  - ", "PMID- ", "PMID- 1", "FAU - ", "AU  - X", "TI  - ", "DP  - ",
    "@article{", "@string{x = \"", "@comment{", "@preamble{", "and others", " and ", "{\\\"o}", "\\c{c}",
    "$x^2$", "\\begin{x}", "\\end{x}", "\\url{", "{\\",
    '{"', '":', '"title":', "null", "[]", "{}", "NaN", "\\u0000", "\\ud800", "\\udfff", '"\\', "1e999",
    "<p>", "</p>", "<i></i>", "&lt;i&gt;&lt;/i&gt;", "&amp;", "&#0;", "<script>x</script>",
    "\x00", "\x0b", "\x1c", "\u2028", "\x85", "\ufeff", "\u200b",
    "²", "٣", "𝟘", "0", "00", "13", "32", "1799", "9999", "99999999999999999999", "-1", "2020.5",
    "10.", "10.1/a b", "doi:", "https://doi.org/", "PMC", "PMCx", "PMID: x", "Retracted Publication",
    "&lt;i&gt;&lt;/i&gt;", "&amp;lt;i&amp;gt;&amp;lt;/i&amp;gt;", "<i>", "</i>", "&#60;b&#62;",
]  # fmt: skip
DATES = ["2020", "2020-02-29", "2021-02-29", "2020-13", "2020-00-01", "2020/02/", "2020 Feb 30", "2020 Spring",
         "2020 Oct-Dec", "2020 Feb 99999999999999999999", "2020-02-99999999999999999999", "0000-01-01",
         "9999-12-31", "1799", "²٣", "2020 ²"]  # fmt: skip
NUMBERS = ["0", "00", "1", "12", "13", "29", "30", "31", "32", "99", "1799", "1800", "2999", "9999",
           "99999999999999999999", "-1", "+1", "1.5", "1e5", "²", "٣", "𝟘", "", " "]  # fmt: skip
injection = st.one_of(st.sampled_from(INJECTIONS), st.sampled_from(DATES), st.text(max_size=6))

# Field names of each format, for swapping one for another.
RIS_TAGS = sorted(importers.RIS_TAGS)
MEDLINE_TAGS = ["PMID", "OWN", "STAT", "DP", "TI", "LID", "AID", "AB", "FAU", "AU", "CN", "PT", "TA", "JT", "VI", "IP",
                "PG", "PMC", "RIN", "IS", "LA", "XX", "ABCD"]  # fmt: skip
BIBTEX_FIELDS = ["author", "title", "journal", "journaltitle", "shortjournal", "year", "date", "month", "day",
                 "volume", "number", "issue", "pages", "doi", "pmid", "pmcid", "eprint", "eprinttype", "url",
                 "abstract", "editor", "Title", "AUTHOR"]  # fmt: skip
CSL_KEYS = ["id", "citation-key", "type", "title", "subtitle", "container-title", "container-title-short",
            "short-container-title", "journalAbbreviation", "volume", "issue", "page", "DOI", "PMID", "PMCID",
            "note", "URL", "abstract", "author", "issued", "published-print", "published-online", "published",
            "updated-by", "message", "items", "family", "given", "literal", "name", "date-parts", "raw",
            "non-dropping-particle", "dropping-particle"]  # fmt: skip
AGGREGATOR_KEYS = ["title", "authors", "doi", "DOIUrl", "journal", "name", "volume", "pages", "PeriodicalName",
                   "publicationDate", "year", "PMID", "pmid", "PMCID", "openAccessPdf", "url", "abstract",
                   "publicationTypes"]  # fmt: skip
TAG_PATTERNS = {
    "ris": re.compile(r"^([A-Z][A-Z0-9])  -", re.M),
    "medline": re.compile(r"^([A-Z][A-Z0-9]{1,3}) *-", re.M),
    "bibtex": re.compile(r"(?:^\s*|@)([A-Za-z-]+)\s*[={(]", re.M),
    "csl-json": re.compile(r'"([A-Za-z-]+)"\s*:'),
    "aggregator": re.compile(r'"([A-Za-z-]+)"\s*:'),
}
VALUE_PATTERNS = {
    "ris": re.compile(r"^[A-Z][A-Z0-9]  - (.+)$", re.M),
    "medline": re.compile(r"^[A-Z][A-Z0-9]{1,3} *- (.+)$", re.M),
    "bibtex": re.compile(r"=\s*[{\"]?(.*?)[}\"]?,?$", re.M),
    "csl-json": re.compile(r'"\s*:\s*"((?:[^"\\]|\\.)*)"'),
    "aggregator": re.compile(r'"\s*:\s*"((?:[^"\\]|\\.)*)"'),
}
TAG_VOCABULARY = {
    "ris": [*RIS_TAGS, "XY", "T9"],
    "medline": MEDLINE_TAGS,
    "bibtex": [*BIBTEX_FIELDS, "article", "Article", "book", "misc", "string", "comment", "preamble"],
    "csl-json": CSL_KEYS,
    "aggregator": AGGREGATOR_KEYS,
}


@st.composite
def mutated(draw, name: str) -> str:
    """Return a sample file after 1-6 random edits of its lines, characters, field names, numbers and values."""
    text, fmt = SAMPLE_TEXT[name], SAMPLES[name]
    for _ in range(draw(st.integers(1, 6))):
        operation = draw(st.sampled_from(["line", "line", "char", "char", "tag", "number", "value", "value"]))
        if operation == "line":
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            kind = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "cut"]))
            if kind == "delete":
                del lines[i]
            elif kind == "duplicate":
                lines.insert(j, lines[i])
            elif kind == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            elif kind == "insert":
                lines.insert(i, draw(injection))
            else:
                lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
            text = "\n".join(lines)
        elif operation == "char":
            i = draw(st.integers(0, len(text)))
            j = draw(st.integers(i, min(len(text), i + 30)))
            kind = draw(st.sampled_from(["insert", "insert", "delete", "duplicate", "truncate"]))
            if kind == "insert":
                text = text[:i] + draw(injection) + text[i:]
            elif kind == "delete":
                text = text[:i] + text[j:]
            elif kind == "duplicate":
                text = text[:j] + text[i:j] + text[j:]
            else:
                text = text[:i]
        elif operation == "tag":
            found = list(TAG_PATTERNS[fmt].finditer(text))
            if found:
                match = found[draw(st.integers(0, len(found) - 1))]
                new = draw(st.sampled_from(TAG_VOCABULARY[fmt]) | st.text(string.ascii_letters, max_size=4))
                text = text[: match.start(1)] + new + text[match.end(1) :]
        elif operation == "number":
            found = list(re.finditer(r"\d+", text))
            if found:
                match = found[draw(st.integers(0, len(found) - 1))]
                text = text[: match.start()] + draw(st.sampled_from(NUMBERS)) + text[match.end() :]
        else:  # replace a field's value, or put something into it
            found = [match for match in VALUE_PATTERNS[fmt].finditer(text) if match.group(1)]
            if found:
                match = found[draw(st.integers(0, len(found) - 1))]
                start, end = match.span(1)
                if draw(st.booleans()):
                    start = end = draw(st.integers(start, end))
                text = text[:start] + draw(injection) + text[end:]
    return text


# Values for generated records: text with the awkward characters, numbers, and the injections above.
field_text = st.one_of(
    st.sampled_from(INJECTIONS),
    st.sampled_from(NUMBERS),
    st.sampled_from(DATES),
    st.text(max_size=20),
    any_text.map(lambda t: t[:40]),
    st.tuples(st.text(max_size=8), st.sampled_from(INJECTIONS), st.text(max_size=8)).map("".join),
)
json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), field_text, st.sampled_from(["\ud800", "\x00", "\udfff"])
)
json_value = st.recursive(
    json_scalar,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(CSL_KEYS + AGGREGATOR_KEYS) | st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=8,
)


json_date = st.one_of(
    st.fixed_dictionaries(
        {
            "date-parts": st.lists(
                st.lists(st.integers() | st.sampled_from(NUMBERS) | json_scalar, max_size=4), max_size=2
            )
        }
    ),
    st.fixed_dictionaries({"raw": st.sampled_from(DATES) | field_text}),
    json_value,
)
json_names = st.lists(
    st.dictionaries(
        st.sampled_from(["family", "given", "literal", "name", "non-dropping-particle", "dropping-particle"]),
        field_text | json_value,
        max_size=3,
    ),
    max_size=3,
)
# What some fields hold, beyond any JSON value: dates, names, retraction notices.
JSON_FIELDS = {
    "issued": json_date,
    "published-online": json_date,
    "author": json_names | json_value,
    "updated-by": st.lists(
        st.fixed_dictionaries({"type": st.sampled_from(["retraction", "correction"])}, optional={"DOI": field_text})
    )
    | json_value,
    "publicationDate": st.sampled_from(DATES) | field_text | json_value,
    "journal": st.fixed_dictionaries({}, optional={"name": field_text, "volume": field_text, "pages": field_text}),
    "authors": field_text | json_names | json_value,
    "openAccessPdf": st.fixed_dictionaries({"url": field_text}) | field_text,
}


def _overridden(draw, base: dict, keys: list[str]) -> dict:
    dropped = draw(st.sets(st.sampled_from(sorted(base))))
    record = {key: value for key, value in base.items() if key not in dropped}
    for key in draw(st.lists(st.sampled_from(keys), max_size=4, unique=True)):
        record[key] = draw(st.one_of(field_text, JSON_FIELDS.get(key, json_value)))
    return record


CSL_BASES = [*json.loads(SAMPLE_TEXT["zotero.json"]), json.loads(SAMPLE_TEXT["crossref_work.json"])["message"]]
AGGREGATOR_BASE = json.loads(SAMPLE_TEXT["seed_aggregator.txt"].splitlines()[1])


def _tagged_records(text: str) -> list[list[tuple[str, str]]]:
    """Split RIS or MEDLINE sample text into records of (tag, value) lines, continuations folded in."""
    records = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = []
        for line in block.splitlines():
            match = re.match(r"^([A-Z][A-Z0-9]{1,3}) *- ?(.*)$", line)
            if match:
                lines.append((match.group(1), match.group(2)))
            elif lines:
                lines[-1] = (lines[-1][0], lines[-1][1] + " " + line.strip())
        records.append(lines)
    return records


RIS_BASES = _tagged_records(SAMPLE_TEXT["references.ris"])
MEDLINE_BASES = _tagged_records(SAMPLE_TEXT["pubmed.nbib"])


@st.composite
def tagged_record(draw, bases, tags) -> list[tuple[str, str]]:
    base = draw(st.sampled_from(bases))
    kept = [line for line, keep in zip(base, draw(st.lists(st.booleans(), min_size=len(base), max_size=len(base))),
                                       strict=True) if keep or line[0] in ("TY", "ER", "PMID")]  # fmt: skip
    for _ in range(draw(st.integers(0, 5))):
        line = (draw(st.sampled_from(tags)), draw(field_text))
        kept.insert(draw(st.integers(0, len(kept))), line)
    return kept


@st.composite
def generated_document(draw, fmt: str) -> str:
    """Return a document in `fmt` built from sample records with fields dropped, replaced and added."""
    if fmt == "csl-json":
        records = [
            _overridden(draw, draw(st.sampled_from(CSL_BASES)), CSL_KEYS) for _ in range(draw(st.integers(1, 3)))
        ]
        if draw(st.booleans()):
            records.insert(draw(st.integers(0, len(records))), draw(json_value))
        shape = draw(st.sampled_from(["array", "object", "crossref", "crossref-items"]))
        document = {
            "array": records,
            "object": records[0],
            "crossref": {"status": "ok", "message": records[0]},
            "crossref-items": {"message": {"items": records}},
        }[shape]
        return json.dumps(document, indent=draw(st.sampled_from([None, 1, 2])))
    if fmt == "aggregator":
        lines = [
            json.dumps(_overridden(draw, AGGREGATOR_BASE, AGGREGATOR_KEYS)) for _ in range(draw(st.integers(1, 3)))
        ]
        for _ in range(draw(st.integers(0, 3))):
            lines.insert(draw(st.integers(0, len(lines))), draw(field_text))
        return "\n".join(lines)
    if fmt == "bibtex":
        entries = []
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["article", "Article", "book", "misc", "inproceedings", "string", "online"]))
            key = draw(st.sampled_from(["valadi2007", "van_Niel_2018", "a", "1", ""]) | st.text(max_size=8))
            fields = draw(st.lists(st.tuples(st.sampled_from(BIBTEX_FIELDS), field_text), max_size=8))
            if draw(st.booleans()):
                fields += [("author", 'Valadi, Hadi and Ekstr{\\"o}m, Karin'), ("title", "Exosome transfer")]
            body = ",\n".join(
                f"  {name} = " + draw(st.sampled_from(["{{{}}}", '"{}"', "{}"])).format(value) for name, value in fields
            )
            entries.append(f"@{kind}{{{key},\n{body}\n}}")
        return "\n\n".join(entries)
    if fmt == "ris":
        records = draw(st.lists(tagged_record(RIS_BASES, [*RIS_TAGS, "XY"]), min_size=1, max_size=3))
        return "\n\n".join("\n".join(f"{tag}  - {value}" for tag, value in record) for record in records) + "\n"
    records = draw(st.lists(tagged_record(MEDLINE_BASES, MEDLINE_TAGS), min_size=1, max_size=3))
    return "\n\n".join("\n".join(f"{tag:<4}- {value}" for tag, value in record) for record in records) + "\n"


# --- Importers: all or nothing, and only ReferenceImportError -----------------------------------------------

# References on file before an import, so that imports also update, match by title and collide on keys.
ON_FILE = {
    "kalluri": {
        "citation_key": "kalluri2020",
        "title": "The biology, function, and biomedical applications of exosomes",
        "authors": [{"family": "Kalluri", "given": "Raghu"}],
        "year": 2020,
        "doi": "10.1126/science.aau6977",
        "pmid": "32029601",
    },
    "niel-doi": {
        "citation_key": "niel-doi",
        "title": "Another work",
        "authors": [{"literal": "A group"}],
        "year": 2018,
        "doi": "10.1038/nrm.2017.125",
    },
    "niel-pmid": {
        "citation_key": "niel-pmid",
        "title": "Yet another work",
        "authors": [{"literal": "A group"}],
        "year": 2018,
        "pmid": "29339798",
    },
    "valadi-title": {
        "citation_key": "valadi2007",
        "title": "Exosome-mediated transfer of mRNAs and microRNAs is a novel mechanism of genetic exchange "
        "between cells",
        "authors": [{"family": "Valadi", "given": "Hadi"}],
        "year": 2007,
    },
    "mahmoud-key": {
        "citation_key": "mahmoud2025",
        "title": "Something else entirely",
        "authors": [{"family": "Mahmoud", "given": "R"}],
        "year": 2025,
    },
    "wakefield": {
        "citation_key": "wakefield1998",
        "title": "Ileal-lymphoid-nodular hyperplasia, non-specific colitis, and pervasive developmental disorder "
        "in children",
        "authors": [{"family": "Wakefield", "given": "A J"}],
        "year": 1998,
        "pmid": "9500320",
        "is_retracted": True,
        "retraction_note": "Lancet. 2010.",
    },
}
on_file = st.sets(st.sampled_from(sorted(ON_FILE)))


def _rows() -> tuple[list[tuple], int]:
    """Return every Reference row (all columns) and the number of history rows."""
    return list(Reference.objects.order_by("pk").values_list()), Reference.history.count()


def _text_lines(text: str) -> int:
    return max(len(text.splitlines()), text.count("\n") + 1) + 1


def assert_all_or_nothing(text: str, *, format: str | None = None, existing: set[str] = frozenset()) -> None:
    """Import `text`; it saves references that pass full_clean, or raises ReferenceImportError and saves nothing.

    Everything happens in a savepoint rolled back at the end, so examples do not see each other's references.
    `existing` names the ON_FILE references to create first. Any other exception fails the test as it is.
    """
    with transaction.atomic():
        for name in sorted(existing):
            Reference.objects.create(**ON_FILE[name])
        before = _rows()
        keys_before = dict(Reference.objects.values_list("pk", "citation_key"))
        try:
            result = import_references(text, format=format)
        except ReferenceImportError as error:
            _assert_refused(error, text, before)
        else:
            _assert_saved(result, before, keys_before)
        finally:
            transaction.set_rollback(True)


def _assert_refused(error: ReferenceImportError, text: str, before: tuple[list[tuple], int]) -> None:
    assert isinstance(error.problems, list)
    assert error.problems, "ReferenceImportError without problems"
    for problem in error.problems:
        assert isinstance(problem, Problem)
        assert str(problem).strip(), problem
        assert problem.line is None or 1 <= problem.line <= _text_lines(text), (problem, _text_lines(text))
    assert str(error).strip()
    assert _rows() == before, "a failed import changed the database"


def _assert_saved(result: importers.ImportResult, before: tuple[list[tuple], int], keys_before: dict) -> None:
    saved = [*result.created, *result.updated]
    assert saved, "an import that succeeds saves at least one reference"
    assert Reference.objects.count() == len(before[0]) + len(result.created)
    for reference in saved:
        reference.full_clean()
        stored = Reference.objects.get(pk=reference.pk)
        stored.full_clean()  # what was written, after Reference.save() cleaned the values once more
        assert KEY_RE.match(stored.citation_key), stored.citation_key
        assert isinstance(citations.format_ama(stored), str)
    for reference in result.updated:
        assert keys_before[reference.pk] == reference.citation_key, "an update changed a citation key"


FORMAT_HINTS = ["", "@article{", "@article{k,\n title = {", "TY  - JOUR\n", "TY  - JOUR\nTI  - ", "PMID- 1\nTI  - ",
                "{", '{"title": "', "[", '[{"title": ', "\ufeff"]  # fmt: skip


@pytest.mark.django_db
@budget(2)
@given(
    hint=st.sampled_from(FORMAT_HINTS),
    text=any_text,
    format=st.sampled_from([None, *SUPPORTED_FORMATS]),
    existing=on_file,
)
def test_any_text_imports_all_or_nothing(hint, text, format, existing):
    assert_all_or_nothing(hint + text, format=format, existing=existing)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(SAMPLES))
@budget()
@given(data=st.data(), explicit_format=st.booleans(), existing=on_file)
def test_mutated_samples_import_all_or_nothing(name, data, explicit_format, existing):
    text = data.draw(mutated(name), label="text")
    assert_all_or_nothing(text, format=SAMPLES[name] if explicit_format else None, existing=existing)


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", sorted(SUPPORTED_FORMATS))
@budget()
@given(data=st.data(), explicit_format=st.booleans(), existing=on_file)
def test_generated_records_import_all_or_nothing(fmt, data, explicit_format, existing):
    text = data.draw(generated_document(fmt), label="text")
    assert_all_or_nothing(text, format=fmt if explicit_format else None, existing=existing)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_unmutated_samples_import(name):
    assert_all_or_nothing(SAMPLE_TEXT[name], format=SAMPLES[name])


# Minimal inputs of the bugs these properties found (some reduced by hand, or reached by reading the parser
# the fuzzer pointed at). Plain parametrized cases, so every profile, and CI, always runs them.
KNOWN_BAD_IMPORTS = [
    pytest.param("PMID- 32029601\n", None, id="medline-record-without-DP"),
    pytest.param("PMID- 1\nTI  - x\nFAU - A, B\nDP  - 2020 Feb 99999999999999999999\n", None, id="medline-huge-day"),
    pytest.param("PMID- 1\nTI  - x\nFAU - A, B\nDP  - 2020 Feb ²\n", None, id="medline-superscript-day"),
    pytest.param("PMID- 1\nTI  - x\nFAU - A, B\nDP  - 2020\nVI  - \x00\n", None, id="medline-nul-in-volume"),
    pytest.param("PMID- 1\nTI  - x\nFAU - \x00\nDP  - 2020\n", None, id="medline-nul-author"),
    pytest.param("@article{valadi2007,\n  year = {²}\n}", None, id="bibtex-superscript-year"),
    pytest.param("@article{valadi2007,\n  month = {²}\n}", None, id="bibtex-superscript-month"),
    pytest.param("TY  - JOUR\nTI  - &lt;b&gt;&lt;/b&gt;\nAU  - A, B\nER  - \n", None, id="ris-title-of-escaped-tags"),
    pytest.param("TY  - JOUR\nTI  - x\nJO  - J\x00\nAU  - A, B\nER  - \n", None, id="ris-nul-in-journal"),
    pytest.param('{"title": "x", "author": 5}', None, id="csl-author-not-a-list"),
    pytest.param('{"title": "x", "author": [{"family": "A"}], "updated-by": 5}', None, id="csl-updated-by-not-a-list"),
    pytest.param(
        '{"title": "x", "author": [{"family": "A"}], "issued": {"date-parts": [[2020, 2, 99999999999999999999]]}}',
        None,
        id="csl-huge-day",
    ),
    pytest.param(
        '{"title": "x", "author": [{"family": "A"}], "issued": {"date-parts": [[2020, "²"]]}}',
        None,
        id="csl-superscript-month",
    ),
    pytest.param('{"title": "x\\ud800", "author": [{"family": "A"}]}', None, id="csl-lone-surrogate"),
    pytest.param(
        '{"title": "&amp;lt;b&amp;gt;&amp;lt;/b&amp;gt;", "author": [{"family": "A"}]}',
        None,
        id="csl-title-of-double-escaped-tags",
    ),
    pytest.param('{"title": "x", "authors": "A B", "year": "²"}', "aggregator", id="aggregator-superscript-year"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "format"), KNOWN_BAD_IMPORTS)
def test_known_bad_inputs_import_all_or_nothing(text, format):
    assert_all_or_nothing(text, format=format)


@pytest.mark.django_db
@budget(0.1)
@given(unit=st.text(min_size=1, max_size=8), format=st.sampled_from([None, *SUPPORTED_FORMATS]))
def test_oversized_input_is_refused_before_parsing(unit, format):
    text = unit * (MAX_INPUT_BYTES // len(unit.encode("utf-8")) + 1)
    before = _rows()
    with pytest.raises(ReferenceImportError) as caught:
        import_references(text, format=format)
    assert [problem.line for problem in caught.value.problems] == [None]
    assert "2 MB" in str(caught.value)
    assert _rows() == before


@budget()
@given(format=st.text(max_size=12).filter(lambda name: name not in SUPPORTED_FORMATS and name))
def test_unknown_format_is_a_reference_import_error(format):
    with pytest.raises(ReferenceImportError) as caught:
        importers.parse_references(SAMPLE_TEXT["references.ris"], format=format)
    assert caught.value.problems
    assert all(str(problem) for problem in caught.value.problems)


# --- Citations -----------------------------------------------------------------------------------------

citation_key = st.one_of(
    st.sampled_from(["a", "mahmoud2025", "hu2016", "x:y.z-1", "_", "A_b", "9"]),
    st.from_regex(KEY_RE, fullmatch=True).filter(lambda key: len(key) <= 30),
)
not_a_key = st.sampled_from(["", " ", "smith 2020", "-a", "a-", "a.", ".a", "é", "a b", "@", "a]", "a,b"])


@st.composite
def marker(draw, keys=citation_key) -> str:
    parts = draw(st.lists(st.one_of(keys, keys, keys, not_a_key), min_size=1, max_size=4))
    space = st.sampled_from(["", " ", "  ", "\n", "\t"])
    inside = ";".join(draw(space) + "@" + part + draw(space) for part in parts)
    return "[" + draw(space) + inside + draw(space) + "]"


HTML_FRAGMENTS = [
    "<p>", "</p>", "<li>", "</li>", "<ul>", "</ul>", "<ol>", "<h2>", "</h2>", "<h3>", "<br>", "<br/>", "<td>", "</td>",
    "<table>", "<tr>", "<blockquote>", "<strong>", "</strong>", "<em>", "<sup>", '<a href="https://x.example/?q=[@a]">',
    "</a>", "<a title='[@b] > [@c]'>", '<p class="x>y">', "<!-- [@c] -->", "<", ">", "/", "&amp;", "&lt;", "&gt;",
    "&#91;@a]", "&nbsp;", "[", "]", "[@", "@", ";", ". ", "! ", "? ", ".", "e.g. ", "et al. ", "Dr. ", "Fig. 2",
    "No. ", "J. R. Smith ", "vitamin C. ", "2.5 ", "\n", "\t", "\xa0", '"', "'", "\u201d", ")", "(", "\ue000",
    "\ue001", "\ue0001\ue001", "\ue0000\ue001", "Faster. ", "It works", "cure ", "not a cure ", "FDA-approved ",
    "proven ", "in mice ", "helps ", "risk ",
]  # fmt: skip
htmlish = st.lists(st.one_of(st.sampled_from(HTML_FRAGMENTS), marker(), st.text(max_size=8)), max_size=30).map("".join)
body_text = st.one_of(any_text, htmlish)


@budget(2)
@given(text=body_text)
def test_citation_parsing_never_raises_and_keys_are_valid(text):
    markers = citations.find_markers(text)
    for found in markers:
        assert 0 <= found.start < found.end <= len(text)
        assert found.keys, found
        assert all(KEY_RE.match(key) for key in found.keys), found
    assert all(KEY_RE.match(key) for key in citations.citation_keys(text))
    assert all(isinstance(snippet, str) and snippet for snippet in citations.malformed_markers(text))
    for sentence in citations.sentences(text):
        assert all(1 <= index <= len(markers) for index in sentence.marker_indices), sentence
        assert all(KEY_RE.match(key) for key in sentence.keys)
    for statement in citations.statements(text):
        assert statement.keys
        assert statement.marker_indices
        assert all(1 <= index <= len(markers) for index in statement.marker_indices), statement


@budget(2)
@given(text=body_text, data=st.data())
def test_rendering_replaces_every_marker(text, data):
    keys = citations.citation_keys(text)
    known = data.draw(st.sets(st.sampled_from(keys)) if keys else st.just(set()), label="known")
    numbers = {key: number for number, key in enumerate(sorted(known), start=1)}
    rendered = citations.render_markers(text, numbers)
    assert citations.find_markers(rendered) == [], "a marker survived rendering"
    if set(keys) <= set(numbers):
        assert rendered.count('class="citation-missing"') == text.count('class="citation-missing"')
    anchors = citations.first_citation_anchors(text, numbers)
    assert set(anchors) <= set(numbers.values())


@budget(2)
@given(text=body_text)
def test_sentence_splitting_keeps_every_character_once(text):
    assert "".join(" ".join(citations.split_sentences(text)).split()) == "".join(text.split())


@budget(2)
@given(text=body_text)
def test_sentence_hashes_are_stable(text):
    first = [sentence.hash for sentence in citations.sentences(text)]
    assert first == [sentence.hash for sentence in citations.sentences(text)]
    assert all(re.fullmatch(r"[0-9a-f]{64}", value) for value in first)


@budget(2)
@given(
    before=body_text,
    after=body_text,
    keys=st.lists(citation_key, min_size=1, max_size=5, unique=True),
    data=st.data(),
)
def test_statement_hash_ignores_key_order_and_spacing_inside_a_marker(before, after, keys, data):
    reordered = data.draw(st.permutations(keys), label="reordered")
    repeated = data.draw(st.lists(st.sampled_from(keys), max_size=3), label="repeated")
    spacing = data.draw(st.sampled_from(["", " ", "  "]), label="spacing")
    one = f"[@{'; @'.join(keys)}]"
    other = f"[{spacing}@{(spacing + ';' + spacing + '@').join([*reordered, *repeated])}{spacing}]"
    assume(citations.find_markers(one) and citations.find_markers(other))
    first = citations.statements(f"<p>{before} {one}. {after}</p>")
    second = citations.statements(f"<p>{before} {other}. {after}</p>")
    assert [s.hash for s in first] == [s.hash for s in second]
    assert citations.statement_hash("Some words.", keys) == citations.statement_hash("Some words.", reordered)


@pytest.mark.parametrize("text", ["\ue0000\ue001", "<p>A [@a]. B \ue0002\ue001.</p>"])
def test_known_bad_bodies_split_into_sentences(text):
    for sentence in citations.sentences(text):
        assert all(1 <= index <= len(citations.find_markers(text)) for index in sentence.marker_indices)


author_dict = st.fixed_dictionaries({}, optional={"family": field_text, "given": field_text, "literal": field_text})
reference_like = st.builds(
    SimpleNamespace,
    authors=st.lists(author_dict, max_size=8),
    title=field_text,
    journal=field_text,
    journal_abbrev=field_text,
    year=st.none() | st.integers(0, 9999),
    volume=field_text,
    issue=field_text,
    pages=field_text,
    doi=field_text,
)


@budget()
@given(reference=reference_like)
def test_ama_formatting_of_importer_shaped_references_never_raises(reference):
    assert isinstance(citations.format_ama(reference), str)
    assert isinstance(citations.format_ama_html(reference), str)


def assert_formattable(authors, title: str) -> None:
    """A Reference the model accepts (as the admin would save it) has an AMA form."""
    reference = Reference(citation_key="k", authors=authors, title=title)
    try:
        reference.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError:
        return
    assert isinstance(reference.ama, str)
    assert isinstance(reference.ama_html, str)


@budget()
@given(authors=json_value, title=field_text.filter(str.strip))
def test_any_reference_the_model_accepts_can_be_formatted(authors, title):
    assert_formattable(authors, title)


@pytest.mark.parametrize("authors", [True, [None], ["Smith J"], {"family": "Smith"}])
def test_known_bad_authors_can_be_formatted(authors):
    assert_formattable(authors, "A title")


# --- Sanitizer -----------------------------------------------------------------------------------------

HOSTILE_FRAGMENTS = [
    "<script>", "</script>", "<SCRIPT SRC=//evil.example/x.js>", "<scr<script>ipt>", "alert(1)", "<img src=x ",
    "onerror=alert(1)>", '<a href="javascript:alert(1)">', "<a href='jav&#x09;ascript:alert(1)'>",
    '<a href="&#106;avascript:x">', "<a href=java\nscript:x>", "<a href=//evil.example>", "<a href=https://x.example/>",
    '<a href="mailto:a@b.example" rel="x" onclick="y">', "<svg onload=alert(1)>", "<style>", "</style>", "<iframe>",
    "<math>", "<template>", "<textarea>", "</textarea>", "<noscript>", "<!--", "-->", "<![CDATA[", "]]>", "<?xml ?>",
    "<!DOCTYPE html>", "<p onclick=x>", '<p style="x">', '<td colspan="2" onmouseover="x">', "<table>", "<tr>",
    "<div>", "</div>", "<b>", "<i>", "<<", "<!", "</", "<p/", "< p>", "\x00", "&#0;", "&lt;script&gt;", "&",
    " onload=", "javascript:", "=", '"', "'", "`", ">", "<",
]  # fmt: skip
hostile_html = st.lists(
    st.one_of(st.sampled_from(HOSTILE_FRAGMENTS), st.sampled_from(HTML_FRAGMENTS), st.text(max_size=6)), max_size=25
).map("".join)
markup = st.one_of(any_text, hostile_html)


class _TagCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def _start_tags(value: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    collector = _TagCollector()
    collector.feed(value)
    collector.close()
    return collector.tags


def assert_clean_html_properties(value: str) -> None:
    cleaned = clean_html(value)
    assert clean_html(cleaned) == cleaned, "clean_html is not idempotent"
    assert "<script" not in cleaned.lower()
    # No event-handler attribute in any tag (quoted attribute values and prose may say " onload=" as text).
    for tag in re.findall(r"<[^<>]*>?", cleaned):
        assert not re.search(r"[\s/]on[a-z]*\s*=", re.sub(r"\"[^\"]*\"|'[^']*'", '""', tag), re.I), tag
    for name, attributes in _start_tags(cleaned):
        assert name in ALLOWED_TAGS, name
        for attribute, attribute_value in attributes:
            assert attribute in ALLOWED_ATTRIBUTES.get(name, []), (name, attribute)
            if attribute == "href":  # no javascript: (or any other scheme) link, however it is spelled
                href = re.sub(r"[\s\x00-\x1f]", "", attribute_value or "").lower()
                assert "javascript:" not in href, attribute_value
                scheme = re.match(r"([a-z][a-z0-9+.\-]*):", href)
                assert scheme is None or scheme.group(1) in ALLOWED_PROTOCOLS, attribute_value


def assert_plain_text_properties(value: str) -> None:
    text = plain_text(value)
    assert text == " ".join(text.split())
    # No tag left. An entity such as "&lt;b&gt;" decodes to "<b>" by design (plain_text returns text, which
    # templates escape), and "<a" without ">" is not a tag, so the check is for whole tags in '&'-free input.
    if "&" not in value:
        assert not re.search(r"</?[A-Za-z][^<>]*>", text), text
    assert plain_text(html.escape(text)) == text  # shown escaped and read back, plain text stays the same


@budget(3)
@given(value=markup)
def test_clean_html_is_idempotent_and_lets_no_script_through(value):
    assert_clean_html_properties(value)


@budget(3)
@given(value=markup)
@example(value="<<A?")  # once read back as "", because "< ?" counted as the start of a tag
def test_plain_text_leaves_no_markup(value):
    assert_plain_text_properties(value)


SITE_URL = "https://clinic.example"
LINK_FRAGMENTS = [
    "/", "\\", "//", "\t", "\n", "\r", " ", "\x0b", "\x01", "https:", "http:", "HTTPS:", "hTtP:", "javascript:",
    "mailto:", "ftp:", "evil.example", "clinic.example", "CLINIC.example", "@", ":", ":443", "%5C", "%2F", "%2E",
    ".", "..", "?", "#", "&#92;", "&#47;", "&#x2f;", "&#9;", "&amp;", "&sol;", "&commat;", "x",
]  # fmt: skip
hrefs = st.one_of(
    st.lists(st.one_of(st.sampled_from(LINK_FRAGMENTS), st.text(max_size=3)), max_size=10).map("".join),
    st.text(max_size=20),
)


def browser_host(href: str) -> str:
    """Return the host a browser on SITE_URL goes to for `href` ("" if it is not a web address).

    A model of the WHATWG URL steps that decide the host, then urllib.parse.urljoin: kept apart from the
    parser sanitize.py uses, so the two check each other.
    """
    href = re.sub("[\t\n\r]", "", href.strip("".join(map(chr, range(0x21)))))
    end = re.search("[?#]", href)
    cut = end.start() if end else len(href)
    href = href[:cut].replace("\\", "/") + href[cut:]  # in http(s) addresses a backslash is a slash
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", href)
    if scheme:
        name, rest = scheme.group(1).lower(), href[scheme.end() :]
        if name not in ("http", "https"):
            return ""
        # The site's own scheme without "//" is a path on the site; any other takes what follows as a host.
        href = f"{name}:{rest}" if name == urlsplit(SITE_URL).scheme else f"{name}://{rest.lstrip('/')}"
    href = re.sub(r"^((?:https?:)?)//+", r"\1//", href)  # any run of slashes starts a host
    return unquote(urlsplit(urljoin(SITE_URL + "/", href)).hostname or "").lower()


@budget(4)
@given(href=hrefs, quoted=st.booleans())
def test_every_link_kept_stays_on_the_site_or_is_marked_external(settings, href, quoted):
    settings.SITE_URL = SITE_URL
    source = html.escape(href) if quoted else href.replace('"', "")  # as typed, or with references as written
    for name, attributes in _start_tags(clean_html(f'<p><a href="{source}">x</a></p>')):
        link = dict(attributes)
        if name != "a" or "href" not in link or link.get("rel") == EXTERNAL_LINK_REL:
            continue
        assert "rel" not in link, link
        assert browser_host(link["href"]) == "clinic.example", link


@pytest.mark.parametrize("value", ["<a><table><a>x"])
def test_known_bad_markup_cleans_idempotently(value):
    assert_clean_html_properties(value)


@pytest.mark.parametrize("value", ["</<A>"])
def test_known_bad_markup_leaves_no_tag_in_plain_text(value):
    assert_plain_text_properties(value)


# --- Claims --------------------------------------------------------------------------------------------

FLAGS = [
    claims.RedFlag("cure", "Nothing here cures anything.", "Say what studies found."),
    claims.RedFlag("FDA-approved", "Not approved.", "Say the FDA has not approved it."),
    claims.RedFlag("no side effects", "Every treatment has some.", "Name the known side effects."),
    claims.RedFlag("100%", "Absolutes.", "Give numbers."),
    claims.RedFlag("risk-free", "Nothing is.", "Name the risks."),
]
red_flag = st.builds(
    claims.RedFlag,
    phrase=st.one_of(st.sampled_from(["cure", "proven", "%", "a-b", "-", "it"]), st.text(min_size=1, max_size=12)),
    why=st.text(min_size=1, max_size=20).filter(str.strip),
    instead=st.text(max_size=20),
)


@budget(2)
@given(
    title=any_text,
    summary=any_text,
    body=body_text,
    extra_flags=st.lists(red_flag, max_size=3),
    not_fda_approved=st.booleans(),
    treatment=st.booleans(),
    data=st.data(),
)
def test_check_article_never_raises_and_explains_every_finding(
    title, summary, body, extra_flags, not_fda_approved, treatment, data
):
    hashes = sorted({sentence.hash for sentence in citations.sentences(body)})
    levels = data.draw(st.dictionaries(st.sampled_from(hashes), st.sampled_from("ABCDEF")) if hashes else st.just({}))
    findings = claims.check_article(
        title=title,
        summary=summary,
        body_html=body,
        flags=FLAGS + extra_flags,
        levels=levels,
        not_fda_approved=not_fda_approved,
        treatment=treatment,
    )
    for finding in findings:
        assert finding.message.strip(), finding
        assert finding.rule
        assert re.fullmatch(r"[0-9a-f]{32}", finding.key)


@budget(2)
@given(body=body_text)
def test_readability_never_raises(body):
    result = claims.readability(body)
    assert 0.0 <= result.grade < float("inf")
    assert len(result.longest_sentences) <= claims.LONGEST_SENTENCES_SHOWN
    assert all(finding.message.strip() for finding in result.findings)


@budget(2)
@given(text=body_text, level=st.sampled_from([*"ABCDEF", "", "Z"]))
def test_evidence_and_red_flag_rules_never_raise(text, level):
    for finding in [*claims.evidence_wording(text, level), *claims.red_flags(text, FLAGS), *claims.fda_wording(text)]:
        assert finding.message.strip(), finding
        assert finding.suggestion.strip(), finding
