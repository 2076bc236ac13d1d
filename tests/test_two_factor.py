"""Two-factor login for staff (articles/two_factor.py): a code from an authenticator app after the password.

The gate is on the server: before the code, a member of a group that requires it reaches no admin page and no
review desk URL, by GET or POST; with the code they reach what their permissions allow, and nothing more.
"""

import datetime
import re
import time
from base64 import b32decode
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from articles import permissions, workflow
from articles.models import Article, StatementApproval, TwoFactorRequirement
from articles.two_factor import ALREADY_SET_UP, CODE_FORMAT, ENTER_CODE, SET_UP, TOO_MANY_ATTEMPTS, WRONG_CODE
from tests.factories import PASSWORD, ArticleFactory, ReferenceFactory, TopicFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db

VERIFY_URL = reverse("articles:second_factor_verify")
SET_UP_URL = reverse("articles:second_factor_set_up")


# --- Data and steps --------------------------------------------------------------------------------


def require_second_factor(group_name: str, required: bool = True) -> None:
    TwoFactorRequirement.objects.update_or_create(
        group=Group.objects.get(name=group_name), defaults={"required": required}
    )


def authenticator(user) -> TOTPDevice:
    """Return a confirmed authenticator app for the user, as if they had set it up earlier."""
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def code_from_key(key: bytes, *, seconds_ago: int = 0) -> str:
    """Return the code an authenticator app holding this key shows now (or that many seconds ago)."""
    totp = TOTP(key, step=30, t0=0, digits=6)
    totp.time = time.time() - seconds_ago
    return f"{totp.token():06d}"


def code_for(device: TOTPDevice, *, seconds_ago: int = 0) -> str:
    return code_from_key(device.bin_key, seconds_ago=seconds_ago)


def log_in(client, user) -> None:
    """Log in with the password only (through django-axes, which needs the request)."""
    assert client.login(username=user.username, password=PASSWORD, request=HttpRequest())


def enter_code(client, code: str, next_url: str = ""):
    return client.post(VERIFY_URL, {"code": code, "next": next_url})


def is_verified(client) -> bool:
    """Return True if this session got past the second factor: the admin's index answers."""
    return client.get(reverse("admin:index")).status_code == 200


def article_in_review() -> Article:
    reference = ReferenceFactory()
    article = ArticleFactory(
        body=f"<p>In mice, wounds closed faster [@{reference.citation_key}].</p>", topics=[TopicFactory()]
    )
    workflow.submit_for_review(article, by=member_of("Editors"))
    return article


def approve_data(statement) -> dict:
    fields = {"seen_hash": statement.statement_hash, "evidence_level": "E", "certainty": "low"}
    return {f"s{statement.pk}-{name}": value for name, value in fields.items()}


def staff_urls(article: Article) -> dict[str, str]:
    return {
        "admin index": reverse("admin:index"),
        "admin change form": reverse("admin:articles_article_change", args=[article.pk]),
        "admin password change": reverse("admin:password_change"),
        "review desk queue": reverse("articles:review_queue"),
        "review desk article": reverse("articles:review_article", args=[article.pk]),
        "two-factor status": reverse("articles:second_factor"),
    }


STAFF_PAGES = [
    "admin index",
    "admin change form",
    "admin password change",
    "review desk queue",
    "review desk article",
    "two-factor status",
]


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


# --- The gate --------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_a_required_group_member_with_an_app_cannot_open_a_staff_page_before_the_code(client, page):
    require_second_factor("Reviewers")
    reviewer = member_of("Reviewers")
    authenticator(reviewer)
    url = staff_urls(article_in_review())[page]
    log_in(client, reviewer)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY_URL}?{urlencode({'next': url})}"


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_a_required_group_member_without_an_app_is_sent_to_set_one_up_and_reaches_nothing_else(client, page):
    require_second_factor("Reviewers")
    reviewer = member_of("Reviewers")
    url = staff_urls(article_in_review())[page]
    log_in(client, reviewer)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{SET_UP_URL}?{urlencode({'next': url})}"
    assert client.get(VERIFY_URL)["Location"].startswith(SET_UP_URL)  # no code to enter without an app


