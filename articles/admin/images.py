"""The image library in the admin: upload, describe and replace pictures; record patients' consent (editors).

Every upload goes through `articles.images.read_upload` before anything is stored, and through
`articles.renditions.save_upload` after the form is valid. Who may do what is asked of `articles.permissions`.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db.models import Count, Q
from django.http import FileResponse, Http404, JsonResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from articles import image_events, images, permissions, renditions
from articles.admin.base import StatedLengthLimits
from articles.models import Image, ImageRendition, PatientConsent
from articles.sanitize import plain_text, storable_text

REPLACING = (
    "Choose a new file only to replace the picture. Pages already published keep showing the old one; the new "
    "one is used from the next publication."
)
NO_PICTURE = "This image has no picture yet: run `manage.py make_image_renditions`."
PREVIEW_WIDTH = 640
PICKER_RESULTS = 20  # pictures the figure picker lists for one search
PICKER_PROMPT = "Type words of the picture's alt text, caption, credit or title."
PICKER_NO_MATCH = (
    "No picture that can be shown matches. Upload it to the image library first; a photograph of a patient needs "
    "an editor to record their consent."
)
MEDIA_TYPES = {format: media_type for format, (_ext, media_type, _opts) in images.FORMATS.items()}


def upload_help() -> str:
    limit = images.max_upload_bytes() / (1024 * 1024)
    return f"A JPEG, PNG or WebP file of at most {limit:g} MB. Location and camera data are removed on upload."


class ImageAdminForm(forms.ModelForm):
    upload = forms.FileField(
        label="Picture file",
        error_messages={"empty": images.EMPTY_FILE},
        widget=forms.FileInput(attrs={"accept": ".jpg,.jpeg,.png,.webp,image/jpeg,image/png,image/webp"}),
    )

    class Meta:
        model = Image
        widgets = {"alt_text": forms.Textarea(attrs={"rows": 2, "cols": 60})}
        fields = ["title", "alt_text", "decorative", "caption", "credit", "licence", "source", "shows_patient",
                  "before_after"]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clean_picture = None
        upload = self.fields["upload"]
        upload.help_text = upload_help()
        if self.instance.pk:
            upload.required = False
            upload.help_text = f"{REPLACING} {upload.help_text}"

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if upload:
            try:
                self.clean_picture = images.read_upload(upload)
            except images.UnsafeImage as refusal:
                raise ValidationError(str(refusal), code="unsafe_image") from refusal
        return upload

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        file_name = upload.name if upload else self.instance.original_name
        if "alt_text" in cleaned:  # as patients will read it (Image.save): markup gone, spaces collapsed
            cleaned["alt_text"] = plain_text(cleaned["alt_text"])
        problem = images.alt_text_problem(
            cleaned.get("alt_text", ""), decorative=bool(cleaned.get("decorative")), file_name=file_name or ""
        )
        if problem and "alt_text" not in self.errors:
            self.add_error("alt_text", problem)
        return cleaned


class PatientConsentInline(admin.StackedInline):
    """Consent records: they name the patient, so only those who record consent (editors) see them."""

    model = PatientConsent
    extra = 0
    fields = ["consented_by", "consented_on", "use", "form_reference", "withdrawn_on", "recorded_by", "recorded_at"]
    readonly_fields = ["recorded_by", "recorded_at"]
    verbose_name = "patient's consent"
    verbose_name_plural = "patient's consent (editors only)"

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_consent(request.user)

    def has_add_permission(self, request, obj=None):
        return permissions.can_record_consent(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.can_record_consent(request.user)

    def has_delete_permission(self, request, obj=None):
        return False  # a consent record is evidence: it is withdrawn with a date, never deleted

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class ConsentFormSet(formset):
            def clean(self):
                super().clean()
                withdrawing = obj is not None and image_events.withdrawals(self)
                if withdrawing and (refusal := image_events.refusal(obj, by=request.user)):
                    raise ValidationError(refusal)

        return ConsentFormSet


class ConsentFilter(admin.SimpleListFilter):
    title = "consent"
    parameter_name = "consent"

    def lookups(self, request, model_admin):
        return [("needed", "Needs consent"), ("recorded", "Consent recorded")]

    def queryset(self, request, queryset):
        if self.value() == "needed":
            return queryset.filter(shows_patient=True, has_consent=False)
        if self.value() == "recorded":
            return queryset.filter(has_consent=True)
        return queryset


@admin.register(Image)
class ImageAdmin(StatedLengthLimits, admin.ModelAdmin):
    form = ImageAdminForm
    limited_fields = ["alt_text", "caption"]
    inlines = [PatientConsentInline]
    list_display = ["title", "format", "dimensions", "alt_or_decorative", "shows_patient", "consent", "before_after",
                    "created_at"]  # fmt: skip
    list_filter = ["format", "shows_patient", "before_after", "decorative", ConsentFilter]
    search_fields = ["title", "alt_text", "caption", "credit"]
    readonly_fields = ["picture", "file_details", "rendition_list", "consent"]

    def get_fieldsets(self, request, obj=None):
        described = ["title", "alt_text", "decorative", "caption", "credit", "licence", "source"]
        flags = ["shows_patient", "consent", "before_after"] if obj else ["shows_patient", "before_after"]
        if obj is None:
            return [(None, {"fields": ["upload", *described]}), ("Patients and claims", {"fields": flags})]
        return [
            (None, {"fields": ["picture", "upload", *described]}),
            ("Patients and claims", {"fields": flags}),
            ("Stored files", {"fields": ["file_details", "rendition_list"], "classes": ["collapse"]}),
        ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_consent().annotate(consent_count=Count("consents"))

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_images(request.user) or permissions.can_edit_images(request.user)

    def has_add_permission(self, request):
        return permissions.can_upload_images(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.can_edit_images(request.user)

    def has_delete_permission(self, request, obj=None):
        return permissions.can_delete_images(request.user)

    def save_model(self, request, obj, form, change):
        picture = form.clean_picture
        if picture is None:
            return super().save_model(request, obj, form, change)
        if not change:
            obj.uploaded_by = request.user
        old_hash = obj.content_hash
        obj.original_name = form.cleaned_data["upload"].name[:255]
        renditions.save_upload(
            obj, picture, save=lambda: super(ImageAdmin, self).save_model(request, obj, form, change)
        )
        if change and obj.content_hash != old_hash:
            image_events.image_replaced(obj, by=request.user, old_hash=old_hash)

    def save_formset(self, request, form, formset, change):
        withdrawn = image_events.withdrawals(formset)
        for consent in formset.save(commit=False):
            if consent in withdrawn:
                continue  # recorded below, with what a withdrawal does
            added = consent.pk is None
            if added:
                consent.recorded_by = request.user
            consent.save()
            if added:
                image_events.consent_recorded(consent, by=request.user)
        formset.save_m2m()
        for consent in withdrawn:
            told = image_events.withdraw_consent(consent, by=request.user, on=consent.withdrawn_on)
            messages.warning(request, told)

    def get_urls(self):
        picture = self.admin_site.admin_view(self.picture_view)
        search = self.admin_site.admin_view(self.search_view)
        return [
            path("search/", search, name="articles_image_search"),
            path("<path:object_id>/picture/", picture, name="articles_image_picture"),
            *super().get_urls(),
        ]

    def search_view(self, request):
        """Answer the usable pictures matching `q`, for the figure picker beside an article's body."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        words = storable_text(request.GET.get("q", "")).split()[:8]
        found = Image.objects.usable()
        for word in words:
            found = found.filter(
                Q(title__icontains=word) | Q(alt_text__icontains=word) | Q(caption__icontains=word)
                | Q(credit__icontains=word)
            )  # fmt: skip
        results = [
            {
                "id": image.pk,
                "marker": f"[[figure:{image.pk}]]",
                "title": image.title,
                "alt": "(decorative)" if image.decorative else image.alt_text,
                "caption": image.caption,
                "picture": reverse("admin:articles_image_picture", args=[image.pk]),
            }
            for image in (found[:PICKER_RESULTS] if words else [])
        ]
        message = "" if results else PICKER_NO_MATCH if words else PICKER_PROMPT
        return JsonResponse({"results": results, "message": message})

    def picture_view(self, request, object_id):
        """Send the image's preview rendition to staff who may see the library, from whichever storage holds it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        image = Image.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        rendition = preview_rendition(image) if image else None
        if rendition is None:
            raise Http404(NO_PICTURE)
        # admin_view marks it never cached: an unpublished picture stays out of shared caches.
        return FileResponse(default_storage.open(rendition.file, "rb"), content_type=MEDIA_TYPES[rendition.format])

    @admin.display(description="Picture")
    def picture(self, obj):
        rendition = preview_rendition(obj)
        if rendition is None:
            return NO_PICTURE
        src = reverse("admin:articles_image_picture", args=[obj.pk])
        return render_to_string(
            "admin/articles/image/_picture.html", {"image": obj, "rendition": rendition, "src": src}
        )

    @admin.display(description="File")
    def file_details(self, obj):
        return format_html(
            "{} ({} × {} pixels, {} bytes), uploaded as “{}”", obj.file.name, obj.width, obj.height,
            obj.file_size, obj.original_name,
        )  # fmt: skip

    @admin.display(description="Renditions")
    def rendition_list(self, obj):
        rows = obj.current_renditions()
        return format_html_join(", ", "{} {}×{}", ((r.get_format_display(), r.width, r.height) for r in rows)) or "-"

    @admin.display(description="Size")
    def dimensions(self, obj):
        return f"{obj.width} × {obj.height}"

    @admin.display(description="Alt text")
    def alt_or_decorative(self, obj):
        return "(decorative)" if obj.decorative else obj.alt_text

    @admin.display(description="Consent")
    def consent(self, obj):
        if not obj.shows_patient:
            return "Not needed"
        if getattr(obj, "has_consent", None) is not None:  # the change list's annotation: no query per row
            return "Recorded" if obj.has_consent else ("Withdrawn" if obj.consent_count else "Needed")
        return obj.usable_problem() or "Recorded"


def preview_rendition(image: Image) -> ImageRendition | None:
    """Return the WebP rendition staff see in the library: the first at least PREVIEW_WIDTH wide, or the widest."""
    webp = image.renditions.filter(source_hash=image.content_hash, format="WEBP")
    return webp.filter(width__gte=PREVIEW_WIDTH).order_by("width").first() or webp.order_by("-width").first()
