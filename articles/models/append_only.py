"""Records written once: review records, snapshots and the audit trail are never changed or deleted."""

from django.core.exceptions import ValidationError
from django.db import models


class AppendOnlyQuerySet(models.QuerySet):
    """Rows that are written once: no bulk update or delete through the ORM either."""

    def update(self, **kwargs):
        raise ValidationError(f"{self.model._meta.verbose_name_plural.capitalize()} are never changed.")

    def delete(self):
        raise ValidationError(f"{self.model._meta.verbose_name_plural.capitalize()} are never deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise ValidationError(f"{self.model._meta.verbose_name_plural.capitalize()} are never changed.")


class AppendOnlyModel(models.Model):
    """A record that is created once and never changed or deleted (a PostgreSQL trigger enforces it too)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(f"A {self._meta.verbose_name} is never changed; record a new one instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(f"A {self._meta.verbose_name} is never deleted.")
