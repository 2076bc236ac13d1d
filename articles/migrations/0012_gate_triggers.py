"""The database as the last line: PostgreSQL refuses workflow writes that do not come through the gate.

Migration 0004 made review records append-only (no UPDATE or DELETE). Through the ORM or raw SQL one could still
change an article's status or live snapshot, insert a forged snapshot, approval or sign-off, or TRUNCATE the
record away. These triggers close that, on PostgreSQL only (SQLite serves the demo and relies on the model layer):

1. The gate. `articles.workflow.gate()` opens it around every transition (and `site_export.import_site`): it sets
   the transaction-local setting `clinic.gate` to `on` and puts it back on the way out. Unless it is on,
   PostgreSQL refuses a change of any of articles_article's workflow columns, the INSERT of an article that is
   not a new draft with nothing live or scheduled (the admin's "Add article"), and any INSERT into the review
   records: snapshots and their topic links, approvals, sign-offs, change requests, retraction
   acknowledgements, claim-check justifications, audit events. Transaction-local (`set_config(..., true)`), it
   ends with the transaction and a rolled-back savepoint takes it back. It stops code that goes around the
   workflow (`update()`, `save(update_fields=...)`, `bulk_create`, a shell's raw SQL); it does not stop someone
   who sets it by hand or, as the tables' owner, drops the triggers: that needs an app role without ownership
   (and without the TRUNCATE privilege).
2. A live snapshot must be one of the article's own snapshots, gate or not. A constraint trigger checks it at
   once (DEFERRABLE INITIALLY IMMEDIATE); a site import, whose articles point at snapshots imported after them,
   defers it to the end of its transaction.
3. Each review record is written with its audit event. A constraint trigger per record, deferred to the commit,
   requires an audit event of the record's article and kind written in the same transaction. "The same
   transaction": audit events carry the `txid_current()` of the transaction that wrote them, in a column only
   PostgreSQL fills (`written_in_transaction`, not a model field: SQLite has no txid and no code reads it).
   The rows' `xmin` would not do (savepoints get transaction ids of their own), and a transaction-local
   counter would be harder to read. One event vouches for the records of its kind and article in its
   transaction: a transition writes one of each, an import or the demo seed many of both.
4. TRUNCATE fires no row triggers, so 0004's never saw it: statement-level BEFORE TRUNCATE triggers refuse it
   on every append-only table unless `clinic.allow_truncate` is on. Only the test suite's flush sets it
   (tests/conftest.py), transaction-locally, to empty the tables between transactional tests; no app code does.
"""

from django.db import migrations

# Column: its value in a new article. WORKFLOW_FIELDS in articles/models.py (tests/test_database_gate.py
# checks that the two agree).
WORKFLOW_COLUMNS = {
    "status": "'draft'",
    "live_snapshot_id": "NULL",
    "live_published_at": "NULL",
    "live_review_due": "NULL",
    "scheduled_for": "NULL",
    "scheduled_by_id": "NULL",
}
# Review record table: the audit actions (articles/workflow.py) of which one must be written with it.
AUDITED_RECORDS = {
    "articles_publishedsnapshot": ["articles.article.publish"],
    "articles_statementapproval": ["articles.statement.approve"],
    "articles_reviewsignoff": ["articles.article.sign_off"],
    "articles_changerequest": ["articles.statement.request_changes", "articles.article.request_changes"],
    "articles_retractionacknowledgement": ["articles.reference.acknowledge_retraction"],
    "articles_findingjustification": ["articles.finding.justify"],
}
APPEND_ONLY_TABLES = [*AUDITED_RECORDS, "articles_auditevent"]
GATED_INSERTS = [*APPEND_ONLY_TABLES, "articles_publishedsnapshot_topic_set"]


def _first_changed(compared_with: str, columns: dict) -> str:
    branches = " ".join(
        f"WHEN NEW.{column} IS DISTINCT FROM {compared_with.format(column=column, new=new)} THEN '{column}'"
        for column, new in columns.items()
    )
    return f"CASE {branches} END"


def workflow_gate_function(columns: dict) -> str:
    """The trigger function guarding `columns` (column: its value in a new article); later migrations that add a
    workflow column replace it with this and their longer dict (0024)."""
    return f"""
    CREATE OR REPLACE FUNCTION articles_article_workflow_gate() RETURNS trigger AS $$
    DECLARE
        changed text;
    BEGIN
        IF articles_gate_is_open() THEN
            RETURN NEW;
        END IF;
        IF TG_OP = 'INSERT' THEN
            changed := {_first_changed("{new}", columns)};
            IF changed IS NOT NULL THEN
                RAISE EXCEPTION 'articles_article.% may only be set through articles.workflow: a new article is a '
                    'draft, with nothing live or scheduled', changed USING ERRCODE = 'insufficient_privilege';
            END IF;
        ELSE
            changed := {_first_changed("OLD.{column}", columns)};
            IF changed IS NOT NULL THEN
                RAISE EXCEPTION 'articles_article.% may only change through articles.workflow', changed
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """


