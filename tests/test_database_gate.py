"""The database as the last line (migration 0013): forged workflow writes are refused by PostgreSQL itself.

Each forged write is tried through the ORM and as raw SQL; each raises and leaves `database_state()` as it was.
PostgreSQL checks some rules at the commit, which a test's transaction never reaches: `at_commit()` runs those
checks when the test asks, and one transactional test commits for real.
"""

import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from articles import workflow
from articles.models import (
    WORKFLOW_FIELDS,
    AppendOnlyModel,
    Article,
    AuditEvent,
    PublishedSnapshot,
    ReviewSignOff,
    StatementApproval,
)
from tests.factories import ArticleFactory, member_of, publish_reviewed
from tests.test_bypass_attempts import APPEND_ONLY, database_state, record_of
from tests.test_desk import approved, cited_article, in_review, published

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("articles.migrations.0012_gate_triggers")
OUTSIDE_THE_GATE = r"may only change through articles\.workflow"
NOT_ITS_OWN = "is not one of its own, so it cannot be its live snapshot"
UNAUDITED = "was written without its audit event"
NOT_THROUGH_THE_GATE = r"rows are written only through articles\.workflow"


def at_commit() -> None:
    """Run now the checks PostgreSQL defers to the commit (a test's transaction is rolled back, never committed)."""
    connection.check_constraints()


def raw(sql: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def fields_of(record) -> dict:
    return {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields if not f.primary_key}


def copy_of(record) -> AppendOnlyModel:
    """Return an unsaved copy of a record, as a forger would make it through the ORM."""
    return type(record)(**fields_of(record))


def copy_sql(model) -> str:
    """Return an INSERT that copies a row (the id is its second parameter) onto an article (the first), as a
    forger would write it in SQL."""
    names = [connection.ops.quote_name(f.column) for f in model._meta.concrete_fields if not f.primary_key]
    values = ["%s" if name == '"article_id"' else name for name in names]
    table = model._meta.db_table
    return f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} FROM {table} WHERE id = %s"  # noqa: S608


def refused(error, match: str, attempt) -> None:
    """Assert that the attempt raises, and that what it wrote is rolled back."""
    with pytest.raises(error, match=match), transaction.atomic():
        attempt()


def through_the_gate_to_the_commit(*attempts) -> None:
    """Make the attempts inside the gate, then run the checks the commit would."""
    with workflow.gate():
        for attempt in attempts:
            attempt()
        at_commit()


# --- Workflow state changes only through the gate ----------------------------------------------------------------


def _save_status(article: Article) -> None:
    article.status = Article.Status.PUBLISHED
    article.save(update_fields=["status"])


STATUS_FORGERIES = {
    "save(update_fields)": _save_status,
    "queryset update": lambda a: Article.objects.filter(pk=a.pk).update(status=Article.Status.SIGNED_OFF),
    "raw UPDATE": lambda a: raw("UPDATE articles_article SET status = 'signed_off' WHERE id = %s", a.pk),
}


@pytest.mark.parametrize("way", STATUS_FORGERIES)
def test_a_status_change_outside_the_gate_is_refused(way):
    article = in_review()  # a transition ran first in this transaction: its gate closed behind it
    before = database_state()
    refused(DatabaseError, rf"articles_article\.status {OUTSIDE_THE_GATE}", lambda: STATUS_FORGERIES[way](article))
    assert database_state() == before


@pytest.mark.parametrize(
    ("column", "value"),
    [("live_published_at", "now()"), ("live_review_due", "current_date"), ("scheduled_for", "now()")],
)
def test_every_workflow_column_is_guarded(column, value):
    article = published()
    before = database_state()
    sql = f"UPDATE articles_article SET {column} = {value} WHERE id = %s"  # noqa: S608 - fixed names
    refused(DatabaseError, rf"articles_article\.{column} {OUTSIDE_THE_GATE}", lambda: raw(sql, article.pk))
    assert database_state() == before


