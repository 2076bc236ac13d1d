"""RSS and Atom feeds of the live articles, for the whole site and per topic. They read snapshots only."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import get_language, gettext, gettext_noop

from articles.edge import tags
from articles.models import PublishedSnapshot, Topic

ITEMS_PER_FEED = 20
DESCRIPTION = gettext_noop("New and updated patient information, reviewed by our clinicians.")


class LatestArticlesFeed(Feed):
    """The newest live articles, in the active language's words."""

    def title(self, obj=None):
        return gettext("%(clinic)s: health articles") % {"clinic": settings.CLINIC["name"]}

    def description(self, obj=None):
        return gettext(DESCRIPTION)

    subtitle = description  # what Atom calls it

    def get_object(self, request, *args, **kwargs):
        tags.shows(request, tags.articles(get_language()))  # for the edge (articles.edge.tags)
        return None

    def link(self, obj=None):
        return reverse("articles:article_list")

    def items(self, obj=None):
        return (
            PublishedSnapshot.objects.live()
            .filter(language=get_language())
            .order_by("-published_at", "pk")[:ITEMS_PER_FEED]
        )

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.summary

    def item_link(self, item):
        return item.get_absolute_url()

    def item_author_name(self, item):
        return item.author.get("name", "")

    def item_pubdate(self, item):
        return item.first_published_at or item.published_at

    def item_updateddate(self, item):
        return item.published_at

    def item_categories(self, item):
        return [topic["name"] for topic in item.topics]


class LatestArticlesAtomFeed(LatestArticlesFeed):
    feed_type = Atom1Feed


class TopicFeed(LatestArticlesFeed):
    def get_object(self, request, slug):
        topic = get_object_or_404(Topic, slug=slug)
        tags.shows(request, tags.articles(get_language()), tags.topic(topic.pk))
        return topic

    def title(self, obj=None):
        return f"{settings.CLINIC['name']}: {obj.local_name}"

    def link(self, obj=None):
        return obj.get_absolute_url()

    def items(self, obj=None):
        in_topic = PublishedSnapshot.objects.live().filter(topic_set=obj, language=get_language())
        return in_topic.order_by("-published_at", "pk")[:ITEMS_PER_FEED]


class TopicAtomFeed(TopicFeed):
    feed_type = Atom1Feed
