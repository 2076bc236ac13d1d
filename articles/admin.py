import copy
import hashlib
import json
import re
from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.admin.views.main import SEARCH_VAR
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.core.validators import MaxLengthValidator
from django.db import models, transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from post_office.admin import EmailAdmin, LogInline
from post_office.models import STATUS, Attachment, Email, EmailTemplate
from simple_history.admin import SimpleHistoryAdmin

from articles import citations, page_cache, permissions, workflow
from articles.admin_site import DeclaredFiltersChangeList
from articles.diffs import word_diff
from articles.forms import ConfirmImportForm, DisclaimerAdminForm, ImportReferencesForm, ReferenceAdminForm
from articles.importers import (
    ImportPlan,
    ReferenceImportError,
    describe_value,
    parse_references,
    plan_references,
    save_plan,
)
from articles.models import (
    TOO_LONG,
    Article,
    AuditEvent,
    ChangeRequest,
    Disclaimer,
    FindingJustification,
    Page,
    PublishedSnapshot,
    RedFlagPhrase,
    Reference,
    RetractionAcknowledgement,
    ReviewSignOff,
    StaffProfile,
    StatementApproval,
    Topic,
    TwoFactorRequirement,
    record_revision,
)
from articles.rendering import render_article
from articles.sanitize import plain_text
from articles.views import timeline_of

User = get_user_model()
REOPENED = {
    Article.Status.SIGNED_OFF: "Your edit changed a signed-off article: it is a draft again and needs review.",
    Article.Status.SCHEDULED: "Your edit changed a scheduled article: it is no longer scheduled and needs review.",
    Article.Status.PUBLISHED: "Saved. Patients still see the published version until this edit is reviewed and "
    "published.",
}
COMPARED_FIELDS = ["title", "slug", "summary", "body", "author", "topics"]
SEARCH_COUNT_CAP = 1000  # an admin search counts its matches this far, then says "more than"
MAX_KEYS_CHECKED = 500
PICKER_RESULTS = 20  # references the citation picker lists for one search
PICKER_PROMPT = "Type an author's family name, words from the title, a year, a DOI or a PMID."
PICKER_NO_MATCH = "No reference matches. Check the spelling, or import the reference first."
UNREADABLE_MARKER = "Unreadable marker: {marker}. Write it as [@key] or [@key1; @key2]."
# Browsers cut a longer paste at an input's maxlength without a word: the limit is stated and checked instead.
LENGTH_LIMIT = "At most {limit:,} characters."
IMPORT_CANCELLED = "Nothing was imported. The records are still here to change or import again."
IMPORT_CONFIRM_INVALID = "The preview could not be confirmed (its form was incomplete): import the records again."
CONFIRM_CHANGE_FIELD = "_confirm_reference_change"


def _revision_values(record) -> dict[str, str]:
    topics = Topic.objects.filter(pk__in=record.topics.values_list("topic_id", flat=True)).order_by("name")
    return {
        "title": record.title,
        "slug": record.slug,
        "summary": record.summary,
        "body": plain_text(record.body.replace("</p>", "</p> ").replace("</li>", "</li> ")),
        "author": str(record.author) if record.author_id else "",
        "topics": ", ".join(t.name for t in topics),
    }


def _known_keys():
    return Reference.objects.order_by("citation_key").values_list("citation_key", flat=True)


def _with_csp_nonce(request, media):
    """Return the form media with this request's CSP nonce on the rich-text editor's inline import map."""
    if hasattr(media, "with_nonce"):
        return media.with_nonce(request.csp_nonce)
    return media


