"""What the site shows beside the articles: topics, disclaimers, policy pages, red-flag phrases and staff bios."""

from django import forms
from django.contrib import admin

from articles import permissions
from articles.admin.base import RevisionAdmin, RichTextAdmin, StatedLengthLimits
from articles.forms import DisclaimerAdminForm
from articles.models import Disclaimer, Page, RedFlagPhrase, StaffProfile, Topic, TranslationPolicy, UrgentHelp
from articles.models.site_content import GRACE_DAYS_INVALID
from articles.models.urgent_help import NO_SYMPTOMS, PHONE_INVALID


class TopicAdminForm(forms.ModelForm):
    class Meta:
        model = Topic
        fields = [
            "name", "slug", "description", "name_es", "description_es", "review_interval_months", "overdue_grace_days",
            "requires_topic_disclaimer", "not_fda_approved", "offered_by_clinic", "is_treatment",
        ]  # fmt: skip
        # Text, a fraction, zero or a negative number: one message that says what is wanted.
        error_messages = {
            "overdue_grace_days": {"invalid": GRACE_DAYS_INVALID, "min_value": GRACE_DAYS_INVALID,
                                   "max_value": GRACE_DAYS_INVALID},
        }  # fmt: skip


@admin.register(Topic)
class TopicAdmin(StatedLengthLimits, admin.ModelAdmin):
    form = TopicAdminForm
    limited_fields = ["description", "description_es"]
    list_display = [
        "name", "slug", "review_interval_months", "overdue_grace_days", "requires_topic_disclaimer",
        "not_fda_approved", "offered_by_clinic", "is_treatment",
    ]  # fmt: skip
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Disclaimer)
class DisclaimerAdmin(StatedLengthLimits, RevisionAdmin):
    form = DisclaimerAdminForm
    limited_fields = ["text"]
    list_display = ["title", "language", "scope", "topic_names", "is_active", "position", "updated_at"]
    list_filter = ["is_active", "language", "scope", "topics"]
    filter_horizontal = ["topics"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("topics")

    @admin.display(description="Topics")
    def topic_names(self, obj):
        return ", ".join(t.name for t in obj.topics.all()) or "—"

    def has_delete_permission(self, request, obj=None):
        # Retire a disclaimer by making it inactive: its history must survive.
        return False


class UrgentHelpAdminForm(forms.ModelForm):
    class Meta:
        model = UrgentHelp
        fields = [
            "topic", "heading", "symptoms", "same_day_contact", "same_day_phone", "emergency_symptoms",
            "emergency_phone", "is_active",
        ]  # fmt: skip
        widgets = {
            "symptoms": forms.Textarea(attrs={"rows": 6}),
            "emergency_symptoms": forms.Textarea(attrs={"rows": 4}),
        }
        error_messages = {
            "symptoms": {"required": NO_SYMPTOMS},
            "same_day_phone": {"required": PHONE_INVALID},
            "emergency_phone": {"required": PHONE_INVALID},
        }


@admin.register(UrgentHelp)
class UrgentHelpAdmin(StatedLengthLimits, RevisionAdmin):
    """Editors keep each topic's box; writers and reviewers may look (read-only), as with disclaimers."""

    form = UrgentHelpAdminForm
    limited_fields = ["symptoms", "emergency_symptoms"]
    list_display = ["topic", "heading", "same_day_phone", "emergency_phone", "is_active", "updated_at"]
    list_filter = ["is_active"]
    list_select_related = ["topic"]
    search_fields = ["topic__name", "heading", "symptoms"]

    def has_add_permission(self, request):
        return permissions.can_manage_urgent_help(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_urgent_help(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Retire a box by making it inactive: its history, and what patients saw, must survive.
        return False


@admin.register(Page)
class PageAdmin(StatedLengthLimits, RichTextAdmin):
    limited_fields = ["body"]
    list_display = ["title", "language", "slug", "show_in_footer", "position", "updated_at"]
    list_filter = ["language"]
    prepopulated_fields = {"slug": ["title"]}

    def has_delete_permission(self, request, obj=None):
        # Policy pages are linked from every page and from search engines: hide them from the footer instead.
        return False


@admin.register(RedFlagPhrase)
class RedFlagPhraseAdmin(RevisionAdmin):
    list_display = ["phrase", "language", "why", "instead", "is_active"]
    list_filter = ["is_active", "language"]
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


@admin.register(TranslationPolicy)
class TranslationPolicyAdmin(RevisionAdmin):
    """One row, made by migration 0024: editors change it, nobody adds a second or deletes it."""

    list_display = ["__str__", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
