"""Every admin and review desk page, for each demo role, answers without a server error.

The pages are found by walking the admin registry and the URL conf, so a new model or custom view is walked
as soon as it is registered. The demo content (seed_demo) gives the models rows to open; the walk checks that
the main ones have some.
"""

from datetime import date
from io import StringIO
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLResolver, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from post_office.models import Email

from articles import urls as article_urls
from articles.models import (
    Article,
    AuditEvent,
    Disclaimer,
    EdgePurge,
    Image,
    PatientConsent,
    ProblemReport,
    PublishedSnapshot,
    Reference,
    Topic,
)  # fmt: skip
from tests.data import hostile_images
from tests.factories import UserFactory, library_image

pytestmark = pytest.mark.django_db

ROLES = ["writer", "reviewer", "editor", "admin"]
ROWS_PER_MODEL = 3  # the first rows of each model, and every article: each workflow state renders differently
MODEL_PAGES = ["change", "history", "delete"]
SKIPPED = {"admin:logout"}  # a GET is refused, and a POST would end the walk's session


def first_and_last_revision(article) -> str:
    revisions = article.history.order_by("history_date")
    return urlencode({"from": revisions.first().history_id, "to": revisions.last().history_id})


QUERIES = {"admin:articles_article_compare": first_and_last_revision}  # without one, the page only redirects


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """Seed the demo once for the module, inside a transaction rolled back after its last test."""
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"), STORAGES={**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage"}})  # fmt: skip
    with django_db_blocker.unblock(), transaction.atomic(), media:
        with override_settings(DEBUG=True):  # seed_demo's guard; the pages are then walked as in production
            call_command("seed_demo", stdout=StringIO())
        # The library's pages: a photograph of a patient with consent on record, and a diagram.
        photograph = library_image(
            hostile_images.picture("JPEG", size=(800, 600)),
            "scar.jpg",
            shows_patient=True,
            before_after=True,
            title="Scar, before and after",
            alt_text="A scar at weeks 1 and 12",
        )
        PatientConsent.objects.create(
            image=photograph,
            consented_by="The patient",
            consented_on=date(2026, 1, 5),
            use="Website and leaflets",
            form_reference="CF-2026-1",
        )
        library_image()
        # The demo sets up no authenticator app; one for a user outside the demo roles leaves their logins alone.
        TOTPDevice.objects.create(user=UserFactory(is_staff=True), name="Phone", confirmed=True)
        # The demo purges no edge; a purge that keeps failing, and one that went through, for the outbox's pages.
        EdgePurge.objects.create(tags=["article-1", "articles-en"], attempts=4, last_error="Varnish answered HTTP 503.")
        EdgePurge.objects.create(tags=["site"], purged_at=timezone.now())
        yield
        transaction.set_rollback(True)


def sample_rows(model) -> list:
    rows = model._default_manager.order_by("pk")
    return list(rows if model is Article else rows[:ROWS_PER_MODEL])


def route_parameters(pattern) -> list[str]:
    """Return the names of a URL pattern's parameters, positional ones as "0", "1", ..."""
    regex = pattern.pattern.regex
    named = list(regex.groupindex)
    return named or [str(i) for i in range(regex.groups)]


def fill(name: str, parameters: list[str], obj) -> dict | list | None:
    """Return the arguments that address `obj` on the page `name`, or None if a parameter is not understood."""
    values = {}
    for parameter in parameters:
        if parameter in ("object_id", "id", "pk", "0"):
            values[parameter] = obj.pk
        elif parameter in ("version_id", "1") and name.endswith("_simple_history"):
            record = obj.history.order_by("history_date").first()
            if record is None:
                return None
            values[parameter] = record.history_id
        elif parameter == "language":  # "Translate into Spanish": a GET is refused (405), never a 500
            values[parameter] = "es"
        elif parameter == "content_type_id":
            values[parameter] = ContentType.objects.get_for_model(obj).pk
        else:
            return None
    return list(values.values()) if parameters and parameters[0].isdigit() else values


def admin_pages() -> tuple[list[tuple[str, str]], list[str]]:
    """Return the admin's pages (name, URL) for the demo rows, and the patterns the walk could not fill in."""
    urls, unfilled = [("admin:index", reverse("admin:index"))], []
    registry = admin.site._registry
    by_prefix = {f"{model._meta.app_label}/{model._meta.model_name}/": model for model in registry}
    for model in registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls += [(f"{info}_{page}", reverse(f"{info}_{page}")) for page in ("changelist", "add")]
        for row in sample_rows(model):
            urls += [(f"{info}_{page}", reverse(f"{info}_{page}", args=[row.pk])) for page in MODEL_PAGES]

    def walk(patterns, model, namespace="admin"):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, by_prefix.get(str(entry.pattern), model), entry.namespace or namespace)
                continue
            name = f"{namespace}:{entry.name}"
            if not entry.name or name in SKIPPED or name.endswith(("_changelist", "_add", "_change", "_delete")):
                continue
            if name.endswith("_history") or name == "admin:index":
                continue
            parameters = route_parameters(entry)
            if not parameters:
                urls.append((name, reverse(name)))
            elif "app_label" in parameters:
                labels = {m._meta.app_label for m in registry}
                urls.extend((name, reverse(name, kwargs={"app_label": label})) for label in labels)
            else:
                rows = sample_rows(model if model is not None else Article)
                filled = [fill(name, parameters, row) for row in rows]
                if not filled or None in filled:
                    unfilled.append(f"{name} {parameters}")
                for row, arguments in zip(rows, filled, strict=True):
                    if arguments is not None:
                        kwargs = arguments if isinstance(arguments, dict) else None
                        url = reverse(name, kwargs=kwargs, args=None if kwargs else arguments)
                        query = QUERIES[name](row) if name in QUERIES else ""
                        urls.append((name, f"{url}?{query}" if query else url))

    walk(admin.site.get_urls(), None)
    return urls, unfilled


