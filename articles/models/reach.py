"""How many times each live article was read, per day: no cookie, no address, nothing about the reader.

Rows are counted by `articles.reach.count_view` (the image beacon on the article page) and read by the
editors' dashboard (`articles.reach_desk`). A row is a date, an article and a number, so they are kept.
"""

from django.db import models


class ArticleDailyViewsQuerySet(models.QuerySet):
    def since(self, day):
        """Rows from `day` on (a date in settings.TIME_ZONE)."""
        return self.filter(day__gte=day)


class ArticleDailyViews(models.Model):
    """The page views of one article on one day (in settings.TIME_ZONE), bots and prefetches left out."""

    article = models.ForeignKey("Article", on_delete=models.CASCADE, related_name="daily_views")
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)

    objects = ArticleDailyViewsQuerySet.as_manager()

    class Meta:
        verbose_name = "article's daily views"
        verbose_name_plural = "articles' daily views"
        constraints = [models.UniqueConstraint(fields=["article", "day"], name="article_daily_views_once")]
        indexes = [models.Index(fields=["day"], name="article_daily_views_day")]

    def __str__(self):
        return f"{self.views} views of article {self.article_id} on {self.day:%Y-%m-%d}"
