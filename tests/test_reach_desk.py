"""The reach dashboard on the review desk (articles/reach_desk.py) and its chart (articles/reach_chart.py)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from articles import reach_chart, reach_desk, workflow
from articles.models import Article, ArticleDailyViews, PageFeedback, ProblemReport
from tests.factories import ArticleFactory, UserFactory, live_article

pytestmark = pytest.mark.django_db

URL = reverse("articles:review_reach")
DAY = datetime.timedelta(days=1)
# Session, user, second factor (2), permissions (2); the chart; the rows counted, a page of them; the navbar's name.
DASHBOARD_QUERIES = 10


def due_in(article: Article, days: int) -> None:
    """Set when the live article's review is due, `days` from today (negative: overdue)."""
    with workflow.gate():
        Article.objects.filter(pk=article.pk).update(live_review_due=timezone.localdate() + days * DAY)


def read(article: Article, views: int, days_ago: int = 0) -> None:
    ArticleDailyViews.objects.create(article=article, day=timezone.localdate() - days_ago * DAY, views=views)


@pytest.fixture
def site(db):
    """Three live articles: a popular one due in a year, a quiet overdue one, a fairly read one due soon."""
    popular = live_article(title="Popular but not due")
    overdue = live_article(title="Quiet and overdue")
    soon = live_article(title="Read and due soon")
    due_in(popular, 300)
    due_in(overdue, -12)
    due_in(soon, 10)
    read(popular, 500, days_ago=1)
    read(popular, 100, days_ago=20)
    read(overdue, 3, days_ago=2)
    read(soon, 40, days_ago=3)
    read(soon, 20, days_ago=8)
    read(soon, 999, days_ago=30)  # outside the 30 days
    PageFeedback.objects.create(article=soon, helpful=True)
    PageFeedback.objects.create(article=soon, helpful=False)
    PageFeedback.objects.create(article=soon, helpful=False)
    ProblemReport.objects.create(article=overdue, kind="out_of_date", description="Old.")
    return {"popular": popular, "overdue": overdue, "soon": soon}


def titles(response) -> list[str]:
    return [row.live_snapshot.title for row in response.context["page_obj"].object_list]


def test_an_editor_sees_each_articles_counts(client, editor, site):
    client.force_login(editor)
    response = client.get(URL)
    assert response.status_code == 200
    rows = {row.live_snapshot.title: row for row in response.context["page_obj"].object_list}
    soon = rows["Read and due soon"]
    assert (soon.views_7, soon.views_30, soon.helpful, soon.not_helpful, soon.open_reports) == (40, 60, 1, 2, 0)
    assert soon.due_words == "in 10 days"
    overdue = rows["Quiet and overdue"]
    assert (overdue.views_30, overdue.open_reports) == (3, 1)
    assert (overdue.due_words, overdue.due_passed) == ("12 days ago", True)
    assert (rows["Popular but not due"].views_7, rows["Popular but not due"].views_30) == (500, 600)
    body = response.content.decode()
    assert "Daily views of the whole site" in body
    assert 'href="/review/reach/"' in body  # the desk's navigation links here


def test_the_default_order_puts_re_reviews_where_most_patients_read_first(client, editor, site):
    client.force_login(editor)
    # Due soon or overdue first, the most read among them first; then the others.
    assert titles(client.get(URL)) == ["Read and due soon", "Quiet and overdue", "Popular but not due"]


@pytest.mark.parametrize(
    ("sort", "expected", "aria_sort"),
    [
        ("views_30", ["Popular but not due", "Read and due soon", "Quiet and overdue"], "descending"),
        ("-views_30", ["Quiet and overdue", "Read and due soon", "Popular but not due"], "ascending"),
        ("views_7", ["Popular but not due", "Read and due soon", "Quiet and overdue"], "descending"),
        ("not_helpful", ["Read and due soon", "Popular but not due", "Quiet and overdue"], "descending"),
        ("reports", ["Quiet and overdue", "Popular but not due", "Read and due soon"], "descending"),
        ("due", ["Quiet and overdue", "Read and due soon", "Popular but not due"], "ascending"),
        ("-due", ["Popular but not due", "Read and due soon", "Quiet and overdue"], "descending"),
        ("title", ["Popular but not due", "Quiet and overdue", "Read and due soon"], "ascending"),
    ],
)
def test_every_column_sorts_both_ways_with_aria_sort_on_its_header(client, editor, site, sort, expected, aria_sort):
    client.force_login(editor)
    response = client.get(URL, {"sort": sort})
    assert titles(response)[: len(expected)] == expected
    body = response.content.decode()
    sorted_headers = re.findall(r'<th scope="col"[^>]*aria-sort="(\w+)"', body)
    assert sorted_headers == [aria_sort]
    # The sorted column's link turns the order round; the others sort by themselves.
    column = sort.removeprefix("-")
    turned = column if sort.startswith("-") else f"-{column}"
    assert f'href="?sort={turned}"' in body


def test_a_row_links_to_its_articles_chart(client, editor, site):
    client.force_login(editor)
    soon = site["soon"]
    response = client.get(URL, {"article": soon.pk, "days": "90"})
    assert response.status_code == 200
    chart = response.context["chart"]
    assert chart.title == "Daily views of “Read and due soon”"
    assert len(chart.bars) == 90
    assert sum(bar.views for bar in chart.bars) == 40 + 20 + 999
    assert response.context["chosen"] == soon
    body = response.content.decode()
    assert '<svg viewBox="0 0 720 240" role="img" aria-labelledby="chart-title chart-desc"' in body
    assert "The numbers behind the chart" in body


