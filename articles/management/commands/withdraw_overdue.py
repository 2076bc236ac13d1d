"""Take off the site every live article whose review is overdue past its topic's grace period. Run it daily.

Each article is withdrawn through the gate in its own transaction (audited, editors and the writer emailed),
so one that fails leaves the others withdrawn; `--dry-run` lists them without withdrawing anything.
"""

from django.core.management.base import BaseCommand, CommandError

from articles import workflow


class Command(BaseCommand):
    help = (
        "Withdraw every live article whose review is overdue past its topic's grace period "
        "(Topic.overdue_grace_days); run daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what would be withdrawn; change nothing.")

    def handle(self, *args, dry_run: bool = False, **options):
        outcomes = workflow.withdraw_overdue_articles(dry_run=dry_run)
        verb = "Would withdraw" if dry_run else "Withdrew"
        for outcome in outcomes:
            if not outcome.error:
                self.stdout.write(f"{verb}: “{outcome.article.title}”: {outcome.reason}")
            elif outcome.refused:
                self.stdout.write(f"Not withdrawn: {outcome.error}")
            else:
                self.stderr.write(f"Could not withdraw “{outcome.article.title}”: {outcome.error}")
        withdrawn = [outcome for outcome in outcomes if not outcome.error]
        if not withdrawn:
            self.stdout.write("No article is overdue past its grace period.")
        elif dry_run:
            self.stdout.write(f"{len(withdrawn)} article(s) would be withdrawn (dry run: nothing changed).")
        else:
            self.stdout.write(f"{len(withdrawn)} article(s) withdrawn.")
        failed = [outcome for outcome in outcomes if outcome.error and not outcome.refused]
        if failed:
            # A non-zero exit makes cron and monitoring notice; the ones that failed are still on the site.
            raise CommandError(f"{len(failed)} overdue article(s) could not be withdrawn and are still on the site.")
