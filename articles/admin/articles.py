"""Articles in the admin: the list, the change form with its read-only review panels (each rendered by a template
under admin/articles/article/), the workflow buttons and actions, the preview, and revision compare and restore."""

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.functional import cached_property

from articles import article_page, citations, page_cache, patient_visible, permissions, workflow
from articles.admin.base import RichTextAdmin, StatedLengthLimits, User, known_citation_keys
from articles.admin.translations import TranslationAdminMixin
from articles.admin_site import DeclaredFiltersChangeList
from articles.desk import timeline_of
from articles.diffs import word_diff
from articles.edge import tags
from articles.models import Article, ChangeRequest, Disclaimer, Topic, UrgentHelp, record_revision
from articles.rendering import render_article

REOPENED = {
    Article.Status.SIGNED_OFF: "Your edit changed a signed-off article: it is a draft again and needs review.",
    Article.Status.SCHEDULED: "Your edit changed a scheduled article: it is no longer scheduled and needs review.",
    Article.Status.PUBLISHED: "Saved. Patients still see the published version until this edit is reviewed and "
    "published.",
}
COMPARED_FIELDS = patient_visible.COMPARED  # the labels of what the revision history compares
SEARCH_COUNT_CAP = 1000  # an admin search counts its matches this far, then says "more than"
UNREADABLE_MARKER = "Unreadable marker: {marker}. Write it as [@key] or [@key1; @key2]."


def _panel(name: str, article: Article, **context) -> str:
    """Render one read-only panel of the change form from admin/articles/article/_<name>.html."""
    return render_to_string(f"admin/articles/article/_{name}.html", {"article": article, **context})


def _revision_values(record) -> dict[str, str]:
    return patient_visible.revision_values(record)