def test_a_desk_action_posted_before_the_code_is_refused_and_records_nothing(client):
    require_second_factor("Reviewers")
    reviewer = member_of("Reviewers")
    authenticator(reviewer)
    article = article_in_review()
    statement = article.evidence_statements.get()
    log_in(client, reviewer)
    response = client.post(reverse("articles:review_approve", args=[article.pk, statement.pk]), approve_data(statement))
    assert response.status_code == 302
    assert response["Location"] == VERIFY_URL
    assert not StatementApproval.objects.exists()


def test_an_admin_form_posted_before_the_code_is_refused_and_saves_nothing(client):
    require_second_factor("Writers")
    writer = member_of("Writers")
    authenticator(writer)
    log_in(client, writer)
    response = client.post(
        reverse("admin:articles_article_add"),
        {"title": "Sneaked in", "slug": "sneaked-in", "summary": "x", "body": "<p>x</p>", "author": writer.pk},
    )
    assert response.status_code == 302
    assert response["Location"] == VERIFY_URL
    assert not Article.objects.filter(slug="sneaked-in").exists()


def test_the_patient_site_never_asks_for_a_code(client):
    require_second_factor("Editors")
    editor = member_of("Editors")
    authenticator(editor)
    log_in(client, editor)
    for url in ["/", reverse("articles:article_list"), reverse("articles:search") + "?q=exosomes"]:
        assert client.get(url).status_code == 200, url


def test_logging_out_needs_no_code(client):
    require_second_factor("Editors")
    editor = member_of("Editors")
    authenticator(editor)
    log_in(client, editor)
    assert client.post(reverse("admin:logout")).status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_member_of_a_group_that_does_not_require_it_logs_in_with_the_password_alone(client):
    require_second_factor("Writers")
    require_second_factor("Reviewers", required=False)
    reviewer = member_of("Reviewers")
    article = article_in_review()
    log_in(client, reviewer)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("articles:review_article", args=[article.pk])).status_code == 200
    statement = article.evidence_statements.get()
    client.post(reverse("articles:review_approve", args=[article.pk, statement.pk]), approve_data(statement))
    assert StatementApproval.objects.filter(article=article, reviewer=reviewer).exists()


def test_whoever_has_set_up_an_app_must_use_it_even_if_no_group_requires_it(client, writer):
    authenticator(writer)
    log_in(client, writer)
    assert client.get(reverse("admin:index"))["Location"].startswith(VERIFY_URL)


def test_a_removed_app_stops_verifying_the_session_it_verified(client):
    require_second_factor("Writers")
    writer = member_of("Writers")
    device = authenticator(writer)
    log_in(client, writer)
    enter_code(client, code_for(device))
    assert is_verified(client)
    device.delete()
    assert client.get(reverse("admin:index"))["Location"].startswith(SET_UP_URL)


def test_the_predicate_pair(writer, reviewer):
    require_second_factor("Reviewers")
    assert permissions.needs_second_factor(reviewer)
    assert not permissions.needs_second_factor(writer)
    authenticator(writer)
    assert permissions.needs_second_factor(writer)


# --- Entering the code -----------------------------------------------------------------------------


def test_password_then_code_through_the_login_page_reaches_the_page_asked_for(client):
    require_second_factor("Editors")
    editor = member_of("Editors")
    device = authenticator(editor)
    queue = reverse("articles:review_queue")
    password_step = client.post(
        reverse("admin:login"), {"username": editor.username, "password": PASSWORD, "next": queue}
    )
    assert password_step["Location"] == queue  # django-axes let the password through
    code_page = client.get(client.get(queue)["Location"])
    assert code_page.status_code == 200
    assert f'name="next" value="{queue}"' in code_page.content.decode()
    response = enter_code(client, code_for(device), queue)
    assert response.status_code == 302
    assert response["Location"] == queue
    assert client.get(queue).status_code == 200