class RevisionAdmin(SimpleHistoryAdmin):
    """Revision history, with restore for those who may change the object.

    django-simple-history saves a posted restore form for anyone who may *view* the history, so a reviewer
    could rewrite an article, a writer a disclaimer or an archived article: only a change permission will do.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            obj = self.get_object(request, unquote(object_id))
            if obj is not None and not self.has_change_permission(request, obj):
                raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class RichTextAdmin(RevisionAdmin):
    """Admin pages with the rich-text editor: its import map is the one inline script, allowed by nonce."""

    def render_change_form(self, request, context, *args, **kwargs):
        context["media"] = _with_csp_nonce(request, context.get("media"))
        return super().render_change_form(request, context, *args, **kwargs)

    def render_history_view(self, request, template, context, **kwargs):
        context["media"] = _with_csp_nonce(request, context.get("media"))
        return super().render_history_view(request, template, context, **kwargs)


class StatedLengthLimits:
    """Admin forms whose limited fields state their limit, and refuse a longer text saying how long it is."""

    limited_fields: list[str] = []

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in self.limited_fields and field is not None:
            limit = db_field.max_length
            field.widget.attrs.pop("maxlength", None)
            field.help_text = " ".join(filter(None, [str(field.help_text), LENGTH_LIMIT.format(limit=limit)]))
            field.validators = [
                *(v for v in field.validators if not isinstance(v, MaxLengthValidator)),
                MaxLengthValidator(limit, message=TOO_LONG),
            ]
        return field


class ArticleChangeList(DeclaredFiltersChangeList):
    count_cap = SEARCH_COUNT_CAP

    def get_queryset(self, request, exclude_parameters=None):
        # The list shows neither the body nor the live snapshot: leave their large columns in the database.
        rows = super().get_queryset(request, exclude_parameters)
        return rows.select_related(None).select_related("author").defer("summary", "body")

    @property
    def count_capped(self) -> bool:
        """Return True if a search matched more articles than were counted (see SearchCountPaginator)."""
        return bool(self.query) and self.result_count > SEARCH_COUNT_CAP


class SearchCountPaginator(Paginator):
    """Count a search's matches no further than SEARCH_COUNT_CAP + 1; the list then says "more than ...".

    A word in a quarter of 100,000 articles took 200 ms to count, on every page of the results.
    """

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: SEARCH_COUNT_CAP + 1].count()


class TopicListFilter(admin.SimpleListFilter):
    """By topic, with a subquery: a many-to-many filter adds DISTINCT over whole rows, which an article's
    one link to a topic never needs."""

    title = "topics"
    parameter_name = "topics__id__exact"  # the address the many-to-many filter used

    def lookups(self, request, model_admin):
        return [(topic.pk, topic.name) for topic in Topic.objects.order_by("name")]

    def queryset(self, request, queryset):
        if self.value() is None:
            return None
        if not re.fullmatch(r"[0-9]{1,18}", self.value()):  # not str.isdigit(), which takes "²"
            raise IncorrectLookupParameters(f"No topic {self.value()!r}.")
        links = Article.topics.through.objects.filter(topic_id=int(self.value())).values("article_id")
        return queryset.filter(pk__in=links)


@admin.register(Article)
class ArticleAdmin(StatedLengthLimits, RichTextAdmin):
    limited_fields = ["title", "slug", "summary", "body"]
    list_display = ["title", "status", "is_live", "author", "updated_at"]
    list_select_related = ["author"]
    list_filter = ["status", TopicListFilter]
    search_fields = ["title", "summary"]  # trigram indexes (migration 0009) serve icontains on PostgreSQL
    show_full_result_count = False  # "N results (M total)" would count every article on each filtered page
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["topics"]
    readonly_fields = [
        "status",
        "publishing_checklist",
        "claim_checks",
        "review_links",
        "timeline",
        "live_version",
        "live_citation_check",
        "citation_check",
        "reference_list",
        "applicable_disclaimers",
    ]
    actions = ["submit_selected", "publish_selected"]
    object_history_template = "admin/articles/article/object_history.html"
    change_form_template = "admin/articles/article/change_form.html"
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body", "live_citation_check", "topics", "author"]}),
        ("Citations", {"fields": ["citation_check", "reference_list"]}),
        (
            "Review and publishing",
            {"fields": ["status", "publishing_checklist", "review_links", "live_version", "applicable_disclaimers"]},
        ),
        ("Claim checks", {"fields": ["claim_checks"]}),
        ("Settings", {"fields": ["drafted_with_ai", "review_interval_months", "is_featured"]}),
        ("Timeline", {"fields": ["timeline"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author", "live_snapshot")

    def get_changelist(self, request, **kwargs):
        return ArticleChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = SearchCountPaginator if request.GET.get(SEARCH_VAR) else self.paginator
        return paginator(queryset, per_page, orphans, allow_empty_first_page)

    def get_readonly_fields(self, request, obj=None):
        # Featuring an article on the home page is an editor's call.
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if permissions.can_publish(request.user) else [*readonly, "is_featured"]

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    def has_delete_permission(self, request, obj=None):
        # An article that was ever reviewed or published is archived, never deleted: its record must survive.
        if obj is not None and (obj.snapshots.exists() or obj.audit_events.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        if obj is not None and not permissions.can_edit(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    class Media:
        js = ["articles/admin/citation-check.js"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "author":
            kwargs["queryset"] = User.objects.filter(is_staff=True, is_active=True).select_related("staff_profile")
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            field.label_from_instance = lambda user: getattr(user, "staff_profile", None) or user.get_username()
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def view_on_site(self, obj):
        """Open the live page of a live article, and the preview of any other: a draft has no public page."""
        if obj.live_snapshot_id:
            return reverse("articles:article_detail", args=[obj.live_snapshot.slug])
        return reverse("admin:articles_article_preview", args=[obj.pk])

    @admin.display(description="Citation keys")
    def live_citation_check(self, obj):
        return format_html(
            '<div id="citation-live-check" class="citation-live" role="status" aria-live="polite" data-url="{}">'
            "Checking citation keys as you type…</div>",
            reverse("admin:articles_reference_check_keys"),
        )

    @admin.display(boolean=True, description="Live")
    def is_live(self, obj):
        return obj.live_snapshot_id is not None

    @admin.display(description="Live version")
    def live_version(self, obj):
        if not obj.pk or not obj.live_snapshot_id:
            return "Not on the public site."
        snapshot = obj.live_snapshot
        return format_html(
            'Published {} · <a href="{}">view the live page</a>',
            snapshot.published_at.strftime("%d %b %Y %H:%M"),
            reverse("articles:article_detail", args=[snapshot.slug]),
        )

    @admin.display(description="Citation check")
    def citation_check(self, obj):
        if not obj.pk:
            return "Save the article to check its citations."
        rendered = render_article(obj)
        problems = citations.unknown_key_messages(rendered.unknown_keys, _known_keys())
        problems += [UNREADABLE_MARKER.format(marker=marker) for marker in rendered.malformed_markers]
        if not rendered.references and not problems:
            return "No citations yet."
        if not problems:
            count = len(rendered.references)
            message = "The citation key matches" if count == 1 else f"All {count} citation keys match"
            return format_html('<span class="citation-ok">{} a reference.</span>', message)
        return format_html(
            '<ul class="errorlist">{}</ul>', format_html_join("", "<li>{}</li>", ((p,) for p in problems))
        )

    @admin.display(description="References, in citation order")
    def reference_list(self, obj):
        if not obj.pk:
            return "—"
        entries = render_article(obj).references  # ama_html is built from escaped fields by citations.py
        if not entries:
            return "This article cites no references yet."
        return format_html(
            '<ol class="reference-list">{}</ol>',
            format_html_join(
                "",
                '<li value="{}">{} <small>[@{}]</small></li>',
                ((e["number"], mark_safe(e["ama_html"]), e["key"]) for e in entries),  # noqa: S308,
            ),
        )

    @staticmethod
    def _review_status(obj):
        # Two read-only fields show it; work it out once per page, not once per field.
        if getattr(obj, "_review_status_for", None) != obj.updated_at:
            obj._review_status, obj._review_status_for = workflow.review_status(obj), obj.updated_at
        return obj._review_status

    @admin.display(description="What still blocks publishing")
    def publishing_checklist(self, obj):
        if not obj.pk:
            return "Save the article to see what it needs before it can be published."
        status = self._review_status(obj)
        rows = []
        for item in status.statements:
            label = {
                "approved": "approved (level {})".format(item.approval.evidence_level if item.approval else ""),
                "changes_requested": "changes requested",
                "edited": "edited after approval: needs approval again",
                "unapproved": "not yet approved",
                "self_approved": "approved by someone who wrote or edited it: needs another reviewer",
                "reference_changed": "a cited reference changed after approval: needs approval again",
            }[item.state]
            comment = item.change_request.comment if item.change_request else ""
            rows.append(
                format_html(
                    '<li class="statement-{}">Statement {}: {} <span class="help">“{}”</span>{}</li>',
                    item.state,
                    item.number,
                    label,
                    Truncator(item.sentence.normalised_text).chars(120),
                    format_html("<br><strong>Reviewer:</strong> “{}”", comment) if comment else "",
                )
            )
        blockers = status.problems
        return format_html(
            '<div class="publishing-checklist"><p><strong>State:</strong> {}. {}</p>{}{}</div>',
            obj.get_status_display(),
            "Nothing blocks publishing." if not blockers else f"{len(blockers)} thing(s) block publishing:",
            format_html('<ul class="errorlist">{}</ul>', format_html_join("", "<li>{}</li>", ((b,) for b in blockers)))
            if blockers
            else "",
            format_html("<p><strong>Statements</strong></p><ul>{}</ul>", mark_safe("".join(rows)))  # noqa: S308
            if rows
            else "",
        )

    @admin.display(description="Wording, evidence and readability")
    def claim_checks(self, obj):
        if not obj.pk:
            return "Save the article to check its wording and readability."
        status = self._review_status(obj)
        return render_to_string(
            "articles/_claim_checks.html",
            {
                "status": status,
                "findings": [(finding, status.justified.get(finding.key), None) for finding in status.findings],
            },
        )

    @admin.display(description="Preview and review")
    def review_links(self, obj):
        if not obj.pk:
            return "—"
        return format_html(
            '<a href="{}">Preview as patients would see it</a> · <a href="{}">Open on the review desk</a>',
            reverse("admin:articles_article_preview", args=[obj.pk]),
            reverse("articles:review_article", args=[obj.pk]),
        )

    @admin.display(description="Timeline")
    def timeline(self, obj):
        if not obj.pk:
            return "—"
        return render_to_string("review/_timeline.html", {"timeline": timeline_of(obj)})

    @admin.display(description="Disclaimers shown with it")
    def applicable_disclaimers(self, obj):
        if not obj.pk:
            return "Site-wide disclaimers, and those of the topics you choose, are attached automatically."
        disclaimers = Disclaimer.objects.applying_to(obj.topics.values_list("pk", flat=True))
        return format_html_join(", ", "{}", ((d.title,) for d in disclaimers)) or "None."

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:
            before = form.instance.status
            after = workflow.record_edit(form.instance, by=request.user)
            form.instance.status = after
            if after != before:
                self.message_user(request, REOPENED[before], messages.WARNING)
        rendered = render_article(form.instance)
        request.citation_problems = bool(rendered.unknown_keys or rendered.malformed_markers)
        for problem in citations.unknown_key_messages(rendered.unknown_keys, _known_keys()):
            self.message_user(request, f"Saved, but: {problem}", messages.WARNING)
        if rendered.malformed_markers:
            self.message_user(
                request,
                "Saved, but these citation markers cannot be read: {}. Write them as [@key] or [@key1; @key2].".format(
                    ", ".join(rendered.malformed_markers)
                ),
                messages.WARNING,
            )

    def _stay_on_problems(self, request, obj, response):
        # "Save" normally leaves the page; with citation problems the writer stays to see them.
        if getattr(request, "citation_problems", False) and "_save" in request.POST:
            return redirect("admin:articles_article_change", obj.pk)
        return response

    def _workflow_button(self, request, obj):
        """Run the transition a workflow button on the change form asked for, after the save."""
        for name, step, done in (
            ("_submit_for_review", workflow.submit_for_review, "Submitted for review: the reviewers have been told."),
            ("_publish", workflow.publish, "Published: patients now see this version."),
        ):
            if name in request.POST:
                try:
                    step(obj, by=request.user)
                except workflow.WorkflowError as error:
                    self.message_user(request, str(error), messages.ERROR)
                else:
                    self.message_user(request, done, messages.SUCCESS)
                return redirect("admin:articles_article_change", obj.pk)
        return None

    def response_add(self, request, obj, post_url_continue=None):
        return self._workflow_button(request, obj) or self._stay_on_problems(
            request, obj, super().response_add(request, obj, post_url_continue)
        )

    def response_change(self, request, obj):
        return self._workflow_button(request, obj) or self._stay_on_problems(
            request, obj, super().response_change(request, obj)
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # "Save and publish" is offered only where the gate would publish the article as it stands (a save
        # cannot make a refused article publishable: an edit withdraws the sign-off). "Save and submit" is
        # offered wherever this save could leave a submittable article: its content problems may be the edit.
        steps = workflow.desk_steps(self._review_status(obj), request.user) if obj else None
        context.update(
            can_submit=obj is None
            or (obj.status not in workflow.UNSUBMITTABLE and permissions.can_submit(request.user, obj)),
            can_publish=steps is not None and "publish" in steps,
            change_requests=list(ChangeRequest.objects.filter(article=obj).open()) if obj else [],
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # One save in the admin is one revision, with its topics: the model save and the topic
    # changes are held back and recorded together once both are done (also when restoring).
    def save_model(self, request, obj, form, change):
        obj.skip_history_when_saving = True
        super().save_model(request, obj, form, change)
        if "is_featured" in form.changed_data:
            page_cache.invalidate_on_commit()  # the home page shows featured live articles

    def log_addition(self, request, obj, message):
        record_revision(obj, created=True)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if hasattr(obj, "skip_history_when_saving"):
            record_revision(obj, created=False)
        return super().log_change(request, obj, message)

    def _each(self, request, queryset, step, done: str) -> None:
        # One transaction per article: a refusal is reported and leaves the others to go ahead.
        for article in queryset.order_by("title"):
            try:
                step(article, by=request.user)
            except workflow.WorkflowError as error:
                self.message_user(request, f"“{article.title}”: {error}", messages.ERROR)
            else:
                self.message_user(request, done.format(title=article.title), messages.SUCCESS)

    @admin.action(description="Submit the selected articles for review", permissions=["submit"])
    def submit_selected(self, request, queryset):
        self._each(request, queryset, workflow.submit_for_review, "Submitted “{title}” for review.")

    @admin.action(description="Publish the selected articles now", permissions=["publish"])
    def publish_selected(self, request, queryset):
        self._each(request, queryset, workflow.publish, "Published “{title}”.")

    def has_submit_permission(self, request):
        return permissions.can_edit(request.user)

    def has_publish_permission(self, request):
        return permissions.can_publish(request.user)

    # --- revisions: compare any two, restore with topics ------------------------------------------

    def get_urls(self):
        compare = path(
            "<path:object_id>/history/compare/",
            self.admin_site.admin_view(self.compare_revisions_view),
            name="articles_article_compare",
        )
        preview = path(
            "<int:object_id>/preview/", self.admin_site.admin_view(self.preview_view), name="articles_article_preview"
        )
        return [compare, preview, *super().get_urls()]

    def preview_view(self, request, object_id):
        """Show the working copy exactly as patients would see it if published now, unapproved claims marked."""
        article = get_object_or_404(Article.objects.select_related("author__staff_profile"), pk=object_id)
        if not self.has_view_or_change_permission(request, article):
            raise PermissionDenied
        status = workflow.review_status(article)
        snapshot = workflow.build_snapshot(article, status, by=None, now=timezone.now())
        disclaimers = list(Disclaimer.objects.applying_to([topic["id"] for topic in snapshot.topics]))
        return TemplateResponse(
            request,
            "articles/article_detail.html",
            {
                "snapshot": snapshot,
                "preview": True,
                "preview_problems": status.problems,
                "sitewide_disclaimers": [d for d in disclaimers if d.scope == Disclaimer.Scope.ALL],
                "topic_disclaimers": [d for d in disclaimers if d.scope == Disclaimer.Scope.TOPICS],
            },
        )

    def history_view(self, request, object_id, extra_context=None):
        article = self.get_object(request, unquote(object_id))
        if article is None:
            raise Http404
        revisions = article.history.select_related("history_user").order_by("-history_date")
        extra_context = {"revisions": revisions, **(extra_context or {})}
        return super().history_view(request, object_id, extra_context=extra_context)

    def compare_revisions_view(self, request, object_id):
        article = get_object_or_404(Article, pk=object_id)
        if not self.has_view_or_change_permission(request, article):
            raise PermissionDenied
        history = article.history.all()
        try:
            older = history.get(history_id=int(request.GET.get("from", "")))
            newer = history.get(history_id=int(request.GET.get("to", "")))
        except (ValueError, Article.history.model.DoesNotExist):
            self.message_user(request, "Choose two revisions of this article to compare.", messages.ERROR)
            return redirect("admin:articles_article_history", article.pk)
        if older.history_date > newer.history_date:
            older, newer = newer, older
        old_values, new_values = _revision_values(older), _revision_values(newer)
        rows = [
            {
                "field": Article._meta.get_field(name).verbose_name,
                "changed": old_values[name] != new_values[name],
                "diff": word_diff(old_values[name], new_values[name]),
            }
            for name in COMPARED_FIELDS
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Compare revisions of “{article.title}”",
            "opts": self.model._meta,
            "original": article,
            "older": older,
            "newer": newer,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/articles/article/compare_revisions.html", context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        request.restoring_revision = version_id
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        version_id = getattr(request, "restoring_revision", None)
        if version_id is None:
            return form_class
        revision = get_object_or_404(Article.history.model, history_id=version_id)
        topic_ids = list(revision.topics.values_list("topic_id", flat=True))

        class RestoreRevisionForm(form_class):
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, **form_kwargs)
                if not self.is_bound:
                    self.initial["topics"] = topic_ids

        return RestoreRevisionForm


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
        return obj.ama_html if obj.pk else "—"

    @admin.display(description="Cited by")
    def cited_by(self, obj):
        if not obj.pk:
            return "—"
        articles = obj.citing_articles().order_by("title")
        if not articles:
            return "No article cites this reference."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a> ({})</li>',
                (
                    (reverse("admin:articles_article_change", args=[a.pk]), a.title, a.get_status_display())
                    for a in articles
                ),
            ),
        )

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
        return JsonResponse({"unknown": unknown, "messages": citations.unknown_key_messages(unknown, _known_keys())})

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


@admin.register(Topic)
class TopicAdmin(StatedLengthLimits, admin.ModelAdmin):
    limited_fields = ["description"]
    list_display = [
        "name", "slug", "review_interval_months", "requires_topic_disclaimer", "not_fda_approved",
        "offered_by_clinic", "is_treatment",
    ]  # fmt: skip
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Disclaimer)
class DisclaimerAdmin(StatedLengthLimits, RevisionAdmin):
    form = DisclaimerAdminForm
    limited_fields = ["text"]
    list_display = ["title", "scope", "topic_names", "is_active", "position", "updated_at"]
    list_filter = ["is_active", "scope", "topics"]
    filter_horizontal = ["topics"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("topics")

    @admin.display(description="Topics")
    def topic_names(self, obj):
        return ", ".join(t.name for t in obj.topics.all()) or "—"

    def has_delete_permission(self, request, obj=None):
        # Retire a disclaimer by making it inactive: its history must survive.
        return False


@admin.register(Page)
class PageAdmin(StatedLengthLimits, RichTextAdmin):
    limited_fields = ["body"]
    list_display = ["title", "slug", "show_in_footer", "position", "updated_at"]
    prepopulated_fields = {"slug": ["title"]}

    def has_delete_permission(self, request, obj=None):
        # Policy pages are linked from every page and from search engines: hide them from the footer instead.
        return False


@admin.register(RedFlagPhrase)
class RedFlagPhraseAdmin(RevisionAdmin):
    list_display = ["phrase", "why", "instead", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["phrase", "why"]

    def has_delete_permission(self, request, obj=None):
        # Retire a phrase by making it inactive, so past findings can still be explained.
        return False


@admin.register(StaffProfile)
class StaffProfileAdmin(StatedLengthLimits, admin.ModelAdmin):
    limited_fields = ["bio", "conflicts_of_interest"]
    list_display = ["display_name", "credentials", "user"]
    search_fields = ["display_name", "credentials", "user__username"]
    prepopulated_fields = {"slug": ["display_name"]}


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PublishedSnapshot)
class PublishedSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["title", "published_at", "published_by", "content_hash"]
    list_select_related = ["published_by"]
    search_fields = ["title"]
    date_hierarchy = "published_at"


@admin.register(StatementApproval)
class StatementApprovalAdmin(ReadOnlyAdmin):
    list_display = ["approved_at", "article", "evidence_level", "certainty", "reviewer", "statement_text"]
    list_filter = ["evidence_level", "certainty", "self_review"]
    list_select_related = ["article", "reviewer"]
    search_fields = ["article__title", "statement_text"]


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    list_display = ["requested_at", "article", "requested_by", "comment"]
    list_select_related = ["article", "requested_by"]
    search_fields = ["article__title", "comment"]


@admin.register(ReviewSignOff)
class ReviewSignOffAdmin(ReadOnlyAdmin):
    list_display = ["signed_at", "article", "reviewer", "content_hash", "self_review"]
    list_select_related = ["article", "reviewer"]
    search_fields = ["article__title"]


@admin.register(FindingJustification)
class FindingJustificationAdmin(ReadOnlyAdmin):
    list_display = ["justified_at", "article", "rule", "phrase", "justified_by", "reason"]
    list_filter = ["rule"]
    list_select_related = ["article", "justified_by"]
    search_fields = ["article__title", "reason", "text"]


@admin.register(RetractionAcknowledgement)
class RetractionAcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ["acknowledged_at", "article", "reference", "acknowledged_by", "comment"]
    list_select_related = ["article", "reference", "acknowledged_by"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "article", "actor", "from_state", "to_state", "message"]
    list_filter = ["action"]
    list_select_related = ["article", "actor"]
    search_fields = ["article__title", "message"]
    date_hierarchy = "at"


class StaffProfileInline(StatedLengthLimits, admin.StackedInline):
    model = StaffProfile
    limited_fields = StaffProfileAdmin.limited_fields
    can_delete = False
    prepopulated_fields = {"slug": ["display_name"]}


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    inlines = [StaffProfileInline]


class TwoFactorRequirementInline(admin.StackedInline):
    model = TwoFactorRequirement
    can_delete = False
    min_num = max_num = 1  # one checkbox, always shown; an unticked one is never saved
    extra = 0
    verbose_name = "two-factor login"


admin.site.unregister(Group)


@admin.register(Group)
class StaffGroupAdmin(GroupAdmin):
    inlines = [TwoFactorRequirementInline]
    list_display = ["name", "requires_second_factor"]
    list_select_related = ["two_factor_requirement"]

    @admin.display(boolean=True, description="Second factor required")
    def requires_second_factor(self, group) -> bool:
        requirement = getattr(group, "two_factor_requirement", None)
        return bool(requirement and requirement.required)


# The mail outbox (django-post-office): every mail a workflow step wrote, what became of each try, and a way to
# queue again what failed. Nothing here sends: the sender (`send_queued_mail`, cron) delivers what is queued.
admin.site.unregister([Email, EmailTemplate, Attachment])  # our mail is plain text: no templates, no attachments


@admin.action(description="Send the selected mail again", permissions=["view"])
def send_again(modeladmin, request, queryset):
    """Queue the mail again with its retries renewed; whoever may read the outbox may ask for that."""
    count = queryset.update(status=STATUS.queued, scheduled_time=None, number_of_retries=0, last_updated=timezone.now())
    modeladmin.message_user(request, f"{count} mail(s) queued again: they go out within a minute.")


@admin.register(Email)
class OutboxAdmin(EmailAdmin):
    actions = [send_again]
    list_filter = ["status"]
    inlines = [LogInline]  # each try, and why it failed
    change_form_template = "admin/change_form.html"  # post_office's adds a "Resend" link, which we do not serve

    def get_urls(self):
        # Without post_office's HTML preview and inline images (none in plain text) and its "resend" page, which
        # would send from the web request, on a GET.
        return admin.ModelAdmin.get_urls(self)
