"""articles/sitemaps.py: live articles with their dates, topics and policy pages; never a draft."""

import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from tests.factories import ArticleFactory, live_article

pytestmark = pytest.mark.django_db


def test_sitemap_lists_live_articles_with_lastmod_topics_and_pages(client, settings):
    article = live_article()
    ArticleFactory(slug="a-draft")
    root = ET.fromstring(client.get("/sitemap.xml").content)  # noqa: S314 - our own response
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    entries = {u.findtext("s:loc", namespaces=namespace): u.findtext("s:lastmod", namespaces=namespace) for u in root}
    url = settings.SITE_URL + article.get_absolute_url()
    assert entries[url].startswith(article.live_snapshot.published_at.date().isoformat()[:4])
    assert settings.SITE_URL + article.topics.first().get_absolute_url() in entries
    assert settings.SITE_URL + reverse("articles:page", args=["editorial-policy"]) in entries
    assert not any("a-draft" in loc for loc in entries)
