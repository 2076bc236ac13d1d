import datetime
import json
import time
from pathlib import Path

import pytest

from articles import importers
from articles.importers import (
    BIBTEX_BAD_BLOCK,
    DUPLICATE_IN_BATCH,
    EMPTY_INPUT,
    IDENTIFIER_CONFLICT,
    INVALID_DATE,
    INVALID_DOI,
    INVALID_JSON,
    INVALID_PMCID,
    INVALID_PMID,
    MEDLINE_BAD_LINE,
    MEDLINE_NO_PMID,
    MISSING_AUTHORS,
    MISSING_TITLE,
    NO_RECORDS,
    NOT_A_JSON_OBJECT,
    RIS_BAD_LINE,
    RIS_NO_END,
    RIS_OUTSIDE_RECORD,
    RIS_UNKNOWN_TAG,
    SAME_REFERENCE_IN_BATCH,
    SUPPORTED_FORMATS,
    UNRECOGNISED_FORMAT,
    YEAR_NOT_A_NUMBER,
    YEAR_OUT_OF_RANGE,
    ParsedReference,
    Problem,
    ReferenceImportError,
    detect_format,
    import_references,
    parse_references,
)
from articles.models import Reference
from tests.factories import ReferenceFactory
from tests.large_records import FORMATS, large_record

DATA = Path(__file__).parent / "data" / "importers"
NEXT_YEAR = datetime.date.today().year + 1
SEED_PDF = "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC12007658/pdf/"


def sample(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def problems_of(text: str, **kwargs) -> list[str]:
    with pytest.raises(ReferenceImportError) as caught:
        parse_references(text, **kwargs)
    return [str(problem) for problem in caught.value.problems]


def aggregator_line(**fields) -> str:
    """Return one aggregator JSON line, the seed's fields overridden by `fields`."""
    record = {
        "title": "A study of exosomes.",
        "authors": "Rami H Mahmoud, Ariel E Eber",
        "doi": "",
        "journal": {"name": "Journal of Clinical and Aesthetic Dermatology", "volume": "18 4", "pages": "33-40"},
        "publicationDate": "2025-04-01",
        "publicationTypes": "Journal Article",
    }
    record.update(fields)
    return json.dumps(record)


def ris_record(*lines: str, title: str = "A study of exosomes") -> str:
    return "\n".join(["TY  - JOUR", "AU  - Mahmoud, Rami H", f"TI  - {title}", "PY  - 2025", *lines, "ER  - ", ""])


def medline_record(*lines: str, pmid: str = "40000001") -> str:
    head = [f"PMID- {pmid}"] if pmid else []
    return "\n".join([*head, "TI  - A study of exosomes.", "FAU - Mahmoud, Rami H", "DP  - 2025 Apr", *lines, ""])


def bibtex_entry(key: str = "mahmoud2025", **fields: str) -> str:
    values = {"author": "Mahmoud, Rami H.", "title": "A study of exosomes", "year": "2025", **fields}
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in values.items() if value is not None)
    return f"@article{{{key},\n{body}\n}}\n"


def csl_item(**fields) -> dict:
    item = {
        "id": "mahmoud2025",
        "type": "article-journal",
        "title": "A study of exosomes",
        "author": [{"family": "Mahmoud", "given": "Rami H"}],
        "issued": {"date-parts": [[2025, 4, 1]]},
    }
    item.update(fields)
    return item


def csl(*items: dict) -> str:
    return json.dumps(list(items), indent=2)


# --- The seed record --------------------------------------------------------------------------------


def test_seed_file_is_an_exact_copy_of_the_shared_seed():
    # ../shared beside the project, or where these machines keep it; a clone elsewhere has no copy to compare.
    seed = Path("seeds") / "004_2386e5d47363bf83.txt"
    places = [Path(__file__).resolve().parents[2] / "shared" / seed, Path("/work/shared") / seed]
    shared = next((place for place in places if place.exists()), None)
    if shared is None:
        pytest.skip("the shared seeds are not beside this checkout (they are data, not a tool the tests need)")
    assert (DATA / "seed_aggregator.txt").read_bytes() == shared.read_bytes()


def test_seed_parses_to_the_exact_fields():
    [record] = parse_references(sample("seed_aggregator.txt"))
    assert record.authors == [
        {"family": "Mahmoud", "given": "Rami H"},
        {"family": "Peterson", "given": "Erik"},
        {"family": "Badiavas", "given": "Evangelos V"},
        {"family": "Kaminer", "given": "Michael"},
        {"family": "Eber", "given": "Ariel E"},
    ]
    assert record.title == "Exosomes: A Comprehensive Review for the Practicing Dermatologist."
    assert record.journal == "Journal of Clinical and Aesthetic Dermatology"
    assert (record.volume, record.issue, record.pages) == ("18", "4", "33-40")
    assert (record.year, record.published_on) == (2025, datetime.date(2025, 4, 1))
    assert record.open_access_pdf == SEED_PDF
    assert record.pmcid == "PMC12007658"  # read from the PMC address of the PDF
    assert record.doi == ""
    assert record.publication_type == "journal article"
    assert record.abstract.startswith("This clinical review examines what is known about exosomes")
    assert "<" not in record.abstract
    assert record.source_line == 2


@pytest.mark.django_db
def test_seed_imports_with_the_exact_fields_and_ama_authors():
    result = import_references(sample("seed_aggregator.txt"))
    [reference] = result.created
    reference.refresh_from_db()
    assert reference.citation_key == "mahmoud2025"
    assert reference.title == "Exosomes: A Comprehensive Review for the Practicing Dermatologist."
    assert reference.journal == "Journal of Clinical and Aesthetic Dermatology"
    assert (reference.volume, reference.issue, reference.pages) == ("18", "4", "33-40")
    assert (reference.year, reference.published_on) == (2025, datetime.date(2025, 4, 1))
    assert reference.open_access_pdf == SEED_PDF
    assert reference.ama.startswith(
        "Mahmoud RH, Peterson E, Badiavas EV, Kaminer M, Eber AE. "
        "Exosomes: A Comprehensive Review for the Practicing Dermatologist. "
        "Journal of Clinical and Aesthetic Dermatology. 2025;18(4):33-40."
    )


@pytest.mark.django_db
def test_importing_the_seed_twice_keeps_one_reference():
    first = import_references(sample("seed_aggregator.txt"))
    second = import_references(sample("seed_aggregator.txt"))
    assert Reference.objects.count() == 1
    assert second.created == []
    assert [ref.pk for ref in second.updated] == [first.created[0].pk]
    assert second.updated[0].citation_key == "mahmoud2025"


