import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from articles.models import Article, Disclaimer, PublishedSnapshot, Reference, Topic

pytestmark = pytest.mark.django_db


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (get_user_model(), Topic, Disclaimer, Reference, Article, PublishedSnapshot)
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
    assert first["Article"] >= 3
    assert Reference.objects.filter(citation_key="mahmoud2025").exists()
    assert Article.objects.live().count() == first["Article"]
    for article in Article.objects.all():
        response = client.get(article.get_absolute_url())
        assert response.status_code == 200
        assert "experimental" in response.content.decode().lower()
    assert client.login(username="writer", password="writer-demo-pass")


def test_demo_seeding_refuses_production_settings(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("seed_demo")
