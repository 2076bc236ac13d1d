"""The whole site as one JSON document, and back into a new database (`export_site`, `import_site`).

An export holds every row the site needs: accounts (password hashes, groups, authenticator apps), topics,
references, articles with every revision, the review records, snapshots, disclaimers with their history,
pages, red-flag phrases, the audit trail and the admin's log. Rows keep their primary keys, so the links
between them and the history come back exactly. Content types and permissions, which `migrate` makes with
ids of its own, are referred to by natural key. The same data always gives the same bytes.

The import restores workflow state directly (statuses, live snapshots, sign-offs, approvals, the audit trail),
as a restore must: it is the one writer besides the transitions, and it writes under the same database guard,
`workflow.gate()`, outside which PostgreSQL refuses those writes (migration 0012).
"""

import datetime
import json
from contextlib import contextmanager

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.core.serializers import base, python
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder

from articles import page_cache, workflow
from articles.edge import tags

FORMAT_NAME = "clinic-site-export"
FORMAT_VERSION = 1

# The articles app's models are all exported unless listed in EXCLUDED; from other apps, these (when installed).
EXPORTED_FROM_OTHER_APPS = ["auth.group", settings.AUTH_USER_MODEL.lower(), "otp_totp.totpdevice", "admin.logentry"]
EXCLUDED = {
    "contenttypes.contenttype": "migrate makes them; rows refer to them by natural key (app label, model)",
    "auth.permission": "migrate makes them; groups and users refer to them by natural key (codename, app, model)",
    "sessions.session": "logins in progress: staff log in again on the restored site",
    "axes.accessattempt": "login-throttling counters, which expire after AXES_COOLOFF_MINUTES anyway",
    "axes.accessattemptexpiration": "when those throttling counters expire",
    "axes.accesslog": "each staff login with its IP address: personal data kept for throttling (pg_dump keeps it)",
    "axes.accessfailurelog": "failed logins with their IP addresses: as for axes.accesslog",
    "post_office.email": "the mail outbox, not content: run send_queued_mail before exporting (pg_dump keeps it)",
    "post_office.log": "each delivery try of the outbox's mail: as for post_office.email",
    "post_office.emailtemplate": "unused: our mail is written by articles/notifications.py",
    "post_office.attachment": "unused: our mail carries no attachments",
    "post_office.attachment_emails": "unused: as for post_office.attachment",
    "articles.edgepurge": "purges of the old site's edge cache: the restored site starts with an empty edge",
}
# Every new database has the rows its data migrations made (role groups, policy pages, red-flag phrases, the
# translation policy):
# they do not count as content, and the export's own rows replace them.
MADE_BY_MIGRATIONS = ["auth.group", "articles.page", "articles.redflagphrase", "articles.translationpolicy"]
# Rows point at these by natural key, because migrate gives them different ids in every database.
BY_NATURAL_KEY = ["contenttypes.contenttype", "auth.permission"]

NOT_A_SITE_EXPORT = f"it is not a site export (no “format”: “{FORMAT_NAME}”); make one with manage.py export_site."
WRONG_VERSION = "it is a site export of version {version}; this code reads version {expected}."
MISSING_PARTS = "it has no {parts}: the file is incomplete."
SCHEMA_DIFFERS = (
    "it was exported at other migrations than this database has ({differences}). Migrate this new database to "
    "the export's migrations (manage.py migrate APP MIGRATION), import, then run manage.py migrate."
)
UNKNOWN_SECTIONS = "it has rows of models this site does not have: {labels}."
MISSING_SECTIONS = "it has no rows section for {labels}: the file is incomplete."
NOT_A_ROW = '{label} row {number} (counting from 1) is not of the form {{"pk": ..., "fields": {{...}}}}.'
WRONG_FIELDS = "{label} pk {pk}: {problems}."
FIELD_DOES_NOT_FIT = "{label} pk {pk}, field “{field}”: {problem}"
ROW_DOES_NOT_FIT = "{label} pk {pk} does not fit the model: {problem}"
ROW_NOT_STORED = "{label} pk {pk} cannot be stored: {problem}"
BROKEN_LINK = "a row points at a row the export does not have: {problem}"
FOREIGN_KEY_VIOLATION = "23503"
ROWS_DO_NOT_FIT = "its rows do not fit together as the workflow writes them: {problem}"
ALREADY_HAS_CONTENT = (
    "this database already has content ({content}). import_site only fills a new database: create an empty "
    "one, run manage.py migrate on it, and import into that."
)


