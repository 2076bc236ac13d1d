"""sitemap.xml for search engines: live articles (with the time of their current version), topics, pages.

One sitemap for every language: an article and its live translations are one entry per language, each naming
the others as hreflang alternates, as do the pages every language has (home, list, corrections).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemaps_views
from django.utils.translation import get_language

from articles import languages, translations
from articles.edge import tags
from articles.models import Article, Page, PublishedSnapshot


class SiteUrlSitemap(Sitemap):
    """Addresses on SITE_URL, the public address, whatever host the request came in on."""

    @property
    def protocol(self):
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


class ArticleSitemap(SiteUrlSitemap):
    """Each live article, once per language it is live in (its own and its live translations')."""

    changefreq = "monthly"
    i18n = True
    alternates = True

    def items(self):
        # One item for an article and its translations: the source, unless only a translation is live.
        live = Article.objects.live().exclude(translation_of__live_snapshot__isnull=False).order_by("pk")
        return translations.with_counterparts(live.only("language", "live_published_at", "live_snapshot__slug"))

    def get_languages_for_item(self, item):
        return [item.language, *(counterpart.language for counterpart in translations.counterparts(item))]

    def location(self, article):
        language = get_language()
        slug = article.live_snapshot.slug if language == article.language else getattr(article, f"slug_{language}")
        return languages.url_in(language, "articles:article_detail", slug=slug)

    def lastmod(self, item):
        return item.live_published_at


class TopicSitemap(SiteUrlSitemap):
    """Each topic page in each language it has live articles in."""

    changefreq = "weekly"

    def items(self):
        in_use = PublishedSnapshot.objects.live().values_list("topic_set__slug", "language").distinct()
        return sorted((slug, language) for slug, language in in_use if slug)

    def location(self, item):
        slug, language = item
        return languages.url_in(language, "articles:topic_detail", slug=slug)


class PageSitemap(SiteUrlSitemap):
    changefreq = "yearly"

    def items(self):
        return Page.objects.order_by("pk")

    def lastmod(self, item):
        return item.updated_at


class StaticSitemap(SiteUrlSitemap):
    changefreq = "daily"
    i18n = True
    alternates = True

    def items(self):
        return ["articles:home", "articles:article_list", "articles:correction_list"]

    def location(self, item):
        return languages.url_in(get_language(), item)


SITEMAPS = {
    "articles": ArticleSitemap,
    "topics": TopicSitemap,
    "pages": PageSitemap,
    "static": StaticSitemap,
}


def sitemap(request, **kwargs):
    """Django's sitemap view, naming for the edge what it lists: every language's articles, topics and pages."""
    tags.shows(request, tags.SITEMAP, *tags.every_language(tags.articles))
    return sitemaps_views.sitemap(request, **kwargs)
