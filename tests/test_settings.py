import os
import secrets
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
CONFIGURATION = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "REDIS_URL",
    "PAGE_CACHE_REDIS_URL",
    "PAGE_CACHE_SECONDS",
    "PUBLIC_CACHE_SECONDS",
    "EMAIL_HOST",
    "PYTHONPATH",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if k not in CONFIGURATION}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_deploy_check_is_clean_with_production_settings():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="0", SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="clinic.example",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_refuses_object_storage_whose_addresses_a_page_cannot_keep():
    production = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "clinic.example"}
    for extra in ({}, {"MEDIA_CDN_DOMAIN": "media.clinic.example", "MEDIA_S3_SIGNED_URLS": "1"}):
        result = manage("check", "--deploy", **production, MEDIA_S3_BUCKET="clinic-media", **extra)
        assert result.returncode != 0, extra
        assert "articles.E001" in result.stderr + result.stdout, extra
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        **production, MEDIA_S3_BUCKET="clinic-media", MEDIA_CDN_DOMAIN="media.clinic.example",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_production_refuses_to_start_with_a_site_url_that_is_not_an_address():
    for site_url in ("clinic.example", "https://", "https://clinic.example/ x", "javascript:alert(1)"):
        result = manage("check", DEBUG="0", SECRET_KEY=secrets.token_urlsafe(64), SITE_URL=site_url)
        assert result.returncode != 0, site_url
        assert "Set SITE_URL" in result.stderr, site_url


def test_settings_come_from_the_environment():
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['NAME'], s.CACHES['default']['BACKEND'], s.EMAIL_BACKEND, s.ALLOWED_HOSTS)"
    )
    result = manage(
        "shell", "-c", code,
        DEBUG="0", SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="a.example,b.example",
        DATABASE_URL="postgres://u@db.internal:5432/clinicdb", REDIS_URL="redis://127.0.0.1:6379/1",
        EMAIL_HOST="smtp.example",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split(" ", 3)[:3] == [
        "clinicdb",
        "django.core.cache.backends.redis.RedisCache",
        "django.core.mail.backends.smtp.EmailBackend",
    ]
    assert "'a.example', 'b.example'" in result.stdout


def test_the_page_cache_uses_redis_url_unless_told_otherwise():
    code = "from django.conf import settings as s; print(s.PAGE_CACHE_REDIS_URL, s.PAGE_CACHE_SECONDS)"
    secret = secrets.token_urlsafe(64)
    shared = manage("shell", "-c", code, DEBUG="0", SECRET_KEY=secret, REDIS_URL="redis://127.0.0.1:6379/1")
    own = manage(
        "shell", "-c", code,
        DEBUG="0", SECRET_KEY=secret, REDIS_URL="redis://127.0.0.1:6379/1", PAGE_CACHE_REDIS_URL="redis://pages:6379/2",
    )  # fmt: skip
    off = manage("shell", "-c", code, DEBUG="0", SECRET_KEY=secret)
    for result in (shared, own, off):
        assert result.returncode == 0, result.stderr
    assert shared.stdout.splitlines()[-1].split() == ["redis://127.0.0.1:6379/1", "60"]
    assert own.stdout.splitlines()[-1].split() == ["redis://pages:6379/2", "60"]
    assert off.stdout.splitlines()[-1].split() == ["0"]  # no Redis: off


def test_site_connections_run_no_parallel_query_workers(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone() == ("0",)


def test_database_options_can_be_left_empty_for_pgbouncer():
    code = "from django.conf import settings as s; print('options' in s.DATABASES['default'].get('OPTIONS', {}))"
    result = manage("shell", "-c", code, DEBUG="0", SECRET_KEY=secrets.token_urlsafe(64), DATABASE_OPTIONS="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_the_mail_sender_retries_as_the_environment_says_and_delivers_through_email_backend():
    code = (
        "from post_office import settings as p; "
        "print(p.get_max_retries(), p.get_retry_timedelta().total_seconds(), p.get_available_backends()['default'])"
    )
    result = manage(
        "shell", "-c", code,
        DEBUG="0", SECRET_KEY=secrets.token_urlsafe(64), EMAIL_HOST="smtp.example",
        EMAIL_MAX_RETRIES="3", EMAIL_RETRY_MINUTES="2.5",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "3 150.0 django.core.mail.backends.smtp.EmailBackend"


def test_images_may_come_from_the_media_cdn_and_django_serves_media_only_when_told():
    code = (
        "from django.conf import settings as s; "
        "print(' '.join(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']), s.SERVE_MEDIA)"
    )
    secret = secrets.token_urlsafe(64)
    cdn = manage("shell", "-c", code, DEBUG="0", SECRET_KEY=secret, MEDIA_CDN_DOMAIN="media.clinic.example")
    plain = manage("shell", "-c", code, DEBUG="0", SECRET_KEY=secret)
    demo = manage("shell", "-c", code, DEBUG="1", SECRET_KEY=secret)
    for result in (cdn, plain, demo):
        assert result.returncode == 0, result.stderr
    assert cdn.stdout.splitlines()[-1] == "'self' data: https://media.clinic.example False"
    assert plain.stdout.splitlines()[-1] == "'self' data: False"
    assert demo.stdout.splitlines()[-1].endswith(" True")
