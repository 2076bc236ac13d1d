"""Security headers, login throttling and sessions, as a browser and an attacker meet them."""

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, str]:
    directives = (part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    return {name: value for name, value in directives}


@pytest.mark.parametrize("url", ["/", "/articles/", "/search/?q=x", "/admin/login/", "/articles/nope/"])
def test_every_page_has_a_content_security_policy_without_inline_scripts(client, url):
    directives = policy(client.get(url))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'"


def test_security_headers_on_a_secure_request(client):
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_production_cookies_are_secure_and_http_only_and_sessions_expire():
    assert settings.SESSION_COOKIE_SECURE
    assert settings.CSRF_COOKIE_SECURE
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_the_login_sets_cookies_only_https_sends_and_scripts_cannot_read(client, writer):
    login_page = client.get(reverse("admin:login"), secure=True)
    csrf = login_page.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["secure"]
    assert csrf["samesite"] == "Lax"
    response = client.post(
        reverse("admin:login"), {"username": writer.username, "password": PASSWORD, "next": "/admin/"}, secure=True
    )
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    assert not session["expires"]
    assert not session["max-age"]


def test_a_session_older_than_its_age_is_refused(client, writer):
    import datetime

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    assert log_in(client, writer.username, PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200
    stored = Session.objects.get(session_key=client.session.session_key)
    assert stored.expire_date - timezone.now() <= datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    stored.expire_date = timezone.now() - datetime.timedelta(seconds=1)  # as SESSION_COOKIE_AGE after the login
    stored.save()
    assert client.get("/admin/")["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Short1!", "This password is too short"),
        ("password1234", "This password is too common"),
        ("384756129384", "This password is entirely numeric"),
        ("writer-account-2", "The password is too similar to the username"),
    ],
    ids=["short", "common", "numeric", "like-the-username"],
)
def test_weak_staff_passwords_are_refused(client, password, message):
    from django.contrib.auth import get_user_model

    from tests.factories import UserFactory

    staff = UserFactory(username="writer-account", is_staff=True)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:auth_user_password_change", args=[staff.pk]),
        {"password1": password, "password2": password, "usable_password": "true"},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert get_user_model().objects.get(pk=staff.pk).check_password(PASSWORD)


def test_a_strong_staff_password_is_accepted(client):
    from django.contrib.auth import get_user_model

    from tests.factories import UserFactory

    staff = UserFactory(username="writer-account", is_staff=True)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    password = "correct horse battery staple clinic"
    response = client.post(
        reverse("admin:auth_user_password_change", args=[staff.pk]),
        {"password1": password, "password2": password, "usable_password": "true"},
    )
    assert response.status_code == 302
    assert get_user_model().objects.get(pk=staff.pk).check_password(password)


def test_a_database_outage_gets_the_friendly_503_page_not_a_traceback(client):
    from unittest import mock

    from django.db import OperationalError

    client.raise_request_exception = False
    outage = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')
    with mock.patch("articles.views.HomeView.get_context_data", side_effect=outage):
        response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"]
    page = response.content.decode()
    assert "We will be back in a moment" in page
    assert "OperationalError" not in page
    assert "5432" not in page


def test_any_other_failure_gets_the_plain_500_page(client):
    from unittest import mock

    client.raise_request_exception = False
    with mock.patch("articles.views.HomeView.get_context_data", side_effect=KeyError("secret detail")):
        response = client.get("/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "secret detail" not in response.content.decode()


def log_in(client, username, password):
    return client.post(reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"})


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("w" * 256, "at most 150 characters (it has 256)"),  # django-axes records 255
        ("w" * 10_000, "at most 150 characters (it has 10000)"),
        ("é" * 151, "at most 150 characters (it has 151)"),
        ("writer\x00", "Null characters are not allowed"),
    ],
    ids=["256", "10000", "151-accented", "nul"],
)
def test_an_impossible_username_gets_the_login_form_back_with_the_reason(client, username, message):
    response = log_in(client, username, PASSWORD)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "body",
    [
        b"username=%FF%FE%C3%28" + b"%80" * 300 + b"&password=x",  # not UTF-8 once decoded
        b"username=\xff\xfe\xc3\x28" + b"\x80" * 300 + b"&password=x",  # raw bytes, not even percent-encoded
        b"username=%00%00&password=x",
    ],
    ids=["percent-encoded", "raw-bytes", "nul"],
)
def test_a_login_posted_in_broken_utf8_gets_the_form_back(client, body):
    response = client.generic("POST", reverse("admin:login"), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert 'class="errornote"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_login_posted_in_another_encoding_is_refused_as_a_bad_request(client):
    body = b"username=" + "ä".encode("latin-1") * 300 + b"&password=x"
    content_type = "application/x-www-form-urlencoded; charset=latin-1"
    response = client.generic("POST", reverse("admin:login"), body, content_type=content_type)
    assert response.status_code == 400  # Django accepts forms in UTF-8 only
    assert "_auth_user_id" not in client.session


def test_repeated_wrong_passwords_lock_the_account_from_that_address(client, writer):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, writer.username, "wrong-password").status_code == 200  # the form again
    assert log_in(client, writer.username, "wrong-password").status_code == 429  # the last one allowed
    locked = log_in(client, writer.username, PASSWORD)  # even the right password, for now
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_lockout_does_not_lock_out_other_staff(client, writer, reviewer):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, writer.username, "wrong-password")
    response = log_in(client, reviewer.username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_a_successful_login_resets_the_count(client, writer):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, writer.username, "wrong-password")
    assert log_in(client, writer.username, PASSWORD).status_code == 302
    client.logout()
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, writer.username, "wrong-password")
    assert log_in(client, writer.username, PASSWORD).status_code == 302


def test_the_review_desk_sends_anonymous_visitors_to_the_throttled_login(client):
    response = client.get(reverse("articles:review_queue"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("view", ["add", "history_restore"])
def test_the_editors_inline_import_map_carries_the_nonce_the_policy_allows(client, writer, view):
    import re

    from tests.factories import ArticleFactory

    client.force_login(writer)
    if view == "add":
        url = reverse("admin:articles_article_add")
    else:
        article = ArticleFactory(author=writer)
        url = reverse("admin:articles_article_simple_history", args=[article.pk, article.history.first().history_id])
    response = client.get(url)
    nonce = re.search(r"'nonce-([^']+)'", policy(response)["script-src"]).group(1)
    assert f'<script type="importmap" nonce="{nonce}">' in response.content.decode()
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", response.content.decode())
    assert all(f'nonce="{nonce}"' in tag for tag in inline), inline