def test_the_triggers_guard_every_workflow_field_and_every_append_only_table():
    guarded = importlib.import_module("articles.migrations.0024_spanish").WORKFLOW_COLUMNS  # the latest to add one
    assert set(guarded) == {Article._meta.get_field(name).column for name in WORKFLOW_FIELDS}
    append_only = {model._meta.db_table for model in apps.get_models() if issubclass(model, AppendOnlyModel)}
    assert append_only == set(MIGRATION.APPEND_ONLY_TABLES)


def test_a_new_article_is_a_draft_unless_the_gate_is_open(writer):
    draft = ArticleFactory(author=writer)  # the admin's "Add article"
    assert draft.status == Article.Status.DRAFT
    before = database_state()
    forged = Article(title="Live at once", slug="live-at-once", summary="S.", body="<p>B.</p>", author=writer)
    forged.status = Article.Status.PUBLISHED
    set_through_the_gate_only = r"articles_article\.status may only be set through articles\.workflow"
    refused(DatabaseError, set_through_the_gate_only, lambda: Article.objects.bulk_create([forged]))
    assert database_state() == before


def test_the_gate_closes_behind_it_and_a_nested_gate_leaves_its_callers_open():
    article = ArticleFactory()
    with workflow.gate():
        with workflow.gate():
            pass
        Article.objects.filter(pk=article.pk).update(status=Article.Status.IN_REVIEW)  # the outer gate is open
    with pytest.raises(RuntimeError), workflow.gate():
        raise RuntimeError("a transition that fails")
    refused(DatabaseError, OUTSIDE_THE_GATE, lambda: Article.objects.filter(pk=article.pk).update(status="draft"))
    article.refresh_from_db()
    assert article.status == Article.Status.IN_REVIEW


# --- A live snapshot is the article's own, gate or not -----------------------------------------------------------


def _point_at(article, snapshot, way: str) -> None:
    if way == "queryset update":
        Article.objects.filter(pk=article.pk).update(live_snapshot=snapshot)
    else:
        raw("UPDATE articles_article SET live_snapshot_id = %s WHERE id = %s", snapshot.pk, article.pk)


@pytest.mark.parametrize("way", ["queryset update", "raw UPDATE"])
def test_another_articles_snapshot_never_becomes_an_articles_live_snapshot(way, editor):
    article, other = published(), published()
    workflow.unpublish(other, by=editor, reason="Its snapshot is free to point at.")
    other.refresh_from_db()
    before = database_state()
    refused(DatabaseError, OUTSIDE_THE_GATE, lambda: _point_at(article, other.snapshots.get(), way))
    with pytest.raises(IntegrityError, match=NOT_ITS_OWN), workflow.gate():
        _point_at(article, other.snapshots.get(), way)
    assert database_state() == before


# --- Review records are written only through the gate, each with its audit event ---------------------------------


@pytest.mark.parametrize("model", APPEND_ONLY, ids=lambda model: model._meta.model_name)
def test_a_forged_review_record_is_refused_through_the_orm_and_in_sql(reviewer, model):
    record = record_of(model, reviewer=reviewer)
    before = database_state()
    refused(DatabaseError, NOT_THROUGH_THE_GATE, lambda: copy_of(record).save())
    refused(DatabaseError, NOT_THROUGH_THE_GATE, lambda: model.objects.bulk_create([copy_of(record)]))
    refused(DatabaseError, NOT_THROUGH_THE_GATE, lambda: raw(copy_sql(model), record.article_id, record.pk))
    assert database_state() == before


@pytest.mark.parametrize("model", [m for m in APPEND_ONLY if m is not AuditEvent], ids=lambda m: m._meta.model_name)
def test_inside_the_gate_a_review_record_without_its_audit_event_is_refused_at_the_commit(reviewer, model):
    record = record_of(model, reviewer=reviewer)
    forged = copy_of(record)
    forged.article = ArticleFactory()  # an article with no audit event of the record's kind in this transaction
    before = database_state()
    for forge in (forged.save, lambda: raw(copy_sql(model), forged.article_id, record.pk)):
        refused(IntegrityError, UNAUDITED, lambda forge=forge: through_the_gate_to_the_commit(forge))
    assert database_state() == before


