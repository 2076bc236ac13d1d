"""Reference records of a chosen size in every import format, for the size tests and tests/perf/importer_sizes.py.

`large_record(format, shape, size)` returns one record of about `size` bytes whose bulk is in one place:
"title" and "abstract" (one huge field), "name" (one huge author name), "authors" (many short authors) or
"fields" (many other fields: keywords, MeSH terms, extra keys). The text carries markup (LaTeX in BibTeX,
HTML elsewhere): decoding markup is what made long fields slow.
"""

import json

FORMATS = ("bibtex", "ris", "medline", "csl-json", "aggregator")
SHAPES = ("title", "abstract", "name", "authors", "fields")
WORDS = {"bibtex": r"Exosomes {\em in} d\'ermatology ", "default": "Exosomes <i>in</i> dermatology &amp; "}
WRAP = 70  # MEDLINE wraps long values onto six-space continuation lines of about this width


def large_record(format: str, shape: str, size: int) -> str:
    """Return one record in `format` of about `size` bytes, its bulk in the part `shape` names."""
    small, large = (len(_build(format, shape, units).encode()) for units in (1000, 2000))
    return _build(format, shape, 1000 + round((size - small) * 1000 / (large - small)))


def _build(format: str, shape: str, units: int) -> str:
    """Return the record with `units` characters of bulk (one huge field) or `units` authors or fields."""
    words = WORDS.get(format, WORDS["default"])
    bulk = (words * (units // len(words) + 1))[:units]
    return BUILDERS[format](shape, bulk, units)


def _title_abstract_name(shape: str, bulk: str) -> tuple[str, str, str]:
    title = bulk if shape == "title" else "A study of exosomes"
    abstract = bulk if shape == "abstract" else "Short abstract."
    name = bulk.replace(" ", "x").replace(";", "") if shape == "name" else "Mahmoud"
    return title, abstract, name


def _bibtex(shape: str, bulk: str, count: int) -> str:
    title, abstract, name = _title_abstract_name(shape, bulk)
    authors = " and ".join(f"Author{number:06}, A." for number in range(count)) if shape == "authors" else f"{name}, R."
    extra = (
        "".join(f"  note{number:06} = {{Keyword {number:06}}},\n" for number in range(count))
        if shape == "fields"
        else ""
    )
    return (
        f"@article{{big2025,\n  author = {{{authors}}},\n  title = {{{title}}},\n  abstract = {{{abstract}}},\n"
        f"{extra}  journal = {{J Test}},\n  year = {{2025}}\n}}\n"
    )


def _ris(shape: str, bulk: str, count: int) -> str:
    title, abstract, name = _title_abstract_name(shape, bulk)
    authors = [f"Author{number:06}, A" for number in range(count)] if shape == "authors" else [f"{name}, R"]
    extra = [f"KW  - keyword {number:06}" for number in range(count)] if shape == "fields" else []
    lines = ["TY  - JOUR", *(f"AU  - {author}" for author in authors), f"TI  - {title}", f"AB  - {abstract}"]
    return "\n".join([*lines, *extra, "PY  - 2025", "ER  - ", ""])


def _medline(shape: str, bulk: str, count: int) -> str:
    title, abstract, name = _title_abstract_name(shape, bulk)
    authors = [f"Author{number:06}, A" for number in range(count)] if shape == "authors" else [f"{name}, R"]
    extra = [f"MH  - Term {number:06}" for number in range(count)] if shape == "fields" else []
    lines = ["PMID- 40000001", _wrapped("TI  - ", title), _wrapped("AB  - ", abstract)]
    lines += [f"FAU - {author}" for author in authors]
    return "\n".join([*lines, *extra, "DP  - 2025 Apr", ""])


def _wrapped(tag: str, value: str) -> str:
    """Return a MEDLINE tag line, wrapped as PubMed wraps long values."""
    pieces = [value[start : start + WRAP] for start in range(0, len(value), WRAP)] or [""]
    return tag + "\n      ".join(pieces)


def _csl_json(shape: str, bulk: str, count: int) -> str:
    title, abstract, name = _title_abstract_name(shape, bulk)
    authors = [{"family": f"Author{number:06}", "given": "A"} for number in range(count)] if shape == "authors" else []
    item = {
        "id": "big2025",
        "type": "article-journal",
        "title": title,
        "abstract": abstract,
        "author": authors or [{"family": name, "given": "R"}],
        "issued": {"date-parts": [[2025]]},
    }
    if shape == "fields":
        item.update({f"custom{number:06}": f"value {number:06}" for number in range(count)})
    return json.dumps([item])


def _aggregator(shape: str, bulk: str, count: int) -> str:
    title, abstract, name = _title_abstract_name(shape, bulk)
    authors = ", ".join(f"Author{number:06} A" for number in range(count)) if shape == "authors" else f"{name} R"
    item = {"title": title, "authors": authors, "abstract": abstract, "publicationDate": "2025-04-01"}
    if shape == "fields":
        item.update({f"custom{number:06}": f"value {number:06}" for number in range(count)})
    return json.dumps(item) + "\n"


BUILDERS = {"bibtex": _bibtex, "ris": _ris, "medline": _medline, "csl-json": _csl_json, "aggregator": _aggregator}
