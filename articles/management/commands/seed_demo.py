"""Load the demo: one account per role, topics, disclaimers, references (through the importers) and articles.

Every article goes through the real workflow (submit, approve, sign off, publish) to reach its demo
state: draft, in review, changes requested, signed off, scheduled, live, live with an edit submitted
for review, and due for re-review. Live articles get their history by replaying those steps with the
clock set back, so dates on the public pages look like a real clinic's. Spanish pages under /es/: two
translations (one live, one a draft), the Spanish disclaimers, topic names and footer policy pages (the
English policy pages come from migration 0006).

Safe to run again: accounts keep their demo passwords, nothing is duplicated, and articles that
already exist are left as staff edited them.
"""

import contextlib
import datetime
import json
import random
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from articles import citations, demo_diagram, feedback, images, renditions, translations, workflow
from articles.importers import ReferenceImportError, import_references
from articles.models import (
    Article,
    ArticleDailyViews,
    Disclaimer,
    Image,
    Page,
    PageFeedback,
    ProblemReport,
    StaffProfile,
    Topic,
    UrgentHelp,
)

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo_content"
DEMO_ACCOUNTS = [
    # username, password, group, display name, credentials, bio
    ("writer", "writer-demo-pass", "Writers", "Maya Okafor", "RN, patient educator",
     "<p>Maya is a registered nurse who writes the clinic's patient guides.</p>"),
    ("reviewer", "reviewer-demo-pass", "Reviewers", "Daniel Reyes", "MD, board-certified dermatologist",
     "<p>Dr. Reyes is a dermatologist who checks every claim in our articles against the research.</p>"),
    ("editor", "editor-demo-pass", "Editors", "Priya Shah", "MPH, managing editor",
     "<p>Priya runs the editorial calendar and owns the clinic's disclaimers and policies.</p>"),
    ("admin", "admin-demo-pass", None, "Site Administrator", "", ""),
]  # fmt: skip
CONFLICTS_OF_INTEREST = {
    "writer": "None. Maya is paid a salary by the clinic and receives nothing from product makers.",
    "reviewer": "Dr. Reyes performs exosome treatments at the clinic, which is paid for them. He has no ties to "
    "companies that make exosome products.",
    "editor": "None.",
}
# The demo reviewer grades each statement by its strongest reference, as the "evidence" map says; a claim
# worded as a lab finding is graded as one.
LAB_FINDING = ("in lab studies", "in lab dishes", "in the lab")
# How long ago each live article went through review and publication.
DEMO_VIEW_DAYS = 90  # invented daily page views for each live article, so the reach dashboard has a history
# The labelled diagram (demo_diagram.py) goes into this article, before this heading.
DEMO_FIGURE = ("exosomes-wound-healing", "<h2>What the research shows</h2>")
PUBLISHED_AGO = {"live": 60, "live_with_changes": 90, "due_for_rereview": 400}


