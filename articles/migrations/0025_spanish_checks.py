"""Spanish search and red flags: each snapshot's search vector is made with its language's text search
configuration (Spanish with accents ignored, "cicatrizacion" finds "cicatrización"), and the red-flag phrases
regulators act against in Spanish health claims.
"""

from django.db import migrations

SNAPSHOTS = "articles_publishedsnapshot"
# Spanish stemming on words without their accents: what people type often has none. Without the unaccent
# extension (PostgreSQL's contrib package), plain Spanish stemming, which at least finds accented words.
SPANISH_CONFIG = "clinic_spanish"


def _vector_sql(config: str) -> str:
    return (
        f"setweight(to_tsvector({config}, COALESCE(title, ''::character varying)::text), 'A'::\"char\")"
        f" || setweight(to_tsvector({config}, COALESCE(summary, ''::text)), 'B'::\"char\")"
        f" || setweight(to_tsvector({config}, COALESCE(body_text, ''::text)), 'C'::\"char\")"
    )


# The same expression as articles.models.SEARCH_VECTOR: the config is chosen by the snapshot's language.
LANGUAGE_CONFIG = f"CASE language WHEN 'es' THEN '{SPANISH_CONFIG}'::regconfig ELSE 'english'::regconfig END"
ENGLISH_ONLY_SQL = _vector_sql("'english'::regconfig")  # migration 0009's


def _replace_search_vector(schema_editor, expression: str) -> None:
    """Make the generated column again with `expression` (PostgreSQL cannot change a generated column's)."""
    for statement in [
        f"ALTER TABLE {SNAPSHOTS} DROP COLUMN search_vector",  # and its index
        f"ALTER TABLE {SNAPSHOTS} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({expression}) STORED,"
        " ALTER COLUMN search_vector SET STORAGE MAIN",
        f"CREATE INDEX snapshot_search_vector ON {SNAPSHOTS} USING gin (search_vector)",
        f"ANALYZE {SNAPSHOTS}",
    ]:
        schema_editor.execute(statement)


def search_by_language(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'")
        unaccent = cursor.fetchone() is not None
    schema_editor.execute(f"CREATE TEXT SEARCH CONFIGURATION {SPANISH_CONFIG} (COPY = pg_catalog.spanish)")
    if unaccent:
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        schema_editor.execute(
            f"ALTER TEXT SEARCH CONFIGURATION {SPANISH_CONFIG} "
            "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, spanish_stem"
        )
    _replace_search_vector(schema_editor, _vector_sql(LANGUAGE_CONFIG))


def search_in_english_only(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _replace_search_vector(schema_editor, ENGLISH_ONLY_SQL)
    schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION {SPANISH_CONFIG}")


# Why and instead are for staff (the admin is in English); instead gives the Spanish to write.
SPANISH_RED_FLAGS = [
    ("cura", "No treatment discussed here cures anything in people; “cura” promises more than any study shows.",
     "Say what studies found and in whom: “en ratones, las heridas cerraron antes”."),
    ("milagro", "Marketing language (“milagro”, “milagroso”): it claims certainty no study gives.",
     "Describe the evidence plainly: “un estudio pequeño encontró …”."),
    ("aprobado por la FDA", "Exosome and similar products are not FDA-approved; saying so is false and unlawful.",
     "Say: “La FDA no ha aprobado ningún producto de exosomas”."),
    ("autorizado por la FDA", "Clearance and approval are specific FDA decisions; claim one only with the FDA record.",
     "Name the device and link the FDA record, or leave it out."),
    ("registrado en la FDA", "Registering a facility says nothing about whether a treatment works or is safe.",
     "Leave it out, or say what registration does and does not mean."),
    ("garantizado", "No treatment is guaranteed to work for anyone (“garantizado”, “garantiza”).",
     "Say how many people it helped in studies, if any: “en un estudio, mejoró en 12 de 30 personas”."),
    ("sin riesgos", "Every treatment carries some risk.",
     "Name the known risks: “los riesgos conocidos son …; otros aún no se conocen”."),
    ("sin efectos secundarios", "No treatment is free of side effects; small studies miss rare ones.",
     "Say which side effects studies reported: “los estudios informaron …; los raros aún no se conocen”."),
    ("sin efectos adversos", "No treatment is free of side effects; small studies miss rare ones.",
     "Say which side effects studies reported: “los estudios informaron …; los raros aún no se conocen”."),
    ("clínicamente probado", "Implies strong trials in people that usually do not exist.",
     "Name the study design: “un estudio pequeño en 30 personas encontró …”."),
    ("científicamente probado", "Science rarely proves; it weighs evidence.",
     "Describe the evidence and its strength: “los estudios en personas son pocos y pequeños”."),
    ("revolucionario", "Hype that overstates what is known.",
     "Describe what the treatment is and what studies show: “un tratamiento nuevo, poco estudiado”."),
    ("gran avance", "Hype (“breakthrough”): it suggests certainty and novelty the evidence does not show.",
     "Describe what is new, plainly: “un tratamiento en estudio”."),
    ("100% natural", "“Natural” says nothing about safety or benefit, and absolutes promise what no study shows.",
     "Say what the product contains and what is known about its safety."),
    ("100% seguro", "Absolute numbers promise what no study shows; every treatment carries some risk.",
     "Give the real numbers and the known risks: “en 40 personas, 3 tuvieron enrojecimiento”."),
    ("rejuvenece", "No treatment has been shown to reverse ageing in people.",
     "Say what was measured: “menos arrugas finas en las fotos después de seis semanas”."),
    ("revierte el envejecimiento", "No treatment has been shown to reverse ageing in people.",
     "Say what was measured: “menos arrugas finas en las fotos después de seis semanas”."),
    ("antienvejecimiento", "Promises to stop ageing, which no treatment has been shown to do.",
     "Say what was measured, in whom, and for how long."),
    ("antiedad", "Promises to stop ageing, which no treatment has been shown to do.",
     "Say what was measured, in whom, and for how long."),
    ("elimina", "Promises to remove a problem for good (“elimina las arrugas”); studies report smaller changes.",
     "Say how much changed, in whom: “las arrugas se redujeron un poco en algunas personas”."),
    ("permanente", "Few studies follow people long enough to know whether results last.",
     "Say how long people were followed up: “se siguió a las personas durante seis meses”."),
    ("funciona para todos", "No treatment works for everyone.",
     "Say who was studied and how many were helped: “ayudó a 12 de 30 personas”."),
    ("seguro y eficaz", "A regulator's finding, after large trials; do not claim it without one.",
     "Say what is known about safety and benefit, separately, and from which studies."),
    ("actúe ahora", "Pressure tactics are out of place in health information.",
     "Encourage people to take their time: “tómese el tiempo que necesite para decidir”."),
]  # fmt: skip


def add_spanish_red_flags(apps, schema_editor):
    RedFlagPhrase = apps.get_model("articles", "RedFlagPhrase")
    for phrase, why, instead in SPANISH_RED_FLAGS:
        RedFlagPhrase.objects.get_or_create(phrase=phrase, language="es", defaults={"why": why, "instead": instead})


def remove_spanish_red_flags(apps, schema_editor):
    phrases = [phrase for phrase, _why, _instead in SPANISH_RED_FLAGS]
    apps.get_model("articles", "RedFlagPhrase").objects.filter(language="es", phrase__in=phrases).delete()


class Migration(migrations.Migration):
    dependencies = [("articles", "0024_spanish")]

    operations = [
        migrations.RunPython(search_by_language, search_in_english_only),
        migrations.RunPython(add_spanish_red_flags, remove_spanish_red_flags),
    ]