def test_a_forged_snapshot_never_goes_live(editor):
    article = published()
    forged = copy_of(article.live_snapshot)
    forged.article = ArticleFactory()  # a draft, to put live with no review or publication in the audit trail
    forged.body_html = "<p>A randomised trial showed a cure.</p>"
    before = database_state()
    refused(DatabaseError, NOT_THROUGH_THE_GATE, lambda: forged.save())

    def make_it_live():
        Article.objects.filter(pk=forged.article_id).update(live_snapshot=forged, live_published_at=forged.published_at)

    refused(IntegrityError, UNAUDITED, lambda: through_the_gate_to_the_commit(forged.save, make_it_live))
    assert database_state() == before


def test_forged_approvals_and_sign_off_cannot_make_an_article_publishable(reviewer, editor):
    article = in_review()
    statement = article.evidence_statements.get()
    approval = StatementApproval(
        article=article, statement_hash=statement.statement_hash, statement_text=statement.text,
        cited_keys=statement.cited_keys, evidence_level="A", certainty="high", reviewer=reviewer,
    )  # fmt: skip
    sign_off = ReviewSignOff(article=article, content_hash=article.content_hash(), reviewer=reviewer)
    before = database_state()
    refused(DatabaseError, NOT_THROUGH_THE_GATE, lambda: StatementApproval.objects.create(**fields_of(approval)))
    refused(DatabaseError, NOT_THROUGH_THE_GATE, lambda: ReviewSignOff.objects.create(**fields_of(sign_off)))
    refused(DatabaseError, OUTSIDE_THE_GATE, lambda: Article.objects.filter(pk=article.pk).update(status="signed_off"))
    with pytest.raises(workflow.WorkflowError, match="has not been signed off"):
        workflow.publish(article, by=editor)
    assert database_state() == before


# --- TRUNCATE ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", MIGRATION.APPEND_ONLY_TABLES)
def test_truncate_of_an_append_only_table_is_refused(reviewer, table):
    publish_reviewed(cited_article(), reviewer=reviewer)
    approved(in_review(), member_of("Reviewers"))
    at_commit()  # TRUNCATE refuses to run while checks deferred to the commit are pending
    before = database_state()
    refused(DatabaseError, "append-only: TRUNCATE would erase them", lambda: raw(f"TRUNCATE {table} CASCADE"))
    assert database_state() == before


# --- What the gate lets through ------------------------------------------------------------------------------------


def test_every_transition_writes_what_the_commit_checks_require(reviewer, editor):
    article = cited_article()
    publish_reviewed(article, reviewer=reviewer, editor=editor)
    workflow.unpublish(article, by=editor, reason="Checking the gate.")
    workflow.archive(article, by=editor, reason="Checking the gate.")
    workflow.restore(article, by=editor)
    at_commit()
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT
    refused(DatabaseError, OUTSIDE_THE_GATE, lambda: Article.objects.filter(pk=article.pk).update(status="archived"))


def test_the_demo_seed_goes_through_the_gate(settings):
    settings.DEBUG = True  # seed_demo's guard
    call_command("seed_demo", stdout=StringIO())
    at_commit()
    assert PublishedSnapshot.objects.exists()
    live = Article.objects.live().first()
    refused(DatabaseError, OUTSIDE_THE_GATE, lambda: Article.objects.filter(pk=live.pk).update(live_snapshot=None))


@pytest.mark.django_db(transaction=True)
def test_a_real_commit_refuses_a_record_whose_audit_event_came_in_an_earlier_transaction(roles):
    article = in_review()
    approved(article, member_of("Reviewers"))  # committed, with its audit event
    forged = copy_of(article.statement_approvals.get())
    with pytest.raises(IntegrityError, match=UNAUDITED), workflow.gate():  # the outermost block: a real commit
        forged.save()
    assert article.statement_approvals.count() == 1
