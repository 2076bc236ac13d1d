"""Staff accounts: each user with a public profile, each group with its two-factor login requirement."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from articles.admin.base import StatedLengthLimits, User
from articles.admin.site_content import StaffProfileAdmin
from articles.models import StaffProfile, TwoFactorRequirement


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
