import pytest
from django.urls import reverse

from articles import workflow
from articles.models import Disclaimer
from articles.views import ARTICLES_ON_BIO
from tests.factories import ArticleFactory, DisclaimerFactory, ReferenceFactory, TopicFactory, publish_reviewed

pytestmark = pytest.mark.django_db

ARTICLE_PAGE_QUERIES = 3  # the article with its snapshot; the disclaimers that apply; the footer pages
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
