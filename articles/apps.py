from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.backends.signals import connection_created

# Typo tolerance for titles: pg_trgm's default (0.6) misses a one-letter slip in a short word ("exosme").
TITLE_WORD_SIMILARITY = 0.5


def _tune_trigram_matching(sender, connection, **kwargs):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET pg_trgm.word_similarity_threshold = %s", [TITLE_WORD_SIMILARITY])


class ArticlesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "articles"
    verbose_name = "Editorial"

    def ready(self):
        from articles import checks, page_cache  # noqa: F401 - importing checks registers them

        connection_created.connect(_tune_trigram_matching, dispatch_uid="articles_trigram_threshold")
        page_cache.connect_signals()


class ClinicAdminConfig(admin_apps.AdminConfig):
    """The admin, with each person's work on its index page (see articles/admin_site.py)."""

    default = False  # named in INSTALLED_APPS; "articles" alone still means ArticlesConfig

    default_site = "articles.admin_site.ClinicAdminSite"
