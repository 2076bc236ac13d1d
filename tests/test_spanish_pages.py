"""Spanish pages and translations (issue 17): addresses, switcher and hreflang, the gate's disclaimers per
language, the desk's side-by-side review, drift after the original is republished, and the admin's
"Translate into Spanish"."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from articles import translations, workflow
from articles.models import Article, AuditEvent, Disclaimer, TranslationPolicy
from tests.factories import (
    ArticleFactory,
    DisclaimerFactory,
    ReferenceFactory,
    TopicFactory,
    member_of,
    publish_reviewed,
    review,
)
from tests.test_views import ARTICLE_PAGE_QUERIES

pytestmark = pytest.mark.django_db

ES_BODY = (
    "<p>En ratones, las heridas cerraron más rápido [@{key}].</p><p>Los estudios en personas son pocos [@{other}].</p>"
)
EN_BODY = "<p>In mice, wounds closed faster [@{key}].</p><p>Studies in people are few [@{other}].</p>"


@pytest.fixture
def pair(editor):
    """A live English article and its live Spanish translation, citing the same two references."""
    first, second = ReferenceFactory(), ReferenceFactory()
    keys = {"key": first.citation_key, "other": second.citation_key}
    topic = TopicFactory(name="Wound care", name_es="Cuidado de heridas")
    source = ArticleFactory(title="Exosomes and wound healing", slug="exosomes-wounds", body=EN_BODY.format(**keys))
    source.topics.set([topic])
    publish_reviewed(source, editor=editor)
    spanish = ArticleFactory(
        title="Exosomas y cicatrización de heridas",
        slug="exosomas-heridas",
        language="es",
        translation_of=source,
        summary="Lo que muestran los estudios.",
        body=ES_BODY.format(**keys),
    )
    spanish.topics.set([topic])
    publish_reviewed(spanish, editor=editor)
    source.refresh_from_db()
    spanish.refresh_from_db()
    return source, spanish


def test_a_spanish_article_lives_under_es_and_its_page_is_in_spanish(client, pair):
    source, spanish = pair
    assert spanish.get_absolute_url() == "/es/articles/exosomas-heridas/"
    response = client.get(spanish.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == "es"
    assert '<html lang="es"' in page
    assert "Cuidado de heridas" in page  # the topic's Spanish name, frozen in the snapshot
    english = client.get(source.get_absolute_url())
    assert english["Content-Language"] == "en"
    assert '<html lang="en"' in english.content.decode()


def test_an_article_asked_for_in_the_wrong_language_moves_to_its_own_address(client, pair):
    response = client.get("/articles/exosomas-heridas/")
    assert response.status_code == 301
    assert response["Location"] == "/es/articles/exosomas-heridas/"
    response = client.get("/es/articles/exosomes-wounds/")
    assert response.status_code == 301
    assert response["Location"] == "/articles/exosomes-wounds/"


def test_each_language_lists_only_its_own_articles(client, pair):
    source, spanish = pair
    for path, shown, hidden in [("/", source, spanish), ("/es/", spanish, source)]:
        for page in (path, f"{path}articles/", f"{path}topics/{source.topics.get().slug}/"):
            text = client.get(page).content.decode()
            assert shown.title in text, page
            assert hidden.title not in text, page


def test_the_switcher_and_hreflang_link_the_same_article_in_the_other_language(client, settings, pair):
    source, spanish = pair
    english_page = client.get(source.get_absolute_url()).content.decode()
    spanish_page = client.get(spanish.get_absolute_url()).content.decode()
    site = settings.SITE_URL
    alternates = (
        f'<link rel="alternate" hreflang="en" href="{site}/articles/exosomes-wounds/">',
        f'<link rel="alternate" hreflang="es" href="{site}/es/articles/exosomas-heridas/">',
        f'<link rel="alternate" hreflang="x-default" href="{site}/articles/exosomes-wounds/">',
    )
    for page in (english_page, spanish_page):
        for link in alternates:
            assert link in page
    assert re.search(
        r'class="language-switcher".*href="[^"]*/es/articles/exosomas-heridas/"[^>]*lang="es"', english_page
    )
    assert re.search(r'class="language-switcher".*href="[^"]*/articles/exosomes-wounds/"[^>]*lang="en"', spanish_page)


def test_an_article_with_no_translation_offers_the_other_languages_home_and_no_hreflang(client, settings, editor):
    article = ArticleFactory(body=f"<p>A claim [@{ReferenceFactory().citation_key}].</p>")
    publish_reviewed(article, editor=editor)
    page = client.get(article.get_absolute_url()).content.decode()
    assert 'hreflang="x-default"' not in page
    assert 'href="/es/" hreflang="es" lang="es">Español</a>' in page


def test_lists_link_their_counterpart_in_the_other_language(client, settings):
    page = client.get("/es/articles/").content.decode()
    assert f'<link rel="alternate" hreflang="en" href="{settings.SITE_URL}/articles/">' in page
    assert 'href="/articles/" hreflang="en" lang="en">English</a>' in page


def test_the_sitemap_lists_both_versions_with_their_alternates(client, settings, pair):
    xml = client.get("/sitemap.xml").content.decode()
    site = settings.SITE_URL
    assert f"<loc>{site}/articles/exosomes-wounds/</loc>" in xml
    assert f"<loc>{site}/es/articles/exosomas-heridas/</loc>" in xml
    assert xml.count(f'hreflang="es" href="{site}/es/articles/exosomas-heridas/"') == 2  # on both entries
    assert f"<loc>{site}/es/</loc>" in xml


def test_the_spanish_article_page_makes_as_many_queries_as_the_english_one(client, pair, django_assert_num_queries):
    source, spanish = pair
    for article in (source, spanish):
        with django_assert_num_queries(ARTICLE_PAGE_QUERIES):
            assert client.get(article.get_absolute_url()).status_code == 200


def test_staff_pages_do_not_exist_under_es(client, editor):
    client.force_login(editor)
    for path in ("/es/review/", "/es/admin/", "/es/staff/two-factor/"):
        assert client.get(path).status_code == 404
    assert client.get("/es/no-such-page/").status_code == 404
    assert client.get("/es").status_code in (301, 404)


def test_publishing_in_spanish_needs_a_spanish_sitewide_disclaimer(editor):
    DisclaimerFactory(language="en")  # an English one does not cover a Spanish page
    article = ArticleFactory(language="es", body=f"<p>Una afirmación [@{ReferenceFactory().citation_key}].</p>")
    review(article)
    with pytest.raises(workflow.WorkflowError, match="No site-wide disclaimer is active in Spanish"):
        workflow.publish(article, by=editor)
    DisclaimerFactory(language="es", text="<p>Esto no es consejo médico.</p>")
    workflow.publish(article, by=editor)


def test_a_topic_that_needs_its_own_disclaimer_needs_it_in_the_articles_language(editor):
    topic = TopicFactory(requires_topic_disclaimer=True)
    english = DisclaimerFactory(language="en", scope=Disclaimer.Scope.TOPICS)
    english.topics.set([topic])
    DisclaimerFactory(language="es")
    article = ArticleFactory(language="es", body=f"<p>Una afirmación [@{ReferenceFactory().citation_key}].</p>")
    article.topics.set([topic])
    review(article)
    with pytest.raises(workflow.WorkflowError, match="needs its own disclaimer in Spanish"):
        workflow.publish(article, by=editor)


def test_the_reviewer_reads_each_translated_statement_beside_the_one_it_translates(client, editor):
    first, second = ReferenceFactory(), ReferenceFactory()
    keys = {"key": first.citation_key, "other": second.citation_key}
    source = ArticleFactory(body=EN_BODY.format(**keys))
    publish_reviewed(source, editor=editor)
    spanish = ArticleFactory(
        language="es",
        translation_of=source,
        body=ES_BODY.format(**keys) + f"<p>Una frase nueva [@{first.citation_key}; @{second.citation_key}].</p>",
    )
    spanish.topics.set([TopicFactory()])
    workflow.submit_for_review(spanish, by=editor)
    reviewer = member_of("Reviewers")
    client.force_login(reviewer)
    page = client.get(reverse("articles:review_article", args=[spanish.pk])).content.decode()
    cards = page.split('class="card mb-3 statement')[1:]
    assert len(cards) == 3
    assert "En ratones, las heridas cerraron más rápido" in cards[0]
    assert "In mice, wounds closed faster" in cards[0]
    assert "statement 1" in cards[0]
    assert "Studies in people are few" in cards[1]
    assert "statement 2" in cards[1]
    assert "No statement of the original cites the same references" in cards[2]  # added by the translator
    assert 'lang="es"' in cards[0]
    assert 'lang="en"' in cards[0]
    statement = spanish.evidence_statements.order_by("position").first()
    response = client.post(
        reverse("articles:review_approve", args=[spanish.pk, statement.pk]),
        {f"s{statement.pk}-seen_hash": statement.statement_hash, f"s{statement.pk}-evidence_level": "E",
         f"s{statement.pk}-certainty": "low"},
    )  # fmt: skip
    assert response.status_code == 302
    assert spanish.statement_approvals.filter(statement_hash=statement.statement_hash).exists()


def test_republishing_the_original_with_changed_statements_marks_the_translation_out_of_date(client, editor, pair):
    source, spanish = pair
    source.summary = "A new summary."  # no statement changed: the translation stays current
    source.save()
    publish_reviewed(source, editor=editor)
    spanish.refresh_from_db()
    assert spanish.source_changed_at is None
    source.body = source.body.replace("closed faster", "closed a little faster")
    source.save()
    snapshot = publish_reviewed(source, editor=editor)
    spanish.refresh_from_db()
    assert spanish.source_changed_at == snapshot.published_at
    event = AuditEvent.objects.get(article=spanish, action="articles.translation.out_of_date")
    assert event.actor == editor
    # On the desk at once: its own section in the queue, and a note on its page.
    client.force_login(editor)
    queue = client.get(reverse("articles:review_queue")).content.decode()
    out_of_date = queue.split('id="out-of-date-heading"')[1].split("</section>")[0]
    assert spanish.title in out_of_date
    assert "Out of date:" in client.get(reverse("articles:review_article", args=[spanish.pk])).content.decode()


def test_readers_are_told_the_original_is_newer_only_after_the_grace_period(client, editor, pair):
    source, spanish = pair
    policy = TranslationPolicy.current()
    policy.out_of_date_grace_days = 14
    policy.save()
    changed = timezone.now() - datetime.timedelta(days=13)
    with workflow.gate():  # as the original's republication would have set it, thirteen days ago
        Article.objects.filter(pk=spanish.pk).update(source_changed_at=changed)
    assert "Hay una versión más reciente del original" not in client.get(spanish.get_absolute_url()).content.decode()
    with workflow.gate():
        Article.objects.filter(pk=spanish.pk).update(source_changed_at=changed - datetime.timedelta(days=2))
    page = client.get(spanish.get_absolute_url()).content.decode()
    assert "Hay una versión más reciente del original" in page
    notice = page.split('<aside class="newer-source"')[1].split("</aside>")[0]
    assert f'href="{source.get_absolute_url()}" hreflang="en" lang="en">lea el original' in notice
    # Publishing the translation again brings it up to date.
    spanish.body = spanish.body.replace("más rápido", "un poco más rápido")
    spanish.save()
    publish_reviewed(spanish, editor=editor)
    spanish.refresh_from_db()
    assert spanish.source_changed_at is None
    assert "Hay una versión más reciente" not in client.get(spanish.get_absolute_url()).content.decode()


def test_a_writer_starts_a_translation_from_the_original(client, writer, editor):
    source = ArticleFactory(slug="exosomes-hair", key_points="<ul><li>Unproven.</li></ul>")
    source.topics.set([TopicFactory()])
    client.force_login(writer)
    url = reverse("admin:articles_article_translate", args=[source.pk, "es"])
    change = client.get(reverse("admin:articles_article_change", args=[source.pk])).content.decode()
    assert f'action="{url}"' in change
    assert "Translate into Spanish" in change
    assert client.get(url).status_code == 405
    response = client.post(url)
    draft = Article.objects.get(translation_of=source)
    assert response.status_code == 302
    assert response["Location"].endswith(f"/articles/article/{draft.pk}/change/")
    assert (draft.language, draft.slug, draft.status, draft.author) == ("es", "exosomes-hair-es", "draft", writer)
    assert draft.body == source.body
    assert draft.key_points == source.key_points
    assert list(draft.topics.all()) == list(source.topics.all())
    again = client.post(url, follow=True)
    assert "It has a Spanish translation already" in again.content.decode()
    assert Article.objects.filter(translation_of=source).count() == 1
    panel = client.get(reverse("admin:articles_article_change", args=[source.pk])).content.decode()
    assert "Translate into Spanish" not in panel
    assert draft.title in panel


@pytest.mark.parametrize(
    ("language", "message"), [("xx", "There is no language “xx”"), ("en", "There is no language “en”")]
)
def test_a_translation_into_a_language_that_is_not_offered_is_refused(client, writer, language, message):
    source = ArticleFactory()
    client.force_login(writer)
    response = client.post(reverse("admin:articles_article_translate", args=[source.pk, language]), follow=True)
    assert message in response.content.decode()
    assert not Article.objects.filter(translation_of=source).exists()


def test_a_translation_is_not_translated_again_and_reviewers_cannot_start_one(client, pair):
    source, spanish = pair
    with pytest.raises(translations.CannotTranslate, match="is a translation"):
        translations.start_translation(spanish, "es", by=member_of("Writers"))
    with pytest.raises(translations.CannotTranslate, match="You may not start translations"):
        translations.start_translation(source, "es", by=member_of("Reviewers"))
    client.force_login(member_of("Reviewers"))
    client.post(reverse("admin:articles_article_translate", args=[source.pk, "es"]))
    assert Article.objects.filter(translation_of=source).count() == 1
    assert client.post(reverse("admin:articles_article_translate", args=[999999, "es"])).status_code == 404


def test_a_translation_must_be_of_an_english_original_in_another_language(pair):
    source, spanish = pair
    same = ArticleFactory(language="en", translation_of=source)
    with pytest.raises(ValidationError, match="in another language"):
        same.full_clean()
    of_translation = ArticleFactory(language="en", translation_of=spanish)
    with pytest.raises(ValidationError, match="not a translation"):
        of_translation.full_clean()


def test_a_published_articles_language_cannot_change(pair):
    source, _spanish = pair
    source.language = "es"
    with pytest.raises(ValidationError, match="write a translation instead"):
        source.full_clean()


@pytest.mark.parametrize("days", ["-1", "abc", "99999", ""])
def test_the_grace_period_refuses_what_is_not_a_number_of_days_and_keeps_the_old_one(client, editor, days):
    policy = TranslationPolicy.current()
    client.force_login(editor)
    url = reverse("admin:articles_translationpolicy_change", args=[policy.pk])
    response = client.post(url, {"out_of_date_grace_days": days})
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    policy.refresh_from_db()
    assert policy.out_of_date_grace_days == 14


def test_editors_set_the_grace_period_and_writers_only_read_it(client, editor, writer):
    policy = TranslationPolicy.current()
    url = reverse("admin:articles_translationpolicy_change", args=[policy.pk])
    client.force_login(writer)
    assert client.get(url).status_code == 200
    assert client.post(url, {"out_of_date_grace_days": "3"}).status_code == 403
    client.force_login(editor)
    assert client.post(url, {"out_of_date_grace_days": "3"}).status_code == 302
    policy.refresh_from_db()
    assert policy.out_of_date_grace_days == 3
    assert policy.history.count() >= 1
    assert client.get(reverse("admin:articles_translationpolicy_add")).status_code == 403
