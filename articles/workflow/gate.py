"""The database gate: the one transaction in which PostgreSQL lets workflow state and review records change.

The transitions write workflow state, each inside `gate()`. The site import restores state directly; it is the
one writer besides the transitions (`site_export.import_site` fills an empty database with an export's rows, as
a restore must, under this same `gate()`). Anywhere else the triggers of migration 0012 refuse those writes.
"""

from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction

GATE = "clinic.gate"  # the transaction-local setting PostgreSQL's triggers ask for (migration 0012_gate_triggers)


@contextmanager
def gate(*, using: str = DEFAULT_DB_ALIAS):
    """Run the enclosed writes in one transaction in which PostgreSQL lets workflow state and review records change.

    Every transition runs in it (as does the site import); anywhere else, the triggers of migration 0012 refuse
    those writes. On the way out the setting is put back as it was, so a nested transition leaves its caller's
    gate open and a write after a transition, in the same transaction, is refused again; an error's rollback
    takes it back.
    """
    with transaction.atomic(using=using):
        previous = _set_gate("on", using)
        yield
        _set_gate(previous, using)


def _set_gate(value: str, using: str) -> str:
    """Set the gate for the rest of the transaction and return what it was ("" when never set)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return ""  # the demo's SQLite has no triggers
    with connection.cursor() as cursor:
        # OFFSET 0 keeps the subquery a step of its own, so it reads the setting before set_config changes it.
        cursor.execute(
            "SELECT coalesce(was, ''), set_config(%s, %s, true) "
            "FROM (SELECT current_setting(%s, true) AS was OFFSET 0) AS before",
            [GATE, value, GATE],
        )
        return cursor.fetchone()[0]
