import datetime
import json
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
    assert record.publication_type == "Journal Article"
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
    assert van_niel.publication_type == "Journal article"
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
    assert kalluri.publication_type == "Journal Article"
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
    text = "\n".join([aggregator_line(), aggregator_line(title="Other", url="not a url", journal={"volume": "9" * 60})])
    with pytest.raises(ReferenceImportError) as caught:
        import_references(text)
    messages = [str(problem) for problem in caught.value.problems]
    assert "Line 2: URL: Enter a valid URL." in messages
    assert any(
        message.startswith("Line 2: volume: Ensure this value has at most 50 characters") for message in messages
    )
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
