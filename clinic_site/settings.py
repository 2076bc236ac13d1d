"""Settings for the clinic editorial CMS, read from the environment.

Production sets at least SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL; see docs/deploy.md.
The only defaults that are unsafe in production apply when DEBUG is on (the demo).
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY in the environment (it may be omitted only with DEBUG=1).")
    SECRET_KEY = "demo-only-secret-key-never-use-in-production-0123456789"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "articles.apps.ClinicAdminConfig",  # django.contrib.admin, with each person's work on the index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # intcomma: counts grouped as the reader's language groups them
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "simple_history",
    "django_prose_editor",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",  # django-bootstrap-static: Bootstrap 5 served by the app, never a CDN
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "post_office",  # the mail outbox (see POST_OFFICE below)
    "articles",
]

MIDDLEWARE = [
    # Kept public pages are answered here, first, with the headers the whole stack gave them when rendered.
    "articles.page_cache.CachedPageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "articles.languages.LanguageMiddleware",  # the language and URLconf by the address, before any URL is read
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): a code was entered in this session
    "django.contrib.messages.middleware.MessageMiddleware",
    "articles.two_factor.SecondFactorMiddleware",  # after CSP, so its redirects carry the security headers
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a login while its username and address are locked out
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "clinic_site.urls"
WSGI_APPLICATION = "clinic_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "articles.context_processors.clinic",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# Pages run many short queries; starting parallel workers costs more than it saves and takes cores from other
# requests (search p95 at 100,000 articles: 51 ms with them, 35 ms without; tests/perf/scale.py). Behind
# PgBouncer, which refuses startup options, set it empty and `ALTER ROLE ... SET` the parameter instead.
DATABASE_OPTIONS = os.environ.get("DATABASE_OPTIONS", "-c max_parallel_workers_per_gather=0")
if DATABASE_OPTIONS and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = DATABASE_OPTIONS
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "clinic")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            # A cache server that is down or stuck must cost a request milliseconds, not a timeout.
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# Patients read English at / and Spanish at /es/ (articles/languages.py); staff pages are in English.
LANGUAGES = [("en", "English"), ("es", "Spanish")]  # as staff read them; patients see each in its own
LOCALE_PATHS = [BASE_DIR / "articles" / "locale"]
# The patient site's Spanish strings are in articles/locale (README: "Spanish interface strings"). English dates
# keep the site's "5 December 2026" (articles/formats/en); Spanish ones are Django's ("5 de diciembre de 2026").
FORMAT_MODULE_PATH = ["articles.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Uploaded images: on the filesystem (MEDIA_ROOT) by default, as the demo and a single app server use them; in
# S3-compatible object storage (AWS S3, MinIO, Cloudflare R2) through django-storages when MEDIA_S3_BUCKET is set,
# so that every app server reads and writes the same files. See docs/deploy.md, "Images and object storage".
MEDIA_S3_BUCKET = os.environ.get("MEDIA_S3_BUCKET", "")
MEDIA_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if MEDIA_S3_BUCKET:
    MEDIA_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": os.environ.get("MEDIA_S3_ENDPOINT_URL") or None,  # MinIO, R2; empty for AWS itself
            "region_name": os.environ.get("MEDIA_S3_REGION") or None,
            # Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the host's role, never this file.
            "custom_domain": os.environ.get("MEDIA_CDN_DOMAIN") or None,  # the CDN in front of the bucket
            "querystring_auth": env_bool("MEDIA_S3_SIGNED_URLS", not os.environ.get("MEDIA_CDN_DOMAIN")),
            "default_acl": None,  # the bucket's own policy decides; objects are not made public one by one
            "file_overwrite": False,  # files are written once under content-hashed names and never replaced
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
# Where patients' browsers load article figures from: this site (MEDIA_URL), or the CDN in front of the bucket.
MEDIA_IMAGE_SOURCES = [f"https://{os.environ['MEDIA_CDN_DOMAIN']}"] if os.environ.get("MEDIA_CDN_DOMAIN") else []
# Serve MEDIA_URL from MEDIA_ROOT through Django: the demo and tests. In production nginx or the CDN serves it.
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# The image library: what an upload may be, and the widths renditions are made at (never wider than the upload).
IMAGE_MAX_UPLOAD_BYTES = int(os.environ.get("IMAGE_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
IMAGE_MAX_PIXELS = int(os.environ.get("IMAGE_MAX_PIXELS", str(40_000_000)))
IMAGE_RENDITION_WIDTHS = [int(w) for w in env_list("IMAGE_RENDITION_WIDTHS", "320,640,960,1280")]

LOGIN_URL = "admin:login"

EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "5"))  # a stuck mail server fails one try, not the sender
# The outbox (django-post-office). Workflow steps never send mail: each writes its mail as an `Email` row in the
# step's own transaction (articles/notifications.py), so a refused step leaves none and a committed one keeps it
# whatever happens to the process next. `manage.py send_queued_mail`, run every minute by cron (docs/deploy.md),
# delivers the queue through EMAIL_BACKEND (no BACKENDS here: post_office then reads EMAIL_BACKEND when it sends,
# so SMTP in production, the console in the demo, locmem in tests). A mail the server refuses is tried again
# EMAIL_MAX_RETRIES times, EMAIL_RETRY_MINUTES apart (about an hour by default, so a mail server's restart or a
# short outage costs a delay, not the mail); then it is marked failed and staff send it again from the admin.
POST_OFFICE = {
    "MAX_RETRIES": int(os.environ.get("EMAIL_MAX_RETRIES", "6")),
    "RETRY_INTERVAL": timedelta(minutes=float(os.environ.get("EMAIL_RETRY_MINUTES", "10"))),
    # A retried mail keeps its Message-ID: should a server take a mail and the sender miss its answer, clients
    # that collapse duplicates by Message-ID show the second delivery once.
    "MESSAGE_ID_ENABLED": True,
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "editorial@clinic.example")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Production hardening: on unless DEBUG; each can be relaxed explicitly behind a TLS-terminating proxy.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Staff sessions end after a working day, and when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 60 * 60)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# No script runs that the app did not serve as a file (bar the editor's import map, which carries a per-request
# nonce on admin pages that have the editor): no inline script, no other origin, no framing.
# Inline styles stay allowed (the admin's widgets set some); they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],  # a nonce only where a page asks for one: the editor's import map
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", *MEDIA_IMAGE_SOURCES],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Login throttling on the admin and the review desk (which logs in through the admin).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # an attacker cannot lock everyone out from one address
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("AXES_PROXY_COUNT", "0"))  # proxies in front that add X-Forwarded-For

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

SIMPLE_HISTORY_REVERT_DISABLED = False

# Edge purging (articles/edge/): after a change commits, the pages naming it are purged from each edge cache
# listed here (docs/deploy.md, "Purging the edge"). A CDN set up by halves is refused now, not at its first purge.
EDGE_PURGE_TIMEOUT = float(os.environ.get("EDGE_PURGE_TIMEOUT") or "3")  # seconds to connect, and for each read
EDGE_PURGERS = [{"BACKEND": "varnish", "URL": url} for url in env_list("VARNISH_PURGE_URLS")]
if _bad := [url for url in env_list("VARNISH_PURGE_URLS") if not re.fullmatch(r"https?://[^/?#\s@]+/?", url)]:
    raise ImproperlyConfigured(f"Set VARNISH_PURGE_URLS to Varnish addresses such as http://varnish:6081, not {_bad}.")
for _backend, _switch, _options in [
    ("cloudflare", "CLOUDFLARE_ZONE_ID", {"ZONE_ID": "CLOUDFLARE_ZONE_ID", "API_TOKEN": "CLOUDFLARE_API_TOKEN"}),
    ("fastly", "FASTLY_SERVICE_ID", {"SERVICE_ID": "FASTLY_SERVICE_ID", "API_TOKEN": "FASTLY_API_TOKEN"}),
    ("cloudfront", "CLOUDFRONT_DISTRIBUTION_ID", {
        "DISTRIBUTION_ID": "CLOUDFRONT_DISTRIBUTION_ID",
        "ACCESS_KEY_ID": "AWS_ACCESS_KEY_ID",  # the AWS variables may be set for image storage alone
        "SECRET_ACCESS_KEY": "AWS_SECRET_ACCESS_KEY",
    }),
]:  # fmt: skip
    _set = {option: os.environ.get(variable, "").strip() for option, variable in _options.items()}
    if os.environ.get(_switch, "").strip() or (_backend != "cloudfront" and any(_set.values())):
        if _missing := [_options[option] for option, value in _set.items() if not value]:
            raise ImproperlyConfigured(f"To purge {_backend}, set {' and '.join(_missing)} too (docs/deploy.md).")
        EDGE_PURGERS.append({"BACKEND": _backend, **_set})

# Each purge is sent again this much later, for pages an edge fetched while the change committed (0: never).
EDGE_PURGE_ECHO_SECONDS = float(os.environ.get("EDGE_PURGE_ECHO_SECONDS", "2"))

# How long a shared cache (nginx, a CDN) may serve a public page before asking again; browsers always revalidate.
# An hour when it is purged after each change (EDGE_PURGERS), else a minute: nothing would tell it sooner.
PUBLIC_CACHE_SECONDS = int(os.environ.get("PUBLIC_CACHE_SECONDS", "3600" if EDGE_PURGERS else "60"))
# Whole public pages kept in Redis (articles/page_cache.py, which talks to it directly); only with Redis, which
# every process shares. By default the shared cache's server, under the same key prefix.
PAGE_CACHE_REDIS_URL = os.environ.get("PAGE_CACHE_REDIS_URL", REDIS_URL)
PAGE_CACHE_KEY_PREFIX = CACHE_KEY_PREFIX
# No longer than a CDN keeps them, and at most a minute: should an invalidation fail (Redis unreachable during a
# publish), a page patients must no longer see is gone within that bound, and what changes with the date alone
# (a review falling due) shows within it.
PAGE_CACHE_SECONDS = int(
    os.environ.get("PAGE_CACHE_SECONDS", str(min(PUBLIC_CACHE_SECONDS, 60)) if PAGE_CACHE_REDIS_URL else "0")
)

# Editorial rules. Re-review every so many months unless a topic or article says otherwise.
DEFAULT_REVIEW_INTERVAL_MONTHS = int(os.environ.get("DEFAULT_REVIEW_INTERVAL_MONTHS", "12"))
# Only for a one-person clinic: lets whoever wrote or edited an article also approve and sign it off.
# Off by default; every approval and sign-off made under it says so in the audit trail.
ALLOW_SELF_REVIEW = env_bool("ALLOW_SELF_REVIEW")

# What patients see about the clinic itself; the demo defaults are placeholders.
CLINIC = {
    "name": os.environ.get("CLINIC_NAME", "Harbourside Skin & Wellness Clinic"),
    "phone": os.environ.get("CLINIC_PHONE", "(555) 010-2040"),
    "email": os.environ.get("CLINIC_EMAIL", "hello@clinic.example"),
    "booking_url": os.environ.get("CLINIC_BOOKING_URL", ""),
    "address": os.environ.get("CLINIC_ADDRESS", "12 Harbour Street, Springfield"),
}
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")
if not re.fullmatch(r"https?://[^/?#\s]+", SITE_URL):  # links in staff text are judged by its host (sanitize.py)
    raise ImproperlyConfigured(f"Set SITE_URL to the site's address, such as https://clinic.example, not {SITE_URL!r}.")

# Second factor (django-otp, TOTP). Which groups must use it is set in the admin (Groups > a group).
OTP_TOTP_ISSUER = CLINIC["name"]  # the name authenticator apps show beside the code
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows another person's secret or QR code

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # bibtexparser logs every entry, with 0-based line numbers; the importer reports problems itself.
    "loggers": {
        "bibtexparser": {"level": "ERROR"},
        "weasyprint.progress": {"level": "WARNING"},  # a line for each step of every leaflet (articles/leaflets.py)
        # A handler of its own here stops post_office from adding one, which would print its lines twice.
        "post_office": {"handlers": ["console"], "propagate": False},
    },
}
