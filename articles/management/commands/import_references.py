import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from articles.importers import (
    INPUT_TOO_LARGE,
    MAX_INPUT_BYTES,
    SUPPORTED_FORMATS,
    ReferenceImportError,
    import_references,
)
from articles.models import Reference

NO_SUCH_FILE = "{name}: no such file."
IS_A_DIRECTORY = "{name}: is a directory; give the path of a file."
UNREADABLE = "{name}: cannot be read ({reason})."
NOT_UTF8 = "{name}: line {line} is not UTF-8 text (byte 0x{byte:02x}); export the file again as UTF-8."
NOTHING_IMPORTED = "Nothing was imported. Fix these problems and try again:"


class Command(BaseCommand):
    help = (
        "Import references from BibTeX, RIS, PubMed MEDLINE, CSL-JSON or aggregator JSON files, all or nothing: "
        "a work already on file (same DOI, PMID, or title and year) is updated and keeps its citation key."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help='UTF-8 files to import; "-" reads standard input.')
        parser.add_argument(
            "--format",
            choices=list(SUPPORTED_FORMATS),
            help="Read every file in this format instead of detecting it per file.",
        )

    def handle(self, *args, **options):
        texts = [(name, self.read(name, options.get("stdin") or sys.stdin)) for name in options["files"]]
        problems: list[str] = []
        created: dict[int, Reference] = {}
        updated: dict[int, Reference] = {}
        with transaction.atomic():
            for name, text in texts:
                try:
                    result = import_references(text, format=options["format"])
                except ReferenceImportError as error:
                    problems.extend(f"{name}: {problem}" for problem in error.problems)
                    continue
                created.update((reference.pk, reference) for reference in result.created)
                updated.update((reference.pk, reference) for reference in result.updated if reference.pk not in created)
            if problems:
                raise CommandError("\n".join([NOTHING_IMPORTED, *problems]))  # rolls back every file
        self.stdout.write(self.style.SUCCESS(f"Created {len(created)}, updated {len(updated)} references"))
        for verb, references in (("Created", created), ("Updated", updated)):
            if references:
                self.stdout.write(f"{verb}: {', '.join(ref.citation_key for ref in references.values())}")

    def read(self, name: str, stdin) -> str:
        """Return the text of a file (or of standard input for "-"), decoded as UTF-8."""
        if name == "-":
            data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read()
        else:
            path = Path(name)
            try:
                if path.is_dir():
                    raise CommandError(IS_A_DIRECTORY.format(name=name))
                size = path.stat().st_size
                if size > MAX_INPUT_BYTES:
                    raise CommandError(f"{name}: {INPUT_TOO_LARGE.format(size=size / 1024 / 1024)}")
                data = path.read_bytes()
            except FileNotFoundError:
                raise CommandError(NO_SUCH_FILE.format(name=name)) from None
            except OSError as error:
                raise CommandError(UNREADABLE.format(name=name, reason=error.strerror)) from None
        if isinstance(data, str):
            return data
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            raise CommandError(NOT_UTF8.format(name=name, line=line, byte=data[error.start])) from None
