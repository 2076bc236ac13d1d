"""A topic page counts its live articles from an index of the live articles by language and snapshot."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0028_rendered_snapshot'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='article',
            index=models.Index(condition=models.Q(('live_snapshot__isnull', False)), fields=['language', 'live_snapshot'], name='article_live_by_snapshot'),
        ),
    ]
