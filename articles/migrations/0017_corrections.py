"""Corrections (issue 15): the working copy's "what changed" note, and what each snapshot freezes of it.

Every existing article gets a blank note, which adds nothing to its content hash: no sign-off is withdrawn.
"""

import django.core.validators
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0016_dates"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="article",
            name="correction_note",
            field=models.CharField(
                blank=True,
                help_text="Only when correcting an article patients can already read: publishing this edit then makes it a correction, and the page says “Corrected on (date): ” and this sentence, as does the list of corrections. The reviewer signs it off with the article; it is emptied once published. Leave it empty for any other edit.",
                max_length=300,
                validators=[
                    django.core.validators.MaxLengthValidator(
                        300,
                        message="This is %(show_value)d characters long; at most %(limit_value)d fit. Shorten it: nothing was cut.",
                    )
                ],
                verbose_name="What changed, for patients, in one sentence",
            ),
        ),
        migrations.AddField(
            model_name="historicalarticle",
            name="correction_note",
            field=models.CharField(
                blank=True,
                help_text="Only when correcting an article patients can already read: publishing this edit then makes it a correction, and the page says “Corrected on (date): ” and this sentence, as does the list of corrections. The reviewer signs it off with the article; it is emptied once published. Leave it empty for any other edit.",
                max_length=300,
                validators=[
                    django.core.validators.MaxLengthValidator(
                        300,
                        message="This is %(show_value)d characters long; at most %(limit_value)d fit. Shorten it: nothing was cut.",
                    )
                ],
                verbose_name="What changed, for patients, in one sentence",
            ),
        ),
        migrations.AddField(
            model_name="publishedsnapshot",
            name="correction_note",
            field=models.CharField(
                blank=True, help_text="The working copy's “what changed” note as published.", max_length=300
            ),
        ),
        migrations.AddField(
            model_name="publishedsnapshot",
            name="earlier_corrections",
            field=models.JSONField(
                default=list,
                help_text='[{"at": ..., "note": ...}]: the article\'s corrections before this one, newest first.',
            ),
        ),
        migrations.AddField(
            model_name="publishedsnapshot",
            name="is_correction",
            field=models.BooleanField(
                default=False, help_text="A republication of a live article with a note: the page says “Corrected on”."
            ),
        ),
        migrations.AddIndex(
            model_name="publishedsnapshot",
            index=models.Index(
                condition=models.Q(("is_correction", True)),
                fields=["-published_at", "-id"],
                name="snapshot_corrections",
            ),
        ),
    ]
