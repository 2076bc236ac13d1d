"""The reach dashboard on the review desk: how many patients read each live article, so re-review goes first
where the most patients read.

One row per live article: views in the last 7 and 30 days, "Was this page helpful?" answers, open problem
reports, and the days until (or since) its review was due; sortable by each column through plain links. A bar
chart of daily views (the whole site, or one article) is drawn on the server. The page costs the same number
of queries however many articles there are: every count is a subquery of the one query of the rows.
"""

import datetime
from dataclasses import dataclass

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Lower
from django.http import QueryDict
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from articles import permissions, reach_chart
from articles.models import Article, ArticleDailyViews, PageFeedback, ProblemReport

ROWS_PER_PAGE = 50
CHART_DAYS = (30, 90)
DUE_SOON_DAYS = 30  # an article due for review within this many days (or overdue) is listed first by default

UNKNOWN_SORT = "There is no column “{value}” to sort by: the table is in the default order."
UNKNOWN_ARTICLE = "No live article has the number “{value}”: the chart shows the whole site."
UNKNOWN_DAYS = "The chart covers 30 or 90 days: it shows {days}."


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    order_by: str  # the annotation or field sorted on
    most_first: bool  # the first click sorts descending (counts) or ascending (names, dates)


COLUMNS = [
    Column("title", "Article", "title_key", most_first=False),
    Column("views_7", "Views, 7 days", "views_7", most_first=True),
    Column("views_30", "Views, 30 days", "views_30", most_first=True),
    Column("helpful", "Helpful", "helpful", most_first=True),
    Column("not_helpful", "Not helpful", "not_helpful", most_first=True),
    Column("reports", "Open reports", "open_reports", most_first=True),
    Column("due", "Review due", "live_review_due", most_first=False),
]
COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}


def count_of(queryset, total=None):
    """Return a subquery of how many rows of `queryset` (filtered by OuterRef) each article has, 0 if none."""
    per_article = queryset.order_by().values("article").annotate(n=total or Count("pk")).values("n")
    return Coalesce(Subquery(per_article, output_field=IntegerField()), Value(0))


