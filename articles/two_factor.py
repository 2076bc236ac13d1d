"""The second factor for staff: after the password, a 6-digit code from an authenticator app (TOTP, django-otp).

Which groups must use it is `TwoFactorRequirement`, set on each group's admin page; who must enter a code is
`permissions.needs_second_factor`. `SecondFactorMiddleware` is the one gate: until the session holds a valid
code, no admin page, review desk URL or staff page answers a GET or a POST. Only the password login, logging
out, entering a code and setting up an app stay open. The patient site never asks.
"""

import functools
import math
import re
from base64 import b32encode
from urllib.parse import urlencode

import segno
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import FormView, TemplateView
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from articles import permissions

ENTER_CODE = "Enter the 6-digit code your authenticator app shows."
CODE_FORMAT = "A code is 6 digits (0-9), as your authenticator app shows it."
WRONG_CODE = "That code is wrong, expired or already used. Enter the code your app shows now."
TOO_MANY_ATTEMPTS = "Too many wrong codes. Try again in {seconds} seconds, with the code your app shows then."
ALREADY_SET_UP = "You already have an authenticator app. To set up another, ask an administrator to remove it first."
SET_UP = "Your authenticator app is set up. From now on, enter a code from it after your password."

CODE_PATTERN = re.compile(r"[0-9]{6}")
DEVICE_NAME = "Authenticator app"
PENDING_DEVICE_KEY = "second_factor_pending_device"  # in the session: the app this session is setting up

# Every URL under these is gated, except the doors below: logging in and out, and the two steps themselves.
STAFF_AREAS = ["admin:index", "articles:review_queue", "articles:second_factor"]
OPEN_DOORS = ["admin:login", "admin:logout", "articles:second_factor_verify", "articles:second_factor_set_up"]


@functools.cache
def _gated_paths(script_prefix: str) -> tuple[tuple[str, ...], frozenset[str]]:
    # Worked out once per deployment address, not in every request (the patient site's included).
    return tuple(reverse(name) for name in STAFF_AREAS), frozenset(reverse(name) for name in OPEN_DOORS)


def is_staff_area(path: str) -> bool:
    """Return True if the path is an admin page, a review desk URL or a staff page that the gate guards."""
    areas, doors = _gated_paths(get_script_prefix())
    return path not in doors and path.startswith(areas)


def second_factor_redirect(request) -> HttpResponseRedirect | None:
    """Return a redirect to the step the user must take first (enter a code, or set up an app), or None."""
    user = request.user
    if not user.is_authenticated or user.is_verified() or not permissions.needs_second_factor(user):
        return None
    step = "articles:second_factor_verify" if permissions.has_authenticator(user) else "articles:second_factor_set_up"
    # A refused POST is not replayed after the code; its form is one click away from where the code leads.
    query = f"?{urlencode({'next': request.get_full_path()})}" if request.method in ("GET", "HEAD") else ""
    return HttpResponseRedirect(reverse(step) + query)