def test_a_verified_user_reaches_everything_their_permissions_allow_and_nothing_more(client):
    require_second_factor("Reviewers")
    reviewer = member_of("Reviewers")
    device = authenticator(reviewer)
    article = article_in_review()
    statement = article.evidence_statements.get()
    log_in(client, reviewer)
    enter_code(client, code_for(device))
    for name, url in staff_urls(article).items():
        assert client.get(url).status_code == 200, name
    client.post(reverse("articles:review_approve", args=[article.pk, statement.pk]), approve_data(statement))
    assert StatementApproval.objects.filter(article=article, reviewer=reviewer).exists()
    # The code adds no rights: a reviewer still may not write articles or publish.
    assert client.get(reverse("admin:articles_article_add")).status_code == 403
    client.post(reverse("articles:review_publish", args=[article.pk]))
    article.refresh_from_db()
    assert article.status == Article.Status.IN_REVIEW


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", ENTER_CODE),
        ("abcdef", CODE_FORMAT),
        ("12345", CODE_FORMAT),
        ("1" * 100, CODE_FORMAT),
        ("12\x003456", CODE_FORMAT),
        ("１２３４５６", CODE_FORMAT),  # full-width digits are not the ASCII digits apps show
        ("' OR 1=1 --", CODE_FORMAT),
    ],
    ids=["empty", "letters", "too-short", "100-digits", "nul-byte", "full-width", "sql"],
)
def test_a_malformed_code_is_refused_with_a_message(client, writer, code, message):
    require_second_factor("Writers")
    device = authenticator(writer)
    log_in(client, writer)
    response = enter_code(client, code)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not is_verified(client)
    device.refresh_from_db()
    assert device.throttling_failure_count == 0  # malformed input never reaches the device


def test_a_wrong_code_is_refused_with_a_message(client, writer):
    device = authenticator(writer)
    right = code_for(device)
    log_in(client, writer)
    response = enter_code(client, f"{(int(right) + 1) % 1_000_000:06d}")
    assert WRONG_CODE in response.content.decode()
    assert not is_verified(client)


def test_a_code_with_the_spaces_an_app_shows_is_accepted(client, writer):
    device = authenticator(writer)
    code = code_for(device)
    log_in(client, writer)
    enter_code(client, f" {code[:3]} {code[3:]} ")
    assert is_verified(client)


def test_an_expired_code_is_refused(client, writer):
    device = authenticator(writer)
    log_in(client, writer)
    assert WRONG_CODE in enter_code(client, code_for(device, seconds_ago=300)).content.decode()
    assert not is_verified(client)


def test_a_code_is_accepted_once_so_an_overheard_code_does_not_log_in_elsewhere(writer):
    device = authenticator(writer)
    code = code_for(device)
    first, second = Client(), Client()
    log_in(first, writer)
    log_in(second, writer)
    enter_code(first, code)
    assert is_verified(first)
    assert WRONG_CODE in enter_code(second, code).content.decode()
    assert not is_verified(second)


def test_wrong_codes_are_throttled_so_the_right_one_must_wait(client, writer, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # a minute after the first failure, doubling after each
    device = authenticator(writer)
    log_in(client, writer)
    enter_code(client, f"{(int(code_for(device)) + 1) % 1_000_000:06d}")
    throttled = enter_code(client, code_for(device)).content.decode()
    assert TOO_MANY_ATTEMPTS.split("{")[0] in throttled
    assert not is_verified(client)
    device.refresh_from_db()
    device.throttling_failure_timestamp -= datetime.timedelta(seconds=61)
    device.save()
    enter_code(client, code_for(device))
    assert is_verified(client)


def test_the_code_page_sends_back_only_to_this_site(client, writer):
    device = authenticator(writer)
    log_in(client, writer)
    response = enter_code(client, code_for(device), "https://attacker.example/admin/")
    assert response["Location"] == reverse("admin:index")


# --- Setting up an app -----------------------------------------------------------------------------


def shown_key(page: str) -> bytes:
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page).group(1)
    return b32decode(secret.replace(" ", ""))


