"""Nothing lost: a site exported and imported into a new, empty PostgreSQL database comes back exactly.

The round trip runs as an operator would: `manage.py migrate`, `import_site` and `export_site` in their own
processes, against databases this module creates (named clinic_export_...) and drops.
"""

import copy
import datetime
import json
import os
import subprocess
import sys
import tempfile
import uuid
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db.models import ProtectedError
from django.urls import reverse

from articles import workflow
from articles.management.commands.import_site import NO_SUCH_FILE, NOT_UTF8, NOTHING_IMPORTED
from articles.models import (
    Article,
    AuditEvent,
    Disclaimer,
    Page,
    PatientConsent,
    PublishedSnapshot,
    RedFlagPhrase,
    TranslationPolicy,
)
from articles.site_export import (
    ALREADY_HAS_CONTENT,
    EXCLUDED,
    MISSING_PARTS,
    MISSING_SECTIONS,
    NOT_A_ROW,
    NOT_A_SITE_EXPORT,
    UNKNOWN_SECTIONS,
    WRONG_VERSION,
    as_json,
    export_site,
    exported_models,
)
from tests.factories import ArticleFactory, ReferenceFactory, TopicFactory, library_image, publish_reviewed

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parents[1]
RESTORED_PASSWORD = "editor-restored-pass"


# --- Databases and processes of their own --------------------------------------------------------------


def _server(dbname: str = "postgres") -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        dbname=dbname,
        autocommit=True,
    )


def _create_database(template: str | None = None) -> str:
    name = f"clinic_export_{uuid.uuid4().hex[:12]}"
    with _server() as server:
        server.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