FUNCTIONS = [
    """
    CREATE FUNCTION articles_gate_is_open() RETURNS boolean AS $$
        SELECT coalesce(current_setting('clinic.gate', true), '') = 'on'
    $$ LANGUAGE sql STABLE
    """,
    workflow_gate_function(WORKFLOW_COLUMNS),
    """
    CREATE FUNCTION articles_insert_through_gate() RETURNS trigger AS $$
    BEGIN
        IF articles_gate_is_open() THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION '% rows are written only through articles.workflow', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE FUNCTION articles_live_snapshot_is_own() RETURNS trigger AS $$
    BEGIN
        IF NOT EXISTS (
            SELECT 1 FROM articles_publishedsnapshot WHERE id = NEW.live_snapshot_id AND article_id = NEW.id
        ) THEN
            RAISE EXCEPTION 'articles_article %: snapshot % is not one of its own, so it cannot be its live snapshot',
                NEW.id, NEW.live_snapshot_id USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE FUNCTION articles_require_audit_event() RETURNS trigger AS $$
    BEGIN
        IF NOT EXISTS (
            SELECT 1 FROM articles_auditevent
            WHERE article_id = NEW.article_id AND action = ANY (TG_ARGV) AND written_in_transaction = txid_current()
        ) THEN
            RAISE EXCEPTION '% row % was written without its audit event (% of article %): review records are '
                'written only by articles.workflow, each with its audit event', TG_TABLE_NAME, NEW.id,
                array_to_string(TG_ARGV, ' or '), NEW.article_id USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE FUNCTION articles_refuse_truncate() RETURNS trigger AS $$
    BEGIN
        IF coalesce(current_setting('clinic.allow_truncate', true), '') = 'on' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION '% rows are append-only: TRUNCATE would erase them', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql
    """,
]
FUNCTION_NAMES = [
    "articles_article_workflow_gate",
    "articles_insert_through_gate",
    "articles_live_snapshot_is_own",
    "articles_require_audit_event",
    "articles_refuse_truncate",
    "articles_gate_is_open",  # last: the others call it
]


def _triggers() -> list[tuple[str, str]]:
    """Return (name, table) and CREATE statement of every trigger this migration adds."""
    triggers = [
        (
            ("articles_article_workflow_gate", "articles_article"),
            "CREATE TRIGGER articles_article_workflow_gate BEFORE INSERT OR UPDATE ON articles_article "
            "FOR EACH ROW EXECUTE FUNCTION articles_article_workflow_gate()",
        ),
        (
            ("articles_article_live_snapshot_is_own", "articles_article"),
            "CREATE CONSTRAINT TRIGGER articles_article_live_snapshot_is_own "
            "AFTER INSERT OR UPDATE OF live_snapshot_id ON articles_article DEFERRABLE INITIALLY IMMEDIATE "
            "FOR EACH ROW WHEN (NEW.live_snapshot_id IS NOT NULL) EXECUTE FUNCTION articles_live_snapshot_is_own()",
        ),
    ]
    for table in GATED_INSERTS:
        triggers.append(
            (
                (f"{table}_through_gate", table),
                f"CREATE TRIGGER {table}_through_gate BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION articles_insert_through_gate()",
            )
        )
    for table, actions in AUDITED_RECORDS.items():
        arguments = ", ".join(f"'{action}'" for action in actions)
        triggers.append(
            (
                (f"{table}_audited", table),
                f"CREATE CONSTRAINT TRIGGER {table}_audited AFTER INSERT ON {table} DEFERRABLE INITIALLY DEFERRED "
                f"FOR EACH ROW EXECUTE FUNCTION articles_require_audit_event({arguments})",
            )
        )
    for table in APPEND_ONLY_TABLES:
        triggers.append(
            (
                (f"{table}_no_truncate", table),
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION articles_refuse_truncate()",
            )
        )
    return triggers


def add_gate(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Added empty, then given its default: existing rows stay NULL (no transaction of theirs is running), and the
    # table is not rewritten, which a volatile default in ADD COLUMN would do under an exclusive lock.
    schema_editor.execute("ALTER TABLE articles_auditevent ADD COLUMN written_in_transaction bigint", params=None)
    schema_editor.execute(
        "ALTER TABLE articles_auditevent ALTER COLUMN written_in_transaction SET DEFAULT txid_current()", params=None
    )
    for function in FUNCTIONS:
        schema_editor.execute(function, params=None)
    for _name, create in _triggers():
        schema_editor.execute(create, params=None)


def remove_gate(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for (name, table), _create in _triggers():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}", params=None)
    for name in FUNCTION_NAMES:
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()", params=None)
    schema_editor.execute("ALTER TABLE articles_auditevent DROP COLUMN IF EXISTS written_in_transaction", params=None)


class Migration(migrations.Migration):
    dependencies = [("articles", "0011_reference_publication_types")]

    operations = [migrations.RunPython(add_gate, remove_gate)]