def test_setting_up_with_a_code_from_the_shown_key_turns_the_app_on_and_lets_the_user_in(client):
    require_second_factor("Editors")
    editor = member_of("Editors")
    log_in(client, editor)
    queue = reverse("articles:review_queue")
    page = client.get(client.get(queue)["Location"])
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=editor)
    assert not device.confirmed  # not counted until a code proves the app has the key
    key = shown_key(page.content.decode())
    assert key == device.bin_key
    response = client.post(SET_UP_URL, {"code": code_from_key(key), "next": queue})
    assert response["Location"] == queue
    device.refresh_from_db()
    assert device.confirmed
    assert SET_UP in [str(message) for message in get_messages(response.wsgi_request)]
    assert client.get(queue).status_code == 200


def test_the_qr_code_is_an_image_the_content_security_policy_allows(client, writer):
    log_in(client, writer)
    response = client.get(SET_UP_URL)
    page = response.content.decode()
    assert re.search(r'<img src="data:image/svg\+xml;[^"]+" alt="QR code', page)
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []  # no inline script, which the policy would block
    directives = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert "data:" in directives["img-src"].split()


def test_an_unconfirmed_app_does_not_count(client, writer):
    log_in(client, writer)
    client.get(SET_UP_URL)
    assert TOTPDevice.objects.filter(user=writer, confirmed=False).exists()
    assert not permissions.has_authenticator(writer)
    assert client.get(reverse("admin:index")).status_code == 200  # not asked for a code yet


def test_reloading_the_set_up_page_keeps_the_key_already_scanned(client, writer):
    log_in(client, writer)
    first = shown_key(client.get(SET_UP_URL).content.decode())
    assert shown_key(client.get(SET_UP_URL).content.decode()) == first
    assert TOTPDevice.objects.filter(user=writer).count() == 1


def test_another_login_with_the_password_never_sees_the_key_being_set_up(client, writer):
    log_in(client, writer)
    owners_key = shown_key(client.get(SET_UP_URL).content.decode())
    intruder = Client()
    log_in(intruder, writer)
    intruders_key = shown_key(intruder.get(SET_UP_URL).content.decode())
    assert intruders_key != owners_key
    # The owner's key was replaced: a code from it turns nothing on, and the owner's next visit shows a new key.
    assert WRONG_CODE in client.post(SET_UP_URL, {"code": code_from_key(owners_key)}).content.decode()
    assert not TOTPDevice.objects.filter(user=writer, confirmed=True).exists()
    assert TOTPDevice.objects.filter(user=writer).count() == 1


@pytest.mark.parametrize(
    ("code", "message"),
    [("", ENTER_CODE), ("letters", CODE_FORMAT), ("9" * 100, CODE_FORMAT), ("\x00", CODE_FORMAT), ("bad", None)],
    ids=["empty", "letters", "100-digits", "nul-byte", "wrong"],
)
def test_setting_up_with_a_bad_code_is_refused_and_turns_nothing_on(client, writer, code, message):
    log_in(client, writer)
    key = shown_key(client.get(SET_UP_URL).content.decode())
    if message is None:
        code, message = f"{(int(code_from_key(key)) + 1) % 1_000_000:06d}", WRONG_CODE
    response = client.post(SET_UP_URL, {"code": code})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not TOTPDevice.objects.filter(user=writer, confirmed=True).exists()


def test_someone_with_only_the_password_cannot_add_an_app_beside_the_existing_one(client, writer):
    device = authenticator(writer)
    log_in(client, writer)
    response = client.get(SET_UP_URL, follow=True)
    assert response.redirect_chain[-1][0].startswith(VERIFY_URL)
    assert client.post(SET_UP_URL, {"code": "123456"}).status_code == 302
    assert list(TOTPDevice.objects.filter(user=writer)) == [device]


def test_a_verified_user_who_has_an_app_is_told_how_to_replace_it(client, writer):
    device = authenticator(writer)
    log_in(client, writer)
    enter_code(client, code_for(device))
    response = client.get(SET_UP_URL, follow=True)
    assert ALREADY_SET_UP in response.content.decode()
    assert "You have an authenticator app set up" in response.content.decode()


def test_the_set_up_pages_are_for_staff_only(client, patient):
    assert client.get(SET_UP_URL)["Location"].startswith(reverse("admin:login"))
    log_in(client, patient)
    assert client.get(SET_UP_URL).status_code == 403
    assert client.get(VERIFY_URL).status_code == 403
    assert not TOTPDevice.objects.exists()


