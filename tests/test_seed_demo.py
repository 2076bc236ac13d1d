import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Disclaimer, PublishedSnapshot, Reference, Topic, UrgentHelp

pytestmark = pytest.mark.django_db


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (get_user_model(), Topic, Disclaimer, Reference, Article, PublishedSnapshot, UrgentHelp)
    }


def test_demo_seeding_is_complete_and_idempotent(settings, capsys, client):
    settings.DEBUG = True
    call_command("seed_demo")
    first = counts()
    output = capsys.readouterr().out
    for username in ("writer", "reviewer", "editor", "admin"):
        assert f"user {username}" in output
    call_command("seed_demo")
    assert counts() == first
    assert Reference.objects.filter(citation_key="mahmoud2025").exists()
    for article in Article.objects.live():
        page = client.get(article.get_absolute_url()).content.decode()
        assert "experimental" in page.lower()
        assert re.search(r"Medically reviewed by <a [^>]+>Daniel Reyes</a>, MD", page)
        assert 'class="evidence-label' in page
        assert "Related articles" in page  # the live demo articles share the exosome-therapy topic
    wounds = Article.objects.live().get(slug="exosomes-wound-healing").get_absolute_url()
    page = client.get(wounds).content.decode()
    assert "Get help the same day for a wound that may be infected" in page
    assert '<a href="tel:911">911</a>' in page
    assert UrgentHelp.objects.get().topic.slug == "wound-care"
    assert client.login(username="writer", password="writer-demo-pass", request=HttpRequest())


def test_demo_has_an_article_in_every_state(settings, client):
    settings.DEBUG = True
    call_command("seed_demo")
    states = dict(Article.objects.values_list("slug", "status"))
    assert set(states.values()) >= {"draft", "in_review", "changes_requested", "signed_off", "scheduled", "published"}
    edited = Article.objects.get(slug="exosomes-hair-loss")  # live, with an edit waiting for review
    assert edited.status == Article.Status.IN_REVIEW
    assert edited.live_snapshot is not None
    assert edited.live_snapshot.content_hash != edited.content_hash()
    assert "15 were done in lab dishes" not in client.get(edited.get_absolute_url()).content.decode()
    client.force_login(get_user_model().objects.get(username="reviewer"))
    waiting = client.get(reverse("articles:review_queue")).context["in_review"].rows
    assert edited in waiting
    assert list(Article.objects.review_overdue().values_list("slug", flat=True)) == ["exosomes-skin-ageing"]
    assert Article.objects.get(slug="why-mouse-studies-are-a-first-step").scheduled_for > timezone.now()
    flagged = Article.objects.get(slug="choosing-a-clinic-experimental-treatment")
    assert flagged.change_requests.exclude(statement_hash="").count() == 1


def test_demo_seeding_refuses_production_settings(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("seed_demo")


def test_the_demo_wound_healing_page_shows_approved_key_points_and_its_contents(settings, client):
    settings.DEBUG = True
    call_command("seed_demo")
    article = Article.objects.get(slug="exosomes-wound-healing")
    page = client.get(article.get_absolute_url()).content.decode()
    box = page[page.index('<section class="key-points"') : page.index('<nav class="on-this-page"')]
    assert box.count('class="evidence-label') == 3  # the three cited points; the uncited one repeats the body
    assert "In lab studies, exosomes made skin cells grow and make more collagen." in box
    assert '<a href="#section-risks-and-side-effects">Risks and side effects</a>' in page
