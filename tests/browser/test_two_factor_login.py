"""A person whose group requires two-factor login sets up an authenticator app and logs in with a code, in Chromium.

The code is computed from the key the page shows, as an authenticator app would; the QR code must load under the
site's Content-Security-Policy (a data: image, no inline script).
"""

import re
import time
from base64 import b32decode

from playwright.sync_api import expect

from articles.models import TwoFactorRequirement
from tests.factories import PASSWORD, member_of


def code_from_secret(secret: str, *, steps_ahead: int = 0) -> str:
    from django_otp.oath import TOTP

    totp = TOTP(b32decode(secret.replace(" ", "")), step=30, t0=0, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def log_in_with_password(page, username):
    page.goto("/review/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def test_an_editor_sets_up_an_authenticator_app_and_logs_in_with_a_code(page):
    editor = member_of("Editors")
    TwoFactorRequirement.objects.create(group=editor.groups.get(), required=True)
    blocked = []
    page.on("console", lambda message: "Content Security Policy" in message.text and blocked.append(message.text))

    log_in_with_password(page, editor.username)
    expect(page).to_have_url(re.compile(r"/staff/two-factor/set-up/\?next=%2Freview%2F$"))
    qr_code = page.get_by_role("img", name=re.compile("^QR code"))
    expect(qr_code).to_be_visible()
    assert qr_code.evaluate("image => image.complete && image.naturalWidth > 0")  # the policy let it load
    secret = page.locator("#totp-secret").inner_text()

    page.get_by_label("Code from your app").fill("12345")
    page.get_by_role("button", name="Confirm and turn on").click()
    expect(page.locator(".errorlist")).to_contain_text("A code is 6 digits")

    page.get_by_label("Code from your app").fill(code_from_secret(secret))
    page.get_by_role("button", name="Confirm and turn on").click()
    expect(page).to_have_url(re.compile(r"/review/$"))
    expect(page.get_by_role("link", name="Review desk")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    log_in_with_password(page, editor.username)
    expect(page).to_have_url(re.compile(r"/staff/two-factor/verify/\?next=%2Freview%2F$"))
    page.get_by_label("Code from your app").fill(code_from_secret(secret, steps_ahead=1))  # the first is used up
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/review/$"))
    assert blocked == []
