"""articles/views.py: the patient site's pages, their queries, caching headers, links, policies and errors."""

import datetime
import re
from html import escape

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import parse_http_date

from articles import workflow
from articles.models import Article, Disclaimer, Page, Reference
from articles.sanitize import EXTERNAL_LINK_REL
from articles.views import ARTICLES_ON_BIO, RELATED_ARTICLES
from tests.factories import (
    ArticleFactory,
    DisclaimerFactory,
    ReferenceFactory,
    TopicFactory,
    UrgentHelpFactory,
    UserFactory,
    admin_form_data,
    live_article,
    publish_reviewed,
)
from tests.test_sanitize import LEAVE_THE_SITE, links_in

pytestmark = pytest.mark.django_db

# The article with its snapshot; the disclaimers that apply; the footer pages; its topics' urgent-help boxes (one
# query for all of them, retired ones too, for Last-Modified); the related articles (one query, as cards).
ARTICLE_PAGE_QUERIES = 5
BIO_PAGE_QUERIES = 4  # the profile; the newest articles written, and reviewed; the footer pages


def published_article(editor, *, references=2, topics=None, reviewer=None, **fields):
    refs = ReferenceFactory.create_batch(references)
    body = "".join(f"<p>Claim number {i} [@{ref.citation_key}].</p>" for i, ref in enumerate(refs))
    article = ArticleFactory(body=body, topics=topics or [TopicFactory()], **fields)
    publish_reviewed(article, editor=editor, reviewer=reviewer)
    article.refresh_from_db()
    return article


@pytest.mark.parametrize("references", [2, 40])
def test_article_page_query_count_does_not_grow_with_references(client, editor, references, django_assert_num_queries):
    article = published_article(editor, references=references)
    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):
        response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    assert response.content.decode().count('<li id="ref-') == references


@pytest.mark.parametrize("related", [0, 1, 6])
@pytest.mark.parametrize("boxes", [0, 2])
def test_article_page_query_count_is_the_same_with_related_articles_and_urgent_help(
    client, editor, related, boxes, django_assert_num_queries
):
    topics = [TopicFactory(), TopicFactory()]
    for topic in topics[:boxes]:
        UrgentHelpFactory(topic=topic)
    for _ in range(related):
        published_article(editor, references=1, topics=[topics[1]])
    article = published_article(editor, topics=topics)
    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):
        page = client.get(article.get_absolute_url()).content.decode()
    assert page.count('class="urgent-help"') == boxes
    assert page.count('<li class="card">') == min(related, RELATED_ARTICLES)


def test_urgent_help_shows_each_topics_box_once_between_the_topic_disclaimers_and_the_body(client, editor):
    wounds, scars, other = TopicFactory(name="Wound care"), TopicFactory(name="Scars"), TopicFactory()
    fda = DisclaimerFactory(title="Experimental, not FDA-approved", scope=Disclaimer.Scope.TOPICS)
    fda.topics.set([wounds])
    UrgentHelpFactory(topic=wounds, heading="Signs of a wound infection", same_day_phone="(555) 010-2040")
    UrgentHelpFactory(topic=scars, heading="Scar problems", emergency_symptoms="")
    UrgentHelpFactory(topic=other, heading="Not this topic")
    UrgentHelpFactory(heading="Retired box", is_active=False, topic=TopicFactory(name="Retired"))
    article = published_article(editor, topics=[wounds, scars])

    page = client.get(article.get_absolute_url()).content.decode()

    assert page.count("Signs of a wound infection") == 1
    assert page.count("Scar problems") == 1
    assert "Not this topic" not in page
    assert "Retired box" not in page
    assert page.index("Experimental, not FDA-approved") < page.index("Signs of a wound infection")
    assert page.index("Signs of a wound infection") < page.index('<div class="prose">')
    assert '<a href="tel:5550102040">(555) 010-2040</a>' in page
    assert '<a href="tel:911">911</a> or go to the emergency room now if:' in page
    assert 'In an emergency, call <a href="tel:911">911</a>.' in page  # the box without emergency signs
    # lang="en": editors write boxes in English, so a Spanish page marks the box as English (_urgent_help.html)
    assert re.search(r'<section class="urgent-help" aria-labelledby="(urgent-help-\d+)" lang="en">\s*<h2 id="\1"', page)


