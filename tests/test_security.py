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


def log_in(client, username, password):
    return client.post(reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"})


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