# --- Good records of each format ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("seed_aggregator.txt", "aggregator"),
        ("zotero.json", "csl-json"),
        ("crossref_work.json", "csl-json"),
        ("references.bib", "bibtex"),
        ("references.ris", "ris"),
        ("pubmed.nbib", "medline"),
    ],
)
def test_detect_format(name, expected):
    assert detect_format(sample(name)) == expected
    assert expected in SUPPORTED_FORMATS


def test_detect_format_reads_a_single_aggregator_object_and_json_lines():
    assert detect_format(aggregator_line()) == "aggregator"
    assert detect_format(aggregator_line() + "\nAbstract\n" + aggregator_line(title="Other")) == "aggregator"
    assert detect_format(csl(csl_item())) == "csl-json"


def test_explicit_format_overrides_detection():
    text = aggregator_line()
    assert detect_format(text) == "aggregator"
    assert problems_of(text, format="csl-json") == [f"Line 1: {MISSING_AUTHORS}"]


def test_bibtex_sample():
    valadi, van_niel = parse_references(sample("references.bib"))
    assert valadi.source_key == "valadi2007"
    assert valadi.source_line == 4
    assert valadi.authors[1] == {"family": "Ekström", "given": "Karin"}
    assert valadi.title == (
        "Exosome-mediated transfer of mRNAs and microRNAs is a novel mechanism of genetic exchange between cells"
    )
    assert (valadi.journal, valadi.journal_abbrev) == ("Nature Cell Biology", "Nat Cell Biol")
    assert (valadi.year, valadi.volume, valadi.issue, valadi.pages) == (2007, "9", "6", "654-659")
    assert (valadi.doi, valadi.pmid) == ("10.1038/ncb1596", "17486113")
    assert van_niel.authors[0] == {"family": "van Niel", "given": "Guillaume"}
    assert van_niel.authors[2] == {"family": "Raposo", "given": "Graça"}
    assert (van_niel.year, van_niel.doi, van_niel.pmid) == (2018, "10.1038/nrm.2017.125", "29339798")
    assert van_niel.journal == "Nature Reviews Molecular Cell Biology"


def test_bibtex_group_author_month_and_day():
    text = bibtex_entry(author='{World Health Organization} and M{\\"u}ller, J{\\"o}rg', month="apr", day="7")
    [record] = parse_references(text)
    assert record.authors == [{"literal": "World Health Organization"}, {"family": "Müller", "given": "Jörg"}]
    assert record.published_on == datetime.date(2025, 4, 7)


def test_ris_sample():
    van_niel, kalluri = parse_references(sample("references.ris"))
    assert (van_niel.source_key, van_niel.source_line) == ("vanniel2018", 1)
    assert van_niel.authors[0] == {"family": "van Niel", "given": "Guillaume"}
    assert (van_niel.journal, van_niel.journal_abbrev) == (
        "Nature Reviews Molecular Cell Biology",
        "Nat Rev Mol Cell Biol",
    )
    assert (van_niel.year, van_niel.volume, van_niel.issue, van_niel.pages) == (2018, "19", "4", "213-228")
    assert (van_niel.doi, van_niel.pmid) == ("10.1038/nrm.2017.125", "29339798")
    assert van_niel.url == "https://doi.org/10.1038/nrm.2017.125"
    assert van_niel.publication_type == "journal article"
    assert kalluri.source_line == 20
    assert (kalluri.pmid, kalluri.pmcid) == ("32029601", "PMC7717626")  # from N1 notes
    assert kalluri.published_on == datetime.date(2020, 2, 7)
    assert kalluri.abstract.endswith("how they might be used in diagnosis and therapy.")


def test_medline_sample_with_retraction():
    kalluri, wakefield = parse_references(sample("pubmed.nbib"))
    assert kalluri.source_line == 2
    assert kalluri.authors == [{"family": "Kalluri", "given": "Raghu"}, {"family": "LeBleu", "given": "Valerie S"}]
    assert (kalluri.journal, kalluri.journal_abbrev) == ("Science (New York, N.Y.)", "Science")
    assert kalluri.published_on == datetime.date(2020, 2, 7)
    assert (kalluri.doi, kalluri.pmid, kalluri.pmcid) == ("10.1126/science.aau6977", "32029601", "PMC7717626")
    assert kalluri.publication_type == "review"  # PT Journal Article and Review: the more specific
    assert not kalluri.is_retracted
    assert wakefield.source_line == 28
    assert wakefield.title == (
        "Ileal-lymphoid-nodular hyperplasia, non-specific colitis, and pervasive developmental disorder in children."
    )
    assert (wakefield.volume, wakefield.issue, wakefield.pages) == ("351", "9103", "637-41")
    assert wakefield.doi == "10.1016/s0140-6736(97)11096-0"
    assert wakefield.is_retracted
    assert wakefield.retraction_note.startswith("Retraction in: Lancet. 2010 Feb 6;375(9713):445.")


def test_medline_group_author_au_fallback_and_retraction_without_rin():
    text = medline_record("CN  - World Health Organization", "AU  - Eber AE", "PT  - Retracted Publication")
    text = text.replace("FAU - Mahmoud, Rami H", "AU  - Mahmoud RH")
    [record] = parse_references(text, format="medline")
    assert record.authors == [
        {"family": "Mahmoud", "given": "R H"},
        {"literal": "World Health Organization"},
        {"family": "Eber", "given": "A E"},
    ]
    assert record.is_retracted
    assert record.retraction_note == importers.MEDLINE_RETRACTION_NOTE.format(pmid="40000001")


def test_csl_json_zotero_sample():
    kalluri, van_niel = parse_references(sample("zotero.json"))
    assert (kalluri.source_key, kalluri.source_line) == ("kalluri2020", 2)
    assert kalluri.published_on == datetime.date(2020, 2, 7)
    assert (kalluri.pmid, kalluri.pmcid, kalluri.pages) == ("32029601", "PMC7717626", "eaau6977")
    assert van_niel.source_line == 21
    assert van_niel.authors[0] == {"family": "van Niel", "given": "Guillaume"}
    assert (van_niel.year, van_niel.published_on, van_niel.pmid) == (2018, None, "29339798")


def test_csl_json_crossref_response():
    [record] = parse_references(sample("crossref_work.json"))
    assert record.title.startswith("Minimal information for studies of extracellular vesicles 2018 (MISEV2018)")
    assert (record.journal, record.journal_abbrev) == ("Journal of Extracellular Vesicles", "J Extracell Vesicles")
    assert record.published_on == datetime.date(2018, 11, 23)  # from published-online
    assert record.authors[0] == {"family": "Théry", "given": "Clotilde"}
    assert record.authors[2] == {"literal": "International Society for Extracellular Vesicles"}
    assert record.abstract == "Sample abstract written for the test data. It has two paragraphs."


def test_csl_json_single_object_and_crossref_retraction():
    text = csl(csl_item(**{"updated-by": [{"type": "retraction", "DOI": "10.5555/retraction"}]}))[1:-1]
    [record] = parse_references(text)
    assert record.is_retracted
    assert "10.5555/retraction" in record.retraction_note


