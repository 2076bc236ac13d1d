"""Load the demo: one account per role, topics, disclaimers, references (through the importers) and articles.

Safe to run again: accounts keep their demo passwords, nothing is duplicated, and articles that
already exist are left as staff edited them.
"""

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from articles import workflow
from articles.importers import ReferenceImportError, import_references
from articles.models import Article, Disclaimer, StaffProfile, Topic

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


class Command(BaseCommand):
    help = "Create demo accounts and content (idempotent). For the demo only: the passwords are public."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo creates accounts with public passwords: run it only with DEBUG=1.")
        data = json.loads((DEMO_DIR / "articles.json").read_text(encoding="utf-8"))
        with transaction.atomic():
            users = self.create_accounts()
            self.create_topics(data["topics"])
            self.create_disclaimers(data["disclaimers"])
            self.import_demo_references()
            self.create_articles(data["articles"], writer=users["writer"], editor=users["editor"])
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
                    "slug": name.lower().replace(" ", "-"),
                },
            )
            users[username] = user
        return users

    def create_topics(self, topics: list[dict]) -> None:
        for topic in topics:
            Topic.objects.update_or_create(
                slug=topic["slug"], defaults={"name": topic["name"], "description": topic.get("description", "")}
            )

    def create_disclaimers(self, disclaimers: list[dict]) -> None:
        for position, item in enumerate(disclaimers):
            disclaimer, created = Disclaimer.objects.get_or_create(
                title=item["title"],
                defaults={"text": item["text_html"], "scope": item["scope"], "position": position},
            )
            if created and item["scope"] == Disclaimer.Scope.TOPICS:
                disclaimer.topics.set(Topic.objects.filter(slug__in=item["topics"]))

    def import_demo_references(self) -> None:
        for path in sorted((DEMO_DIR / "references").iterdir()):
            if path.suffix == ".md":
                continue
            try:
                result = import_references(path.read_text(encoding="utf-8"))
            except ReferenceImportError as error:
                raise CommandError(f"{path.name}: {error}") from error
            self.stdout.write(f"References from {path.name}: {len(result.created)} new, {len(result.updated)} updated.")

    def create_articles(self, articles: list[dict], *, writer, editor) -> None:
        for item in articles:
            article = Article.objects.filter(slug=item["slug"]).first()
            if article is None:
                article = Article.objects.create(
                    title=item["title"],
                    slug=item["slug"],
                    summary=item["summary"],
                    body=item["body_html"],
                    author=writer,
                )
                article.topics.set(Topic.objects.filter(slug__in=item["topics"]))
            if article.live_snapshot_id is None and article.status == Article.Status.DRAFT:
                workflow.publish(article, by=editor)
            self.stdout.write(f"Article: {article.title}")

    def print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS("\nDemo ready. Log in to the admin with:"))
        for username, password, group, _name, _credentials, _bio in DEMO_ACCOUNTS:
            role = group[:-1].lower() if group else "admin (superuser)"
            self.stdout.write(f"  {role:<20} user {username:<9} password {password}")
