"""Patients' feedback on an article page: "Was this page helpful?" and "Report a problem with this page".

The article page is cached whole, for everyone, so its forms carry no CSRF token and set no cookie: they are
plain HTML forms that post here, and work without JavaScript. This endpoint is never cached. Abuse is met by a
honeypot field, a per-address rate limit kept in the default cache (Redis in production: with a per-process
cache the limit is per process), size limits, and escaping wherever staff read the text.

Editors close reports through `close_report`, which asks `permissions.can_triage_reports` and writes an audit
event in the same transaction.
"""

import hashlib
import hmac

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from articles import permissions, workflow
from articles.models import (
    CLOSING_NOTE_MAX_CHARS,
    EMAIL_MAX_CHARS,
    FEEDBACK_COMMENT_MAX_CHARS,
    REPORT_DESCRIPTION_MAX_CHARS,
    TOO_LONG,
    Article,
    PageFeedback,
    ProblemReport,
)
from articles.workflow.writes import record

RATE_LIMIT_POSTS = 10  # feedback posts one address may send ...
RATE_LIMIT_SECONDS = 10 * 60  # ... in this window, after which its count expires
RATE_KEY = "feedback-rate:"
HONEYPOT_FIELD = "website"  # hidden from people and screen readers; bots fill it in

FOREIGN_ORIGIN = gettext_noop("This form can only be sent from a page of this website.")
TOO_MANY = gettext_noop("You have sent a lot of feedback in a short time. Please wait 10 minutes and try again.")
UNKNOWN_FORM = gettext_noop("We could not tell which form this came from. Go back to the page and try again.")
CHOOSE_HELPFUL = gettext_noop("Choose Yes or No.")
CHOOSE_KIND = gettext_noop("Choose what kind of problem it is.")
DESCRIBE_PROBLEM = gettext_noop("Tell us what the problem is.")
BAD_EMAIL = gettext_noop("Enter an email address like name@example.com, or leave it empty.")
NOT_ALLOWED_TO_CLOSE = "Only editors can close problem reports."
ALREADY_CLOSED = "This report was closed already, by {name} on {date}."
CHOOSE_OUTCOME = "Choose the outcome."
WRITE_NOTE = "Write a note saying what you did, for whoever reads this report later."
CLOSED = "Report closed as “{outcome}”. The reporter's email address has been deleted."
CLOSE_ACTION = workflow.CLOSE_REPORT