# --- Malformed input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", EMPTY_INPUT),
        ("\ufeff  \n\n ", EMPTY_INPUT),
        ("Just some notes about exosomes.\nNo records here.", UNRECOGNISED_FORMAT),
    ],
)
def test_input_that_is_not_a_batch(text, expected):
    assert problems_of(text) == [expected]


def test_input_over_two_megabytes_is_refused():
    text = aggregator_line() + "\n" + "x" * (2 * 1024 * 1024)
    [message] = problems_of(text)
    assert "the limit is 2 MB" in message


def test_unknown_format_name():
    [message] = problems_of(aggregator_line(), format="endnote")
    assert message.startswith("Unknown format 'endnote'")


@pytest.mark.parametrize(
    ("format", "text", "expected"),
    [
        ("aggregator", "Notes without any JSON line\n", NO_RECORDS.format(format=SUPPORTED_FORMATS["aggregator"])),
        ("csl-json", "[]", NO_RECORDS.format(format=SUPPORTED_FORMATS["csl-json"])),
        ("bibtex", "% only a comment\n", NO_RECORDS.format(format=SUPPORTED_FORMATS["bibtex"])),
        ("ris", "Exported 0 references\n", f"Line 1: {RIS_OUTSIDE_RECORD}"),
        ("medline", "\n\n", EMPTY_INPUT),
    ],
)
def test_a_batch_without_records(format, text, expected):
    assert problems_of(text, format=format) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (aggregator_line(title=""), f"Line 1: {MISSING_TITLE}"),
        (aggregator_line(authors=""), f"Line 1: {MISSING_AUTHORS}"),
        (aggregator_line(publicationDate="n.d."), "Line 1: " + YEAR_NOT_A_NUMBER.format(value="n.d.")),
        (
            aggregator_line(publicationDate="1700-01-01"),
            "Line 1: " + YEAR_OUT_OF_RANGE.format(value=1700, first=1800, last=NEXT_YEAR),
        ),
        (aggregator_line(publicationDate="2025-02-30"), "Line 1: " + INVALID_DATE.format(value="2025-02-30")),
        (aggregator_line(doi="doi.org/not-a-doi"), "Line 1: " + INVALID_DOI.format(value="doi.org/not-a-doi")),
        (aggregator_line(PMID="PM123"), "Line 1: " + INVALID_PMID.format(value="PM123")),
        (aggregator_line(PMCID="PMCX1"), "Line 1: " + INVALID_PMCID.format(value="PMCX1")),
        (
            aggregator_line() + "\n" + '{"title": "Broken", ',
            "Line 2: " + INVALID_JSON.format(error="Expecting property name enclosed in double quotes", column=21),
        ),
    ],
)
def test_malformed_aggregator_records(text, expected):
    assert expected in problems_of(text, format="aggregator")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[\n  {"title": "x",\n  "author": ]\n]', "Line 3: " + INVALID_JSON.format(error="Expecting value", column=13)),
        ('"just a string"', "Line 1: " + NOT_A_JSON_OBJECT.format(found="a string")),
        (csl(csl_item(), 42), "Line 22: " + NOT_A_JSON_OBJECT.format(found="a number")),
        (csl(csl_item(title=["", None])), f"Line 2: {MISSING_TITLE}"),
        (csl(csl_item(author=[])), f"Line 2: {MISSING_AUTHORS}"),
        (csl(csl_item(issued={"date-parts": [["2025a"]]})), "Line 2: " + YEAR_NOT_A_NUMBER.format(value="2025a")),
        (csl(csl_item(DOI="11.1000/x")), "Line 2: " + INVALID_DOI.format(value="11.1000/x")),
        (csl(csl_item(PMID="12a")), "Line 2: " + INVALID_PMID.format(value="12a")),
        (csl(csl_item(PMCID="PMC")), "Line 2: " + INVALID_PMCID.format(value="PMC")),
    ],
)
def test_malformed_csl_json(text, expected):
    assert expected in problems_of(text, format="csl-json")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (bibtex_entry(title=None), f"Line 1: {MISSING_TITLE}"),
        (bibtex_entry(author=None), f"Line 1: {MISSING_AUTHORS}"),
        (bibtex_entry(year="in press"), "Line 1: " + YEAR_NOT_A_NUMBER.format(value="in press")),
        (
            bibtex_entry(year=str(NEXT_YEAR + 5)),
            "Line 1: " + YEAR_OUT_OF_RANGE.format(value=NEXT_YEAR + 5, first=1800, last=NEXT_YEAR),
        ),
        (bibtex_entry(doi="10.1000"), "Line 1: " + INVALID_DOI.format(value="10.1000")),
        (bibtex_entry(pmid="n/a"), "Line 1: " + INVALID_PMID.format(value="n/a")),
        (
            "@article{broken,\n  title = {no closing brace\n\n" + bibtex_entry(),
            "Line 1: "
            + BIBTEX_BAD_BLOCK.format(
                reason="Unexpected block start: `@article`. Was still looking for field-value closing `}`."
            ),
        ),
        (
            bibtex_entry() + "\n" + bibtex_entry(),
            "Line 7: "
            + BIBTEX_BAD_BLOCK.format(reason="the key 'mahmoud2025' is already used by the entry on line 1."),
        ),
        (
            "@article{dupfield, title = {A}, title = {B}, author = {X, Y}}\n",
            "Line 1: " + BIBTEX_BAD_BLOCK.format(reason="the field title is given more than once."),
        ),
    ],
)
def test_malformed_bibtex(text, expected):
    assert expected in problems_of(text, format="bibtex")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ris_record().replace("ER  - \n", ""), f"Line 1: {RIS_NO_END}"),
        (ris_record().replace("ER  - \n", "") + ris_record(), f"Line 1: {RIS_NO_END}"),
        (ris_record("ZZ  - whatever"), "Line 5: " + RIS_UNKNOWN_TAG.format(tag="ZZ")),
        (ris_record("VL - 18"), f"Line 5: {RIS_BAD_LINE}"),
        ("Exported from somewhere\n" + ris_record(), f"Line 1: {RIS_OUTSIDE_RECORD}"),
        (ris_record(title=""), f"Line 1: {MISSING_TITLE}"),
        (ris_record().replace("AU  - Mahmoud, Rami H\n", ""), f"Line 1: {MISSING_AUTHORS}"),
        (ris_record().replace("PY  - 2025", "PY  - 20xx"), "Line 1: " + YEAR_NOT_A_NUMBER.format(value="20xx")),
        (ris_record("DO  - 10.1000 /x"), "Line 1: " + INVALID_DOI.format(value="10.1000 /x")),
        (ris_record("N1  - PMID: abc"), "Line 1: " + INVALID_PMID.format(value="abc")),
    ],
)
def test_malformed_ris(text, expected):
    assert expected in problems_of(text, format="ris")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (medline_record(pmid=""), f"Line 1: {MEDLINE_NO_PMID}"),
        (medline_record("this line has no tag"), f"Line 5: {MEDLINE_BAD_LINE}"),
        (medline_record().replace("TI  - A study of exosomes.\n", ""), f"Line 1: {MISSING_TITLE}"),
        (medline_record().replace("FAU - Mahmoud, Rami H\n", ""), f"Line 1: {MISSING_AUTHORS}"),
        (medline_record().replace("2025 Apr", "Spring"), "Line 1: " + YEAR_NOT_A_NUMBER.format(value="Spring")),
        (medline_record(pmid="4000000x"), "Line 1: " + INVALID_PMID.format(value="4000000x")),
        (medline_record("PMC - 12345X"), "Line 1: " + INVALID_PMCID.format(value="12345X")),
        (medline_record("LID - 12.345/x [doi]"), "Line 1: " + INVALID_DOI.format(value="12.345/x")),
    ],
)
def test_malformed_medline(text, expected):
    assert expected in problems_of(text, format="medline")


