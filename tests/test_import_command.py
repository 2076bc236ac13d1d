import io
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from articles.importers import MISSING_TITLE, RIS_NO_END
from articles.management.commands.import_references import NOTHING_IMPORTED
from articles.models import Reference
from tests.factories import ReferenceFactory
from tests.large_records import FORMATS, large_record

DATA = Path(__file__).parent / "data" / "importers"


def run(*args: str, stdin: io.StringIO | None = None) -> str:
    out = io.StringIO()
    call_command("import_references", *args, stdout=out, stdin=stdin)
    return out.getvalue()


@pytest.mark.django_db
def test_imports_several_files_and_reports_keys():
    output = run(str(DATA / "seed_aggregator.txt"), str(DATA / "references.bib"))
    assert output.splitlines() == [
        "Created 3, updated 0 references",
        "Created: mahmoud2025, valadi2007, van_Niel_2018",
    ]
    assert Reference.objects.count() == 3


@pytest.mark.django_db
def test_importing_again_updates():
    run(str(DATA / "seed_aggregator.txt"))
    output = run(str(DATA / "seed_aggregator.txt"))
    assert output.splitlines() == ["Created 0, updated 1 references", "Updated: mahmoud2025"]
    assert Reference.objects.count() == 1


@pytest.mark.django_db
def test_same_work_in_two_files_is_created_once():
    output = run(str(DATA / "zotero.json"), str(DATA / "pubmed.nbib"))
    assert output.splitlines()[0] == "Created 3, updated 0 references"
    assert Reference.objects.get(pmid="32029601").citation_key == "kalluri2020"


@pytest.mark.django_db
def test_explicit_format():
    output = run(str(DATA / "references.ris"), "--format", "ris")
    assert output.startswith("Created 2, updated 0 references")


@pytest.mark.django_db
def test_reads_standard_input():
    output = run("-", stdin=io.StringIO((DATA / "pubmed.nbib").read_text(encoding="utf-8")))
    assert output.splitlines() == ["Created 2, updated 0 references", "Created: kalluri2020, wakefield1998"]


@pytest.mark.django_db
def test_a_bad_file_imports_nothing_from_any_file(tmp_path):
    ReferenceFactory(citation_key="existing", doi="10.5555/x")
    bad = tmp_path / "bad.ris"
    bad.write_text("TY  - JOUR\nAU  - Mahmoud, Rami H\nPY  - 2025\nER  - \n\nTY  - JOUR\nTI  - No end\n")
    with pytest.raises(CommandError) as caught:
        run(str(DATA / "seed_aggregator.txt"), str(bad))
    assert str(caught.value).splitlines() == [
        NOTHING_IMPORTED,
        f"{bad}: Line 1: {MISSING_TITLE}",
        f"{bad}: Line 6: {RIS_NO_END}",
    ]
    assert list(Reference.objects.values_list("citation_key", flat=True)) == ["existing"]


@pytest.mark.django_db
def test_problems_of_every_file_are_listed(tmp_path):
    first, second = tmp_path / "one.txt", tmp_path / "two.json"
    first.write_text('{"title": "", "authors": "Rami H Mahmoud", "publicationDate": "2025-04-01"}\n')
    second.write_text('[{"title": "x",]')
    with pytest.raises(CommandError) as caught:
        run(str(first), str(second))
    message = str(caught.value)
    assert f"{first}: Line 1: {MISSING_TITLE}" in message
    assert f"{second}: Line 1: invalid JSON" in message
    assert not Reference.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "The input is empty"),
        (b"Some notes, not references.\n", "Could not tell the format"),
        (b"TY  - JOUR\nTI  - Caf\xe9\nER  - \n", "line 2 is not UTF-8 text (byte 0xe9)"),
    ],
)
def test_unreadable_content_is_a_clear_error(tmp_path, content, expected):
    path = tmp_path / "refs.txt"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=r"refs\.txt") as caught:
        run(str(path))
    assert expected in str(caught.value)
    assert not Reference.objects.exists()


def test_missing_file(tmp_path):
    with pytest.raises(CommandError) as caught:
        run(str(tmp_path / "nowhere.ris"))
    assert str(caught.value) == f"{tmp_path / 'nowhere.ris'}: no such file."


def test_directory(tmp_path):
    with pytest.raises(CommandError) as caught:
        run(str(tmp_path))
    assert str(caught.value) == f"{tmp_path}: is a directory; give the path of a file."


