"""sitemap.xml for search engines: live articles (with the time of their current version), topics, pages."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from articles.models import Page, PublishedSnapshot, Topic


class SiteUrlSitemap(Sitemap):
    """Addresses on SITE_URL, the public address, whatever host the request came in on."""

    @property
    def protocol(self):
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


class ArticleSitemap(SiteUrlSitemap):
    changefreq = "monthly"

    def items(self):
        return PublishedSnapshot.objects.live().order_by("pk").only("slug", "published_at")

    def lastmod(self, item):
        return item.published_at


class TopicSitemap(SiteUrlSitemap):
    changefreq = "weekly"

    def items(self):
        return Topic.objects.filter(snapshots__in=PublishedSnapshot.objects.live()).distinct().order_by("pk")


class PageSitemap(SiteUrlSitemap):
    changefreq = "yearly"

    def items(self):
        return Page.objects.order_by("pk")

    def lastmod(self, item):
        return item.updated_at


class StaticSitemap(SiteUrlSitemap):
    changefreq = "daily"

    def items(self):
        return ["articles:home", "articles:article_list", "articles:correction_list"]

    def location(self, item):
        return reverse(item)


SITEMAPS = {
    "articles": ArticleSitemap,
    "topics": TopicSitemap,
    "pages": PageSitemap,
    "static": StaticSitemap,
}