def test_every_problem_of_a_batch_is_reported_with_its_line():
    text = "\n".join([aggregator_line(), aggregator_line(title=""), "text", aggregator_line(authors="", doi="x")])
    with pytest.raises(ReferenceImportError) as caught:
        parse_references(text)
    assert str(caught.value) == "\n".join(
        [
            f"Line 2: {MISSING_TITLE}",
            f"Line 4: {MISSING_AUTHORS}",
            "Line 4: " + INVALID_DOI.format(value="x"),
        ]
    )
    assert caught.value.problems[0] == Problem(2, MISSING_TITLE)


@pytest.mark.parametrize(
    ("first", "second", "identifier"),
    [
        ({"doi": "10.5555/ABC"}, {"doi": "https://doi.org/10.5555/abc", "title": "Other"}, "DOI"),
        ({"PMID": "123"}, {"PMID": "123", "title": "Other"}, "PMID"),
        ({"title": "A study of exosomes."}, {"title": "A STUDY of exosomes"}, "title and year"),
    ],
)
def test_two_records_of_the_same_work_in_one_batch(first, second, identifier):
    text = "\n".join([aggregator_line(**first), "Abstract", aggregator_line(**second)])
    assert problems_of(text) == ["Line 3: " + DUPLICATE_IN_BATCH.format(other=1, identifier=identifier)]


def test_same_title_and_year_with_different_dois_are_different_works():
    text = "\n".join([aggregator_line(title="Correction.", doi="10.5555/a"), aggregator_line(title="Correction.")])
    text += "\n" + aggregator_line(title="Correction.", doi="10.5555/b")
    assert problems_of(text) == ["Line 2: " + DUPLICATE_IN_BATCH.format(other=1, identifier="title and year")]
    assert len(parse_references("\n".join(text.splitlines()[::2]))) == 2


# --- Importing -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_batch_with_one_bad_record_imports_nothing():
    existing = ReferenceFactory(doi="10.5555/keep", title="Unchanged title")
    text = "\n".join(
        [
            aggregator_line(doi="10.5555/keep", title="Changed title"),
            aggregator_line(title="A new study", doi="10.5555/new"),
            aggregator_line(title=""),
        ]
    )
    with pytest.raises(ReferenceImportError) as caught:
        import_references(text)
    assert [str(problem) for problem in caught.value.problems] == [f"Line 3: {MISSING_TITLE}"]
    assert list(Reference.objects.all()) == [existing]
    existing.refresh_from_db()
    assert existing.title == "Unchanged title"


@pytest.mark.django_db
def test_model_validation_errors_are_problems_with_their_line_and_nothing_is_saved():
    text = "\n".join([aggregator_line(), aggregator_line(title="Other", url="not a url")])
    with pytest.raises(ReferenceImportError) as caught:
        import_references(text)
    assert [str(problem) for problem in caught.value.problems] == ["Line 2: URL: Enter a valid URL."]
    assert not Reference.objects.exists()


@pytest.mark.django_db
def test_reimport_matches_by_doi_case_insensitively_and_keeps_the_key():
    existing = ReferenceFactory(citation_key="exosomes-review", doi="10.5555/abc.def", pmid="", abstract="Kept.")
    result = import_references(aggregator_line(doi="https://doi.org/10.5555/ABC.DEF", title="New title"))
    assert result.updated == [existing]
    existing.refresh_from_db()
    assert existing.citation_key == "exosomes-review"
    assert existing.title == "New title"
    assert existing.abstract == "Kept."  # blank incoming fields do not erase
    assert Reference.objects.count() == 1


@pytest.mark.django_db
def test_reimport_matches_by_pmid():
    existing = ReferenceFactory(citation_key="kalluri", doi="", pmid="32029601")
    [kalluri, _] = parse_references(sample("pubmed.nbib"))
    result = import_references(sample("pubmed.nbib"))
    assert result.updated == [existing]
    existing.refresh_from_db()
    assert existing.citation_key == "kalluri"
    assert (existing.doi, existing.pmcid) == (kalluri.doi, "PMC7717626")
    assert [ref.citation_key for ref in result.created] == ["wakefield1998"]
    assert result.created[0].is_retracted


@pytest.mark.django_db
def test_reimport_matches_by_normalised_title_and_year():
    existing = ReferenceFactory(
        citation_key="review",
        doi="",
        pmid="",
        year=2025,
        title="Exosomes - a comprehensive review for the practicing dermatologist",
    )
    result = import_references(sample("seed_aggregator.txt"))
    assert result.updated == [existing]
    existing.refresh_from_db()
    assert existing.citation_key == "review"
    assert existing.published_on == datetime.date(2025, 4, 1)
    assert existing.title == "Exosomes: A Comprehensive Review for the Practicing Dermatologist."


@pytest.mark.django_db
def test_same_title_in_another_year_or_with_another_doi_is_a_new_work():
    ReferenceFactory(title="A study of exosomes.", year=2024, doi="")
    ReferenceFactory(title="A study of exosomes.", year=2025, doi="10.5555/other")
    result = import_references(aggregator_line(doi="10.5555/mine"))
    assert len(result.created) == 1
    assert Reference.objects.count() == 3


@pytest.mark.django_db
def test_update_never_unretracts():
    existing = ReferenceFactory(pmid="9500320", doi="", is_retracted=True, retraction_note="Retracted in 2010.")
    import_references(medline_record(pmid="9500320"))
    existing.refresh_from_db()
    assert existing.is_retracted
    assert existing.retraction_note == "Retracted in 2010."