class SiteImportError(Exception):
    """The export cannot be imported; the message says why. Nothing was written."""


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def exported_models() -> list[type[models.Model]]:
    """Return the models whose rows an export holds, in the order they are imported."""
    others = [model for model in map(_model, EXPORTED_FROM_OTHER_APPS) if model is not None]
    own = [model for model in apps.get_app_config("articles").get_models() if model._meta.label_lower not in EXCLUDED]
    return [*others, *own]


def _by_natural_key(model) -> bool:
    return model._meta.label_lower in BY_NATURAL_KEY


def _serialized_m2m(model) -> list[models.ManyToManyField]:
    # Only relations with a table Django makes; a custom through model is a model of its own.
    return [
        field
        for field in model._meta.local_many_to_many
        if field.serialize and field.remote_field.through._meta.auto_created
    ]


def _serialized_field_names(model) -> set[str]:
    fields = {field.name for field in model._meta.local_fields if field.serialize}
    return fields | {field.name for field in _serialized_m2m(model)}


class _RowSerializer(python.Serializer):
    """Django's serializer with exact times, sorted relations, and natural keys only for what migrate makes."""

    def _value_from_field(self, obj, field):
        value = field.value_from_object(obj)
        if isinstance(value, datetime.date | datetime.time):
            return value.isoformat()  # DjangoJSONEncoder would cut times to milliseconds
        return super()._value_from_field(obj, field)

    def handle_fk_field(self, obj, field):
        if _by_natural_key(field.related_model):
            related = getattr(obj, field.name)
            self._current[field.name] = list(related.natural_key()) if related else None
        else:
            super().handle_fk_field(obj, field)

    def handle_m2m_field(self, obj, field):
        if not field.remote_field.through._meta.auto_created:
            return
        related = getattr(obj, field.name).all()
        if _by_natural_key(field.related_model):
            self._current[field.name] = sorted(list(item.natural_key()) for item in related)
        else:
            self._current[field.name] = sorted(item.pk for item in related)


def _rows(model, using: str) -> list[dict]:
    queryset = model._base_manager.using(using).order_by("pk")
    natural_fks = [f.name for f in model._meta.local_fields if f.is_relation and _by_natural_key(f.related_model)]
    if natural_fks:
        queryset = queryset.select_related(*natural_fks)
    for field in _serialized_m2m(model):
        related = field.related_model._base_manager.all()
        if field.related_model._meta.label_lower == "auth.permission":
            related = related.select_related("content_type")
        queryset = queryset.prefetch_related(models.Prefetch(field.name, queryset=related))
    return [{"pk": row["pk"], "fields": row["fields"]} for row in _RowSerializer().serialize(queryset)]


def applied_migrations(using: str = DEFAULT_DB_ALIAS) -> dict[str, str]:
    """Return the latest applied migration of each app an export holds rows of."""
    app_labels = {model._meta.app_label for model in exported_models()} | {"contenttypes"}
    latest: dict[str, str] = {}
    for app_label, name in MigrationRecorder(connections[using]).applied_migrations():
        if app_label in app_labels:
            latest[app_label] = max(latest.get(app_label, ""), name)
    return dict(sorted(latest.items()))


