"""Staff as patients read them (profiles, bylines) and the second factor their groups may require."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from articles import patient_visible
from articles.models.fields import BIO_MAX_CHARS, NOTE_MAX_CHARS, at_most


class StaffProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile")
    display_name = models.CharField(max_length=120, help_text="As patients should read it, e.g. “Jane Doe”.")
    credentials = models.CharField(
        max_length=200,
        blank=True,
        help_text="Degrees and certification, e.g. “MD, board-certified dermatologist”.",
    )
    slug = models.SlugField(unique=True, help_text="Address of the public bio page.")
    bio = models.TextField(blank=True, help_text="Shown on the public bio page.", **at_most(BIO_MAX_CHARS))
    conflicts_of_interest = models.TextField(
        "conflict-of-interest statement",
        blank=True,
        **at_most(NOTE_MAX_CHARS),
        help_text="Financial or other ties to treatments, products or makers the articles discuss, or “None”. "
        "Shown on the public bio page.",
    )

    class Meta:
        ordering = ["display_name"]

    def __str__(self):
        return self.byline

    def save(self, *args, **kwargs):
        patient_visible.sanitize(self)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:staff_bio", kwargs={"slug": self.slug})

    @property
    def byline(self) -> str:
        return f"{self.display_name}, {self.credentials}" if self.credentials else self.display_name


def public_person(user) -> dict:
    """Return how a staff member is named to patients: as snapshots store bylines, and content hashes pin them."""
    profile = getattr(user, "staff_profile", None)
    return {
        "name": profile.display_name if profile else user.get_full_name() or user.get_username(),
        "credentials": profile.credentials if profile else "",
        "slug": profile.slug if profile else "",
    }


class TwoFactorRequirement(models.Model):
    """Whether a group's members must confirm each login with a code from an authenticator app (TOTP)."""

    group = models.OneToOneField("auth.Group", on_delete=models.CASCADE, related_name="two_factor_requirement")
    required = models.BooleanField(
        "Require a second factor (TOTP)",
        default=False,
        help_text="Members must enter a 6-digit code from an authenticator app after their password before they "
        "reach any admin page or the review desk. Members without an app are asked to set one up first.",
    )

    class Meta:
        verbose_name = "second-factor requirement"

    def __str__(self):
        return f"{self.group}: second factor {'required' if self.required else 'optional'}"