@pytest.mark.django_db
def test_doi_and_pmid_of_two_different_references_is_a_problem():
    ReferenceFactory(citation_key="by-doi", doi="10.5555/one", pmid="111")
    ReferenceFactory(citation_key="by-pmid", doi="10.5555/two", pmid="222")
    with pytest.raises(ReferenceImportError) as caught:
        import_references(aggregator_line(doi="10.5555/one", PMID="222"))
    assert [str(p) for p in caught.value.problems] == [
        "Line 1: " + IDENTIFIER_CONFLICT.format(doi_key="by-doi", pmid_key="by-pmid")
    ]


@pytest.mark.django_db
def test_two_records_matching_the_same_reference_on_file_is_a_problem():
    ReferenceFactory(citation_key="on-file", doi="10.5555/one", pmid="111")
    text = "\n".join([aggregator_line(doi="10.5555/one"), aggregator_line(PMID="111", title="Other title")])
    with pytest.raises(ReferenceImportError) as caught:
        import_references(text)
    assert [str(p) for p in caught.value.problems] == [
        "Line 2: " + SAME_REFERENCE_IN_BATCH.format(other=1, key="on-file")
    ]


# --- Citation keys -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_new_references_take_their_own_key_when_valid_and_free():
    result = import_references(sample("references.bib"))
    assert [ref.citation_key for ref in result.created] == ["valadi2007", "van_Niel_2018"]


@pytest.mark.django_db
def test_generated_keys_fold_names_and_add_letters_when_taken():
    ReferenceFactory(citation_key="muller2025")
    text = "\n".join(
        [
            aggregator_line(authors="Jörg Müller", title="One"),
            aggregator_line(authors="Jörg Müller", title="Two"),
            aggregator_line(authors="Guillaume van Niel", title="Three"),
            aggregator_line(authors="Søren Ørsted", title="Four"),
        ]
    )
    result = import_references(text)
    assert [ref.citation_key for ref in result.created] == ["muller2025b", "muller2025c", "vanniel2025", "orsted2025"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source_key", "expected"),
    [
        ("mahmoud-2025", "mahmoud-2025"),
        ("http://zotero.org/users/1/items/ABC", "mahmoud2025"),  # not a valid citation key
        ("Taken", "mahmoud2025"),  # already used (keys are compared case-insensitively)
        ("x" * 65, "mahmoud2025"),  # too long
        ("12345", "mahmoud2025"),  # a bare record number says nothing to a writer
    ],
)
def test_source_key_or_generated_key(source_key, expected):
    ReferenceFactory(citation_key="taken")
    [reference] = import_references(csl(csl_item(id=source_key))).created
    assert reference.citation_key == expected


@pytest.mark.django_db
def test_group_author_key_uses_the_first_word():
    [reference] = import_references(csl(csl_item(id="", author=[{"literal": "World Health Organization"}]))).created
    assert reference.citation_key == "world2025"


def test_parsed_reference_fields_are_reference_fields():
    record = ParsedReference(title="T", authors=[{"literal": "WHO"}], source_line=3, source_key="k")
    assert "source_line" not in record.reference_fields()
    assert set(record.reference_fields()) <= {field.name for field in Reference._meta.get_fields()}


# --- Issue 12: real exports' author names, detection, one vocabulary of publication types ----------------

SEED_VANCOUVER = ["Mahmoud RH", "Peterson E", "Badiavas EV", "Kaminer M", "Eber AE"]
SEED_AMA_AUTHORS = "Mahmoud RH, Peterson E, Badiavas EV, Kaminer M, Eber AE."
SEED_STORED_AUTHORS = [
    {"family": "Mahmoud", "given": "R H"},
    {"family": "Peterson", "given": "E"},
    {"family": "Badiavas", "given": "E V"},
    {"family": "Kaminer", "given": "M"},
    {"family": "Eber", "given": "A E"},
]


def seed_with(**fields) -> str:
    """Return the seed's aggregator text with its JSON record's fields overridden."""
    lines = sample("seed_aggregator.txt").splitlines(keepends=True)
    record = json.loads(lines[1])
    record.update(fields)
    lines[1] = json.dumps(record, ensure_ascii=False) + "\n"
    return "".join(lines)


@pytest.mark.parametrize("format", [None, "aggregator"])
@pytest.mark.parametrize(
    "authors",
    [SEED_VANCOUVER, ", ".join(SEED_VANCOUVER), [{"name": name} for name in SEED_VANCOUVER]],
    ids=["list", "string", "objects"],
)
def test_seed_with_vancouver_authors_reads_family_name_and_initials(authors, format):
    [record] = parse_references(seed_with(authors=authors), format=format)
    assert record.authors == SEED_STORED_AUTHORS
    assert importers.format_ama(record).startswith(SEED_AMA_AUTHORS)


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"title": "T", "authors": SEED_VANCOUVER, "year": 2025, "journal": "J Clin Aesthet Dermatol"}),
        json.dumps([{"title": "T", "authors": SEED_VANCOUVER, "year": 2025}]),
        json.dumps({"title": "T", "authors": SEED_VANCOUVER, "publicationDate": "2025-04-01"}, indent=2),
        "Exported records\n"
        + json.dumps({"title": "T", "authors": SEED_VANCOUVER, "year": 2025}, indent=2)
        + "\nEnd\n",
    ],
    ids=["list-authors-no-date", "array", "pretty-printed", "pretty-printed-among-text"],
)
def test_detect_automatically_reads_aggregator_records_with_list_authors(text):
    assert detect_format(text) == "aggregator"
    [record] = parse_references(text)
    assert record.authors == SEED_STORED_AUTHORS


