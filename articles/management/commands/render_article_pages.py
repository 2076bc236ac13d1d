"""Render the kept parts of every live article's page that are missing or out of date (articles.article_page).

Run it after a deploy that changed the article page's templates, translations or the clinic's settings: without
it each page renders its parts again on its first request, which is right but slower for that one reader.
"""

from django.core.management.base import BaseCommand, CommandError

from articles import article_page

BATCH = 200


class Command(BaseCommand):
    help = "Render the article page parts that are missing or were made by another version of the templates."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BATCH, help=f"snapshots read at a time (default {BATCH})")

    def handle(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, not {batch_size}.")
        rendered = 0
        # Each batch is read afresh: what this run has rendered drops out of `stale()`, what another made too.
        while batch := list(article_page.stale().order_by("pk")[:batch_size]):
            for snapshot in batch:
                article_page.store(snapshot)
            rendered += len(batch)
            self.stdout.write(f"  {rendered} rendered…")
        version = article_page.version()[:12]
        self.stdout.write(f"Rendered the page parts of {rendered} live article(s); version {version}.")
