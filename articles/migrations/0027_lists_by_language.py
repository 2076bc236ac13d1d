"""Every list of live articles is in one language now: the index of the lists leads with it."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0026_edge_purge'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='article',
            name='article_live_newest',
        ),
        migrations.AddIndex(
            model_name='article',
            index=models.Index(condition=models.Q(('live_snapshot__isnull', False)), fields=['language', '-live_published_at', 'id', 'live_snapshot'], name='article_live_newest'),
        ),
    ]