@pytest.mark.parametrize(
    ("name", "expected", "ama"),
    [
        ("Mahmoud RH", {"family": "Mahmoud", "given": "R H"}, "Mahmoud RH"),
        ("Mahmoud, Rami H", {"family": "Mahmoud", "given": "Rami H"}, "Mahmoud RH"),
        ("Rami H Mahmoud", {"family": "Mahmoud", "given": "Rami H"}, "Mahmoud RH"),
        ("R. H. Mahmoud", {"family": "Mahmoud", "given": "R. H."}, "Mahmoud RH"),
        ("Mahmoud R.H.", {"family": "Mahmoud", "given": "R.H."}, "Mahmoud RH"),
        ("van der Berg J", {"family": "van der Berg", "given": "J"}, "van der Berg J"),
        ("Jan van der Berg", {"family": "van der Berg", "given": "Jan"}, "van der Berg J"),
        ("de la Cruz, María José", {"family": "de la Cruz", "given": "María José"}, "de la Cruz MJ"),
        ("María José de la Cruz", {"family": "de la Cruz", "given": "María José"}, "de la Cruz MJ"),
        ("Al-Rashid O", {"family": "Al-Rashid", "given": "O"}, "Al-Rashid O"),
        ("Omar Al-Rashid", {"family": "Al-Rashid", "given": "Omar"}, "Al-Rashid O"),
        ("Dupont J-P", {"family": "Dupont", "given": "J-P"}, "Dupont J-P"),
        ("Smith JA Jr", {"family": "Smith", "given": "J A", "suffix": "Jr"}, "Smith JA Jr"),
        ("Smith, John A., Jr.", {"family": "Smith", "given": "John A.", "suffix": "Jr"}, "Smith JA Jr"),
        ("John A. Smith III", {"family": "Smith", "given": "John A.", "suffix": "III"}, "Smith JA III"),
        ("Ivanov II", {"family": "Ivanov", "given": "I I"}, "Ivanov II"),  # initials, not a suffix
        ("WHO Collaborative Group", {"literal": "WHO Collaborative Group"}, "WHO Collaborative Group"),
        ("US Food and Drug Administration", {"literal": "US Food and Drug Administration"}, None),
        ("Иванов ИИ", {"family": "Иванов", "given": "И И"}, "Иванов ИИ"),
        ("Иван Иванович Петров", {"family": "Петров", "given": "Иван Иванович"}, "Петров ИИ"),
        ("Παπαδόπουλος Κ", {"family": "Παπαδόπουλος", "given": "Κ"}, "Παπαδόπουλος Κ"),
        ("山田 太郎", {"literal": "山田 太郎"}, "山田 太郎"),
        ("王晓明", {"literal": "王晓明"}, "王晓明"),
        ("Di Wu", {"family": "Wu", "given": "Di"}, "Wu D"),
    ],
)
def test_author_names_in_every_form_real_exports_use(name, expected, ama):
    [record] = parse_references(aggregator_line(authors=[name]))
    assert record.authors == [expected]
    assert importers.format_ama(record).startswith(f"{ama or name}. ")


def test_a_string_of_names_splits_by_semicolons_commas_and_and():
    for authors, expected in [
        ("Mahmoud, Rami H; Peterson, Erik", ["Mahmoud RH", "Peterson E"]),
        ("Mahmoud, R.H., Peterson, E.", ["Mahmoud RH", "Peterson E"]),
        ("Rami H Mahmoud and Erik Peterson", ["Mahmoud RH", "Peterson E"]),
        ("Mahmoud RH, Peterson E, et al.", ["Mahmoud RH", "Peterson E"]),
        ("WHO Collaborative Group, Mahmoud RH", ["WHO Collaborative Group", "Mahmoud RH"]),
    ]:
        [record] = parse_references(aggregator_line(authors=authors))
        assert importers.format_ama(record).startswith(", ".join(expected) + ". "), authors


NAME_FORMS_AMA = "Mahmoud RH, van der Berg J, "


@pytest.mark.parametrize(
    ("name", "format", "expected"),
    [
        (
            "names.nbib",
            "medline",
            [
                "Mahmoud RH, van der Berg J, de la Cruz MJ, Smith JA Jr, Al-Rashid O, WHO Collaborative Group. ",
                "Henderson ID 3rd, O'Neil KM, Ivanov II. ",
            ],
        ),
        (
            "names.csl.json",
            "csl-json",
            [
                "Mahmoud RH, van der Berg J, Smith JA Jr, WHO Collaborative Group, 山田太郎, Иванов ИИ. ",
                "Badiavas EV, Müller J. ",
            ],
        ),
        (
            "names.ris",
            "ris",
            [
                "Mahmoud RH, van der Berg J, Smith JA Jr, WHO Collaborative Group, Müller J. ",
                "de la Cruz MJ, Al-Rashid O. ",
            ],
        ),
        (
            "names.bib",
            "bibtex",
            [
                "Mahmoud RH, van der Berg J, Smith JA Jr, WHO Collaborative Group, de la Cruz MJ, Müller J. ",
                "Badiavas EV, Kaminer M, Eber AE. ",
            ],
        ),
        (
            "names_aggregator.txt",
            "aggregator",
            [
                "Mahmoud RH, van der Berg J, Smith JA Jr, WHO Collaborative Group, Al-Rashid O. ",
                "Badiavas EV, Kaminer M, Eber AE. ",
                "Mahmoud RH, Badiavas RH. ",
            ],
        ),
    ],
)
def test_real_export_name_forms_read_to_the_ama_authors(name, format, expected):
    text = sample(name)
    assert detect_format(text) == format
    records = parse_references(text)
    assert [importers.format_ama(record)[: len(start)] for record, start in zip(records, expected, strict=True)] == (
        expected
    )


@pytest.mark.django_db
def test_imported_vancouver_names_reach_the_reference_list_patients_read(client):
    from tests.factories import ArticleFactory, publish_reviewed

    [reference] = import_references(seed_with(authors=SEED_VANCOUVER)).created
    article = ArticleFactory(body=f"<p>In mice, exosomes helped wounds heal [@{reference.citation_key}].</p>")
    publish_reviewed(article)
    page = client.get(article.get_absolute_url()).content.decode()
    assert SEED_AMA_AUTHORS in page
    assert "RH M, E P" not in page


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("names.nbib", ["randomised controlled trial", "review"]),  # the most specific of the PT lines
        ("names.csl.json", ["journal article", "conference paper"]),
        ("names.ris", ["journal article", "book"]),
        ("names.bib", ["journal article", "conference paper"]),
        ("names_aggregator.txt", ["clinical trial", "review", ""]),
        ("zotero.json", ["journal article", "journal article"]),
        ("references.bib", ["journal article", "journal article"]),
        ("pubmed.nbib", ["review", "case report"]),
        ("seed_aggregator.txt", ["journal article"]),
    ],
)
def test_publication_types_are_normalised_to_one_vocabulary(name, expected):
    types = [record.publication_type for record in parse_references(sample(name))]
    assert types == expected
    assert set(types) <= {*importers.PublicationType.values, ""}


@pytest.mark.parametrize(
    ("value", "source", "expected"),
    [
        ("Journal Article", None, "journal article"),
        ("Journal article", None, "journal article"),
        ("article-journal", None, "journal article"),
        ("article", "bibtex", "journal article"),
        ("article", "csl-json", "preprint"),  # CSL's "article" is a preprint or working paper
        ("JOUR", "ris", "journal article"),
        ("JournalArticle,Review", "aggregator", "review"),
        (["Journal Article", "Meta-Analysis", "Systematic Review"], "medline", "meta-analysis"),
        (["Journal Article", "Research Support, Non-U.S. Gov't"], "medline", "journal article"),
        ("Randomized Controlled Trial", None, "randomised controlled trial"),
        ("Case Reports", None, "case report"),
        ("Practice Guideline", None, "guideline"),
        ("Something else entirely", None, "other"),
        ("", None, ""),
    ],
)
def test_normalise_publication_type(value, source, expected):
    from articles.publication_types import normalise_publication_type

    assert normalise_publication_type(value, source=source) == expected


