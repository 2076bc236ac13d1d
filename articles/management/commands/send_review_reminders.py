"""Email the reviewers about live articles that are past their "next review due" date. Run it daily."""

from django.core.management.base import BaseCommand

from articles import workflow


class Command(BaseCommand):
    help = "Email the reviewers about every live article that is due for re-review."

    def handle(self, *args, **options):
        due = workflow.send_review_reminders()
        for article in due:
            self.stdout.write(f"Due for re-review: “{article.title}” (was due {article.live_snapshot.next_review_due})")
        self.stdout.write(f"{len(due)} article(s) due for re-review." if due else "No article is due for re-review.")