def test_file_over_two_megabytes(tmp_path):
    path = tmp_path / "big.bib"
    path.write_bytes(b"%" * (2 * 1024 * 1024 + 1))
    with pytest.raises(CommandError, match="the limit is 2 MB"):
        run(str(path))


def test_unknown_format_is_refused_by_the_parser():
    with pytest.raises(CommandError, match="invalid choice: 'endnote'"):
        run(str(DATA / "references.ris"), "--format", "endnote")


# --- Issue 12: what an import withdraws, and --dry-run -------------------------------------------------------


@pytest.fixture
def live_citing_seed(db):
    """The seed reference cited by a live article whose one statement is approved and signed off."""
    from tests.factories import ArticleFactory, publish_reviewed

    run(str(DATA / "seed_aggregator.txt"))
    article = ArticleFactory(title="Exosomes and wound healing", body="<p>In mice, wounds healed [@mahmoud2025].</p>")
    publish_reviewed(article)
    return Reference.objects.get(citation_key="mahmoud2025"), article


def seed_with_volume(tmp_path, volume: str):
    path = tmp_path / "seed-corrected.txt"
    path.write_text((DATA / "seed_aggregator.txt").read_text(encoding="utf-8").replace('"18 4"', f'"{volume} 4"'))
    return path


def test_dry_run_prints_changes_and_withdrawn_approvals_and_saves_nothing(tmp_path, live_citing_seed):
    from articles.models import AuditEvent, StatementApproval

    reference, _article = live_citing_seed
    history = (reference.history.count(), StatementApproval.objects.count(), AuditEvent.objects.count())
    output = run(str(seed_with_volume(tmp_path, "19")), str(DATA / "references.bib"), "--dry-run")
    assert output.splitlines() == [
        "Dry run: nothing was saved.",
        "Would create 2, update 1 references",
        "Would be created: valadi2007, van_Niel_2018",
        "Would be updated: mahmoud2025",
        "  mahmoud2025: volume: '18' -> '19'",
        "Would withdraw approvals in 1 article:",
        "  “Exosomes and wound healing” (live): the approval of statement 1 and its sign-off would be withdrawn.",
        "    Statement 1: the record of a reference it cites would change (mahmoud2025).",
        "    Sign-off: the record of a reference it cites would change (mahmoud2025).",
    ]
    reference.refresh_from_db()
    assert reference.volume == "18"
    assert Reference.objects.count() == 1
    assert (reference.history.count(), StatementApproval.objects.count(), AuditEvent.objects.count()) == history


def test_an_import_that_withdraws_approvals_says_so(tmp_path, live_citing_seed):
    reference, _article = live_citing_seed
    output = run(str(seed_with_volume(tmp_path, "19")))
    assert output.splitlines() == [
        "Created 0, updated 1 references",
        "Updated: mahmoud2025",
        "Withdrew approvals in 1 article:",
        "  “Exosomes and wound healing” (live): the approval of statement 1 and its sign-off were withdrawn.",
        "    Statement 1: the record of a reference it cites would change (mahmoud2025).",
        "    Sign-off: the record of a reference it cites would change (mahmoud2025).",
    ]
    reference.refresh_from_db()
    assert reference.volume == "19"


def test_an_unchanged_import_withdraws_nothing(live_citing_seed):
    output = run(str(DATA / "seed_aggregator.txt"), "--dry-run")
    assert output.splitlines() == [
        "Dry run: nothing was saved.",
        "Would create 0, update 1 references",
        "Would be updated: mahmoud2025",
    ]


@pytest.mark.django_db
def test_dry_run_reports_problems_like_an_import(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"title": "x",]')
    with pytest.raises(CommandError, match="invalid JSON"):
        run(str(bad), "--dry-run")
    assert not Reference.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("format", FORMATS)
def test_a_2_mb_record_is_refused_quickly_naming_the_file_line_and_field(tmp_path, format):
    big = tmp_path / "big.txt"
    big.write_text(large_record(format, "title", 2_000_000), encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(CommandError) as caught:
        run(str(big))
    assert time.perf_counter() - started < 20  # about 0.5 s here; a machine 10x slower still passes
    assert str(caught.value).splitlines()[1].startswith(f"{big}: Line 1: the title field is ")
    assert not Reference.objects.exists()


@pytest.mark.django_db
def test_a_file_over_2_mb_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.bib"
    big.write_bytes(b"x" * (2 * 1024 * 1024 + 1))
    with pytest.raises(CommandError) as caught:
        run(str(big))
    assert str(caught.value) == f"{big}: The input is 2,097,153 bytes; the limit is 2 MB (2,097,152 bytes). " + (
        "Split it into smaller batches."
    )