@pytest.mark.django_db
def test_migration_normalises_the_publication_types_on_file():
    import importlib

    from django.apps import apps

    spellings = ["Journal Article", "Journal article", "article-journal", "article", "Review", "Case Reports"]
    for spelling in spellings:
        ReferenceFactory(publication_type=spelling)
    migration = importlib.import_module("articles.migrations.0011_reference_publication_types")
    migration.normalise_publication_types(apps, None)
    stored = sorted(Reference.objects.values_list("publication_type", flat=True))
    assert stored == ["case report", *["journal article"] * 4, "review"]


# --- Bad input: a clear message, nothing saved --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "format", "expected"),
    [
        ("", None, EMPTY_INPUT),
        ("   \n\t\n", "ris", EMPTY_INPUT),
        (sample("references.ris"), "bibtex", "looks like RIS: choose RIS or “Detect automatically”"),
        (sample("pubmed.nbib"), "ris", "looks like PubMed MEDLINE"),
        ('{"title": "x", "authors": ["Mahmoud RH"],', None, "invalid JSON"),
        ("[" * 100_000, None, "nested too deeply"),
        ("[" * 100_000, "csl-json", "nested too deeply"),
        (aggregator_line(title="") + "\n", None, MISSING_TITLE),
        (
            aggregator_line(title="Exosomes " * 1000),
            None,
            "the title field is 8,999 characters long; a reference takes at most 2,000",
        ),
        (
            aggregator_line(abstract="Words. " * 6000),
            None,
            "the abstract field is 41,999 characters long; a reference takes at most 30,000",
        ),
        (aggregator_line(authors=["Mahmoud " + "R" * 400]), None, "characters long; a name takes at most 300"),
        (
            aggregator_line(journal={"name": "J" * 400}),
            None,
            "the journal field is 400 characters long; a reference takes at most 300",
        ),
        (
            aggregator_line(journal={"name": "J Test Med", "volume": "1", "pages": "1-" * 40}),
            None,
            "the pages field is 80 characters long; a reference takes at most 50",
        ),
    ],
)
def test_bad_input_gets_a_clear_message_and_saves_nothing(text, format, expected):
    ReferenceFactory(citation_key="existing")
    before = list(Reference.objects.values_list("pk", "title"))
    with pytest.raises(ReferenceImportError) as caught:
        import_references(text, format=format)
    assert expected in str(caught.value)
    assert list(Reference.objects.values_list("pk", "title")) == before


# --- Planning an import: what it would create and change, field by field, without saving ------------------


@pytest.mark.django_db
def test_plan_shows_created_updated_and_unchanged_references_field_by_field_and_saves_nothing():
    from articles.importers import plan_references

    on_file = import_references(sample("seed_aggregator.txt")).created[0]
    history = on_file.history.count()
    text = (
        seed_with(authors=SEED_VANCOUVER, publicationTypes="Review")
        + "\n"
        + aggregator_line(title="Another study", doi="10.5555/another")
    )
    plan = plan_references(parse_references(text))
    assert [item.action for item in plan.items] == ["update", "create"]
    [update] = plan.updated
    changed = {change.name: (change.old, change.new) for change in update.changes}
    assert changed == {
        "authors": (
            "Mahmoud, Rami H; Peterson, Erik; Badiavas, Evangelos V; Kaminer, Michael; Eber, Ariel E",
            "Mahmoud, R H; Peterson, E; Badiavas, E V; Kaminer, M; Eber, A E",
        ),
        "publication_type": ("Journal article", "Review"),
    }
    assert update.ama_before == update.ama_after  # the same AMA authors: "Rami H" and "R H" are both RH
    assert plan.created[0].reference.pk is None
    on_file.refresh_from_db()
    assert on_file.authors[0] == {"family": "Mahmoud", "given": "Rami H"}
    assert (Reference.objects.count(), on_file.history.count()) == (1, history)

    again = plan_references(parse_references(sample("seed_aggregator.txt")))
    assert [item.action for item in again.items] == ["unchanged"]
    assert again.to_save == []


@pytest.mark.django_db
def test_importing_an_unchanged_record_again_writes_nothing():
    [reference] = import_references(sample("seed_aggregator.txt")).created
    history, updated_at = reference.history.count(), reference.updated_at
    result = import_references(sample("seed_aggregator.txt"))
    assert [ref.pk for ref in result.updated] == [reference.pk]
    assert result.changed == []
    reference.refresh_from_db()
    assert (reference.history.count(), reference.updated_at) == (history, updated_at)


@pytest.mark.django_db
def test_plan_fingerprint_changes_when_the_reference_on_file_changes():
    from articles.importers import plan_references

    reference = import_references(sample("seed_aggregator.txt")).created[0]
    records = parse_references(seed_with(authors=SEED_VANCOUVER))
    first = plan_references(records).fingerprint()
    assert plan_references(records).fingerprint() == first
    Reference.objects.filter(pk=reference.pk).update(volume="19")
    assert plan_references(records).fingerprint() != first


@pytest.mark.django_db
def test_two_new_records_of_one_author_and_year_get_different_keys_in_the_plan():
    from articles.importers import plan_references

    text = aggregator_line(title="First", doi="10.5555/a") + "\n" + aggregator_line(title="Second", doi="10.5555/b")
    plan = plan_references(parse_references(text))
    assert [item.reference.citation_key for item in plan.items] == ["mahmoud2025", "mahmoud2025b"]
    assert not Reference.objects.exists()


# --- What a change to a cited reference would withdraw (workflow.reference_change_consequences) -----------


def _approve_all(article, reviewer):
    from articles import workflow

    for statement in article.evidence_statements.all():
        workflow.approve_statement(
            statement, by=reviewer, seen_hash=statement.statement_hash, evidence_level="E", certainty="low"
        )


def _workflow_rows():
    from articles.models import Article, AuditEvent, ReviewSignOff, StatementApproval

    return (
        list(Article.objects.order_by("pk").values_list("pk", "status", "live_snapshot", "updated_at")),
        StatementApproval.objects.count(),
        ReviewSignOff.objects.count(),
        AuditEvent.objects.count(),
        list(Reference.objects.order_by("pk").values_list("pk", "volume", "abstract", "updated_at")),
        Reference.history.count(),
    )


