"""Write the whole site as one JSON document, the portable backup that import_site reads back."""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from articles.site_export import as_json, export_site

CANNOT_WRITE = "{name}: cannot be written ({reason})."


class Command(BaseCommand):
    help = (
        "Write every row the site needs (accounts with password hashes, content, every revision, review records, "
        "snapshots, audit trail) as one JSON document, to standard output or a file. import_site reads it back."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            "-o",
            metavar="FILE",
            help="Write to FILE, readable by its owner only (it holds password hashes), instead of standard output.",
        )

    def handle(self, *args, **options):
        document = export_site()
        text = as_json(document)
        name = options["output"]
        if not name:
            self.stdout.write(text, ending="")
            return
        try:
            write_private_file(Path(name), text)
        except OSError as error:
            raise CommandError(CANNOT_WRITE.format(name=name, reason=error.strerror)) from None
        rows = sum(len(rows) for rows in document["models"].values())
        self.stdout.write(f"Exported {rows} rows of {len(document['models'])} models to {name}.")


def write_private_file(path: Path, text: str) -> None:
    """Write the text to a file only its owner may read, whatever mode an earlier file had."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(text)
