import pytest
from django.contrib.auth.models import Group
from django.db import connection

from tests.factories import UserFactory


@pytest.fixture(autouse=True, scope="session")
def _require_postgresql(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.exit(f"The tests run against PostgreSQL only; DATABASE_URL points at {connection.vendor}.", 2)


def _member_of(group_name):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def writer(db):
    return _member_of("Writers")


@pytest.fixture
def reviewer(db):
    return _member_of("Reviewers")


@pytest.fixture
def editor(db):
    return _member_of("Editors")


@pytest.fixture
def patient(db):
    """A logged-in member of the public: no staff rights at all."""
    return UserFactory(is_staff=False)
