"""Send the edge purges that are due: those a change could not send after its commit. Run it every minute from cron.

Safe to run twice at once: a run skips purges another run is sending. With no edge configured it has nothing to do.
"""

from django.core.management.base import BaseCommand, CommandError

from articles.edge import outbox, purgers


class Command(BaseCommand):
    help = "Send every edge purge that is due, and say which still fail (safe to run every minute, and concurrently)."

    def handle(self, *args, **options):
        if not purgers.configured():
            self.stdout.write("No edge is configured (EDGE_PURGERS): nothing to purge.")
            return
        sent = 0
        while confirmed := outbox.send_due():  # a backlog goes out a batch at a time
            sent += confirmed
        self.stdout.write(f"Purged: {sent} change(s) confirmed by every edge.")
        failing = list(outbox.failing())
        for purge in failing:
            self.stderr.write(f"Still failing after {purge.attempts} tries: {' '.join(purge.tags)}: {purge.last_error}")
        if failing:
            # A non-zero exit makes cron and monitoring notice; editors see them on the desk and in the admin.
            raise CommandError(f"{len(failing)} edge purge(s) still failing; patients may see pages that changed.")