class SecondFactorMiddleware:
    """Send whoever must enter a code, and has not in this session, to that step before any staff page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_staff_area(request.path):
            response = second_factor_redirect(request)
            if response is not None:
                return response
        return self.get_response(request)


def check_code(devices: QuerySet[TOTPDevice], code: str) -> TOTPDevice:
    """Return the device that accepts the code, or raise ValidationError saying why none did.

    Each device counts its failures and makes the next try wait 1, 2, 4, 8 ... seconds (django-otp's
    throttling); a code is accepted once, so a used or overheard code is refused.
    """
    locked_for = []  # seconds to wait, for each device that is still waiting after earlier failures
    checked = False
    # Failures must be recorded, so the error is raised after the transaction commits, not inside it.
    with transaction.atomic():
        for device in devices.select_for_update().order_by("pk"):
            allowed, details = device.verify_is_allowed()
            if not allowed:
                locked_until = (details or {}).get("locked_until") or timezone.now()
                locked_for.append((locked_until - timezone.now()).total_seconds())
            elif device.verify_token(code):
                return device
            else:
                checked = True
    if locked_for and not checked:
        raise ValidationError(TOO_MANY_ATTEMPTS.format(seconds=max(1, math.ceil(min(locked_for)))), code="throttled")
    raise ValidationError(WRONG_CODE, code="wrong")


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your app",
        error_messages={"required": ENTER_CODE, "null_characters_not_allowed": CODE_FORMAT},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "size": 8}
        ),
    )

    def __init__(self, *args, devices, **kwargs):
        super().__init__(*args, **kwargs)
        self.devices = devices
        self.device = None

    def clean_code(self):
        code = re.sub(r"\s", "", self.cleaned_data["code"])  # apps show "123 456"
        if not CODE_PATTERN.fullmatch(code):
            raise ValidationError(CODE_FORMAT, code="format")
        return code

    def clean(self):
        cleaned = super().clean()
        if "code" in cleaned:
            try:
                self.device = check_code(self.devices, cleaned["code"])
            except ValidationError as error:
                self.add_error("code", error)
        return cleaned


class StaffOnlyMixin(LoginRequiredMixin):
    login_url = "admin:login"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.can_set_up_second_factor(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def next_url(self) -> str:
        """Return where to go after this step: the page the user asked for, if it is on this site."""
        url = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if url_has_allowed_host_and_scheme(url, {self.request.get_host()}, require_https=self.request.is_secure()):
            return url
        return reverse("admin:index")

    def get_context_data(self, **kwargs):
        site = admin.site
        return super().get_context_data(
            site_header=site.site_header,
            site_title=site.site_title,
            site_url=site.site_url,
            has_permission=True,  # shows the admin's user links, with "Log out"
            next=self.next_url(),
            **kwargs,
        )

    def verified(self, device: TOTPDevice) -> HttpResponseRedirect:
        """Mark this session as having passed the second factor and go on."""
        self.request.session.cycle_key()  # a new session key whenever a login gains rights
        otp_login(self.request, device)
        return redirect(self.next_url())


class SecondFactorView(StaffOnlyMixin, TemplateView):
    """Whether the user has an authenticator app, and whether their groups require one."""

    template_name = "registration/second_factor.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            title="Two-factor login",
            device=TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first(),
            requiring_groups=user.groups.filter(two_factor_requirement__required=True).order_by("name"),
            required=permissions.group_requires_second_factor(user),
            lifts_requirements=permissions.can_lift_second_factor_requirements(user),
            **kwargs,
        )


class VerifyView(StaffOnlyMixin, FormView):
    """After the password: enter a code from the app before any staff page."""

    template_name = "registration/second_factor_verify.html"
    form_class = CodeForm

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if permissions.can_set_up_second_factor(user):
            if user.is_verified():
                return redirect(self.next_url())
            if not permissions.has_authenticator(user):
                return redirect(f"{reverse('articles:second_factor_set_up')}?{urlencode({'next': self.next_url()})}")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "devices": TOTPDevice.objects.filter(user=self.request.user, confirmed=True),
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Enter your code", **kwargs)

    def form_valid(self, form):
        return self.verified(form.device)


class SetUpView(StaffOnlyMixin, FormView):
    """Set up an authenticator app: scan the QR code (or type the key), then prove it works with a code."""

    template_name = "registration/second_factor_set_up.html"
    form_class = CodeForm

    def dispatch(self, request, *args, **kwargs):
        if permissions.can_set_up_second_factor(request.user) and permissions.has_authenticator(request.user):
            # Someone who has only the password must not be able to add an app of their own.
            messages.info(request, ALREADY_SET_UP)
            return redirect("articles:second_factor")
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def pending(self) -> TOTPDevice:
        """Return the app being set up in this session: the same key on a reload, so a reload does not undo a scan.

        The key belongs to the session that made it: another login with the same password (an attacker's)
        gets a new key, which replaces the old one, so it can never read a key the owner has scanned.
        """
        user, session = self.request.user, self.request.session
        pending = TOTPDevice.objects.filter(user=user, confirmed=False, pk=session.get(PENDING_DEVICE_KEY)).first()
        if pending is None:
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            pending = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
            session[PENDING_DEVICE_KEY] = pending.pk
        return pending

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "devices": TOTPDevice.objects.filter(pk=self.pending.pk)}

    def get_context_data(self, **kwargs):
        secret = b32encode(self.pending.bin_key).decode()
        return super().get_context_data(
            title="Set up two-factor login",
            required=permissions.group_requires_second_factor(self.request.user),
            qr_code=segno.make(self.pending.config_url, error="m").svg_data_uri(scale=5, dark="#000", light="#fff"),
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            **kwargs,
        )

    def form_valid(self, form):
        device = form.device
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=self.request.user, confirmed=False).delete()
        self.request.session.pop(PENDING_DEVICE_KEY, None)
        messages.success(self.request, SET_UP)
        return self.verified(device)