# --- The administrator -----------------------------------------------------------------------------


def test_the_admin_requires_a_second_factor_on_the_group_page(client, superuser):
    group = Group.objects.get(name="Reviewers")
    log_in(client, superuser)
    url = reverse("admin:auth_group_change", args=[group.pk])
    assert "Require a second factor (TOTP)" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "name": group.name,
            "permissions": list(group.permissions.values_list("pk", flat=True)),
            "two_factor_requirement-TOTAL_FORMS": "1",
            "two_factor_requirement-INITIAL_FORMS": "0",
            "two_factor_requirement-MIN_NUM_FORMS": "0",
            "two_factor_requirement-MAX_NUM_FORMS": "1",
            "two_factor_requirement-0-required": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert group.two_factor_requirement.required
    assert group.permissions.exists()  # the save kept the group's rights
    reviewer, other = member_of("Reviewers"), Client()
    log_in(other, reviewer)
    assert other.get(reverse("articles:review_queue"))["Location"].startswith(SET_UP_URL)


def test_the_admin_lifts_the_requirement_by_unticking_it(client, superuser):
    require_second_factor("Reviewers")
    group = Group.objects.get(name="Reviewers")
    device = authenticator(superuser)
    log_in(client, superuser)
    enter_code(client, code_for(device))
    response = client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {
            "name": group.name,
            "permissions": list(group.permissions.values_list("pk", flat=True)),
            "two_factor_requirement-TOTAL_FORMS": "1",
            "two_factor_requirement-INITIAL_FORMS": "1",
            "two_factor_requirement-MIN_NUM_FORMS": "1",
            "two_factor_requirement-MAX_NUM_FORMS": "1",
            "two_factor_requirement-0-id": group.two_factor_requirement.pk,
            "two_factor_requirement-0-group": group.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    group.two_factor_requirement.refresh_from_db()
    assert not group.two_factor_requirement.required
    assert not permissions.needs_second_factor(member_of("Reviewers"))


def test_a_superuser_must_use_a_second_factor_while_any_group_requires_one(client, superuser):
    require_second_factor("Writers")
    log_in(client, superuser)
    group_page = reverse("admin:auth_group_change", args=[Group.objects.get(name="Writers").pk])
    assert client.get(group_page)["Location"].startswith(SET_UP_URL)
    assert client.post(group_page, {"name": "Writers"})["Location"].startswith(SET_UP_URL)
    assert Group.objects.get(name="Writers").two_factor_requirement.required


def test_a_superuser_logs_in_with_the_password_while_no_group_requires_a_second_factor(client, superuser):
    require_second_factor("Writers", required=False)
    log_in(client, superuser)
    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_who_may_change_groups_must_use_a_second_factor_while_any_group_requires_one(client):
    from django.contrib.auth.models import Permission

    require_second_factor("Reviewers")
    manager = member_of("Editors")
    manager.user_permissions.add(Permission.objects.get(codename="change_group", content_type__app_label="auth"))
    log_in(client, manager)
    assert permissions.group_requires_second_factor(manager)
    assert client.get(reverse("admin:auth_group_changelist"))["Location"].startswith(SET_UP_URL)


def test_staff_who_may_not_change_groups_are_not_held_to_other_groups_requirements(client, editor):
    require_second_factor("Reviewers")
    log_in(client, editor)
    assert not permissions.group_requires_second_factor(editor)
    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_who_do_not_manage_groups_cannot_change_the_requirement(client, editor):
    log_in(client, editor)
    group = Group.objects.get(name="Editors")
    assert client.get(reverse("admin:auth_group_change", args=[group.pk])).status_code == 403


def test_the_admin_removes_a_users_app_without_ever_seeing_its_key(client, superuser, writer):
    device = authenticator(writer)
    log_in(client, superuser)
    change_page = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])).content.decode()
    assert device.key not in change_page
    assert client.get(reverse("admin:otp_totp_totpdevice_config", args=[device.pk])).status_code == 403
    client.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not permissions.needs_second_factor(writer)
