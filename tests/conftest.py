import importlib

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.db import connection
from django.db.backends.postgresql.operations import DatabaseOperations
from pytest_django.plugin import blocking_manager_key

from tests.factories import UserFactory, member_of


@pytest.fixture(autouse=True, scope="session")
def _require_postgresql(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.exit(f"The tests run against PostgreSQL only; DATABASE_URL points at {connection.vendor}.", 2)


ALLOW_TRUNCATE = "SELECT set_config('clinic.allow_truncate', 'on', true)"


@pytest.fixture(autouse=True, scope="session")
def _test_flush_may_truncate():
    """Let the flush that empties the tables after a transactional test TRUNCATE the append-only ones.

    Migration 0013 refuses TRUNCATE on them unless `clinic.allow_truncate` is on; only this flush sets it, in
    its own transaction, so a TRUNCATE anywhere else (the tests of that refusal included) is still refused.
    """
    sql_flush = DatabaseOperations.sql_flush

    def allowed_to_truncate(self, style, tables, **options):
        statements = sql_flush(self, style, tables, **options)
        return [ALLOW_TRUNCATE, *statements] if statements else statements

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", allowed_to_truncate)
        yield


@pytest.fixture
def writer(db):
    return member_of("Writers")


@pytest.fixture
def reviewer(db):
    return member_of("Reviewers")


@pytest.fixture
def editor(db):
    return member_of("Editors")


@pytest.fixture
def patient(db):
    """A logged-in member of the public: no staff rights at all."""
    return UserFactory(is_staff=False)


CONFIGURED_MEDIA_ROOT = django_settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _media_outside_the_checkout(settings, tmp_path_factory):
    # seed_demo stores its diagram, and tests upload pictures: never into the checkout's media/ folder. Django
    # serves the renditions (SERVE_MEDIA), as in the demo, so pages show their figures in the browser tests.
    # A fixture that set a folder of its own for a whole module (tests/test_admin_walk.py) keeps it.
    if str(settings.MEDIA_ROOT) == str(CONFIGURED_MEDIA_ROOT):
        settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"
    settings.SERVE_MEDIA = True


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories set a password for every user; the production hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def restore_migration_data() -> None:
    """Recreate what the data migrations made (groups, grants, policy pages, red flags): a flush removes it."""
    for name, step in [
        ("0002_roles", "create_roles"),
        ("0004_append_only_and_roles", "grant_review_records"),
        ("0006_patient_site", "create_pages_and_grant_them"),
        ("0007_honesty_checks", "add_red_flags_and_grants"),
        ("0015_outbox_permissions", "grant_outbox"),
        ("0018_feedback", "grant_reports_and_tell_the_privacy_policy"),
        ("0019_reach", "grant_reach_and_tell_the_privacy_policy"),
        ("0020_urgent_help", "grant_urgent_help"),
        ("0022_images", "grant_images"),
        ("0024_spanish", "grant_translation_policy"),
        ("0025_spanish_checks", "add_spanish_red_flags"),
        ("0026_edge_purge", "grant_edge_purges"),
    ]:
        getattr(importlib.import_module(f"articles.migrations.{name}"), step)(apps, None)


@pytest.fixture
def roles(transactional_db):
    restore_migration_data()


SETUP_PASSED = pytest.StashKey[bool]()


def _flushes_the_database(item) -> bool:
    marker = item.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))
    return transactional or bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Put the migrations' data back once a test that flushed the database has torn down.

    A transactional test ends by emptying every table. pytest-django runs those tests last, but a pytest-xdist
    worker runs whole files in the order it is sent them, so tests that need the groups may come after one.
    """
    result = yield
    # After the last test the test databases are gone already, and a test whose setup failed flushed nothing.
    if nextitem is not None and item.stash.get(SETUP_PASSED, False) and _flushes_the_database(item):
        with item.config.stash[blocking_manager_key].unblock():
            restore_migration_data()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "setup":
        item.stash[SETUP_PASSED] = report.passed
    return report


# pytest-xdist's `--dist loadfile` hands whole files to the workers in queue order, by default the files with the
# most tests first: the files of one or two long tests (the benchmark, the load runs, the browser stories) came
# last, and one worker ran them alone at the end while the other idled. Longest first, the short files fill in
# at the end instead. Seconds per file from `--durations` of a full run; a file not listed that starts a
# server or a browser goes before the other files.
SLOWEST_FILES = (
    "tests/load/test_runs.py",
    "tests/browser/test_accessibility.py",
    "tests/perf/test_benchmark.py",  # third: xdist hands it to the load runs' worker next, not beside them
    "tests/browser/test_feedback_story.py",
    "tests/browser/test_first_hour_stories.py",
    "tests/browser/test_translation_story.py",
    "tests/test_admin_walk.py",
    "tests/browser/test_key_points_story.py",
    "tests/browser/test_hostile_html.py",
    "tests/perf/test_scale_smoke.py",
    "tests/browser/test_editorial_story.py",
    "tests/browser/test_urgent_help_story.py",
    "tests/test_ci_guards.py",
)
SERVER_FIXTURES = {"live_server", "transactional_db", "page", "browser"}


def pytest_configure(config):
    # The queue order is set by pytest_collection_modifyitems below; xdist would re-sort it by test count.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist, queue the longest files first; each file keeps the order of its own tests."""
    if not hasattr(config, "workerinput"):
        return
    by_file: dict[str, list] = {}
    for item in items:
        by_file.setdefault(item.nodeid.split("::", 1)[0], []).append(item)

    def expected_length(path: str) -> tuple[int, int, int]:
        if path in SLOWEST_FILES:
            return (0, SLOWEST_FILES.index(path), 0)
        starts_a_server = any(SERVER_FIXTURES & set(getattr(item, "fixturenames", ())) for item in by_file[path])
        return (1 if starts_a_server else 2, 0, -len(by_file[path]))

    items[:] = [item for path in sorted(by_file, key=expected_length) for item in by_file[path]]
