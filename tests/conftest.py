import importlib

import pytest
from django.apps import apps
from django.db import connection

from tests.factories import UserFactory, member_of


@pytest.fixture(autouse=True, scope="session")
def _require_postgresql(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.exit(f"The tests run against PostgreSQL only; DATABASE_URL points at {connection.vendor}.", 2)


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


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories set a password for every user; the production hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def roles(transactional_db):
    """Recreate the role groups: a transactional test's flush removes what the data migrations made."""
    importlib.import_module("articles.migrations.0002_roles").create_roles(apps, None)
    importlib.import_module("articles.migrations.0004_append_only_and_roles").grant_review_records(apps, None)
