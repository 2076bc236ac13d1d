"""Publish the scheduled articles whose time has come. Run it every minute from cron on one host.

Safe to run twice at once: each article is locked while it is published, and a run skips
articles another run holds.
"""

from django.core.management.base import BaseCommand, CommandError

from articles import workflow


class Command(BaseCommand):
    help = "Publish every scheduled article that is due (safe to run every minute, and concurrently)."

    def handle(self, *args, **options):
        outcomes = workflow.publish_scheduled()
        for outcome in outcomes:
            if outcome.error:
                self.stderr.write(f"Not published: “{outcome.article.title}”: {outcome.error}")
            else:
                self.stdout.write(f"Published: “{outcome.article.title}”")
        if not outcomes:
            self.stdout.write("Nothing is due.")
        failed = [outcome for outcome in outcomes if outcome.error]
        if failed:
            # A non-zero exit makes cron and monitoring notice; the editors were emailed too.
            raise CommandError(f"{len(failed)} scheduled article(s) could not be published and were unscheduled.")
