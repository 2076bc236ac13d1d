"""Edge purging (articles/edge): the tags every public response names, and the outbox that purges them after a
change commits, retried until the edge confirms, and shown to editors while it fails.

The edge here is a small HTTP server speaking the Varnish purge protocol (PURGE with `xkey-purge`), recording
what it is asked; tests/test_varnish.py runs the same path against a real Varnish.
"""

import contextlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.urls import reverse

from articles import workflow
from articles.edge import outbox, tags
from articles.models import Article, Disclaimer, EdgePurge, Page, StaffProfile
from tests.factories import (
    ArticleFactory,
    DisclaimerFactory,
    TopicFactory,
    UrgentHelpFactory,
    live_article,
    member_of,
)
from tests.servers import PurgeRecorder


@pytest.fixture
def edge(settings):
    with PurgeRecorder() as server:
        settings.EDGE_PURGERS = [{"BACKEND": "varnish", "URL": server.url}]
        settings.EDGE_PURGE_ECHO_SECONDS = 0  # tests/test_varnish.py checks the echo
        yield server


def keys(response) -> set[str]:
    return set(response[tags.HEADER].split())


# --- What each public response names --------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_public_page_names_what_it_shows(client):
    topic = TopicFactory(name="Hair loss")
    article = live_article(topics=[topic])
    other = live_article(title="Exosomes and hair", topics=[topic])
    page = Page.objects.filter(language="en").first()
    profile = member_of("Reviewers").staff_profile
    article_page = client.get(article.get_absolute_url())
    assert article_page.status_code == 200
    assert {tags.SITE, f"article-{article.pk}", f"topic-{topic.pk}", "disclaimers-en"} <= keys(article_page)
    assert f"article-{other.pk}" in keys(article_page)  # its "Related" list links there
    assert "articles-en" not in keys(article_page)  # other articles' publishing leaves it cached
    expected = {
        reverse("articles:home"): {"articles-en", f"topic-{topic.pk}"},
        reverse("articles:article_list"): {"articles-en"},
        reverse("articles:topic_detail", args=[topic.slug]): {"articles-en", f"topic-{topic.pk}"},
        reverse("articles:search") + "?q=exosomes": {"articles-en"},
        reverse("articles:correction_list"): {"articles-en"},
        reverse("articles:feed_rss"): {"articles-en"},
        reverse("articles:topic_feed_atom", args=[topic.slug]): {"articles-en", f"topic-{topic.pk}"},
        reverse("articles:page", args=[page.slug]): {f"page-{page.pk}"},
        reverse("articles:staff_bio", args=[profile.slug]): {"articles-en", f"staff-{profile.pk}"},
        reverse("articles:sitemap"): {"sitemap", "articles-en", "articles-es"},
        reverse("articles:robots_txt"): set(),
        "/es/articles/": {"articles-es"},
    }
    for url, shown in expected.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert keys(response) == {tags.SITE, *shown}, url


@pytest.mark.django_db
def test_a_missing_page_is_named_so_publishing_at_its_address_purges_it(client):
    for url in ("/articles/not-yet-written/", "/topics/not-a-topic/", "/es/articles/todavia-no/"):
        response = client.get(url)
        assert response.status_code == 404
        language = "es" if url.startswith("/es/") else "en"
        assert keys(response) == {tags.SITE, tags.MISSING, f"articles-{language}"}, url


@pytest.mark.django_db
def test_staff_pages_name_nothing(client, editor):
    client.force_login(editor)
    for url in (reverse("admin:index"), reverse("articles:review_queue")):
        response = client.get(url)
        assert response.status_code == 200
        assert tags.HEADER not in response


@pytest.mark.django_db
def test_shared_caches_keep_pages_an_hour_only_when_an_edge_is_purged(client, edge):
    # The settings module chooses the default; the header follows the setting.
    from django.conf import settings

    settings.PUBLIC_CACHE_SECONDS = 3600
    response = client.get(reverse("articles:article_list"))
    assert "s-maxage=3600" in response["Cache-Control"]
    assert "stale-while-revalidate=60" in response["Cache-Control"]


# --- What each change purges, after its commit ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_publishing_unpublishing_and_archiving_purge_the_article_and_its_language_lists(roles, edge):
    article = live_article()
    assert {f"article-{article.pk}", "articles-en"} <= edge.all_purged()
    editor = member_of("Editors")
    edge.clear()
    workflow.unpublish(Article.objects.get(pk=article.pk), by=editor, reason="A dose was wrong.")
    assert edge.purged == [{f"article-{article.pk}", "articles-en"}]
    assert not EdgePurge.objects.pending().exists()


@pytest.mark.django_db(transaction=True)
def test_publishing_a_translation_purges_the_original_page_too(roles, edge):
    original = live_article()
    translation = ArticleFactory(language="es", translation_of=original, title="Exosomas", body=original.body)
    translation.topics.set(original.topics.all())
    edge.clear()
    from tests.factories import publish_reviewed

    publish_reviewed(translation)
    assert {f"article-{original.pk}", f"article-{translation.pk}", "articles-es"} <= edge.all_purged()
    assert "articles-en" not in edge.all_purged()


