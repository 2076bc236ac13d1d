"""articles/article_page.py: an article page's parts rendered once at publication, assembled on each request."""

import bleach.sanitizer
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import article_page, citations, rendering, structured_data
from articles.models import PublishedSnapshot, RenderedSnapshot
from tests.factories import ArticleFactory, ReferenceFactory, TopicFactory, UrgentHelpFactory, publish_reviewed
from tests.test_views import ARTICLE_PAGE_QUERIES

pytestmark = pytest.mark.django_db

# What only publication renders: the parts' templates and those they include, however long the article.
PART_TEMPLATES = (
    *(article_page.TEMPLATE.format(part) for part in article_page.PARTS),
    "articles/_key_points.html",
    "articles/_on_this_page.html",
    "articles/_evidence_legend.html",
    "articles/_corrections.html",
    "articles/_feedback.html",
)


def article_citing(editor, count: int, **fields):
    """A live article with `count` statements, each citing a reference of its own, and key points citing one."""
    references = ReferenceFactory.create_batch(count)
    sections = "".join(
        f"<h2>Part {n}</h2><p>In mice, wounds {n} closed faster [@{ref.citation_key}].</p>"
        for n, ref in enumerate(references)
    )
    article = ArticleFactory(
        body=sections,
        key_points=f"<ul><li>Wounds closed faster in mice [@{references[0].citation_key}].</li></ul>",
        topics=[TopicFactory()],
        **fields,
    )
    publish_reviewed(article, editor=editor)
    article.refresh_from_db()
    return article


def templates_of(response) -> list[str]:
    return [template.name for template in response.templates]


def test_publishing_keeps_the_parts_and_the_page_renders_none_of_them(client, editor):
    article = article_citing(editor, 3)
    kept = RenderedSnapshot.objects.get(snapshot=article.live_snapshot)
    assert kept.version == article_page.version()
    assert '<li id="ref-3">' in kept.body_html
    assert "In mice, wounds 2 closed faster" in kept.body_html
    assert "MedicalWebPage" in kept.head_html
    response = client.get(article.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 200
    assert not set(PART_TEMPLATES) & set(templates_of(response))
    for part in article_page.PARTS:
        assert getattr(kept, f"{part}_html").strip() in page


def test_the_page_does_the_same_work_whatever_the_article_size(client, editor, django_assert_num_queries):
    small, large = article_citing(editor, 1), article_citing(editor, 30)
    rendered = []
    for article in (small, large):
        with django_assert_num_queries(ARTICLE_PAGE_QUERIES):
            response = client.get(article.get_absolute_url())
        assert response.status_code == 200
        rendered.append(templates_of(response))
    assert rendered[0] == rendered[1]
    assert large.live_snapshot.references[-1]["number"] == 30
    assert '<li id="ref-30">' in response.content.decode()


def test_a_page_request_sanitizes_renders_and_cites_nothing(client, editor, monkeypatch):
    article = article_citing(editor, 5)
    UrgentHelpFactory(topic=article.topics.get())  # its symptoms are plain text made from what editors typed
    client.get(article.get_absolute_url())  # this process's first page: what it may keep of the box is made
    calls = []

    def counted(module, name):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *args, **kwargs: calls.append(name) or real(*args, **kwargs))

    counted(bleach.sanitizer.Cleaner, "clean")
    for name in ("reference_entry", "evidence_label", "render_article", "with_section_ids"):
        counted(rendering, name)
    counted(citations, "citation_keys")
    counted(structured_data, "medical_web_page")
    page = client.get(article.get_absolute_url()).content.decode()
    assert 'class="urgent-help"' in page
    assert '<li id="ref-5">' in page
    assert calls == []


def test_the_page_reads_none_of_what_only_the_parts_need(client, editor):
    article = article_citing(editor, 2)
    with CaptureQueriesContext(connection) as queries:
        client.get(article.get_absolute_url())
    snapshot_table = PublishedSnapshot._meta.db_table
    read = " ".join(query["sql"] for query in queries.captured_queries)
    for field in article_page.PARTS_ONLY:
        assert f'"{snapshot_table}"."{field}"' not in read


def test_parts_of_another_version_are_rendered_again_on_the_first_request_and_kept(
    client, editor, django_assert_num_queries
):
    article = article_citing(editor, 2)
    RenderedSnapshot.objects.filter(pk=article.live_snapshot_id).update(version="an older deploy", body_html="OLD")
    page = client.get(article.get_absolute_url()).content.decode()
    assert "OLD" not in page
    assert "In mice, wounds 1 closed faster" in page
    kept = RenderedSnapshot.objects.get(pk=article.live_snapshot_id)
    assert kept.version == article_page.version()
    assert "OLD" not in kept.body_html
    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):  # kept now: nothing rendered nor written again
        client.get(article.get_absolute_url())


def test_a_snapshot_without_parts_gets_them_on_its_first_request(client, editor):
    article = article_citing(editor, 1)
    RenderedSnapshot.objects.all().delete()  # as a site filled by COPY, or restored from an export, has them
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    assert '<li id="ref-1">' in response.content.decode()
    assert RenderedSnapshot.objects.filter(pk=article.live_snapshot_id, version=article_page.version()).exists()


def test_the_version_changes_with_the_clinics_details_the_parts_show(settings):
    before = article_page.version()
    try:
        settings.CLINIC = {**settings.CLINIC, "phone": "+1 555 0100"}
        article_page.version.cache_clear()
        assert article_page.version() != before
    finally:
        article_page.version.cache_clear()


def test_a_new_clinic_phone_reaches_kept_pages_once_they_are_rendered_again(client, editor, settings):
    article = article_citing(editor, 1)
    try:
        settings.CLINIC = {**settings.CLINIC, "phone": "+1 555 0100"}
        article_page.version.cache_clear()  # as a deploy with the new setting starts new processes
        page = client.get(article.get_absolute_url()).content.decode()
    finally:
        article_page.version.cache_clear()
    assert 'href="tel:+15550100"' in page


def test_the_command_renders_what_is_missing_or_out_of_date_and_refuses_a_bad_batch_size(editor, capsys):
    articles = [article_citing(editor, 1) for _ in range(3)]
    RenderedSnapshot.objects.filter(pk=articles[0].live_snapshot_id).delete()
    RenderedSnapshot.objects.filter(pk=articles[1].live_snapshot_id).update(version="old", title_html="OLD")
    call_command("render_article_pages", batch_size=1)
    assert "Rendered the page parts of 2 live article(s)" in capsys.readouterr().out
    assert not article_page.stale().exists()
    assert not RenderedSnapshot.objects.filter(title_html="OLD").exists()
    call_command("render_article_pages")
    assert "Rendered the page parts of 0 live article(s)" in capsys.readouterr().out
    with pytest.raises(CommandError, match="--batch-size must be at least 1, not 0"):
        call_command("render_article_pages", batch_size=0)
    with pytest.raises(CommandError, match="invalid int value"):
        call_command("render_article_pages", "--batch-size", "many")


def test_the_preview_renders_the_parts_on_the_fly_and_keeps_nothing(client, editor):
    article = ArticleFactory(body="<p>A draft sentence about scars.</p>", topics=[TopicFactory()])
    client.force_login(editor)
    response = client.get(f"/admin/articles/article/{article.pk}/preview/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "A draft sentence about scars." in page
    assert 'name="robots" content="noindex"' in page
    assert "MedicalWebPage" not in page
    assert "reach-beacon" not in page
    assert 'id="feedback"' not in page
    assert not RenderedSnapshot.objects.exists()
