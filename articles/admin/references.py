"""The reference library: the change form (which first says which approvals a change withdraws), the import
with its preview and confirmation, and the key check and search the article form calls while one writes."""

import copy
import hashlib
import json
from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse

from articles import citations, permissions, workflow
from articles.admin.base import RevisionAdmin, StatedLengthLimits, known_citation_keys
from articles.forms import ConfirmImportForm, ImportReferencesForm, ReferenceAdminForm
from articles.importers import (
    ImportPlan,
    ReferenceImportError,
    describe_value,
    parse_references,
    plan_references,
    save_plan,
)
from articles.models import Reference

MAX_KEYS_CHECKED = 500
PICKER_RESULTS = 20  # references the citation picker lists for one search
PICKER_PROMPT = "Type an author's family name, words from the title, a year, a DOI or a PMID."
PICKER_NO_MATCH = "No reference matches. Check the spelling, or import the reference first."
IMPORT_CANCELLED = "Nothing was imported. The records are still here to change or import again."
IMPORT_CONFIRM_INVALID = "The preview could not be confirmed (its form was incomplete): import the records again."
CONFIRM_CHANGE_FIELD = "_confirm_reference_change"


@admin.register(Reference)
class ReferenceAdmin(StatedLengthLimits, RevisionAdmin):
    form = ReferenceAdminForm
    limited_fields = ["title", "abstract", "retraction_note"]
    list_display = ["citation_key", "short_ama", "year", "doi", "pmid", "is_retracted"]
    list_filter = ["is_retracted", "publication_type", "year"]
    search_fields = ["citation_key", "title", "doi", "pmid", "journal", "authors"]
    readonly_fields = ["ama_preview", "cited_by", "created_at", "updated_at"]
    change_list_template = "admin/articles/reference/change_list.html"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["ama_preview", "citation_key", "authors", "title"]}),
        (
            "Source",
            {
                "fields": [
                    "journal",
                    "journal_abbrev",
                    "year",
                    "published_on",
                    "volume",
                    "issue",
                    "pages",
                    "publication_type",
                ]
            },
        ),
        ("Identifiers and links", {"fields": ["doi", "pmid", "pmcid", "url", "open_access_pdf"]}),
        ("Content", {"fields": ["abstract"]}),
        ("Retraction", {"fields": ["is_retracted", "retraction_note"]}),
        ("Use", {"fields": ["cited_by", "created_at", "updated_at"]}),
    ]

    @admin.display(description="Reference (AMA)")
    def short_ama(self, obj):
        return obj.ama

    @admin.display(description="As it will be listed (AMA)")
    def ama_preview(self, obj):
        # Built and escaped by citations.format_ama_html (its DOI link through the bleach policy): safe as it is.
        return obj.ama_html if obj.pk else "—"

    @admin.display(description="Cited by")
    def cited_by(self, obj):
        articles = obj.citing_articles().order_by("title") if obj.pk else None
        return render_to_string("admin/articles/reference/_cited_by.html", {"reference": obj, "articles": articles})

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="articles_reference_import"),
            path("check-keys/", self.admin_site.admin_view(self.check_keys_view), name="articles_reference_check_keys"),
            path("search/", self.admin_site.admin_view(self.search_view), name="articles_reference_search"),
            *super().get_urls(),
        ]

    def check_keys_view(self, request):
        """Answer which of the comma-separated `keys` match no reference (for the live check while writing)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        keys = [key.strip() for key in request.GET.get("keys", "").split(",") if key.strip()][:MAX_KEYS_CHECKED]
        known = set(Reference.objects.filter(citation_key__in=keys).values_list("citation_key", flat=True))
        unknown = list(dict.fromkeys(key for key in keys if key not in known))
        explained = citations.unknown_key_messages(unknown, known_citation_keys())
        return JsonResponse({"unknown": unknown, "messages": explained})

    def search_view(self, request):
        """Answer the references matching `q`, for the citation picker beside an article's body."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        query = request.GET.get("q", "")
        references = Reference.objects.matching(query).defer("abstract")[:PICKER_RESULTS]
        results = [{"key": reference.citation_key, "citation": reference.ama} for reference in references]
        message = "" if results else PICKER_NO_MATCH if query.strip() else PICKER_PROMPT
        return JsonResponse({"results": results, "message": message})

    # --- import: read, preview what it would do, save only on Confirm --------------------------------

    def import_view(self, request):
        """Paste or upload records; a preview shows what saving them would do; Confirm saves, Cancel does not."""
        if not permissions.can_import_references(request.user):
            raise PermissionDenied
        if request.method == "POST" and "confirm" in request.POST:
            return self._confirm_import(request)
        if request.method == "POST" and "cancel" in request.POST:
            self.message_user(request, IMPORT_CANCELLED, messages.INFO)
            initial = {"records": request.POST.get("records", ""), "format": request.POST.get("format", "")}
            return self._import_form(request, ImportReferencesForm(initial=initial))
        form = ImportReferencesForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            text, format = form.cleaned_data["text"], form.cleaned_data["format"]
            try:
                preview = _ImportPreview.make(text, format, by=request.user)
            except ReferenceImportError as error:
                _refused(form, error)
            else:
                return self._import_preview(request, preview)
        return self._import_form(request, form)

    def _import_form(self, request, form):
        context = {
            **self.admin_site.each_context(request),
            "title": "Import references",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/articles/reference/import.html", context)

    def _import_preview(self, request, preview, *, stale: bool = False):
        confirm = ConfirmImportForm(
            initial={"records": preview.text, "format": preview.format, "fingerprint": preview.fingerprint}
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Check the import before saving",
            "opts": self.model._meta,
            "plan": preview.plan,
            "consequences": preview.consequences,
            "confirm_form": confirm,
            "stale": stale,
        }
        return TemplateResponse(request, "admin/articles/reference/import_preview.html", context)

    def _confirm_import(self, request):
        """Read the posted records again; save them only if that still does what the preview showed."""
        form = ConfirmImportForm(request.POST)
        if not form.is_valid():
            self.message_user(request, IMPORT_CONFIRM_INVALID, messages.ERROR)
            return redirect("admin:articles_reference_import")
        text, format = form.cleaned_data["records"], form.cleaned_data["format"]
        try:
            with transaction.atomic():
                preview = _ImportPreview.make(text, format, by=request.user, lock=True)
                if preview.fingerprint != form.cleaned_data["fingerprint"]:
                    return self._import_preview(request, preview, stale=True)
                result = save_plan(preview.plan)
        except ReferenceImportError as error:  # the library changed so that the records no longer import
            refused = ImportReferencesForm({"records": text, "format": format})
            if refused.is_valid():
                _refused(refused, error)
            return self._import_form(request, refused)
        plan = result.plan
        for verb, items in (("Imported", plan.created), ("Updated", plan.updated), ("Unchanged", plan.unchanged)):
            if items:
                keys = ", ".join(item.reference.citation_key for item in items)
                self.message_user(request, f"{verb} {len(items)}: {keys}.", messages.SUCCESS)
        for consequence in preview.consequences:
            self.message_user(request, consequence.describe(done=True), messages.WARNING)
        return redirect("admin:articles_reference_changelist")

    # --- the change form: saving a cited reference first says which approvals it withdraws ------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and object_id:
            confirmation = self._reference_change_confirmation(request, object_id)
            if confirmation is not None:
                return confirmation
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _reference_change_confirmation(self, request, object_id):
        """Return a page listing the approvals the posted change would withdraw, unless it withdraws none or
        the person already confirmed exactly these consequences (then None: the change is saved as usual)."""
        reference = self.get_object(request, unquote(object_id))
        if reference is None or not self.has_change_permission(request, reference):
            return None
        original = copy.deepcopy(reference)
        fieldsets = self.get_fieldsets(request, reference)
        form_class = self.get_form(request, reference, change=True, fields=flatten_fieldsets(fieldsets))
        form = form_class(request.POST, request.FILES, instance=reference)
        if not form.is_valid() or not form.has_changed():
            return None  # the usual change form shows the errors, or saves nothing new
        consequences = workflow.reference_change_consequences([form.instance], by=request.user)
        if not consequences:
            return None
        fingerprint = _fingerprint(_reference_values(original), [c.summary() for c in consequences])
        confirmed = request.POST.get(CONFIRM_CHANGE_FIELD)
        if confirmed == fingerprint:
            request.withdrawn_by_reference_change = consequences
            return None
        changes = [
            {
                "label": Reference._meta.get_field(name).verbose_name,
                "old": describe_value(name, getattr(original, name)),
                "new": describe_value(name, getattr(form.instance, name)),
            }
            for name in form.changed_data
            if name in {f.name for f in Reference._meta.concrete_fields}
        ]
        posted = [
            (name, value)
            for name in request.POST
            if name not in ("csrfmiddlewaretoken", CONFIRM_CHANGE_FIELD)
            for value in request.POST.getlist(name)
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Save this change to a cited reference?",
            "opts": self.model._meta,
            "original": original,
            "reference": form.instance,
            "changes": changes,
            "ama_before": original.ama,
            "ama_after": form.instance.ama,
            "consequences": consequences,
            "posted": posted,
            "fingerprint": fingerprint,
            "confirm_field": CONFIRM_CHANGE_FIELD,
            "stale": confirmed is not None,
            "change_url": reverse("admin:articles_reference_change", args=[original.pk]),
        }
        return TemplateResponse(request, "admin/articles/reference/confirm_change.html", context)

    def response_change(self, request, obj):
        for consequence in getattr(request, "withdrawn_by_reference_change", []):
            self.message_user(request, consequence.describe(done=True), messages.WARNING)
        return super().response_change(request, obj)


@dataclass
class _ImportPreview:
    """What importing a text would do: the plan, the approvals it would withdraw, and their fingerprint."""

    text: str
    format: str
    plan: ImportPlan
    consequences: list
    fingerprint: str

    @classmethod
    def make(cls, text: str, format: str, *, by, lock: bool = False) -> "_ImportPreview":
        plan = plan_references(parse_references(text, format=format or None), lock=lock)
        consequences = workflow.reference_change_consequences(plan.to_save, by=by)
        fingerprint = plan.fingerprint([consequence.summary() for consequence in consequences])
        return cls(text, format or "", plan, consequences, fingerprint)


def _refused(form, error: ReferenceImportError) -> None:
    form.add_error(None, "Nothing was imported. Fix these problems and try again:")
    for problem in error.problems:
        form.add_error(None, str(problem))


def _reference_values(reference: Reference) -> dict:
    return {field.attname: getattr(reference, field.attname) for field in Reference._meta.concrete_fields}


def _fingerprint(*parts) -> str:
    payload = json.dumps(parts, default=str, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()
