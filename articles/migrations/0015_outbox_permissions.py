"""Editors can read the mail outbox (django-post-office's Email and Log) and queue failed mail again.

They see it, not change it: a mail's recipients and text stay as the workflow step wrote them.
"""

from django.db import migrations

OUTBOX_PERMISSIONS = ["view_email", "view_log"]


def grant_outbox(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # On a new database the permissions are made only after every migration; they are needed now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    editors, _created = Group.objects.get_or_create(name="Editors")
    editors.permissions.add(
        *Permission.objects.filter(content_type__app_label="post_office", codename__in=OUTBOX_PERMISSIONS)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0014_hash_versions"),
        ("post_office", "0014_alter_email_recipient_delivery_status_and_more"),
    ]

    operations = [migrations.RunPython(grant_outbox, migrations.RunPython.noop)]