def test_an_urgent_help_box_is_plain_text_whatever_an_editor_pastes(client, editor):
    topic = TopicFactory()
    UrgentHelpFactory(topic=topic, symptoms='<img src=x onerror="alert(1)">Pus\n<script>alert(2)</script>Fever')
    page = client.get(published_article(editor, topics=[topic]).get_absolute_url()).content.decode()
    assert "<li>Pus</li><li>Fever</li>" in page
    assert "alert(" not in page


def test_related_articles_share_a_topic_are_live_and_newest_first_at_most_four(client, editor):
    shared, other = TopicFactory(), TopicFactory()
    older = [published_article(editor, references=1, topics=[shared], title=f"Older {n}") for n in range(2)]
    newer = [published_article(editor, references=1, topics=[shared, other], title=f"Newer {n}") for n in range(3)]
    published_article(editor, references=1, topics=[other], title="Other topic only")
    withdrawn = published_article(editor, references=1, topics=[shared], title="Withdrawn")
    workflow.unpublish(withdrawn, by=editor, reason="Outdated.")
    ArticleFactory(topics=[shared], title="A draft in the topic")
    article = published_article(editor, topics=[shared], title="This article")

    page = client.get(article.get_absolute_url()).content.decode()
    related = page[page.index('id="related-heading"') :]

    titles = re.findall(r'<h3><a href="[^"]+">([^<]+)</a></h3>', related)
    assert titles == ["Newer 2", "Newer 1", "Newer 0", "Older 1"]
    assert len(titles) == RELATED_ARTICLES
    assert page.index("</article>") < page.index('id="related-heading"')
    assert older[1].live_snapshot.summary in related
    assert f'href="{newer[2].get_absolute_url()}"' in related


def test_an_article_with_nothing_related_shows_no_related_section(client, editor):
    page = client.get(published_article(editor).get_absolute_url()).content.decode()
    assert "Related articles" not in page


