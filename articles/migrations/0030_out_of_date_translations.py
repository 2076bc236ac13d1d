"""The review desk lists the translations whose original changed from an index of those few articles alone."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0029_topic_counts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='article',
            index=models.Index(condition=models.Q(('source_changed_at__isnull', False)), fields=['source_changed_at', 'id'], name='article_source_changed'),
        ),
    ]