class ArticleChangeList(DeclaredFiltersChangeList):
    count_cap = SEARCH_COUNT_CAP

    def get_queryset(self, request, exclude_parameters=None):
        # The list shows neither the body nor the live snapshot: leave their large columns in the database.
        rows = super().get_queryset(request, exclude_parameters)
        return rows.select_related(None).select_related("author").defer("summary", "key_points", "body")

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
class ArticleAdmin(TranslationAdminMixin, StatedLengthLimits, RichTextAdmin):
    limited_fields = ["title", "slug", "summary", "key_points", "body", "correction_note"]
    list_display = ["title", "language", "status", "is_live", "author", "updated_at"]
    list_select_related = ["author"]
    list_filter = ["status", "language", TopicListFilter]
    search_fields = ["title", "summary"]  # trigram indexes (migration 0009) serve icontains on PostgreSQL
    show_full_result_count = False  # "N results (M total)" would count every article on each filtered page
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["topics"]
    raw_id_fields = ["translation_of"]
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
        "translations_panel",
    ]
    actions = ["submit_selected", "publish_selected"]
    object_history_template = "admin/articles/article/object_history.html"
    change_form_template = "admin/articles/article/change_form.html"
    fieldsets = [
        (
            None,
            {"fields": ["title", "slug", "summary", "key_points", "body", "live_citation_check", "topics", "author"]},
        ),
        ("Language", {"fields": ["language", "translation_of", "translations_panel"]}),
        ("Correcting a live article", {"fields": ["correction_note"]}),
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

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "correction_note":  # a sentence of up to 300 characters: let the writer see it whole
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

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
        return _panel("live_citation_check", obj)

    @admin.display(boolean=True, description="Live")
    def is_live(self, obj):
        return obj.live_snapshot_id is not None

    @admin.display(description="Live version")
    def live_version(self, obj):
        snapshot = obj.live_snapshot if obj.pk and obj.live_snapshot_id else None
        return _panel("live_version", obj, snapshot=snapshot)

    @admin.display(description="Citation check")
    def citation_check(self, obj):
        if not obj.pk:
            return _panel("citation_check", obj)
        rendered = render_article(obj)
        problems = citations.unknown_key_messages(rendered.unknown_keys, known_citation_keys())
        problems += [UNREADABLE_MARKER.format(marker=marker) for marker in rendered.malformed_markers]
        problems += rendered.figure_problems
        return _panel("citation_check", obj, count=len(rendered.references), problems=problems)

    @admin.display(description="References, in citation order")
    def reference_list(self, obj):
        # The template prints each reference's ama_html as it is: citations.format_ama_html escapes its fields
        # and passes its DOI link through the bleach policy (sanitize.py).
        cited = list(enumerate(render_article(obj).cited, start=1)) if obj.pk else []
        return _panel("reference_list", obj, cited=cited)

    @staticmethod
    def _review_status(obj):
        # Two read-only fields show it; work it out once per page, not once per field.
        if getattr(obj, "_review_status_for", None) != obj.updated_at:
            obj._review_status, obj._review_status_for = workflow.review_status(obj), obj.updated_at
        return obj._review_status

    @admin.display(description="What still blocks publishing")
    def publishing_checklist(self, obj):
        if not obj.pk:
            return _panel("publishing_checklist", obj)
        status = self._review_status(obj)
        return _panel("publishing_checklist", obj, blockers=status.problems, statements=status.statements)

    @admin.display(description="Wording, evidence and readability")
    def claim_checks(self, obj):
        if not obj.pk:
            return _panel("claim_checks", obj)
        status = self._review_status(obj)
        findings = [(finding, status.justified.get(finding.key), None) for finding in status.findings]
        return _panel("claim_checks", obj, status=status, findings=findings)

    @admin.display(description="Preview and review")
    def review_links(self, obj):
        return _panel("review_links", obj)

    @admin.display(description="Timeline")
    def timeline(self, obj):
        return _panel("timeline", obj, timeline=timeline_of(obj) if obj.pk else [])

    @admin.display(description="Disclaimers shown with it")
    def applicable_disclaimers(self, obj):
        topic_ids = obj.topics.values_list("pk", flat=True) if obj.pk else []
        disclaimers = Disclaimer.objects.applying_to(topic_ids, obj.language) if obj.pk else []
        return _panel("applicable_disclaimers", obj, disclaimers=disclaimers)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:
            before = form.instance.status
            after = workflow.record_edit(form.instance, by=request.user)
            form.instance.status = after
            if after != before:
                self.message_user(request, REOPENED[before], messages.WARNING)
        rendered = render_article(form.instance)
        request.citation_problems = bool(
            rendered.unknown_keys or rendered.malformed_markers or rendered.figure_problems
        )
        for problem in rendered.figure_problems:
            self.message_user(request, f"Saved, but: {problem}", messages.WARNING)
        for problem in citations.unknown_key_messages(rendered.unknown_keys, known_citation_keys()):
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
        steps = workflow.allowed_steps(self._review_status(obj), request.user) if obj else None
        context.update(
            can_submit=steps is None or "submit" in steps.after_save,
            can_publish=steps is not None and "publish" in steps.after_save,
            change_requests=list(ChangeRequest.objects.filter(article=obj).open()) if obj else [],
            translation_choices=self.translation_choices(request, obj) if obj else [],
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # One save in the admin is one revision, with its topics: the model save and the topic
    # changes are held back and recorded together once both are done (also when restoring).
    def save_model(self, request, obj, form, change):
        obj.skip_history_when_saving = True
        super().save_model(request, obj, form, change)
        if "is_featured" in form.changed_data:
            page_cache.invalidate_on_commit({tags.articles(obj.language)})  # the home page shows featured ones

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
        disclaimers = list(Disclaimer.objects.applying_to(snapshot.topic_ids, article.language))
        urgent_help = list(UrgentHelp.objects.for_topics(snapshot.topic_ids).active())
        response = TemplateResponse(
            request,
            "articles/article_detail.html",
            {
                "snapshot": snapshot,
                "parts": article_page.render(snapshot, preview=True),
                "preview": True,
                "preview_problems": status.problems,
                "sitewide_disclaimers": [d for d in disclaimers if d.scope == Disclaimer.Scope.ALL],
                "topic_disclaimers": [d for d in disclaimers if d.scope == Disclaimer.Scope.TOPICS],
                "urgent_help": sorted(urgent_help, key=lambda box: snapshot.topic_ids.index(box.topic_id)),
            },
        )
        with translation.override(article.language):  # the page's words in the article's language
            return response.render()

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
                "field": label,
                "changed": old_values[label] != new_values[label],
                "diff": word_diff(old_values[label], new_values[label]),
            }
            for label in new_values
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
