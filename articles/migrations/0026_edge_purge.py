"""The edge purge outbox (articles.edge.outbox). Editors read it, and may send a failing purge again."""

import django.utils.timezone
from django.db import migrations, models


def grant_edge_purges(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # On a new database the permissions are made only after every migration; this one is needed now.
    app_config = apps.get_app_config("articles")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    editors, _created = Group.objects.get_or_create(name="Editors")
    editors.permissions.add(Permission.objects.get(content_type__app_label="articles", codename="view_edgepurge"))


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0025_spanish_checks'),
    ]

    operations = [
        migrations.CreateModel(
            name='EdgePurge',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('tags', models.JSONField(default=list, help_text='What the change made stale (articles.edge.tags).')),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('last_error', models.TextField(blank=True, help_text='Why the last try failed, edge by edge.')),
                ('next_attempt_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('purged_at', models.DateTimeField(blank=True, help_text='When every edge confirmed it.', null=True)),
                ('echo', models.BooleanField(default=False, help_text='The same purge a moment later, for pages an edge fetched as the change committed.')),
            ],
            options={
                'verbose_name': 'edge purge',
                'ordering': ['-created_at', '-pk'],
                'indexes': [models.Index(condition=models.Q(('purged_at__isnull', True)), fields=['next_attempt_at'], name='edge_purge_pending')],
            },
        ),
        migrations.RunPython(grant_edge_purges, migrations.RunPython.noop),
    ]
