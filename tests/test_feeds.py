"""articles/feeds.py: RSS and Atom feeds of live articles, site-wide and per topic."""

import feedparser
import pytest
from django.urls import reverse

from tests.factories import ArticleFactory, TopicFactory, live_article

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["articles:feed_rss", "articles:feed_atom"])
def test_feeds_list_live_articles(client, name):
    article = live_article(title="Feed me")
    ArticleFactory(title="Not live")
    feed = feedparser.parse(client.get(reverse(name)).content)
    assert not feed.bozo, feed.bozo_exception
    assert [entry.title for entry in feed.entries] == ["Feed me"]
    assert feed.entries[0].link.endswith(article.get_absolute_url())


def test_topic_feeds_list_only_that_topic(client):
    topic = TopicFactory(slug="hair-loss", name="Hair loss")
    live_article(title="About hair", topics=[topic])
    live_article(title="About skin")
    for name in ("articles:topic_feed_rss", "articles:topic_feed_atom"):
        feed = feedparser.parse(client.get(reverse(name, args=["hair-loss"])).content)
        assert [entry.title for entry in feed.entries] == ["About hair"]
    assert client.get(reverse("articles:topic_feed_rss", args=["no-such-topic"])).status_code == 404