def reach_rows(today: datetime.date):
    """Return the live articles with their views, answers, open reports and review-due urgency, unsorted."""
    views = ArticleDailyViews.objects.filter(article=OuterRef("pk"))
    answers = PageFeedback.objects.filter(article=OuterRef("pk"))
    return (
        Article.objects.live()
        .only("title", "live_review_due", "live_snapshot__title", "live_snapshot__slug")
        .annotate(
            title_key=Lower("live_snapshot__title"),
            views_7=count_of(views.filter(day__gt=today - datetime.timedelta(days=7)), Sum("views")),
            views_30=count_of(views.filter(day__gt=today - datetime.timedelta(days=30)), Sum("views")),
            helpful=count_of(answers.filter(helpful=True)),
            not_helpful=count_of(answers.filter(helpful=False)),
            open_reports=count_of(ProblemReport.objects.open().filter(article=OuterRef("pk"))),
            due_soon=Case(
                When(Q(live_review_due__lte=today + datetime.timedelta(days=DUE_SOON_DAYS)), then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
    )


def ordered(rows, sort: str):
    """Sort `rows` by a column key ("views_30"; "-views_30" the other way round), or by the default rule.

    The default: articles overdue or due for review within DUE_SOON_DAYS first, then the rest; within each,
    the most views in 30 days first, then the earliest due.
    """
    if not sort:
        return rows.order_by("due_soon", "-views_30", "live_review_due", "pk")
    column = COLUMNS_BY_KEY[sort.removeprefix("-")]
    key = F(column.order_by)
    descending = column.most_first != sort.startswith("-")
    return rows.order_by(key.desc(nulls_last=True) if descending else key.asc(nulls_last=True), "pk")


def daily_counts(views, first: datetime.date) -> dict[datetime.date, int]:
    """Return the views by day from `first` on, of `views` (rows of ArticleDailyViews): one query."""
    rows = views.since(first).order_by().values("day").annotate(total=Sum("views")).values_list("day", "total")
    return dict(rows)


def due_in_words(due: datetime.date | None, today: datetime.date) -> tuple[str, bool]:
    """Return when the review is due, in words ("in 12 days", "3 days ago", "today"), and whether it is past."""
    if due is None:
        return "not set", False
    days = (due - today).days
    if days == 0:
        return "today", True
    if days > 0:
        return f"in {days} day{'s' if days != 1 else ''}", False
    return f"{-days} day{'s' if days != -1 else ''} ago", True


class ReachView(LoginRequiredMixin, TemplateView):
    """Editors and reviewers: the reach of every live article, and a chart of daily views (GET only)."""

    template_name = "review/reach.html"
    login_url = "admin:login"
    http_method_names = ["get", "head", "options"]

    @method_decorator(never_cache)  # a staff page: no shared cache may keep it
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.can_see_reach(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        notices = []
        sort = self.request.GET.get("sort", "")
        if sort and sort.removeprefix("-") not in COLUMNS_BY_KEY:
            notices.append(UNKNOWN_SORT.format(value=sort[:40]))
            sort = ""
        days = self.request.GET.get("days", str(CHART_DAYS[0]))
        if days not in {str(choice) for choice in CHART_DAYS}:
            notices.append(UNKNOWN_DAYS.format(days=CHART_DAYS[0]))
            days = str(CHART_DAYS[0])
        days = int(days)
        rows = reach_rows(today)
        chosen, views = self.chosen_article(rows, notices), ArticleDailyViews.objects.all()
        if chosen is not None:
            views = views.filter(article=chosen)
        first = today - datetime.timedelta(days=days - 1)
        title = f"Daily views of “{chosen.live_snapshot.title}”" if chosen else "Daily views of the whole site"
        chart = reach_chart.daily_chart(daily_counts(views, first), first=first, last=today, title=title)
        page = Paginator(ordered(rows, sort), ROWS_PER_PAGE).get_page(self.request.GET.get("page"))
        here = {"sort": sort, "article": chosen and chosen.pk, "days": days}
        for row in page.object_list:
            row.due_words, row.due_passed = due_in_words(row.live_review_due, today)
            row.due_soon_or_passed = row.due_soon == 0
            row.chart_query = self.query(sort=sort, article=row.pk, days=days)
        return super().get_context_data(
            page_obj=page,
            headers=self.headers(sort, chosen, days),
            sort=sort,
            days=days,
            chosen=chosen,
            chart=chart,
            notices=notices,
            due_soon_days=DUE_SOON_DAYS,
            day_choices=[
                (choice, self.query(sort=sort, article=chosen and chosen.pk, days=choice)) for choice in CHART_DAYS
            ],
            default_order_query=self.query(article=chosen and chosen.pk, days=days),
            site_query=self.query(sort=sort, days=days),
            previous_query=page.has_previous() and self.query(**here, page=page.previous_page_number()),
            next_query=page.has_next() and self.query(**here, page=page.next_page_number()),
            **kwargs,
        )

    def chosen_article(self, rows, notices: list[str]):
        """Return the live article the chart is about (?article=<id>), or None for the whole site."""
        value = self.request.GET.get("article", "")
        if not value:
            return None
        chosen = rows.filter(pk=int(value)).first() if value.isdigit() and len(value) < 19 else None
        if chosen is None:
            notices.append(UNKNOWN_ARTICLE.format(value=value[:40]))
        return chosen

    def headers(self, sort: str, chosen, days: int) -> list[dict]:
        """Return each column's header: its label, the link that sorts by it, and its aria-sort if sorted."""
        headers = []
        for column in COLUMNS:
            sorted_here = sort.removeprefix("-") == column.key
            descending = sorted_here and column.most_first != sort.startswith("-")
            # A second click on the sorted column turns the order round.
            next_sort = f"-{column.key}" if sorted_here and not sort.startswith("-") else column.key
            headers.append(
                {
                    "label": column.label,
                    "key": column.key,
                    "query": self.query(sort=next_sort, article=chosen and chosen.pk, days=days),
                    "aria_sort": ("descending" if descending else "ascending") if sorted_here else "",
                }
            )
        return headers

    @staticmethod
    def query(**values) -> str:
        """Return a query string of the non-empty `values`, leaving the default chart length out."""
        query = QueryDict(mutable=True)
        for name, value in values.items():
            if value and not (name == "days" and value == CHART_DAYS[0]):
                query[name] = str(value)
        return "?" + query.urlencode() if query else "?"