class Command(BaseCommand):
    help = "Create demo accounts and content (idempotent). For the demo only: the passwords are public."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo creates accounts with public passwords: run it only with DEBUG=1.")
        data = json.loads((DEMO_DIR / "articles.json").read_text(encoding="utf-8"))
        self.evidence = data["evidence"]
        self.grade_overrides = {item["slug"]: item.get("grade_overrides", []) for item in data["articles"]}
        # The seed's workflow steps queue their mail as any step does; it waits in the admin's outbox.
        with transaction.atomic():
            self.users = self.create_accounts()
            self.create_topics(data["topics"])
            self.create_disclaimers(data["disclaimers"])
            self.create_pages(data["pages"])
            self.import_demo_references()
            for item in data["articles"]:
                self.create_article(item)
            self.create_feedback()
            self.create_demo_views()
        self.print_logins()

    def create_accounts(self) -> dict:
        User = get_user_model()
        users = {}
        for username, password, group, name, credentials, bio in DEMO_ACCOUNTS:
            user, _created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@clinic.example"}
            )
            user.is_staff = True
            user.is_superuser = group is None
            user.first_name, _, user.last_name = name.partition(" ")
            user.set_password(password)
            user.save()
            if group:
                user.groups.add(Group.objects.get(name=group))
            StaffProfile.objects.update_or_create(
                user=user,
                defaults={
                    "display_name": name,
                    "credentials": credentials,
                    "bio": bio,
                    "conflicts_of_interest": CONFLICTS_OF_INTEREST.get(username, ""),
                    "slug": name.lower().replace(" ", "-"),
                },
            )
            users[username] = user
        return users

    def create_topics(self, topics: list[dict]) -> None:
        for topic in topics:
            Topic.objects.update_or_create(
                slug=topic["slug"],
                defaults={
                    "name": topic["name"],
                    "description": topic.get("description", ""),
                    "name_es": topic.get("name_es", ""),
                    "description_es": topic.get("description_es", ""),
                    "requires_topic_disclaimer": topic.get("requires_topic_disclaimer", False),
                    "not_fda_approved": topic.get("not_fda_approved", False),
                    "offered_by_clinic": topic.get("offered_by_clinic", False),
                    "is_treatment": topic.get("is_treatment", False),
                    "review_interval_months": topic.get("review_interval_months"),
                },
            )
            if box := topic.get("urgent_help"):
                self.create_urgent_help(topic["slug"], box)

    def create_urgent_help(self, slug: str, box: dict) -> None:
        """Give the topic its "Get urgent help" box, calling the clinic's own number; leave one editors changed."""
        UrgentHelp.objects.get_or_create(
            topic=Topic.objects.get(slug=slug),
            defaults={
                "heading": box["heading"],
                "symptoms": "\n".join(box["symptoms"]),
                "same_day_contact": box["same_day_contact"],
                "same_day_phone": settings.CLINIC["phone"],
                "emergency_symptoms": "\n".join(box.get("emergency_symptoms", [])),
                "emergency_phone": box["emergency_phone"],
            },
        )

    def create_disclaimers(self, disclaimers: list[dict]) -> None:
        for position, item in enumerate(disclaimers):
            disclaimer, created = Disclaimer.objects.get_or_create(
                title=item["title"],
                defaults={
                    "text": item["text_html"],
                    "language": item.get("language", settings.LANGUAGE_CODE),
                    "scope": item["scope"],
                    "position": position,
                },
            )
            if created and item["scope"] == Disclaimer.Scope.TOPICS:
                disclaimer.topics.set(Topic.objects.filter(slug__in=item["topics"]))

    def create_pages(self, pages: list[dict]) -> None:
        """Add the policy pages in other languages; leave one editors changed."""
        for position, item in enumerate(pages):
            Page.objects.get_or_create(
                slug=item["slug"],
                defaults={
                    "title": item["title"],
                    "body": item["body_html"],
                    "language": item["language"],
                    "position": position,
                },
            )

    def import_demo_references(self) -> None:
        for path in sorted((DEMO_DIR / "references").iterdir()):
            if path.suffix == ".md":
                continue
            try:
                result = import_references(path.read_text(encoding="utf-8"))
            except ReferenceImportError as error:
                raise CommandError(f"{path.name}: {error}") from error
            self.stdout.write(f"References from {path.name}: {len(result.created)} new, {len(result.updated)} updated.")

    # --- Articles, each brought to its demo state through the workflow ---------------------------------

    def create_article(self, item: dict) -> None:
        if Article.objects.filter(slug=item["slug"]).exists():
            self.stdout.write(f"Article (kept as it is): {item['title']}")
            return
        state = item["demo_state"]
        days_ago = PUBLISHED_AGO.get(state, 0)
        source = item.get("translation_of")  # listed before its translations
        with self.clock(days_ago):
            article = Article(
                title=item["title"],
                slug=item["slug"],
                language=item.get("language", settings.LANGUAGE_CODE),
                translation_of=Article.objects.get(slug=source) if source else None,
                summary=item["summary"],
                key_points=item.get("key_points_html", ""),
                body=self.with_demo_figure(item),
                author=self.users["writer"],
                is_featured=item.get("featured", False),
                drafted_with_ai=item.get("drafted_with_ai", False),
            )
            article._history_user = self.users["writer"]
            article.save()
            article.topics.set(Topic.objects.filter(slug__in=item["topics"]))
        getattr(self, f"bring_to_{state}")(article, item, days_ago)
        article.refresh_from_db()
        self.stdout.write(f"Article ({article.get_status_display().lower()}): {article.title}")

    def with_demo_figure(self, item: dict) -> str:
        """Return the article's body, with the demo diagram inserted where DEMO_FIGURE places it."""
        slug, before = DEMO_FIGURE
        if item["slug"] != slug or before not in item["body_html"]:
            return item["body_html"]
        image = Image.objects.filter(title=demo_diagram.TITLE).first()
        if image is None:
            image = Image(
                title=demo_diagram.TITLE, original_name=demo_diagram.FILE_NAME, alt_text=demo_diagram.ALT_TEXT,
                caption=demo_diagram.CAPTION, credit=demo_diagram.CREDIT, licence=demo_diagram.LICENCE,
                uploaded_by=self.users["writer"],
            )  # fmt: skip
            renditions.save_upload(
                image, images.clean_image(demo_diagram.draw(), demo_diagram.FILE_NAME), save=image.save
            )
            self.stdout.write(f"Image: {image.title}")
        return item["body_html"].replace(before, f"<p>[[figure:{image.pk}]]</p>{before}", 1)

    def clock(self, days_ago: int, minutes: int = 0):
        """Run the enclosed steps as if it were `days_ago` days (plus `minutes`) in the past."""
        if not days_ago:
            return contextlib.nullcontext()
        moment = timezone.now() - datetime.timedelta(days=days_ago) + datetime.timedelta(minutes=minutes)
        return mock.patch("django.utils.timezone.now", return_value=moment)

    def approve(self, article: Article, *, only_first: bool = False, skip_hash: str = "") -> None:
        source = article.translation_of or article
        overrides = self.grade_overrides.get(source.slug, [])
        statements = list(article.evidence_statements.all())
        for statement, graded_text in zip(statements, self.graded_texts(article, statements), strict=True):
            if statement.statement_hash == skip_hash:
                continue
            grades = [self.evidence[key] for key in statement.cited_keys]
            strongest = min(grades, key=lambda grade: grade["level"])
            level = strongest["level"]
            why = strongest["why"]
            if level == "E" and graded_text.lower().startswith(LAB_FINDING):
                level = "F"  # a mouse-and-cell paper cited for its cell findings: graded as the lab part
            for override in overrides:
                if graded_text.startswith(override["starts_with"]):
                    level, why = override["level"], override["why"]
            workflow.approve_statement(
                statement,
                by=self.users["reviewer"],
                seen_hash=statement.statement_hash,
                evidence_level=level,
                certainty=strongest["certainty"],
                comment=why,
            )
            if only_first:
                return

    def graded_texts(self, article: Article, statements: list) -> list[str]:
        """The words the demo reviewer grades each statement by: for a translation, the source statement's."""
        if article.translation_of is None:
            return [statement.text for statement in statements]
        sentences = [citations.Sentence(s.text, tuple(s.cited_keys)) for s in statements]
        sources = translations.source_statements(article, sentences)
        return [source.text if source else s.text for s, source in zip(statements, sources, strict=True)]

    def reviewed(self, article: Article, item: dict, days_ago: int = 0) -> None:
        with self.clock(days_ago, minutes=30):
            workflow.submit_for_review(article, by=self.users["writer"])
        with self.clock(days_ago, minutes=90):
            self.approve(article)
            self.accept_findings(article, item)
            workflow.sign_off(
                article,
                by=self.users["reviewer"],
                seen_hash=article.content_hash(),
                comment="Claims match the studies.",
            )

    def accept_findings(self, article: Article, item: dict) -> None:
        """Record the demo reviewer's reason for any claim-check finding the article is meant to carry."""
        for finding in workflow.review_status(article).unresolved_findings:
            if "accepted_findings_reason" not in item:
                raise CommandError(f"Demo article {item['slug']} trips a claim check: {finding.message}")
            workflow.justify_finding(
                article, by=self.users["reviewer"], finding_key=finding.key, reason=item["accepted_findings_reason"]
            )

    def published(self, article: Article, item: dict, days_ago: int) -> None:
        self.reviewed(article, item, days_ago)
        with self.clock(days_ago, minutes=180):
            workflow.publish(article, by=self.users["editor"])

    def bring_to_draft(self, article, item, days_ago):
        pass

    def bring_to_in_review(self, article, item, days_ago):
        workflow.submit_for_review(article, by=self.users["writer"])
        self.approve(article, only_first=True)

    def bring_to_changes_requested(self, article, item, days_ago):
        workflow.submit_for_review(article, by=self.users["writer"])
        (flawed,) = citations.statements(item["flawed_sentence_html"])
        flawed_hash = flawed.hash
        statement = article.evidence_statements.get(statement_hash=flawed_hash)
        self.approve(article, skip_hash=flawed_hash)
        reviewer = self.users["reviewer"]
        workflow.request_statement_changes(
            statement, by=reviewer, seen_hash=flawed_hash, comment=item["review_comment"]
        )
        workflow.request_changes(article, by=reviewer, comment="One claim needs rewording; see the statement comment.")

    def bring_to_signed_off(self, article, item, days_ago):
        self.reviewed(article, item)

    def bring_to_scheduled(self, article, item, days_ago):
        self.reviewed(article, item)
        morning = timezone.localtime() + datetime.timedelta(days=3)
        at = morning.replace(hour=9, minute=0, second=0, microsecond=0)
        workflow.schedule(article, by=self.users["editor"], at=at)

    def bring_to_live(self, article, item, days_ago):
        self.published(article, item, days_ago)

    def bring_to_due_for_rereview(self, article, item, days_ago):
        self.published(article, item, days_ago)

    def bring_to_live_with_changes(self, article, item, days_ago):
        self.published(article, item, days_ago)
        edit = item["pending_edit"]
        article.refresh_from_db()
        article.body = article.body.replace(edit["find"], edit["replace"])
        article._history_user = self.users["writer"]
        article.save()
        workflow.record_edit(article, by=self.users["writer"])
        workflow.submit_for_review(article, by=self.users["writer"])

    def create_feedback(self) -> None:
        """Give the first live article some patient feedback: answers, an open report and one closed as corrected."""
        article = Article.objects.live().order_by("pk").first()
        if article is None or ProblemReport.objects.filter(article=article).exists():
            return
        for helpful, comment in [(True, ""), (False, "It did not say how many sessions are needed.")]:
            PageFeedback.objects.create(
                article=article, snapshot=article.live_snapshot, helpful=helpful, comment=comment
            )
        ProblemReport.objects.create(
            article=article,
            kind=ProblemReport.Kind.OUT_OF_DATE,
            description="A newer review came out this year. Does it change what the page says?",
            email="patient@example.com",
        )
        closed = ProblemReport.objects.create(
            article=article,
            kind=ProblemReport.Kind.BROKEN_LINK,
            description="The PubMed link of reference 2 is broken.",
        )
        feedback.close_report(
            closed, by=self.users["editor"], outcome=ProblemReport.Outcome.CORRECTED, note="Fixed the PMID."
        )
        self.stdout.write(f"Patient feedback: two answers and two problem reports on {article.title}")

    def create_demo_views(self) -> None:
        """Invent a plausible history of daily page views for each live article (demo data, the same every run)."""
        if ArticleDailyViews.objects.exists():
            return
        today = timezone.localdate()
        rows = []
        for rank, article in enumerate(Article.objects.live().order_by("pk")):
            invented = random.Random(article.pk)  # made-up numbers, the same every run
            usual = 60 // (rank + 1) + 4  # some pages are read far more than others
            for days_ago in range(DEMO_VIEW_DAYS):
                day = today - datetime.timedelta(days=days_ago)
                weekday = 1.0 if day.weekday() < 5 else 0.6  # fewer readers at the weekend
                views = round(usual * weekday * invented.uniform(0.6, 1.4))
                rows.append(ArticleDailyViews(article=article, day=day, views=views))
        ArticleDailyViews.objects.bulk_create(rows)
        self.stdout.write(f"Page views: {DEMO_VIEW_DAYS} days of invented demo counts for each live article")

    def print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS("\nDemo ready. Log in to the admin with:"))
        for username, password, group, _name, _credentials, _bio in DEMO_ACCOUNTS:
            role = group[:-1].lower() if group else "admin (superuser)"
            self.stdout.write(f"  {role:<20} user {username:<9} password {password}")
        self.stdout.write("Reviewers and editors work on the review desk at /review/.")