def review_desk_pages() -> list[str]:
    """Return the review desk's pages that answer a GET: the queue, and each article's page."""
    urls = []
    for entry in article_urls.urlpatterns:
        view_class = getattr(entry.callback, "view_class", None)
        if not str(entry.pattern).startswith("review/") or "get" not in getattr(view_class, "http_method_names", []):
            continue
        parameters = route_parameters(entry)
        if not parameters:
            urls.append(reverse(f"articles:{entry.name}"))
        else:
            assert parameters == ["pk"], f"the walk cannot fill {entry.name} {parameters}"
            model = getattr(view_class, "model", None) or Article  # a page of a report names the report
            pks = model.objects.order_by("pk").values_list("pk", flat=True)
            urls += [reverse(f"articles:{entry.name}", args=[pk]) for pk in pks]
    return urls


def test_the_walk_finds_every_kind_of_page(demo):
    urls, unfilled = admin_pages()
    assert not unfilled, f"the walk does not know how to address: {unfilled}"
    walked_rows = [model for model in admin.site._registry if sample_rows(model)]
    walked = {Article, Reference, Topic, Disclaimer, PublishedSnapshot, AuditEvent, TOTPDevice, Email, Image, EdgePurge}
    assert walked <= set(walked_rows)
    assert len(walked_rows) >= 12
    articles = Article.objects.count()
    assert articles >= 6
    assert len(urls) > len(admin.site._registry) * 2 + articles * len(MODEL_PAGES)
    names = {name for name, _url in urls}
    for model in admin.site._registry:
        assert f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist" in names
    custom = ["articles_article_preview", "articles_article_compare", "articles_reference_import", "view_on_site",
              "articles_image_picture"]  # fmt: skip
    assert {f"admin:{name}" for name in custom} <= names
    assert sum(name == "admin:articles_article_preview" for name, _url in urls) == articles
    desk = review_desk_pages()
    assert reverse("articles:review_queue") in desk
    reports = ProblemReport.objects.count()
    assert reports >= 2
    assert reverse("articles:review_reach") in desk
    assert len(desk) == 2 + articles + reports


@pytest.mark.parametrize("username", ROLES)
def test_no_admin_or_review_desk_page_fails_for_any_demo_role(demo, username):
    client = Client(raise_request_exception=False)  # one run lists every failing page, not only the first
    client.force_login(get_user_model().objects.get(username=username))
    urls = [url for _name, url in admin_pages()[0]] + review_desk_pages()
    failures = []
    for url in urls:
        response = client.get(url)
        if response.status_code >= 500:
            error = response.exc_info[1] if response.exc_info else ""
            failures.append(f"{response.status_code} {url} {error!r}"[:400])
    assert not failures, f"{len(failures)} of {len(urls)} pages failed for {username}:\n" + "\n".join(failures)


# --- Query strings nobody's filters make -----------------------------------------------------------------

JUNK_QUERIES = ["o=abc", "o=-9999.x", "p=-1", "p=abc", "p=99999999999999999999", "q=%00", "q=(", "pk__in=a",
                "all=&p=-1", "_to_field=password", "e=1&pk__in=a"]  # fmt: skip
JUNK_VALUES = ["(", "²", "9" * 30, "%00"]


def junk_queries(client, model) -> list[str]:
    """Return query strings no page of the admin links to: a regex on every field, junk in every real filter."""
    queries = [*JUNK_QUERIES, *(f"{field.name}__regex=(" for field in model._meta.concrete_fields)]
    changelist = client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    parameters = [name for spec in changelist.context["cl"].filter_specs for name in spec.expected_parameters()]
    hierarchy = admin.site._registry[model].date_hierarchy
    if hierarchy:
        parameters += [f"{hierarchy}__year", f"{hierarchy}__month", f"{hierarchy}__day"]
    queries += [f"{name}={value}" for name in parameters for value in JUNK_VALUES]
    return queries


def get_and_roll_back(client, url: str):
    """GET `url` in a savepoint rolled back after: a database error then ends no later request."""
    savepoint = transaction.savepoint()
    try:
        return client.get(url)
    finally:
        transaction.savepoint_rollback(savepoint)


def test_no_change_list_fails_on_a_query_string_its_filters_do_not_make(demo):
    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username="admin"))
    failures, asked = [], 0
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for query in junk_queries(client, model):
            asked += 1
            response = get_and_roll_back(client, f"{url}?{query}")
            if response.status_code >= 500:
                error = response.exc_info[1] if response.exc_info else ""
                failures.append(f"{response.status_code} {url}?{query} {error!r}"[:300])
    assert asked > 15 * len(admin.site._registry)
    assert not failures, f"{len(failures)} of {asked} change lists failed:\n" + "\n".join(failures)