@contextmanager
def _one_snapshot(using: str):
    """Read every table as of one moment, so an export taken while staff work is consistent."""
    connection = connections[using]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def export_site(*, using: str = DEFAULT_DB_ALIAS) -> dict:
    """Return every row the site needs, keyed by model, with the format and the migrations it was taken at."""
    with _one_snapshot(using):
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "migrations": applied_migrations(using),
            "models": {model._meta.label_lower: _rows(model, using) for model in exported_models()},
        }


def as_json(document: dict) -> str:
    """Return the export as JSON text: sorted keys, ASCII only, so the same data always gives the same bytes."""
    return json.dumps(document, cls=DjangoJSONEncoder, indent=1, sort_keys=True) + "\n"


# --- Import -----------------------------------------------------------------------------------------------


def import_site(document, *, using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Fill a new, empty database with an export's rows, all or nothing; return the number of rows per model."""
    sections = _checked_sections(document, using)
    connection = connections[using]
    # Through the workflow's own gate, not a copy of it: the rows carry workflow state and review records.
    with workflow.gate(using=using):
        _refuse_content(using)
        _clear_rows_made_by_migrations(using)
        _defer_checks(connection)
        for model, rows in sections:
            for row in rows:
                _insert(model, row, using)
        try:
            connection.check_constraints()  # the checks deferred to the commit, made now
        except DatabaseError as error:
            template = BROKEN_LINK if _sqlstate(error) == FOREIGN_KEY_VIOLATION else ROWS_DO_NOT_FIT
            raise SiteImportError(template.format(problem=_database_problem(error))) from None
        _reset_sequences(connection, [model for model, _rows in sections])
        page_cache.invalidate_on_commit({tags.SITE})  # pages kept of the empty site before it
    return {model._meta.label_lower: len(rows) for model, rows in sections}


def _checked_sections(document, using: str) -> list[tuple[type[models.Model], list[dict]]]:
    """Return each exported model with its rows, or raise SiteImportError for what does not fit this site."""
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise SiteImportError(NOT_A_SITE_EXPORT)
    if document.get("version") != FORMAT_VERSION:
        raise SiteImportError(WRONG_VERSION.format(version=document.get("version"), expected=FORMAT_VERSION))
    missing = [f"“{part}”" for part in ("migrations", "models") if not isinstance(document.get(part), dict)]
    if missing:
        raise SiteImportError(MISSING_PARTS.format(parts=" or ".join(missing)))
    here = applied_migrations(using)
    if document["migrations"] != here:
        differences = [
            f"{app}: export {document['migrations'].get(app, 'none')}, this database {here.get(app, 'none')}"
            for app in sorted(set(here) | set(document["migrations"]))
            if document["migrations"].get(app) != here.get(app)
        ]
        raise SiteImportError(SCHEMA_DIFFERS.format(differences="; ".join(differences)))
    expected = {model._meta.label_lower: model for model in exported_models()}
    sections = document["models"]
    if unknown := sorted(set(sections) - set(expected)):
        raise SiteImportError(UNKNOWN_SECTIONS.format(labels=", ".join(unknown)))
    if missing := [label for label in expected if label not in sections]:
        raise SiteImportError(MISSING_SECTIONS.format(labels=", ".join(missing)))
    checked = []
    for label, model in expected.items():
        rows = sections[label]
        if not isinstance(rows, list):
            raise SiteImportError(NOT_A_ROW.format(label=label, number=1))
        for number, row in enumerate(rows, start=1):
            _check_row(model, row, number)
        checked.append((model, rows))
    return checked


def _check_row(model, row, number: int) -> None:
    label = model._meta.label_lower
    if (
        not isinstance(row, dict)
        or set(row) != {"pk", "fields"}
        or row["pk"] is None  # a row without its key would get a new one: not the site that was exported
        or not isinstance(row["fields"], dict)
    ):
        raise SiteImportError(NOT_A_ROW.format(label=label, number=number))
    pk, fields = row["pk"], row["fields"]
    names = _serialized_field_names(model)
    problems = []
    if missing := sorted(names - set(fields)):
        problems.append(f"missing field(s) {', '.join(missing)}")
    if unknown := sorted(set(fields) - names):
        problems.append(f"unknown field(s) {', '.join(unknown)}")
    if problems:
        raise SiteImportError(WRONG_FIELDS.format(label=label, pk=pk, problems="; ".join(problems)))
    for name, value in fields.items():
        field = model._meta.get_field(name)
        if field.is_relation or isinstance(field, models.JSONField):
            continue  # the deserializer reads relations; JSON fields take any JSON
        if isinstance(value, dict | list):
            problem = "a single value is expected, not a list or an object"
        elif isinstance(value, str) and field.max_length and len(value) > field.max_length:
            problem = f"longer than {field.max_length} characters"
        else:
            try:
                field.to_python(value)
                continue
            except ValidationError as error:
                problem = " ".join(error.messages)
        raise SiteImportError(FIELD_DOES_NOT_FIT.format(label=label, pk=pk, field=name, problem=problem))


def _defer_checks(connection) -> None:
    """Check at the end what rows imported one by one satisfy together: an article points at a live snapshot
    imported after it, which must be one of its own (foreign keys wait anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _sqlstate(error: DatabaseError) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)


def _refuse_content(using: str) -> None:
    content = []
    for model in exported_models():
        count = 0 if model._meta.label_lower in MADE_BY_MIGRATIONS else model._base_manager.using(using).count()
        if count:
            content.append(f"{count} {model._meta.verbose_name_plural}")
    if content:
        more = f" and {len(content) - 3} more kinds of rows" if len(content) > 3 else ""
        raise SiteImportError(ALREADY_HAS_CONTENT.format(content=", ".join(content[:3]) + more))


def _clear_rows_made_by_migrations(using: str) -> None:
    # Plain SQL: no signals, so nothing records these rows' removal in a revision history.
    connection = connections[using]
    with connection.cursor() as cursor:
        for model in map(_model, MADE_BY_MIGRATIONS):
            tables = [field.remote_field.through._meta.db_table for field in _serialized_m2m(model)]
            for table in [*tables, model._meta.db_table]:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608 - model tables


def _insert(model, row: dict, using: str) -> None:
    label = model._meta.label_lower
    try:
        (deserialized,) = python.Deserializer([{"model": label, **row}], using=using)
    except base.DeserializationError as error:
        problem = _deserialization_problem(error)
        raise SiteImportError(ROW_DOES_NOT_FIT.format(label=label, pk=row["pk"], problem=problem)) from None
    # The export carries the revision history itself: setting the many-to-many relations records no revision.
    deserialized.object.skip_history_when_saving = True
    try:
        # A plain INSERT with the row's own key (never an UPDATE): allowed on append-only tables, as any new row.
        deserialized.save(using=using, force_insert=True)
    except DatabaseError as error:
        raise SiteImportError(
            ROW_NOT_STORED.format(label=label, pk=row["pk"], problem=_database_problem(error))
        ) from None


def _deserialization_problem(error: base.DeserializationError) -> str:
    cause = error.__context__  # Django wraps what went wrong with the model and value, not always readably
    if isinstance(cause, base.M2MDeserializationError):
        return f"{cause.original_exc} (the value {json.dumps(cause.pk)})"
    return str(error)


def _database_problem(error: DatabaseError) -> str:
    """Return the database's message, with its detail unless that is the whole failing row."""
    first, *rest = str(error).strip().splitlines() or [type(error).__name__]
    details = [line.strip() for line in rest if line.startswith("DETAIL:") and "Failing row" not in line]
    return " ".join([first.rstrip(".") + ".", *details])


def _reset_sequences(connection, imported: list[type[models.Model]]) -> None:
    """Set each table's id sequence past the imported ids, so new rows get fresh ones."""
    tables = [*imported, *(field.remote_field.through for model in imported for field in _serialized_m2m(model))]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), tables):
            cursor.execute(statement)