@pytest.mark.django_db(transaction=True)
def test_site_content_changes_purge_exactly_their_tags(roles, edge):
    topic = TopicFactory()
    box = UrgentHelpFactory(topic=topic)
    disclaimer = DisclaimerFactory(language="es")
    profile = member_of("Reviewers").staff_profile
    page = Page.objects.filter(language="en").first()
    edge.clear()
    changes = [
        (lambda: Topic_save(topic), {f"topic-{topic.pk}", tags.SITEMAP, tags.MISSING}),
        (lambda: box.save(), {f"topic-{topic.pk}"}),
        (lambda: disclaimer.save(), {"disclaimers-en", "disclaimers-es"}),
        (lambda: StaffProfile.objects.get(pk=profile.pk).save(), {f"staff-{profile.pk}", tags.SITEMAP, tags.MISSING}),
        (lambda: page.save(), {f"page-{page.pk}", tags.SITE, tags.SITEMAP, tags.MISSING}),
        (lambda: Disclaimer.objects.get(pk=disclaimer.pk).delete(), {"disclaimers-en", "disclaimers-es"}),
    ]
    for change, expected in changes:
        edge.clear()
        change()
        assert edge.purged == [expected]


def Topic_save(topic):
    topic.name = topic.name + " (renamed)"
    topic.save()


@pytest.mark.django_db(transaction=True)
def test_one_transaction_is_one_purge_and_a_rolled_back_one_is_none(roles, edge):
    first, second = TopicFactory(), TopicFactory()
    edge.clear()
    with transaction.atomic():
        first.save()
        second.save()
        assert not edge.purged  # nothing before the commit
    assert edge.purged == [{f"topic-{first.pk}", f"topic-{second.pk}", tags.SITEMAP, tags.MISSING}]
    edge.clear()
    with contextlib.suppress(RuntimeError), transaction.atomic():
        first.save()
        raise RuntimeError("the change fails")
    assert not edge.purged
    assert not EdgePurge.objects.pending().exists()
    second.save()  # the next transaction's purge is its own, not the rolled-back one's
    assert edge.purged == [{f"topic-{second.pk}", tags.SITEMAP, tags.MISSING}]


@pytest.mark.django_db(transaction=True)
def test_nothing_is_written_without_an_edge(roles, settings):
    settings.EDGE_PURGERS = []
    TopicFactory().save()
    assert not EdgePurge.objects.exists()


# --- A failing edge: retried, shown to editors, nothing stale after it recovers ---------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_failing_purge_is_kept_retried_and_shown_to_editors_until_it_goes_through(roles, edge, client):
    topic = TopicFactory()
    editor, writer = member_of("Editors"), member_of("Writers")
    EdgePurge.objects.all().delete()
    edge.status = 500
    edge.clear()
    topic.save()
    row = EdgePurge.objects.get()
    assert row.purged_at is None
    assert row.attempts == 1
    assert f"Varnish at {edge.url} answered HTTP 500" in row.last_error
    for attempt in range(2, outbox.FAILING_AFTER_ATTEMPTS + 1):
        assert not outbox.failing().exists()
        EdgePurge.objects.update(next_attempt_at=row.created_at)  # due now, as cron finds it a little later
        if attempt < outbox.FAILING_AFTER_ATTEMPTS:
            call_command("send_purges")
        else:
            with pytest.raises(CommandError, match="1 edge purge"):
                call_command("send_purges")
    assert outbox.failing().count() == 1
    assert EdgePurge.objects.get().next_attempt_at > row.created_at  # waits its turn: no retry storm

    client.force_login(editor)
    for url in (reverse("articles:review_queue"), reverse("admin:index")):
        page = client.get(url)
        assert b'id="failing-purges"' in page.content, url
    listing = client.get(reverse("admin:articles_edgepurge_changelist") + "?pending=yes")
    assert listing.status_code == 200
    assert b"answered HTTP 500" in listing.content
    client.logout()
    client.force_login(writer)
    assert b'id="failing-purges"' not in client.get(reverse("admin:index")).content
    assert client.get(reverse("admin:articles_edgepurge_changelist")).status_code == 403

    edge.status = 200  # the edge is back: the editor sends it again from the admin
    client.logout()
    client.force_login(editor)
    response = client.post(
        reverse("admin:articles_edgepurge_changelist"),
        {"action": "send_again", "_selected_action": [row.pk]},
        follow=True,
    )
    assert b"1 purge(s) confirmed" in response.content
    assert edge.purged == [{f"topic-{topic.pk}", tags.SITEMAP, tags.MISSING}]
    assert not outbox.failing().exists()
    assert b'id="failing-purges"' not in client.get(reverse("articles:review_queue")).content


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_edge_fails_the_purge_not_the_change(roles, settings):
    from tests.servers import free_port

    settings.EDGE_PURGERS = [{"BACKEND": "varnish", "URL": f"http://127.0.0.1:{free_port()}"}]
    settings.EDGE_PURGE_TIMEOUT = 0.5
    topic = TopicFactory()
    EdgePurge.objects.all().delete()
    topic.name = "Renamed"
    topic.save()  # no exception: the change has committed
    assert Topic_name(topic) == "Renamed"
    row = EdgePurge.objects.filter(tags__contains=[f"topic-{topic.pk}"]).get()
    assert row.attempts == 1
    assert "refused the connection" in row.last_error


def Topic_name(topic) -> str:
    from articles.models import Topic

    return Topic.objects.get(pk=topic.pk).name


@pytest.mark.django_db(transaction=True)
def test_send_purges_says_so_when_nothing_is_configured_or_due(roles, edge, settings, capsys):
    call_command("send_purges")
    assert "Purged: 0" in capsys.readouterr().out
    settings.EDGE_PURGERS = []
    call_command("send_purges")
    assert "No edge is configured" in capsys.readouterr().out