# Patients' forms speak the reader's language: the messages above are translated when a form shows them.
class HelpfulForm(forms.Form):
    helpful = forms.TypedChoiceField(
        label=gettext_lazy("Was this page helpful?"),
        choices=[("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy(CHOOSE_HELPFUL), "invalid_choice": gettext_lazy(CHOOSE_HELPFUL)},
    )
    comment = forms.CharField(
        label=gettext_lazy("What was missing or wrong? (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=FEEDBACK_COMMENT_MAX_CHARS,
        error_messages={"max_length": gettext_lazy(TOO_LONG)},
    )


class ProblemReportForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What kind of problem is it?"),
        choices=[(kind, gettext_lazy(label)) for kind, label in ProblemReport.Kind.choices],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy(CHOOSE_KIND), "invalid_choice": gettext_lazy(CHOOSE_KIND)},
    )
    description = forms.CharField(
        label=gettext_lazy("What is the problem?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=REPORT_DESCRIPTION_MAX_CHARS,
        error_messages={"required": gettext_lazy(DESCRIBE_PROBLEM), "max_length": gettext_lazy(TOO_LONG)},
    )
    email = forms.EmailField(
        label=gettext_lazy("Your email address (optional, only if you would like a reply)"),
        required=False,
        max_length=EMAIL_MAX_CHARS,
        error_messages={"invalid": gettext_lazy(BAD_EMAIL), "max_length": gettext_lazy(TOO_LONG)},
    )


class CloseReportForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=ProblemReport.Outcome.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": CHOOSE_OUTCOME, "invalid_choice": CHOOSE_OUTCOME},
    )
    note = forms.CharField(
        label="Note",
        help_text="What you did, or why no change was needed. Staff read it; the reporter does not.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=CLOSING_NOTE_MAX_CHARS,
        error_messages={"required": WRITE_NOTE, "max_length": TOO_LONG},
    )

    def clean_note(self) -> str:
        note = self.cleaned_data["note"].strip()
        if not note:
            raise forms.ValidationError(WRITE_NOTE)
        return note


FORMS = {"helpful": HelpfulForm, "report": ProblemReportForm}


def client_address(request) -> str:
    """Return the address the post came from, past the proxies the deployment declares (as django-axes does)."""
    proxies = settings.AXES_IPWARE_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def rate_key(address: str) -> str:
    """Return the cache key that counts an address's posts: a keyed hash, so the address itself is never stored."""
    digest = hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()
    return RATE_KEY + digest


def over_rate_limit(address: str) -> bool:
    """Count one post from `address`; return True if it is over RATE_LIMIT_POSTS in the current window."""
    key = rate_key(address)
    cache.add(key, 0, timeout=RATE_LIMIT_SECONDS)  # the window starts with the first post and expires with it
    try:
        return cache.incr(key) > RATE_LIMIT_POSTS
    except ValueError:  # expired between add and incr: this post starts a new window
        cache.add(key, 1, timeout=RATE_LIMIT_SECONDS)
        return False


def from_this_site(request) -> bool:
    """Return False if the post names an Origin or Referer that is not this site (a form on another site)."""
    allowed = {request.get_host(), *(origin.split("://", 1)[-1] for origin in settings.CSRF_TRUSTED_ORIGINS)}
    allowed.add(settings.SITE_URL.split("://", 1)[1])
    for header in ("HTTP_ORIGIN", "HTTP_REFERER"):
        value = request.META.get(header)
        if value is not None:
            return url_has_allowed_host_and_scheme(value, allowed_hosts=allowed) and "://" in value
    return True


# Exempt from CSRF on purpose: the cached article page may carry no per-visitor token, and there is nothing a
# forged post could abuse. The endpoint has no session and changes no state of the person posting; a forged
# post can only add feedback anyone may add, which the rate limit, honeypot and size limits bound. A post whose
# Origin or Referer names another site is still refused.
@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(never_cache, name="dispatch")  # no-store, private: answers are per post, never kept
class FeedbackView(View):
    """Take a "Was this page helpful?" answer or a problem report for a live article, and thank the patient."""

    http_method_names = ["post"]

    def post(self, request, slug: str):
        if not from_this_site(request):
            return self.answer("articles/feedback_refused.html", status=403, message=gettext(FOREIGN_ORIGIN))
        article = get_object_or_404(Article.objects.live().only("pk", "live_snapshot"), live_snapshot__slug=slug)
        snapshot_pk = article.live_snapshot_id
        if over_rate_limit(client_address(request)):
            response = self.answer("articles/feedback_refused.html", status=429, message=gettext(TOO_MANY))
            response["Retry-After"] = str(RATE_LIMIT_SECONDS)
            return response
        form_class = FORMS.get(request.POST.get("form", ""))
        if form_class is None:
            return self.answer("articles/feedback_refused.html", status=400, message=gettext(UNKNOWN_FORM))
        if request.POST.get(HONEYPOT_FIELD):  # a bot: thanked whatever it sent, so it learns nothing
            return self.answer("articles/feedback_thanks.html", slug=slug, kind=request.POST["form"])
        form = form_class(request.POST)
        if not form.is_valid():
            return self.answer("articles/feedback_form.html", status=400, form=form, slug=slug)
        data = form.cleaned_data
        if form_class is HelpfulForm:
            PageFeedback.objects.create(
                article=article, snapshot_id=snapshot_pk, helpful=data["helpful"], comment=data["comment"].strip()
            )
        else:
            ProblemReport.objects.create(
                article=article, kind=data["kind"], description=data["description"].strip(), email=data["email"]
            )
        return self.answer("articles/feedback_thanks.html", slug=slug, kind=request.POST["form"])

    def answer(self, template: str, status: int = 200, **context) -> TemplateResponse:
        return TemplateResponse(self.request, template, {"honeypot": HONEYPOT_FIELD, **context}, status=status)


def close_report(report: ProblemReport, *, by, outcome: str, note: str) -> ProblemReport:
    """Close a problem report with an outcome and a note, delete the reporter's email, and audit it."""
    if not permissions.can_triage_reports(by):
        raise PermissionDenied(NOT_ALLOWED_TO_CLOSE)
    with transaction.atomic():
        report = ProblemReport.objects.select_for_update().select_related("article").get(pk=report.pk)
        if report.status == ProblemReport.Status.CLOSED:
            name = workflow.person_name(report.closed_by)
            raise workflow.WorkflowError(ALREADY_CLOSED.format(name=name, date=f"{report.closed_at:%-d %b %Y}"))
        report.status, report.outcome, report.closing_note = ProblemReport.Status.CLOSED, outcome, note
        report.closed_by, report.closed_at, report.email = by, timezone.now(), ""
        report.save()
        # A report is not workflow state, but the audit trail is written only through the gate (migration 0012).
        with workflow.gate():
            record(
                report.article,
                by=by,
                action=CLOSE_ACTION,
                from_state=report.article.status,
                message=f"Problem report {report.pk} ({report.get_kind_display().lower()}) closed as "
                f"“{report.get_outcome_display()}”: {note}",
            )
    return report


def corrections_since(report: ProblemReport) -> list[dict]:
    """Return the corrections of the report's article published since the report arrived, newest first."""
    return list(
        report.article.snapshots.filter(is_correction=True, published_at__gte=report.created_at)
        .order_by("-published_at", "-pk")
        .values("published_at", "correction_note")
    )


def report_or_404(pk: int) -> ProblemReport:
    """Return the report with its article and closer, or raise Http404."""
    try:
        return get_object_or_404(ProblemReport.objects.select_related("article", "closed_by__staff_profile"), pk=pk)
    except ValueError as error:
        raise Http404("No such report.") from error
