"""What the admins share: revision history with a guarded restore, the rich-text editor's nonce, stated limits."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxLengthValidator
from simple_history.admin import SimpleHistoryAdmin

from articles.models import TOO_LONG, Reference

User = get_user_model()
# Browsers cut a longer paste at an input's maxlength without a word: the limit is stated and checked instead.
LENGTH_LIMIT = "At most {limit:,} characters."


def known_citation_keys():
    """Return every citation key, lazily: read only if a key is unknown and a likely one must be suggested."""
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


class ReadOnlyAdmin(admin.ModelAdmin):
    """The records the workflow writes: looked up here, never added, changed or deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
