"""The image library: pictures staff upload once and articles will point at, their renditions, and patients' consent.

Files are stored through Django's storage API under content-hashed names and never changed (`articles/renditions.py`
writes them; `articles/images.py` decides what may be stored). A photograph that shows a patient is not usable
until a consent record says who agreed, when, to what use, and where the signed form is kept.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from articles import patient_visible
from articles.models.fields import at_most

CAPTION_MAX_CHARS = 500
CONSENT_USE_MAX_CHARS = 1_000
CONSENT_NEEDED = (
    "This photograph shows a patient: an editor must record their consent (who agreed, when, to what use, and "
    "where the signed form is kept) before it can be used."
)
CONSENT_WITHDRAWN = (
    "This photograph shows a patient who has withdrawn their consent: it can no longer be used. Record a new "
    "consent only if they agree again."
)
CONSENT_IN_FUTURE = "Consent cannot be dated in the future: enter the date the form was signed."
WITHDRAWN_BEFORE_CONSENT = "Consent cannot be withdrawn before the day it was given."
WITHDRAW_THROUGH_EVENTS = (
    "Record a withdrawal of consent with articles.image_events.withdraw_consent (the admin's consent form does): it "
    "also takes the live pages that show the photograph off the site."
)


class ImageFormat(models.TextChoices):
    JPEG = "JPEG", "JPEG"
    PNG = "PNG", "PNG"
    WEBP = "WEBP", "WebP"


FORMAT_CONSTRAINT = Q(format__in=ImageFormat.values)


class ImageQuerySet(models.QuerySet):
    def with_consent(self):
        """Annotate each image with whether a consent it may be used under is on record."""
        valid = PatientConsent.objects.filter(image=OuterRef("pk"), withdrawn_on__isnull=True)
        return self.annotate(has_consent=Exists(valid))

    def usable(self):
        """Return the images an article may show: any that shows no patient, and those with consent on record."""
        return self.with_consent().filter(Q(shows_patient=False) | Q(has_consent=True))

    def needing_consent(self):
        return self.with_consent().filter(shows_patient=True, has_consent=False)


class Image(models.Model):
    """A picture in the library: its stored file (the current one), what it shows, and who may see it used."""

    title = models.CharField(max_length=200, help_text="How staff find it in the library; patients do not see it.")
    file = models.FileField(max_length=255, editable=False)
    original_name = models.CharField("uploaded file name", max_length=255, editable=False)
    format = models.CharField(max_length=4, choices=ImageFormat.choices, editable=False)
    width = models.PositiveIntegerField(editable=False)
    height = models.PositiveIntegerField(editable=False)
    file_size = models.PositiveIntegerField(editable=False)
    content_hash = models.CharField(max_length=64, editable=False, db_index=True)
    alt_text = models.CharField(
        max_length=250, blank=True,
        help_text="What the picture shows, for someone who cannot see it, in a sentence or two. Do not start with "
        "'image of' (screen readers say so already), and do not repeat the caption.",
    )  # fmt: skip
    decorative = models.BooleanField(
        default=False,
        help_text="Tick only if the picture adds nothing to the text: it then has empty alt text, deliberately, "
        "and screen readers skip it.",
    )
    caption = models.TextField(blank=True, **at_most(CAPTION_MAX_CHARS))
    credit = models.CharField(max_length=200, blank=True, help_text="Who made it, as they ask to be credited.")
    licence = models.CharField(max_length=200, blank=True, help_text="For example 'CC BY 4.0' or 'Clinic's own'.")
    source = models.CharField(max_length=500, blank=True, help_text="Where it came from: a web address or a book.")
    shows_patient = models.BooleanField(
        "shows a patient", default=False,
        help_text="A photograph of a patient (or part of one) cannot be used until an editor records their consent.",
    )  # fmt: skip
    before_after = models.BooleanField(
        "before/after photograph", default=False,
        help_text="Before/after photographs count as claims: they will carry 'Results vary' and need a reviewer's "
        "approval.",
    )  # fmt: skip
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=FORMAT_CONSTRAINT, name="image_format_known"),
            models.CheckConstraint(
                condition=Q(decorative=True, alt_text="") | (Q(decorative=False) & ~Q(alt_text="")),
                name="image_alt_text_or_decorative",
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        patient_visible.sanitize(self)
        adding = self._state.adding
        super().save(*args, **kwargs)
        if not adding:  # a before/after figure's statement is pinned to the picture and its description
            from articles import figure_claims

            figure_claims.resync(self)

    def usable_problem(self) -> str | None:
        """Return why an article may not show this image, or None if it may."""
        if not self.shows_patient:
            return None
        consents = list(self.consents.all())
        if any(consent.withdrawn_on is None for consent in consents):
            return None
        return CONSENT_WITHDRAWN if consents else CONSENT_NEEDED

    def current_renditions(self):
        """Return the renditions of the current file, narrowest first."""
        return self.renditions.filter(source_hash=self.content_hash).order_by("format", "width")


class ImageRendition(models.Model):
    """One stored size and format of one version of an image's file: written once, never changed."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="renditions")
    source_hash = models.CharField(max_length=64, help_text="The content hash of the image file it was made from.")
    file = models.CharField(max_length=255)
    format = models.CharField(max_length=4, choices=ImageFormat.choices)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    file_size = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["image", "format", "width"]
        constraints = [
            models.UniqueConstraint(fields=["image", "source_hash", "width", "format"], name="one_rendition_per_size"),
            models.CheckConstraint(condition=FORMAT_CONSTRAINT, name="rendition_format_known"),
        ]

    def __str__(self):
        return f"{self.width}×{self.height} {self.get_format_display()}"


class PatientConsent(models.Model):
    """A patient's consent to a photograph of them being used, and where the signed form is kept."""

    image = models.ForeignKey(Image, on_delete=models.PROTECT, related_name="consents")
    consented_by = models.CharField(
        "who consented", max_length=200, help_text="The patient, or who signed for them and in what capacity."
    )
    consented_on = models.DateField("date signed")
    use = models.TextField(
        "for what use", **at_most(CONSENT_USE_MAX_CHARS),
        help_text="What they agreed to, as the form says: for example 'the clinic's patient-education website and "
        "printed leaflets'.",
    )  # fmt: skip
    form_reference = models.CharField(
        "signed form", max_length=200, help_text="Where the signed form is kept: a document number or record reference."
    )
    withdrawn_on = models.DateField(
        "consent withdrawn on", null=True, blank=True, help_text="The photograph cannot be used from this day on."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-consented_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=models.F("consented_on")),
                name="consent_withdrawn_after_given",
            ),
        ]

    def __str__(self):
        return f"Consent of {self.consented_by} ({self.consented_on})"

    def save(self, *args, **kwargs):
        # A withdrawal must also take down the live pages showing the photograph: only
        # `image_events.withdraw_consent` records one (it sets `_withdrawing`), from the admin or a shell alike.
        withdrawing_here = self.pk and self.withdrawn_on and not getattr(self, "_withdrawing", False)
        if withdrawing_here and PatientConsent.objects.filter(pk=self.pk, withdrawn_on__isnull=True).exists():
            raise ValidationError(WITHDRAW_THROUGH_EVENTS)
        super().save(*args, **kwargs)

    def clean(self):
        errors = {}
        if self.consented_on and self.consented_on > timezone.localdate():
            errors["consented_on"] = CONSENT_IN_FUTURE
        if self.consented_on and self.withdrawn_on and self.withdrawn_on < self.consented_on:
            errors["withdrawn_on"] = WITHDRAWN_BEFORE_CONSENT
        if errors:
            raise ValidationError(errors)
