import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from articles import workflow
from articles.models import Article, AuditEvent, Disclaimer, Page, PublishedSnapshot, Reference, Topic, UrgentHelp

pytestmark = pytest.mark.django_db


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (get_user_model(), Topic, Disclaimer, Page, Reference, Article, PublishedSnapshot, UrgentHelp)
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
    for article in Article.objects.live().in_language("en"):
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


def test_the_demo_has_a_reviewed_spanish_translation_live_and_another_in_progress(settings, client):
    settings.DEBUG = True
    call_command("seed_demo")
    source = Article.objects.get(slug="exosomes-wound-healing")
    spanish = Article.objects.live().get(translation_of=source)
    assert spanish.language == "es"
    assert spanish.get_absolute_url() == "/es/articles/exosomas-cicatrizacion-de-heridas/"
    response = client.get(spanish.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert "Lo que todavía no se sabe" in page
    assert "Tratamiento experimental, no aprobado por la FDA" in page  # the Spanish topic disclaimer, not the English
    assert "Experimental treatment, not approved by the FDA" not in page
    assert 'href="/es/about/politica-editorial/"' in page  # the footer's policy pages in Spanish
    home = client.get("/es/").content.decode()
    assert home.count(spanish.title) == 1  # among the newest: the Spanish home has no "Featured" of one article
    status = workflow.review_status(spanish)
    assert len(status.statements) == len(workflow.review_status(source).statements)
    assert {statement.approval.reviewer.username for statement in status.statements} == {"reviewer"}
    assert status.sign_off is not None
    # The same references in the same order, and each statement graded as the one it translates.
    assert [ref["key"] for ref in spanish.live_snapshot.references] == [
        ref["key"] for ref in source.live_snapshot.references
    ]
    assert [s["level"] for s in spanish.live_snapshot.statements] == [
        s["level"] for s in source.live_snapshot.statements
    ]

    draft = Article.objects.get(slug="exosomas-caida-del-cabello")
    assert (draft.status, draft.language, draft.translation_of.slug) == ("draft", "es", "exosomes-hair-loss")
    assert draft.live_snapshot is None
    assert not AuditEvent.objects.filter(article=draft).exists()  # not yet submitted


def test_the_demo_has_spanish_disclaimers_topic_names_and_policy_pages(settings, client):
    settings.DEBUG = True
    call_command("seed_demo")
    active = Disclaimer.objects.active().filter(language="es")
    assert active.filter(scope=Disclaimer.Scope.ALL).exists()
    assert active.filter(scope=Disclaimer.Scope.TOPICS, topics__slug="exosome-therapy").exists()
    assert not Topic.objects.filter(name_es="").exists()
    assert not Topic.objects.filter(description_es="").exists()
    pages = Page.objects.filter(language="es")
    assert set(pages.values_list("slug", flat=True)) == {
        "politica-editorial",
        "politica-de-correcciones",
        "politica-de-privacidad",
    }
    for page in pages:
        assert client.get(page.get_absolute_url()).status_code == 200
