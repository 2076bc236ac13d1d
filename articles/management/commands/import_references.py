import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from articles import workflow
from articles.importers import (
    INPUT_TOO_LARGE,
    MAX_INPUT_BYTES,
    SUPPORTED_FORMATS,
    ReferenceImportError,
    parse_references,
    plan_references,
    save_plan,
)
from articles.models import Reference

NO_SUCH_FILE = "{name}: no such file."
IS_A_DIRECTORY = "{name}: is a directory; give the path of a file."
UNREADABLE = "{name}: cannot be read ({reason})."
NOT_UTF8 = "{name}: line {line} is not UTF-8 text (byte 0x{byte:02x}); export the file again as UTF-8."
NOTHING_IMPORTED = "Nothing was imported. Fix these problems and try again:"
DRY_RUN = "Dry run: nothing was saved."


class Command(BaseCommand):
    help = (
        "Import references from BibTeX, RIS, PubMed MEDLINE, CSL-JSON or aggregator JSON files, all or nothing: "
        "a work already on file (same DOI, PMID, or title and year) is updated and keeps its citation key. "
        "Lists the statement approvals and sign-offs the changes withdraw; --dry-run lists them and saves nothing."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help='UTF-8 files to import; "-" reads standard input.')
        parser.add_argument(
            "--format",
            choices=list(SUPPORTED_FORMATS),
            help="Read every file in this format instead of detecting it per file.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what importing would do (references created and updated, field by field, and the approvals "
            "it would withdraw) and save nothing.",
        )

    def handle(self, *args, **options):
        texts = [(name, self.read(name, options.get("stdin") or sys.stdin)) for name in options["files"]]
        dry_run = options.get("dry_run", False)
        problems: list[str] = []
        created: dict[int, Reference] = {}
        updated: dict[int, Reference] = {}
        changes: dict[int, list] = {}
        withdrawn: dict[int, workflow.ArticleConsequences] = {}
        with transaction.atomic():
            for name, text in texts:
                try:
                    plan = plan_references(parse_references(text, format=options["format"]), lock=True)
                    consequences = workflow.reference_change_consequences(plan.to_save)
                    result = save_plan(plan)  # later files see it; a dry run rolls it back below
                except ReferenceImportError as error:
                    problems.extend(f"{name}: {problem}" for problem in error.problems)
                    continue
                created.update((reference.pk, reference) for reference in result.created)
                updated.update((reference.pk, reference) for reference in result.updated if reference.pk not in created)
                for item in plan.updated:
                    changes.setdefault(item.reference.pk, []).extend(item.changes)
                _merge(withdrawn, consequences)
            if problems:
                raise CommandError("\n".join([NOTHING_IMPORTED, *problems]))  # rolls back every file
            if dry_run:
                transaction.set_rollback(True)
        if dry_run:
            self.stdout.write(self.style.WARNING(DRY_RUN))
            self.stdout.write(f"Would create {len(created)}, update {len(updated)} references")
        else:
            self.stdout.write(self.style.SUCCESS(f"Created {len(created)}, updated {len(updated)} references"))
        for verb, references in (("Created", created), ("Updated", updated)):
            if references:
                verb = f"Would be {verb.lower()}" if dry_run else verb
                self.stdout.write(f"{verb}: {', '.join(ref.citation_key for ref in references.values())}")
        if dry_run:
            for pk, field_changes in changes.items():
                for change in field_changes:
                    old, new = _short(change.old), _short(change.new)
                    self.stdout.write(f"  {updated[pk].citation_key}: {change.label}: {old} -> {new}")
        self.write_withdrawn(list(withdrawn.values()), done=not dry_run)

    def write_withdrawn(self, consequences: list, *, done: bool) -> None:
        """Print each article whose approvals or sign-off the import withdrew (or, in a dry run, would)."""
        if not consequences:
            return
        count = len(consequences)
        heading = "Withdrew" if done else "Would withdraw"
        self.stdout.write(self.style.WARNING(f"{heading} approvals in {count} article{'s' if count > 1 else ''}:"))
        for consequence in consequences:
            self.stdout.write(f"  {consequence.describe(done=done)}")
            for item in consequence.statements:
                self.stdout.write(f"    Statement {item.number}: {item.reason}.")
            if consequence.sign_off:
                self.stdout.write(f"    Sign-off: {consequence.sign_off_reason}.")

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
                    raise CommandError(f"{name}: {INPUT_TOO_LARGE.format(size=size, limit=MAX_INPUT_BYTES)}")
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


def _merge(withdrawn: dict, consequences: list) -> None:
    """Add one file's consequences to those of the files before it, one entry per article."""
    for consequence in consequences:
        earlier = withdrawn.get(consequence.article.pk)
        if earlier is None:
            withdrawn[consequence.article.pk] = consequence
            continue
        earlier.keys = list(dict.fromkeys([*earlier.keys, *consequence.keys]))
        earlier.statements = sorted([*earlier.statements, *consequence.statements], key=lambda item: item.number)
        if earlier.sign_off is None and consequence.sign_off:
            earlier.sign_off, earlier.sign_off_reason = consequence.sign_off, consequence.sign_off_reason


def _short(value: str, limit: int = 80) -> str:
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")