def _drop_database(name: str) -> None:
    with _server() as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(*args: str, database: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py in a process of its own against another database, as an operator would."""
    db = settings.DATABASES["default"]
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    environment = {
        **os.environ,
        "DATABASE_URL": f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST']}:{db['PORT']}/{database}",
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "test-only-secret-key",
        "SECURE_SSL_REDIRECT": "0",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def fingerprint(database: str) -> dict[str, str]:
    """Return a hash of every table's rows: two equal fingerprints, the same content."""
    with _server(database) as connection:
        tables = [row[0] for row in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return {
            table: connection.execute(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"  # noqa: S608
            ).fetchone()[0]
            for table in sorted(tables)
        }


@pytest.fixture(scope="module")
def migrated_template():
    """A new database that has only been migrated, to copy empty databases from."""
    name = _create_database()
    try:
        result = manage("migrate", "--no-input", database=name)
        assert result.returncode == 0, result.stderr
        yield name
    finally:
        _drop_database(name)


@pytest.fixture
def empty_database(migrated_template):
    name = _create_database(template=migrated_template)
    yield name
    _drop_database(name)


@pytest.fixture(scope="module")
def untouchable_database(migrated_template):
    """One empty database that every refused import must leave exactly as it was."""
    name = _create_database(template=migrated_template)
    yield name
    _drop_database(name)


# --- A site with every kind of row ----------------------------------------------------------------------


def build_site(settings) -> None:
    """Make a site with an article in every workflow state, each kind of review record, history and logs."""
    settings.DEBUG = True  # seed_demo's guard: its accounts have public passwords
    call_command("seed_demo", stdout=StringIO())
    settings.DEBUG = False
    User = get_user_model()
    editor, reviewer = User.objects.get(username="editor"), User.objects.get(username="reviewer")

    # Live, then its reference retracted and the retraction acknowledged, then archived.
    reference = ReferenceFactory()
    archived = ArticleFactory(
        title="An archived guide",
        body=f"<p>Exosomes calmed redness in one small study [@{reference.citation_key}].</p>",
    )
    publish_reviewed(archived, editor=editor, reviewer=reviewer)
    reference.is_retracted, reference.retraction_note = True, "Retraction Watch, March 2026."
    reference.save()
    workflow.acknowledge_retraction(archived, reference, by=reviewer, comment="Cited only for its history.")
    workflow.archive(archived, by=editor, reason="Superseded by the newer guide.")

    disclaimer = Disclaimer.objects.order_by("pk").first()
    disclaimer.text += "<p>Ask your clinician before any treatment.</p>"
    disclaimer.save()
    phrase = RedFlagPhrase.objects.order_by("pk").first()
    phrase.instead = "Say what the studies found, and in whom."
    phrase.save()
    policy = TranslationPolicy.current()
    policy.out_of_date_grace_days = 10
    policy.save()
    page = Page.objects.order_by("pk").first()
    page.body += "<p>Updated by the editor.</p>"
    page.save()
    LogEntry.objects.log_actions(
        user_id=editor.pk, queryset=[page], action_flag=CHANGE, change_message="Changed body.", single_object=True
    )
    editor.user_permissions.add(Permission.objects.get(codename="delete_topic"))
    editor.password = PBKDF2PasswordHasher().encode(RESTORED_PASSWORD, "exportsalt", iterations=1000)
    editor.save(update_fields=["password"])
    if apps.is_installed("django_otp.plugins.otp_totp"):
        apps.get_model("otp_totp", "TOTPDevice").objects.create(user=editor, name="Authenticator app", confirmed=True)
    if TwoFactorRequirement := next((m for m in exported_models() if m.__name__ == "TwoFactorRequirement"), None):
        TwoFactorRequirement.objects.create(group=Group.objects.get(name="Editors"), required=True)
    # The image library's rows travel; its files are copied with MEDIA_ROOT or the bucket (docs/deploy.md).
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="site-export-media-")
    photograph = library_image(shows_patient=True, uploaded_by=editor)
    PatientConsent.objects.create(image=photograph, consented_by="The patient", consented_on=datetime.date(2026, 1, 5),
                                  use="Website", form_reference="CF-1", recorded_by=editor)  # fmt: skip


CHECK_THE_RESTORED_SITE = """
import json
import os
from django.contrib.auth import authenticate
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest
from django.test import Client
from articles import workflow
from articles.models import Article, AuditEvent, Topic

live = Article.objects.live().order_by("slug").first()
page = Client().get(live.get_absolute_url())
request = HttpRequest()
request.META["REMOTE_ADDR"] = "127.0.0.1"
editor = authenticate(request, username="editor", password=os.environ["RESTORED_PASSWORD"])
draft = Article.objects.filter(status="draft", live_snapshot=None).order_by("pk").first()
draft.title += " (edited after the restore)"
draft.save()
workflow.submit_for_review(draft, by=draft.author)
try:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE articles_auditevent SET message = 'tampered'")
    guard = "none"
except DatabaseError as error:
    guard = str(error)
print(json.dumps({
    "status": page.status_code,
    "shows_title": live.live_snapshot.title in page.content.decode(),
    "login": editor.username if editor else None,
    "topic": Topic.objects.create(name="Added after the restore", slug="added-after-the-restore").pk,
    "revision": draft.history.order_by("-history_id").first().history_id,
    "audit_event": AuditEvent.objects.order_by("-pk").first().pk,
    "guard": guard,
}))
"""


def test_a_site_round_trips_into_an_empty_database_exactly(settings, empty_database, tmp_path):
    build_site(settings)
    assert set(Article.objects.values_list("status", flat=True)) == set(Article.Status.values)
    exported = tmp_path / "site.json"
    call_command("export_site", output=str(exported), stdout=StringIO())
    on_stdout = StringIO()
    call_command("export_site", stdout=on_stdout)
    first = exported.read_bytes()
    assert on_stdout.getvalue().encode() == first  # the same data, the same bytes
    assert exported.stat().st_mode & 0o777 == 0o600  # it holds password hashes
    document = json.loads(first)
    assert [label for label, rows in document["models"].items() if not rows] == []  # every kind of row travels
    times = {
        row["pk"]: datetime.datetime.fromisoformat(row["fields"]["at"])
        for row in document["models"]["articles.auditevent"]
    }
    assert times == dict(AuditEvent.objects.values_list("pk", "at"))  # to the microsecond

    imported = manage("import_site", str(exported), database=empty_database)
    assert imported.returncode == 0, imported.stderr
    assert "Imported" in imported.stdout
    again = tmp_path / "again.json"
    exported_again = manage("export_site", "--output", str(again), database=empty_database)
    assert exported_again.returncode == 0, exported_again.stderr
    assert again.read_bytes() == first

    check = manage(
        "shell",
        "-c",
        CHECK_THE_RESTORED_SITE,
        database=empty_database,
        ALLOWED_HOSTS="testserver",
        RESTORED_PASSWORD=RESTORED_PASSWORD,
    )
    assert check.returncode == 0, check.stderr
    site = json.loads(check.stdout.strip().splitlines()[-1])
    assert (site["status"], site["shows_title"], site["login"]) == (200, True, "editor")
    newest = {label: max(row["pk"] for row in rows) for label, rows in document["models"].items()}
    assert site["topic"] > newest["articles.topic"]
    assert site["revision"] > newest["articles.historicalarticle"]
    assert site["audit_event"] > newest["articles.auditevent"]
    assert "append-only" in site["guard"]  # the import left the database's guards as they were


# --- Refused imports write nothing and say why ----------------------------------------------------------


@pytest.fixture
def small_site_export() -> dict:
    """The export of a site with one published article, one draft and their records."""
    reference = ReferenceFactory()
    publish_reviewed(
        ArticleFactory(body=f"<p>Exosomes are tiny packages cells release [@{reference.citation_key}].</p>")
    )
    ArticleFactory(title="A draft")
    return export_site()


def _article_row(document: dict) -> dict:
    return document["models"]["articles.article"][0]


def _changed(document: dict, change) -> str:
    document = copy.deepcopy(document)
    change(document)
    return as_json(document)


def _give_the_snapshot_to_the_draft(document: dict) -> None:
    live, draft = document["models"]["articles.article"]
    (snapshot,) = document["models"]["articles.publishedsnapshot"]
    assert live["fields"]["live_snapshot"] == snapshot["pk"]
    snapshot["fields"]["article"] = draft["pk"]


def _drop_audit_events(document: dict, action: str) -> None:
    events = document["models"]["articles.auditevent"]
    events[:] = [event for event in events if event["fields"]["action"] != action]


BAD_EXPORTS = {
    "not JSON": (lambda doc: "Dear clinic, here is the backup you asked for.\n", "is not JSON"),
    "cut short": (lambda doc: as_json(doc)[: len(as_json(doc)) // 2], "is not JSON"),
    "a fixture, not a site export": (
        lambda doc: json.dumps([{"model": "articles.topic", "pk": 1, "fields": {"name": "Acne"}}]),
        NOT_A_SITE_EXPORT,
    ),
    "a later version": (
        lambda doc: _changed(doc, lambda d: d.update(version=2)),
        WRONG_VERSION.format(version=2, expected=1),
    ),
    "other migrations": (
        lambda doc: _changed(doc, lambda d: d["migrations"].update(articles="0001_initial")),
        "articles: export 0001_initial, this database",
    ),
    "an unknown model": (
        lambda doc: _changed(doc, lambda d: d["models"].update({"articles.horoscope": []})),
        UNKNOWN_SECTIONS.format(labels="articles.horoscope"),
    ),
    "a missing section": (
        lambda doc: _changed(doc, lambda d: d["models"].pop("articles.auditevent")),
        MISSING_SECTIONS.format(labels="articles.auditevent"),
    ),
    "a field the model does not have": (
        lambda doc: _changed(doc, lambda d: _article_row(d)["fields"].update(colour="red")),
        "unknown field(s) colour",
    ),
    "a value that does not fit its field": (
        lambda doc: _changed(doc, lambda d: _article_row(d)["fields"].update(created_at="last Tuesday")),
        "field “created_at”",
    ),
    "a row the database refuses": (
        lambda doc: _changed(doc, lambda d: _article_row(d)["fields"].update(status="approved-by-me")),
        'violates check constraint "article_status_valid"',
    ),
    "a live snapshot that is another article's": (
        lambda doc: _changed(doc, _give_the_snapshot_to_the_draft),
        "its rows do not fit together as the workflow writes them",
    ),
    "an approval without its audit event": (
        lambda doc: _changed(doc, lambda d: _drop_audit_events(d, "articles.statement.approve")),
        "was written without its audit event (articles.statement.approve of article",
    ),
    "a permission this site does not have": (
        lambda doc: _changed(
            doc, lambda d: d["models"]["auth.group"][0]["fields"]["permissions"].append(["fly", "articles", "article"])
        ),
        "Permission matching query does not exist",
    ),
    "no models part": (
        lambda doc: _changed(doc, lambda d: d.pop("models")),
        MISSING_PARTS.format(parts="“models”"),
    ),
    "rows that are not a list": (
        lambda doc: _changed(doc, lambda d: d["models"].update({"articles.article": {"pk": 1}})),
        NOT_A_ROW.format(label="articles.article", number=1),
    ),
    "a row that is not a row": (
        lambda doc: _changed(doc, lambda d: d["models"]["articles.article"].insert(0, "an article")),
        NOT_A_ROW.format(label="articles.article", number=1),
    ),
    "a row without its key": (
        lambda doc: _changed(doc, lambda d: _article_row(d).update(pk=None)),
        NOT_A_ROW.format(label="articles.article", number=1),
    ),
    "a link to a row that is not there": (
        lambda doc: _changed(doc, lambda d: _article_row(d)["fields"].update(author=987654)),
        "(author_id)=(987654) is not present",
    ),
}


@pytest.mark.parametrize("case", BAD_EXPORTS)
def test_a_bad_export_is_refused_with_a_reason_and_writes_nothing(
    case, small_site_export, untouchable_database, tmp_path
):
    make, reason = BAD_EXPORTS[case]
    path = tmp_path / "site.json"
    path.write_text(make(small_site_export), encoding="utf-8")
    before = fingerprint(untouchable_database)
    result = manage("import_site", str(path), database=untouchable_database)
    assert result.returncode == 1
    assert reason in result.stderr
    assert NOTHING_IMPORTED in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert fingerprint(untouchable_database) == before


@pytest.mark.parametrize("problem", ["no such file", "a folder", "not UTF-8"])
def test_an_unreadable_file_is_refused_with_a_reason_and_writes_nothing(problem, untouchable_database, tmp_path):
    path = tmp_path / "site.json"
    if problem == "a folder":
        path.mkdir()
    elif problem == "not UTF-8":
        path.write_bytes(b'{"format": "clinic-site-export", "title": "Caf\xe9"}')
    before = fingerprint(untouchable_database)
    result = manage("import_site", str(path), database=untouchable_database)
    assert result.returncode == 1
    expected = {
        "no such file": NO_SUCH_FILE,
        "a folder": "it cannot be read (Is a directory).",
        "not UTF-8": NOT_UTF8.format(byte=0xE9, offset=46),
    }[problem]
    assert f"{path}: {expected} {NOTHING_IMPORTED}" in result.stderr
    assert "Traceback" not in result.stderr
    assert fingerprint(untouchable_database) == before


def test_a_database_with_content_is_refused_and_left_as_it_was(small_site_export, empty_database):
    text = as_json(small_site_export)
    first = manage("import_site", "-", database=empty_database, stdin=text)
    assert first.returncode == 0, first.stderr
    before = fingerprint(empty_database)
    second = manage("import_site", "-", database=empty_database, stdin=text)
    assert second.returncode == 1
    assert ALREADY_HAS_CONTENT.split("(")[0] in second.stderr
    assert NOTHING_IMPORTED in second.stderr
    assert "Traceback" not in second.stderr
    assert fingerprint(empty_database) == before


def test_every_model_is_exported_or_excluded_with_a_reason():
    exported = {model._meta.label_lower for model in exported_models()}
    carried = {
        field.remote_field.through._meta.label_lower  # many-to-many rows travel inside their model's rows
        for model in exported_models()
        for field in model._meta.local_many_to_many
    }
    installed = {model._meta.label_lower for model in apps.get_models(include_auto_created=True)}
    assert installed - exported - carried - set(EXCLUDED) == set()
    assert exported.isdisjoint(EXCLUDED)
    assert all(len(reason.split()) >= 3 for reason in EXCLUDED.values())


# --- The other two "Nothing lost" promises --------------------------------------------------------------


def test_every_working_copy_save_is_restorable(client, writer):
    old_topic, new_topic = TopicFactory(), TopicFactory()
    article = ArticleFactory(author=writer, title="First", body="<p>One.</p>", topics=[old_topic])
    article.title, article.body = "Second", "<p>Two.</p>"
    article.save()
    article.topics.set([new_topic])
    article.title = "Third"
    article.save()
    revisions = list(article.history.order_by("history_date", "history_id"))
    assert len(revisions) >= 4
    client.force_login(writer)
    for revision in revisions:
        url = reverse("admin:articles_article_simple_history", args=[article.pk, revision.history_id])
        form = client.get(url).context["adminform"].form
        response = client.post(url, {name: value for name, value in form.initial.items() if value is not None})
        assert response.status_code == 302
        article.refresh_from_db()
        restored = (article.title, article.body, set(article.topics.values_list("pk", flat=True)))
        assert restored == (revision.title, revision.body, set(revision.topics.values_list("topic_id", flat=True)))
    assert article.history.count() == 2 * len(revisions)  # each restore is itself a revision


def test_a_published_article_is_archived_never_deleted(client, editor, admin_user):
    article = ArticleFactory()
    snapshot = publish_reviewed(article, editor=editor)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "delete_selected", "_selected_action": [article.pk], "post": "yes"},
    )
    assert "Cannot delete" in response.content.decode()
    with pytest.raises(ProtectedError):
        article.delete()
    workflow.archive(article, by=editor, reason="Superseded by a newer guide.")
    article.refresh_from_db()
    assert article.status == Article.Status.ARCHIVED
    assert PublishedSnapshot.objects.filter(pk=snapshot.pk).exists()
    assert AuditEvent.objects.filter(article=article, action="articles.article.archive").exists()
    assert client.get(snapshot.get_absolute_url()).status_code == 410


def test_the_import_restores_workflow_state_that_outside_the_gate_is_refused(small_site_export, empty_database):
    """The import is the one writer besides the transitions: it writes workflow state, under workflow.gate()."""
    imported = manage("import_site", "-", database=empty_database, stdin=as_json(small_site_export))
    assert imported.returncode == 0, imported.stderr
    live = next(row for row in small_site_export["models"]["articles.article"] if row["fields"]["live_snapshot"])
    with _server(empty_database) as connection:
        status, snapshot = connection.execute(
            "SELECT status, live_snapshot_id FROM articles_article WHERE id = %s", [live["pk"]]
        ).fetchone()
        sign_offs = connection.execute(
            "SELECT count(*) FROM articles_reviewsignoff WHERE article_id = %s", [live["pk"]]
        ).fetchone()[0]
        assert (status, snapshot, sign_offs) == (Article.Status.PUBLISHED, live["fields"]["live_snapshot"], 1)
        # The same kind of write, outside the gate: PostgreSQL's triggers refuse it.
        outside = pytest.raises(psycopg.errors.InsufficientPrivilege, match=r"only change through articles\.workflow")
        with outside, connection.transaction():
            connection.execute(
                "UPDATE articles_article SET status = %s WHERE id = %s", [Article.Status.SIGNED_OFF, live["pk"]]
            )
        # Inside it, as workflow.gate() opens it, the triggers let it through (and the test takes it back).
        with connection.transaction(force_rollback=True):
            connection.execute("SELECT set_config(%s, 'on', true)", [workflow.GATE])
            connection.execute(
                "UPDATE articles_article SET status = %s WHERE id = %s", [Article.Status.SIGNED_OFF, live["pk"]]
            )
