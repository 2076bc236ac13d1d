"""Fill a new, empty database with a site export (from export_site), all or nothing."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from articles.site_export import SiteImportError, import_site

NO_SUCH_FILE = "no such file."
UNREADABLE = "it cannot be read ({reason})."
NOT_UTF8 = "it is not UTF-8 text (byte 0x{byte:02x} at offset {offset}), so not a site export."
NOT_JSON = "it is not JSON ({problem}: line {line}, column {column}); was the file cut short or changed?"
NOTHING_IMPORTED = "Nothing was imported."


class Command(BaseCommand):
    help = (
        "Fill a new, empty database (just migrated) with a site export made by export_site, in one transaction: "
        "everything is imported or nothing is."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help='The export_site file; "-" reads standard input.')

    def handle(self, *args, **options):
        name = options["file"]
        try:
            counts = import_site(self.read(name, options.get("stdin") or sys.stdin))
        except SiteImportError as error:
            raise CommandError(f"{name}: {error} {NOTHING_IMPORTED}") from None
        self.stdout.write(
            self.style.SUCCESS(f"Imported {sum(counts.values())} rows of {len(counts)} models from {name}.")
        )

    def read(self, name: str, stdin):
        """Return the parsed JSON of a file (or of standard input for "-"), or raise SiteImportError."""
        try:
            if name == "-":
                data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
            else:
                data = Path(name).read_bytes()
        except FileNotFoundError:
            raise SiteImportError(NO_SUCH_FILE) from None
        except OSError as error:
            raise SiteImportError(UNREADABLE.format(reason=error.strerror)) from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise SiteImportError(NOT_UTF8.format(byte=data[error.start], offset=error.start)) from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise SiteImportError(NOT_JSON.format(problem=error.msg, line=error.lineno, column=error.colno)) from None
