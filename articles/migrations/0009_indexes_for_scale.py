# Indexes and one ordering column for a site of 100,000 articles (tests/perf/scale.py measures the targets).

from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

# The same expression as articles.models.SEARCH_VECTOR (and the index migration 0006 made on it).
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('english'::regconfig, COALESCE(title, ''::character varying)::text), 'A'::\"char\")"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(summary, ''::text)), 'B'::\"char\")"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(body_text, ''::text)), 'C'::\"char\")"
)
SNAPSHOTS = "articles_publishedsnapshot"
POSTGRESQL_ONLY = [
    # Search: the vector is stored once per snapshot (a generated column PostgreSQL fills on insert, so no
    # code writes it and snapshots stay append-only), instead of being recomputed for every match it ranks.
    # Kept in the row (storage MAIN) rather than in the TOAST table: a search that reads the newest matches
    # tests each row's vector, and fetching it from TOAST cost more than the test itself.
    (
        f"ALTER TABLE {SNAPSHOTS} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({SEARCH_VECTOR_SQL}) STORED,"
        " ALTER COLUMN search_vector SET STORAGE MAIN",
        f"ALTER TABLE {SNAPSHOTS} DROP COLUMN search_vector",
    ),
    (
        "DROP INDEX snapshot_search_vector",
        f"CREATE INDEX snapshot_search_vector ON {SNAPSHOTS} USING gin (({SEARCH_VECTOR_SQL}))",
    ),
    (
        f"CREATE INDEX snapshot_search_vector ON {SNAPSHOTS} USING gin (search_vector)",
        "DROP INDEX snapshot_search_vector",
    ),
    # The review desk: which live articles cite a retracted reference, from the reference list they froze.
    (
        f'CREATE INDEX snapshot_references ON {SNAPSHOTS} USING gin ("references" jsonb_path_ops)',
        "DROP INDEX snapshot_references",
    ),
    # The admin's search (title and summary, icontains: UPPER(column) LIKE UPPER('%word%')).
    (
        "CREATE INDEX article_title_trigram ON articles_article USING gin (UPPER(title::text) gin_trgm_ops)",
        "DROP INDEX article_title_trigram",
    ),
    (
        "CREATE INDEX article_summary_trigram ON articles_article USING gin (UPPER(summary) gin_trgm_ops)",
        "DROP INDEX article_summary_trigram",
    ),
]


# Topic pages count the live articles published under a topic from this link table alone (both vendors).
TOPIC_LINKS = (
    "CREATE INDEX snapshot_topic_links ON articles_publishedsnapshot_topic_set (topic_id, publishedsnapshot_id)",
    "DROP INDEX snapshot_topic_links",
)


def copy_live_dates(apps, schema_editor):
    """Copy each live snapshot's published_at and next_review_due onto its article."""
    Article = apps.get_model("articles", "Article")
    live = apps.get_model("articles", "PublishedSnapshot").objects.filter(pk=OuterRef("live_snapshot"))
    Article.objects.filter(live_snapshot__isnull=False).update(
        live_published_at=Subquery(live.values("published_at")[:1]),
        live_review_due=Subquery(live.values("next_review_due")[:1]),
    )


def add_postgresql_indexes(apps, schema_editor):
    """On PostgreSQL only, as in 0006: the SQLite demo has neither full-text search nor pg_trgm."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for forward, _backward in POSTGRESQL_ONLY:
        schema_editor.execute(forward)
    # The planner needs the new column's statistics (how common each word is) from the first search on.
    schema_editor.execute(f"ANALYZE {SNAPSHOTS}, articles_article")


def remove_postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _forward, backward in reversed(POSTGRESQL_ONLY):
        schema_editor.execute(backward)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0008_two_factor_requirement"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="article",
            name="live_published_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="article",
            name="live_review_due",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(copy_live_dates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="article",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    live_published_at__isnull=True, live_review_due__isnull=True, live_snapshot__isnull=True
                )
                | models.Q(live_published_at__isnull=False, live_snapshot__isnull=False),
                name="article_live_fields_with_snapshot",
            ),
        ),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(
                condition=models.Q(live_snapshot__isnull=False),
                fields=["-live_published_at", "id", "live_snapshot"],
                name="article_live_newest",
            ),
        ),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(
                condition=models.Q(live_snapshot__isnull=False),
                fields=["live_review_due", "id"],
                name="article_live_due",
            ),
        ),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(fields=["status", "-updated_at", "-id"], name="article_status_updated"),
        ),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(fields=["-updated_at", "-id"], name="article_updated"),
        ),
        migrations.AddIndex(
            model_name="reference",
            index=models.Index(
                condition=models.Q(is_retracted=True), fields=["citation_key"], name="reference_retracted"
            ),
        ),
        migrations.AddIndex(
            model_name="publishedsnapshot",
            index=models.Index(fields=["-published_at", "-id"], name="snapshot_newest"),
        ),
        migrations.RunSQL(*TOPIC_LINKS),
        migrations.RunPython(add_postgresql_indexes, remove_postgresql_indexes),
    ]