def test_a_retired_urgent_help_box_moves_last_modified_forward(client, editor, monkeypatch):
    topic = TopicFactory()
    box = UrgentHelpFactory(topic=topic)
    article = published_article(editor, topics=[topic])
    first = client.get(article.get_absolute_url())
    assert client.get(article.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    later = timezone.now() + datetime.timedelta(hours=1)  # Last-Modified counts whole seconds
    monkeypatch.setattr(timezone, "now", lambda: later)
    box.is_active = False
    box.save()
    retired = client.get(article.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert retired.status_code == 200
    assert 'class="urgent-help"' not in retired.content.decode()
    assert parse_http_date(retired["Last-Modified"]) > parse_http_date(first["Last-Modified"])


def test_article_page_shows_numbered_citations_references_and_disclaimers(client, editor):
    topic = TopicFactory(slug="exosome-therapy", name="Exosome therapy")
    DisclaimerFactory(title="Not medical advice")
    fda = DisclaimerFactory(title="Experimental, not FDA-approved", scope=Disclaimer.Scope.TOPICS)
    fda.topics.set([topic])
    DisclaimerFactory(title="Other topic warning", scope=Disclaimer.Scope.TOPICS).topics.set([TopicFactory()])
    DisclaimerFactory(title="Retired disclaimer", is_active=False)
    first, second = ReferenceFactory(doi="10.1000/first", pmid="123"), ReferenceFactory()
    article = ArticleFactory(
        body=f"<p>Second cited first [@{second.citation_key}]. "
        f"Then [@{first.citation_key}; @{second.citation_key}].</p>",
        topics=[topic],
    )
    publish_reviewed(article, editor=editor)

    page = client.get(reverse("articles:article_detail", args=[article.slug])).content.decode()

    assert '<a href="#ref-1" aria-label="Reference 1">1</a>' in page
    assert page.index(second.title) < page.index(first.title)  # numbered in order of first citation
    assert 'href="https://doi.org/10.1000/first"' in page
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/123/"' in page
    assert 'href="#cite-1"' in page  # back from the reference to its first citation
    assert "Experimental, not FDA-approved" in page
    assert page.index("Experimental, not FDA-approved") < page.index("Second cited first")
    assert "Not medical advice" in page
    assert "Other topic warning" not in page
    assert "Retired disclaimer" not in page


def test_working_copy_edits_do_not_reach_patients_until_published_again(client, editor):
    article = published_article(editor)
    article.title = "An unreviewed new title"
    article.save()
    page = client.get(article.get_absolute_url()).content.decode()
    assert "An unreviewed new title" not in page


def test_unpublished_and_draft_articles_are_not_found(client, editor):
    draft = ArticleFactory()
    assert client.get(reverse("articles:article_detail", args=[draft.slug])).status_code == 404
    live = published_article(editor)
    workflow.unpublish(live, by=editor, reason="Outdated")
    assert client.get(reverse("articles:article_detail", args=[live.slug])).status_code == 404


def test_mandatory_disclaimer_shows_at_once_on_live_pages(client, editor):
    article = published_article(editor)
    DisclaimerFactory(title="A brand new site-wide warning")
    assert "A brand new site-wide warning" in client.get(article.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/articles/no-such-article/",
        "/articles/no-such-article/leaflet.pdf",
        "/topics/no-such-topic/",
        "/people/nobody/",
        "/articles/%00/",
        "/articles/?page=999",
        "/articles/?page=abc",
    ],
)
def test_bad_urls_get_404_not_500(client, url):
    assert client.get(url).status_code == 404


def test_home_list_and_topic_pages(client, editor, django_assert_max_num_queries):
    topic = TopicFactory(name="Hair loss", slug="hair-loss")
    article = published_article(editor, topics=[topic])
    ArticleFactory(title="Draft only")
    for url in ["/", "/articles/", topic.get_absolute_url()]:
        with django_assert_max_num_queries(4):
            page = client.get(url).content.decode()
        assert article.title in page
        assert "Draft only" not in page


def test_article_list_paginates(client, editor):
    for _ in range(13):
        published_article(editor, references=1)
    first = client.get("/articles/").content.decode()
    assert "Page 1 of 2" in first
    assert 'rel="next"' in first
    assert client.get("/articles/?page=2").status_code == 200


def test_staff_bio_page(client, editor):
    article = published_article(editor)
    profile = article.author.staff_profile
    page = client.get(profile.get_absolute_url()).content.decode()
    assert profile.display_name in page
    assert article.title in page


@pytest.mark.parametrize("articles", [1, ARTICLES_ON_BIO + 2])
def test_a_staff_bio_page_lists_the_newest_articles_in_a_fixed_number_of_queries(
    client, editor, reviewer, writer, articles, django_assert_num_queries
):
    published = [published_article(editor, author=writer, reviewer=reviewer) for _ in range(articles)]
    for person in (writer, reviewer):
        with django_assert_num_queries(BIO_PAGE_QUERIES):
            page = client.get(person.staff_profile.get_absolute_url()).content.decode()
        assert page.count('class="card"') == min(articles, ARTICLES_ON_BIO)
        assert published[-1].title in page  # the newest first
        if articles > ARTICLES_ON_BIO:
            assert f"More than {ARTICLES_ON_BIO} articles; here are the newest." in page
            assert published[0].title not in page


# --- Topic pages list what was published under the topic -------------------------------------------------


def test_topic_pages_list_the_topics_an_article_was_published_under(client):
    old_topic, new_topic = TopicFactory(name="Old topic"), TopicFactory(name="New topic")
    article = live_article(title="Moving article", topics=[old_topic])
    article.topics.set([new_topic])  # an unpublished change of the working copy
    assert "Moving article" in client.get(old_topic.get_absolute_url()).content.decode()
    assert "Moving article" not in client.get(new_topic.get_absolute_url()).content.decode()


def test_home_shows_featured_newest_and_topics(client):
    featured = live_article(title="The featured one", is_featured=True)
    live_article(title="A newer one")
    page = client.get("/").content.decode()
    assert page.index("The featured one") < page.index("A newer one")
    assert featured.topics.first().name in page


# --- The article page: Open Graph, prompt -----------------------------------------


def test_article_page_has_canonical_and_open_graph_from_site_url(client, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "other.example"]
    article = live_article()
    page = client.get(article.get_absolute_url(), HTTP_HOST="other.example").content.decode()
    url = settings.SITE_URL + article.get_absolute_url()
    assert f'<link rel="canonical" href="{url}">' in page
    assert f'<meta property="og:url" content="{url}">' in page
    assert f'<meta property="og:title" content="{article.live_snapshot.title}">' in page
    assert f'<meta name="description" content="{article.live_snapshot.summary}">' in page


def test_article_page_prompts_a_talk_with_a_clinician(client, settings):
    settings.CLINIC = {**settings.CLINIC, "booking_url": "https://book.clinic.example/"}
    page = client.get(live_article().get_absolute_url()).content.decode()
    assert "Talk with a clinician" in page
    assert 'href="https://book.clinic.example/"' in page


# --- robots.txt --------------------------------------------------------------------------------


def test_robots_txt(client, settings):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "Disallow: /admin/" in text
    assert "Disallow: /review/" in text
    assert f"Sitemap: {settings.SITE_URL}/sitemap.xml" in text


# --- Caching: conditional GET and a Cache-Control a shared cache may honour ---------------------------------


@pytest.mark.parametrize("url_name", ["home", "article_list", "article"])
def test_public_pages_answer_a_repeat_visit_with_304(client, url_name):
    article = live_article()
    url = article.get_absolute_url() if url_name == "article" else reverse(f"articles:{url_name}")
    first = client.get(url)
    assert first.status_code == 200
    assert first["ETag"]
    assert "public" in first["Cache-Control"]
    assert "s-maxage=" in first["Cache-Control"]
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


STAFF_AREAS = ("review/", "staff/")
# Public addresses that are no page: never cached, tested in their own files.
NOT_PAGES = {
    "feedback": "takes patients' posts, answered no-store (tests/test_feedback.py)",
    "favicon": "a permanent redirect to the icon file (tests/test_site_icons.py)",
    "reach_beacon": "the article page's image that counts a reading, answered no-store (tests/test_reach.py)",
}


def public_urls() -> dict[str, str]:
    """Return a URL of every public page of the URL conf, by name, with a live article to show."""
    from articles import urls

    topic = TopicFactory(slug="skin")
    article = live_article(topics=[topic])
    addresses = {
        "home": reverse("articles:home"),
        "article_list": reverse("articles:article_list"),
        "article_detail": article.get_absolute_url(),
        "topic_detail": topic.get_absolute_url(),
        "staff_bio": article.author.staff_profile.get_absolute_url(),
        "search": reverse("articles:search") + "?q=exosomes",
        "page": Page.objects.get(slug="privacy-policy").get_absolute_url(),
        "feed_rss": reverse("articles:feed_rss"),
        "feed_atom": reverse("articles:feed_atom"),
        "topic_feed_rss": reverse("articles:topic_feed_rss", args=["skin"]),
        "topic_feed_atom": reverse("articles:topic_feed_atom", args=["skin"]),
        "sitemap": reverse("articles:sitemap"),
        "robots_txt": reverse("articles:robots_txt"),
        "article_leaflet": reverse("articles:article_leaflet", args=[article.slug]),
        "correction_list": reverse("articles:correction_list"),
        "web_app_manifest": reverse("articles:web_app_manifest"),
    }
    public = {entry.name for entry in urls.urlpatterns if not str(entry.pattern).startswith(STAFF_AREAS)}
    public -= set(NOT_PAGES)
    assert set(addresses) == public, "a public page this test does not visit, or one that is gone"
    return addresses


MISSING = [
    "/no-such-page/",  # no pattern: the site's 404 handler
    "/articles/no-such-article/",
    "/articles/no-such-article/leaflet.pdf",
    "/topics/no-such-topic/",
    "/people/nobody/",
    "/about/no-such-policy/",
    "/feeds/topics/no-such-topic.rss",
    "/sitemap.xml?p=99",
    "/corrections/?page=99",
]


def test_every_public_address_may_be_kept_by_a_shared_cache_and_carries_the_security_headers(client, settings):
    addresses = [*public_urls().values(), *MISSING]
    for url in addresses:
        response = client.get(url, secure=True)
        assert response.status_code == (404 if url in MISSING else 200), url
        directives = {part.strip() for part in response["Cache-Control"].split(",")}
        assert directives == {
            "public",
            "max-age=0",
            f"s-maxage={settings.PUBLIC_CACHE_SECONDS}",
            f"stale-while-revalidate={settings.PUBLIC_CACHE_SECONDS}",
        }, url
        assert response["Content-Security-Policy"], url
        assert response["Strict-Transport-Security"].startswith("max-age="), url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin", url
        assert response["X-Frame-Options"] == "DENY", url


def test_a_404_built_for_a_staff_member_is_not_kept_by_a_shared_cache(client, reviewer):
    client.force_login(reviewer)
    staff_pages = ["/review/no-such-page/", "/staff/two-factor/no-such-step/", "/admin/no-such-page/"]
    for url in [*staff_pages, reverse("articles:review_article", args=[999_999])]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "public" not in response.get("Cache-Control", ""), url


def test_article_page_has_last_modified_and_a_new_disclaimer_changes_it(client):
    from tests.factories import DisclaimerFactory

    article = live_article()
    first = client.get(article.get_absolute_url())
    assert client.get(article.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    DisclaimerFactory(title="A new warning for everyone")
    changed = client.get(article.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert "A new warning for everyone" in changed.content.decode()


def test_staff_pages_are_not_publicly_cacheable(client, reviewer):
    client.force_login(reviewer)
    response = client.get(reverse("articles:review_queue"))
    assert "public" not in response.get("Cache-Control", "")


# --- Links in what staff write ------------------------------------------------------------------------------

HOSTILE_LINKS = "".join(f'<p><a href="{escape(href)}">Link {n}</a></p>' for n, href in enumerate(LEAVE_THE_SITE))


def article_body_page(client) -> str:
    reference = ReferenceFactory()
    article = live_article(body=f"{HOSTILE_LINKS}<p>In mice, wounds closed faster [@{reference.citation_key}].</p>")
    return client.get(article.get_absolute_url()).content.decode()


def disclaimer_page(client) -> str:
    DisclaimerFactory(title="Not medical advice", text=HOSTILE_LINKS)
    return client.get(live_article().get_absolute_url()).content.decode()


def staff_bio_page(client) -> str:
    profile = UserFactory(profile__bio=HOSTILE_LINKS).staff_profile
    return client.get(profile.get_absolute_url()).content.decode()


def policy_page(client) -> str:
    page = Page.objects.get(slug="privacy-policy")
    page.body = HOSTILE_LINKS
    page.save()
    return client.get(page.get_absolute_url()).content.decode()


@pytest.mark.parametrize("page", [article_body_page, disclaimer_page, staff_bio_page, policy_page])
def test_every_link_in_staff_text_that_leaves_the_site_is_marked_external(client, settings, page):
    settings.SITE_URL = "https://clinic.example"
    links = links_in(page(client))
    for number, href in enumerate(LEAVE_THE_SITE):
        assert links[f"Link {number}"].get("rel") == EXTERNAL_LINK_REL, href


def test_reference_links_go_through_the_same_policy(client):
    reference = ReferenceFactory(pmcid="")
    Reference.objects.filter(pk=reference.pk).update(open_access_pdf="javascript:alert(1)")  # past the URL check
    reference.refresh_from_db()
    links = links_in(client.get(live_article(reference=reference).get_absolute_url()).content.decode())
    assert links["Free full text (PDF)"] == {}
    assert links[f"PubMed {reference.pmid}"]["rel"] == EXTERNAL_LINK_REL
    assert links[f"doi:{reference.doi}"]["rel"] == EXTERNAL_LINK_REL


# --- Policy pages ---------------------------------------------------------------------------------------------


def test_policy_pages_exist_and_every_page_links_them(client):
    for slug in ("editorial-policy", "corrections-policy", "privacy-policy"):
        page = Page.objects.get(slug=slug)
        assert client.get(page.get_absolute_url()).status_code == 200
    home = client.get("/").content.decode()
    assert 'href="/about/editorial-policy/"' in home
    assert 'href="/about/corrections-policy/"' in home
    assert 'href="/about/privacy-policy/"' in home


def test_editors_edit_policy_pages_and_their_text_is_sanitized(client, editor):
    page = Page.objects.get(slug="privacy-policy")
    client.force_login(editor)
    response = client.post(
        reverse("admin:articles_page_change", args=[page.pk]),
        {
            "title": "Privacy policy",
            "slug": "privacy-policy",
            "language": "en",
            "body": "<p>New text.</p><script>x()</script>",
            "show_in_footer": "on",
            "position": 2,
        },
    )
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.body == "<p>New text.</p>"


@pytest.mark.parametrize("role", ["writer", "reviewer"])
def test_writers_and_reviewers_cannot_edit_policy_pages(client, request, role):
    page = Page.objects.get(slug="privacy-policy")
    client.force_login(request.getfixturevalue(role))
    url = reverse("admin:articles_page_change", args=[page.pk])
    assert (
        client.post(url, {"title": "Hacked", "slug": "privacy-policy", "body": "x", "position": 0}).status_code == 403
    )


def test_only_editors_feature_articles(client, writer, editor):
    article = ArticleFactory(author=writer)
    client.force_login(writer)
    client.post(reverse("admin:articles_article_change", args=[article.pk]), admin_form_data(article, is_featured="on"))
    article.refresh_from_db()
    assert not article.is_featured
    client.force_login(editor)
    client.post(reverse("admin:articles_article_change", args=[article.pk]), admin_form_data(article, is_featured="on"))
    article.refresh_from_db()
    assert article.is_featured


# --- Errors ---------------------------------------------------------------------------------------------------


def test_404_page_is_friendly(client):
    response = client.get("/articles/no-such-article/")
    assert response.status_code == 404
    assert "We cannot find that page" in response.content.decode()


def test_an_archived_article_answers_410_and_an_unpublished_one_404(client, editor):
    archived = live_article(title="Old news")
    workflow.archive(archived, by=editor, reason="Replaced")
    slug = archived.snapshots.get().slug
    response = client.get(reverse("articles:article_detail", args=[slug]))
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()
    unpublished = live_article(title="Paused")
    workflow.unpublish(unpublished, by=editor, reason="Checking a study")
    assert client.get(reverse("articles:article_detail", args=[unpublished.slug])).status_code == 404


def test_500_page_is_friendly_and_needs_nothing_from_the_database():
    from django.template import loader

    html = loader.get_template("500.html").render()
    assert "Something went wrong on our side" in html


def test_the_working_copy_of_a_draft_is_never_served(client):
    draft = ArticleFactory(title="Secret draft")
    assert client.get(reverse("articles:article_detail", args=[draft.slug])).status_code == 404
    assert Article.objects.live().count() == 0


def test_css_is_small_and_served_with_a_hashed_name_and_far_future_caching(client):
    from django.templatetags.static import static

    url = static("articles/site.css")
    assert re.search(r"site\.[0-9a-f]{12}\.css$", url), url  # hashed by the manifest storage
    response = client.get(url)
    assert response.status_code == 200
    assert "max-age=315360000" in response["Cache-Control"]
    assert "immutable" in response["Cache-Control"]
    assert len(b"".join(response.streaming_content)) < 16_000
    page = client.get("/").content.decode()
    assert "https://" not in re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)[0]  # served by the app


@pytest.mark.parametrize("slug", ["no-such-page", "privacy-policy-", "x" * 300])
def test_unknown_policy_pages_are_404(client, slug):
    assert client.get(f"/about/{slug}/").status_code == 404


def test_the_admin_preview_of_an_unknown_article_is_404(client, editor):
    client.force_login(editor)
    assert client.get("/admin/articles/article/999999/preview/").status_code == 404


@pytest.mark.parametrize("phrase", ["-", "   ", "<b></b>", "\u2013"])
def test_a_red_flag_phrase_needs_a_word(client, editor, phrase):
    from articles.models import RedFlagPhrase

    client.force_login(editor)
    before = RedFlagPhrase.objects.count()
    response = client.post(
        reverse("admin:articles_redflagphrase_add"), {"phrase": phrase, "why": "x", "instead": "y", "is_active": "on"}
    )
    assert response.status_code == 200  # the form again, with the error
    assert RedFlagPhrase.objects.count() == before


def test_a_phrase_without_words_matches_nothing():
    from articles import claims

    assert claims.red_flags("Any text at all.", [claims.RedFlag("-", "x", "y")]) == []


KEY_POINTS_BODY = "".join(
    f"<h2>Section {name}</h2><p>Claim about {name} [@{{key}}].</p>" for name in ("one", "two", "three")
)


def test_the_article_page_shows_the_labelled_key_points_and_on_this_page_in_fixed_queries(
    client, editor, django_assert_num_queries
):
    reference = ReferenceFactory()
    article = ArticleFactory(
        key_points=f"<ul><li>In mice, wounds closed faster [@{reference.citation_key}].</li></ul>",
        body=KEY_POINTS_BODY.replace("{key}", reference.citation_key),
        topics=[TopicFactory()],
    )
    publish_reviewed(article, editor=editor, level="E")
    article.refresh_from_db()

    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):  # the key points and contents are in the snapshot
        page = client.get(article.get_absolute_url()).content.decode()

    box = page[page.index('<section class="key-points"') : page.index("</section>", page.index('class="key-points"'))]
    assert '<h2 id="key-points-heading">Key points</h2>' in box
    assert 'href="#ref-1"' in box
    assert "Animal study" in box
    contents = page[page.index('<nav class="on-this-page"') :]
    for name in ("one", "two", "three"):
        assert f'<li><a href="#section-section-{name}">Section {name}</a></li>' in contents
        assert f'<h2 id="section-section-{name}">Section {name}</h2>' in page
    assert page.index('class="key-points"') < page.index('class="on-this-page"') < page.index('class="prose"')


def test_an_article_without_key_points_or_three_sections_shows_neither(client, editor):
    article = published_article(editor)
    page = client.get(article.get_absolute_url()).content.decode()
    assert 'class="key-points"' not in page
    assert 'class="on-this-page"' not in page
