"""Append-only records are refused at the database too, and the roles can read the review records.

The model layer already refuses to change or delete snapshots, approvals, sign-offs, change
requests, retraction acknowledgements and audit entries; these PostgreSQL triggers also stop raw SQL
and any ORM path that bypasses it. (SQLite, used only by the demo, relies on the model layer.)
"""

from django.db import migrations

APPEND_ONLY_TABLES = [
    "articles_publishedsnapshot",
    "articles_statementapproval",
    "articles_reviewsignoff",
    "articles_changerequest",
    "articles_retractionacknowledgement",
    "articles_auditevent",
]

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION articles_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%% rows are append-only: they are never updated or deleted', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

REVIEW_RECORDS = [
    "view_evidencestatement", "view_statementapproval", "view_changerequest",
    "view_reviewsignoff", "view_retractionacknowledgement",
]  # fmt: skip
EXTRA_PERMISSIONS = {
    "Writers": REVIEW_RECORDS,
    "Reviewers": REVIEW_RECORDS,
    "Editors": REVIEW_RECORDS,
}


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION)
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION articles_refuse_change()"
        )


def remove_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS articles_refuse_change()")


def grant_review_records(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in EXTRA_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="articles", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [("articles", "0003_editorial_workflow")]

    operations = [
        migrations.RunPython(add_triggers, remove_triggers),
        migrations.RunPython(grant_review_records, migrations.RunPython.noop),
    ]
