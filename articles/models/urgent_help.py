"""'Get urgent help' boxes: per topic, the symptoms that need a call today and the numbers to call.

Editors keep them (permissions.can_manage_urgent_help); like disclaimers they are no article's to review,
show at once on every live page of their topic (above the body, and in the leaflet), keep their history,
and are retired by making them inactive rather than deleted, so what a patient saw on a day can be found.
"""

import functools
import re

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from articles import patient_visible
from articles.models.fields import at_most
from articles.models.site_content import Topic
from articles.sanitize import plain_lines

MAX_SYMPTOMS = 8  # a list patients can take in at a glance, on a phone, when worried
SYMPTOM_MAX_CHARS = 200
SYMPTOMS_MAX_CHARS = 2_000
PHONE_DIGITS = re.compile(r"\+?[0-9(][0-9 ().\-]*")
NO_SYMPTOMS = "List at least one symptom that needs a call today, one to a line."
TOO_MANY_SYMPTOMS = (
    f"List at most {MAX_SYMPTOMS} symptoms, one to a line: a short list a worried patient can take in at a glance."
)
SYMPTOM_TOO_LONG = (
    f"Keep each symptom to one short line (at most {SYMPTOM_MAX_CHARS} characters); this one is longer: “{{start}}…”"
)
PHONE_INVALID = (
    "Enter a phone number patients can dial: digits, with spaces, dashes, dots or brackets if you like, "
    "and + in front for an international number (for example “911” or “(555) 010-2040”)."
)


def symptom_list(value: str) -> list[str]:
    """Return the symptoms written one to a line, as patients read them."""
    return list(_symptoms(value or ""))


@functools.lru_cache(maxsize=1024)
def _symptoms(value: str) -> tuple[str, ...]:
    # Every article page of a topic shows its box: the same few texts, sanitized once per process, not per page.
    return tuple(plain_lines(value).splitlines())


def validate_symptoms(value: str, *, required: bool = True) -> None:
    symptoms = symptom_list(value)
    if required and not symptoms:
        raise ValidationError(NO_SYMPTOMS, code="required")
    if len(symptoms) > MAX_SYMPTOMS:
        raise ValidationError(TOO_MANY_SYMPTOMS, code="too_many")
    for symptom in symptoms:
        if len(symptom) > SYMPTOM_MAX_CHARS:
            raise ValidationError(SYMPTOM_TOO_LONG.format(start=symptom[:40]), code="too_long")


def validate_emergency_symptoms(value: str) -> None:
    validate_symptoms(value, required=False)


def validate_phone(value: str) -> None:
    digits = re.sub(r"\D", "", value or "")
    if not PHONE_DIGITS.fullmatch((value or "").strip()) or not 3 <= len(digits) <= 15:
        raise ValidationError(PHONE_INVALID, code="invalid")


def tel_href(number: str) -> str:
    """Return the tel: address of a phone number as written ("(555) 010-2040" -> "tel:5550102040")."""
    plus = "+" if number.strip().startswith("+") else ""
    return f"tel:{plus}{re.sub(r'[^0-9]', '', number)}"


class UrgentHelpQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def for_topics(self, topic_ids):
        """Boxes of these topics, active or not (retiring one must move a page's Last-Modified forward)."""
        return self.filter(topic_id__in=list(topic_ids))


class UrgentHelp(models.Model):
    """What to do today: the symptoms in a topic that need a call the same day, or 911 now."""

    topic = models.OneToOneField(
        Topic,
        on_delete=models.PROTECT,
        related_name="urgent_help",
        help_text="Shown above the body of every live article in this topic.",
    )
    heading = models.CharField(
        max_length=120,
        default="Get urgent help",
        help_text="Short and plain, such as “Get help the same day for a wound that is not healing”.",
    )
    symptoms = models.TextField(
        "call the same day if",
        help_text=f"The symptoms that need a call today, one to a line, at most {MAX_SYMPTOMS}: plain words "
        "a patient would use (“Redness spreading around the wound”).",
        error_messages={"blank": NO_SYMPTOMS},
        **at_most(SYMPTOMS_MAX_CHARS),
    )
    same_day_contact = models.CharField(
        "who to call the same day", max_length=100, default="the clinic", help_text="As in “Call the clinic today”."
    )
    same_day_phone = models.CharField(
        "same-day phone number", max_length=30, validators=[validate_phone], help_text="Patients can tap it to call."
    )
    emergency_symptoms = models.TextField(
        "call the emergency number now if",
        blank=True,
        help_text=f"Signs of an emergency, one to a line, at most {MAX_SYMPTOMS}. Empty: the box only says "
        "“In an emergency, call …”.",
        **at_most(SYMPTOMS_MAX_CHARS),
    )
    emergency_phone = models.CharField(
        "emergency phone number", max_length=30, default="911", validators=[validate_phone]
    )
    is_active = models.BooleanField(
        "active", default=True, help_text="An active box shows at once on every live article of its topic."
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = UrgentHelpQuerySet.as_manager()

    class Meta:
        ordering = ["topic__name"]
        verbose_name = "urgent help box"
        verbose_name_plural = "urgent help boxes"

    def __str__(self):
        return f"{self.heading} ({self.topic})"

    def save(self, *args, **kwargs):
        patient_visible.sanitize(self)
        super().save(*args, **kwargs)

    def clean(self):
        # The validators judge the text as typed; these judge what patients would read of it.
        errors = {}
        for name, check in [("symptoms", validate_symptoms), ("emergency_symptoms", validate_emergency_symptoms)]:
            if not (getattr(self, name) or "").strip():
                continue  # nothing typed: the field's own "required" check says so, once
            try:
                check(getattr(self, name))
            except ValidationError as error:
                errors[name] = error
        if errors:
            raise ValidationError(errors)

    @property
    def symptom_list(self) -> list[str]:
        return symptom_list(self.symptoms)

    @property
    def emergency_symptom_list(self) -> list[str]:
        return symptom_list(self.emergency_symptoms)

    @property
    def same_day_tel(self) -> str:
        return tel_href(self.same_day_phone)

    @property
    def emergency_tel(self) -> str:
        return tel_href(self.emergency_phone)
