"""Report the claim-check findings of every live article, as patients see it (its published snapshot)."""

from django.core.management.base import BaseCommand, CommandError

from articles import claims
from articles.models import Article, FindingJustification, RedFlagPhrase, Topic


class Command(BaseCommand):
    help = "Check every live article's wording, evidence claims and readability, and report each finding."

    def add_arguments(self, parser):
        parser.add_argument(
            "--fail-on-findings", action="store_true", help="Exit with an error when any finding is reported."
        )

    def handle(self, *args, **options):
        articles = list(Article.objects.live().order_by("live_snapshot__slug"))
        flags = {
            language: [claims.RedFlag(f.phrase, f.why, f.instead) for f in RedFlagPhrase.objects.checked_in(language)]
            for language in {article.live_snapshot.language for article in articles}
        }
        topics = Topic.objects.in_bulk({topic_id for a in articles for topic_id in a.live_snapshot.topic_ids})
        accepted = {
            (j.article_id, j.finding_key): j
            for j in FindingJustification.objects.filter(article__in=articles).select_related("justified_by")
        }
        total = 0
        for article in articles:
            snapshot = article.live_snapshot
            article_topics = [topics[pk] for pk in snapshot.topic_ids if pk in topics]
            findings = claims.check_article(
                title=snapshot.title,
                summary=snapshot.summary,
                body_html=snapshot.body_source,
                flags=flags[snapshot.language],
                levels={s["hash"]: s["level"] for s in snapshot.statements if s.get("level")},
                not_fda_approved=any(t.not_fda_approved for t in article_topics),
                treatment=any(t.is_treatment for t in article_topics),
                key_points_html=snapshot.key_points_source,
                language=snapshot.language,
            )
            for finding in findings:
                total += 1
                negated = " (negated)" if finding.negated else ""
                self.stdout.write(f"{snapshot.slug}: {finding.rule}{negated}: {finding.message}")
                if finding.text:
                    self.stdout.write(f"    in: “{finding.text}”")
                self.stdout.write(f"    instead: {finding.suggestion}")
                justification = accepted.get((article.pk, finding.key))
                if justification:
                    by = justification.justified_by.get_full_name() or justification.justified_by.get_username()
                    self.stdout.write(
                        f"    accepted by {by} on {justification.justified_at:%d %b %Y}: {justification.reason}"
                    )
        self.stdout.write(f"{len(articles)} live article(s) checked, {total} finding(s).")
        if total and options["fail_on_findings"]:
            raise CommandError(f"{total} finding(s) in live articles.")