def test_the_site_chart_adds_up_every_article(client, editor, site):
    client.force_login(editor)
    chart = client.get(URL).context["chart"]
    assert len(chart.bars) == 30
    assert sum(bar.views for bar in chart.bars) == 500 + 100 + 3 + 40 + 20  # 30 days ago is outside the 30 days
    assert chart.bars[-1].day == timezone.localdate()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"sort": "password"}, "There is no column “password” to sort by"),
        ({"sort": "--views_30"}, "There is no column"),
        ({"article": "abc"}, "No live article has the number “abc”"),
        ({"article": "9" * 40}, "No live article has the number"),
        ({"article": "-1"}, "No live article has the number"),
        ({"days": "7"}, "The chart covers 30 or 90 days"),
        ({"days": "<b>"}, "The chart covers 30 or 90 days"),
        ({"page": "x"}, ""),
        ({"page": "99999999999999999999999"}, ""),
    ],
)
def test_malformed_parameters_get_a_message_and_the_default_never_an_error(client, editor, site, query, message):
    client.force_login(editor)
    response = client.get(URL, query)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert len(titles(response)) == 3


def test_an_article_that_is_not_live_is_not_charted(client, editor, site):
    client.force_login(editor)
    response = client.get(URL, {"article": ArticleFactory().pk})
    assert "No live article has the number" in response.content.decode()


@pytest.mark.parametrize("size", [2, 7])
def test_the_query_count_does_not_grow_with_the_articles(client, editor, size, django_assert_num_queries):
    for n in range(size):
        article = live_article(title=f"Article {n}")
        read(article, n + 1)
        PageFeedback.objects.create(article=article, helpful=bool(n % 2))
        ProblemReport.objects.create(article=article, kind="other", description="?")
    client.force_login(editor)
    chosen = Article.objects.live().first()
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = client.get(URL, {"sort": "views_30"})
    assert len(titles(response)) == size
    with django_assert_num_queries(DASHBOARD_QUERIES + 1):  # the chosen article
        client.get(URL, {"article": chosen.pk})


def test_rows_come_a_page_at_a_time(client, editor, monkeypatch, site):
    monkeypatch.setattr(reach_desk, "ROWS_PER_PAGE", 2)
    client.force_login(editor)
    first = client.get(URL)
    assert len(titles(first)) == 2
    assert 'href="?page=2">Next page</a>' in first.content.decode()
    assert titles(client.get(URL, {"page": "2"})) == ["Popular but not due"]


# --- Who may see it: pairs ---------------------------------------------------------------------------------


def test_an_editor_may_see_reach(client, editor):
    client.force_login(editor)
    assert client.get(URL).status_code == 200


def test_a_reviewer_may_see_reach(client, reviewer):
    client.force_login(reviewer)
    assert client.get(URL).status_code == 200


def test_a_writer_may_not_see_reach_nor_is_offered_the_link(client, writer):
    client.force_login(writer)
    assert client.get(URL).status_code == 403


def test_staff_without_the_permission_may_not(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(URL).status_code == 403


def test_a_patient_is_sent_to_log_in(client, patient):
    assert client.get(URL).status_code == 302
    client.force_login(patient)
    assert client.get(URL).status_code == 403


def test_the_desk_links_to_reach_only_for_those_who_may_see_it(client, editor, reviewer, monkeypatch):
    client.force_login(editor)
    assert 'href="/review/reach/"' in client.get(reverse("articles:review_queue")).content.decode()
    monkeypatch.setattr("articles.templatetags.permission_tags.USER_PREDICATES", {"see_reach": lambda user: False})
    assert 'href="/review/reach/"' not in client.get(reverse("articles:review_queue")).content.decode()


def test_the_dashboard_is_never_cached_and_answers_no_post(client, editor):
    client.force_login(editor)
    response = client.get(URL)
    assert "no-store" in response["Cache-Control"]
    assert client.post(URL).status_code == 405


# --- The chart ------------------------------------------------------------------------------------------------


def test_the_chart_scales_to_a_round_top_and_describes_itself():
    today = datetime.date(2026, 12, 4)
    first = today - 29 * DAY
    chart = reach_chart.daily_chart({today: 37, first: 3}, first=first, last=today, title="Views")
    assert [views for _y, views in chart.ticks] == [0, 10, 20, 30, 40]
    assert chart.bars[-1].height == pytest.approx((chart.baseline - reach_chart.TOP) * 37 / 40)
    assert chart.bars[1].height == 0
    assert chart.description == (
        "From 5 November to 4 December 2026: 40 views in all, 1.3 a day on average; "
        "the most in one day was 37, on 4 December."
    )
    assert chart.day_labels[-1][1] == "4 Dec"


def test_an_empty_chart_says_so():
    today = datetime.date(2026, 12, 4)
    chart = reach_chart.daily_chart({}, first=today - 29 * DAY, last=today, title="Views")
    assert chart.description == "From 5 November to 4 December 2026: no views counted."
    assert all(bar.height == 0 for bar in chart.bars)


@pytest.mark.parametrize(("peak", "top"), [(0, 4), (1, 4), (4, 4), (5, 8), (9, 20), (21, 40), (41, 80), (81, 200)])
def test_round_tops(peak, top):
    assert reach_chart.round_up(peak) == top


def test_the_demo_gives_the_dashboard_a_history(client, editor, settings):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    live = Article.objects.live().count()
    assert ArticleDailyViews.objects.count() == live * 90
    call_command("seed_demo", verbosity=0)
    assert ArticleDailyViews.objects.count() == live * 90  # nothing added twice
    client.force_login(editor)
    response = client.get(URL)
    assert all(row.views_30 > 0 for row in response.context["page_obj"].object_list)
    assert sum(bar.views for bar in response.context["chart"].bars) > 0
