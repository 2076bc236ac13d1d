"""Create the Writers, Reviewers and Editors groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Writers": [
        "add_article", "change_article", "view_article",
        "add_reference", "change_reference", "view_reference",
        "view_topic", "view_disclaimer", "view_staffprofile", "view_publishedsnapshot",
    ],
    "Reviewers": [
        "view_article", "review_article",
        "change_reference", "view_reference",
        "view_topic", "view_disclaimer", "view_staffprofile", "view_publishedsnapshot", "view_auditevent",
    ],
    "Editors": [
        "add_article", "change_article", "view_article", "publish_article",
        "add_reference", "change_reference", "delete_reference", "view_reference",
        "add_topic", "change_topic", "delete_topic", "view_topic",
        "add_disclaimer", "change_disclaimer", "view_disclaimer",
        "add_staffprofile", "change_staffprofile", "view_staffprofile",
        "view_publishedsnapshot", "view_auditevent",
    ],
}  # fmt: skip


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        perms = Permission.objects.filter(content_type__app_label="articles", codename__in=codenames)
        missing = set(codenames) - set(perms.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for {name}: {sorted(missing)}")
        group.permissions.add(*perms)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