@pytest.fixture
def cited_articles(db):
    """mahmoud2025 cited by a live article, one in review and one signed off; hu2016 by all and another."""
    from articles import workflow
    from tests.factories import ArticleFactory, TopicFactory, member_of, publish_reviewed, review

    ReferenceFactory(citation_key="mahmoud2025", volume="18")
    ReferenceFactory(citation_key="hu2016")
    reviewer = member_of("Reviewers")

    def article(title, body):
        return ArticleFactory(title=title, body=body, topics=[TopicFactory()])

    live = article("Live article", "<p>In mice, wounds healed [@mahmoud2025].</p><p>In mice, hair grew [@hu2016].</p>")
    publish_reviewed(live, reviewer=reviewer)
    in_review = article(
        "Article in review",
        "<p>In mice, scars faded [@hu2016].</p><p>In mice, skin thickened [@mahmoud2025; @hu2016].</p>",
    )
    workflow.submit_for_review(in_review, by=member_of("Editors"))
    _approve_all(in_review, reviewer)
    signed = article("Signed-off article", "<p>In mice, redness faded [@mahmoud2025].</p>")
    review(signed, reviewer=reviewer)
    unrelated = article("Unrelated article", "<p>In mice, acne cleared [@hu2016].</p>")
    publish_reviewed(unrelated, reviewer=reviewer)
    return {"reviewer": reviewer, "live": live, "in_review": in_review, "signed": signed, "unrelated": unrelated}


def test_consequences_name_each_article_its_state_statements_and_sign_off_and_change_nothing(cited_articles):
    from articles import workflow

    reference = Reference.objects.get(citation_key="mahmoud2025")
    reference.volume = "19"  # the AMA form articles list changes: 2025;19(4):33-40
    before = _workflow_rows()
    consequences = workflow.reference_change_consequences([reference])
    assert _workflow_rows() == before
    assert [(c.article.title, c.state, c.statement_numbers, c.sign_off is not None) for c in consequences] == [
        ("Article in review", "in review", [2], False),
        ("Live article", "live", [1], True),
        ("Signed-off article", "signed off", [1], True),
    ]
    assert consequences[1].keys == ["mahmoud2025"]
    assert "mahmoud2025" in consequences[1].statements[0].reason
    assert consequences[1].describe() == (
        "“Live article” (live): the approval of statement 1 and its sign-off would be withdrawn."
    )

    # What was predicted is what saving does.
    reference.save()
    for consequence in consequences:
        status = workflow.review_status(consequence.article)
        withdrawn = [item.number for item in status.statements if item.state == "reference_changed"]
        assert withdrawn == consequence.statement_numbers
        if consequence.sign_off:
            assert status.sign_off is None
    unrelated = workflow.review_status(cited_articles["unrelated"])
    assert {item.state for item in unrelated.statements} == {"approved"}
    assert unrelated.sign_off


def test_saving_a_record_unchanged_withdraws_only_the_savers_own_approvals(cited_articles, settings):
    from articles import workflow

    reference = Reference.objects.get(citation_key="mahmoud2025")  # saved as it is: no approval is pinned to that
    assert workflow.reference_change_consequences([reference]) == []
    reviewer = cited_articles["reviewer"]
    consequences = workflow.reference_change_consequences([reference], by=reviewer)
    # Whoever edits a cited reference counts as an editor of the whole article: all their approvals there go.
    assert [(c.article.title, c.statement_numbers, c.sign_off is not None) for c in consequences] == [
        ("Article in review", [1, 2], False),
        ("Live article", [1, 2], True),
        ("Signed-off article", [1], True),
    ]
    assert "separation of duties" in consequences[0].statements[0].reason
    settings.ALLOW_SELF_REVIEW = True
    assert workflow.reference_change_consequences([reference], by=reviewer) == []


def test_csl_json_authors_written_as_strings_are_read_as_names():
    [record] = parse_references(csl(csl_item(author=["Mahmoud RH", {"literal": "WHO Collaborative Group"}])))
    assert record.authors == [{"family": "Mahmoud", "given": "R H"}, {"literal": "WHO Collaborative Group"}]


# --- Records of 2 MB: refused in time linear in their size, naming the record's line and field -------------

LARGE_RECORD_BYTES = 2_000_000
SLOW_MACHINE_SECONDS = 20  # about 1 s here (tests/perf/importer_sizes.py): a machine 10x slower still passes
OVERSIZED = {
    "title": "Line 1: the title field is",
    "abstract": "Line 1: the abstract field is",
    "name": "Line 1: the author name",
    "authors": "Line 1: record lists more than 5,000 authors",
}


@pytest.fixture
def decoded_lengths(monkeypatch):
    """Record the length of every text given to the HTML and LaTeX decoders (both slow on long text)."""
    from pylatexenc.latex2text import LatexNodes2Text

    lengths = []
    plain_text, latex_to_text = importers.field_values.plain_text, LatexNodes2Text.latex_to_text

    def measured(decode):
        def decode_and_record(*args, **kwargs):
            lengths.append(len(args[-1]))
            return decode(*args, **kwargs)

        return decode_and_record

    monkeypatch.setattr(importers.field_values, "plain_text", measured(plain_text))  # where field_text calls it
    monkeypatch.setattr(LatexNodes2Text, "latex_to_text", measured(latex_to_text))
    return lengths


@pytest.mark.django_db
@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("shape", OVERSIZED)
def test_a_2_mb_record_is_refused_quickly_naming_its_line_and_field(format, shape, decoded_lengths):
    text = large_record(format, shape, LARGE_RECORD_BYTES)
    started = time.perf_counter()
    with pytest.raises(ReferenceImportError) as caught:
        import_references(text, format=format)
    assert time.perf_counter() - started < SLOW_MACHINE_SECONDS
    assert [str(problem).startswith(OVERSIZED[shape]) for problem in caught.value.problems] == [True]
    assert max(decoded_lengths, default=0) <= importers.MAX_ABSTRACT_CHARS  # nothing over-long was decoded
    assert not Reference.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("format", FORMATS)
def test_a_2_mb_record_of_many_fields_it_does_not_read_imports_quickly(format, decoded_lengths):
    text = large_record(format, "fields", LARGE_RECORD_BYTES)
    started = time.perf_counter()
    [reference] = import_references(text, format=format).created
    assert time.perf_counter() - started < SLOW_MACHINE_SECONDS
    assert reference.title == "A study of exosomes"
    assert max(decoded_lengths, default=0) <= importers.MAX_ABSTRACT_CHARS


@pytest.mark.django_db
def test_an_over_long_record_among_good_ones_imports_nothing_and_names_its_line():
    good = bibtex_entry("good2025", title="A good study")
    text = good + large_record("bibtex", "title", 100_000) + bibtex_entry("other2025", title="Another good study")
    assert problems_of(text) == [
        "Line 6: " + importers.FIELD_TOO_LONG.format(field="title", length=len(text.splitlines()[7]) - 13, limit=2000)
    ]
    with pytest.raises(ReferenceImportError):
        import_references(text)
    assert not Reference.objects.exists()


def test_input_over_the_limit_states_its_size_and_the_limit():
    text = aggregator_line() + "\n" + "x" * importers.MAX_INPUT_BYTES
    size = len(text.encode())
    assert problems_of(text) == [
        f"The input is {size:,} bytes; the limit is 2 MB (2,097,152 bytes). Split it into smaller batches."
    ]
