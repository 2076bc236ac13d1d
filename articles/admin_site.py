"""The admin site: each person's own work on the index page, and the read-only records set apart."""

from collections import defaultdict

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils.http import urlencode

from articles import permissions, workflow
from articles.desk import QueueSection
from articles.edge import outbox
from articles.forms import StaffLoginForm
from articles.models import (
    Article,
    AuditEvent,
    ChangeRequest,
    FindingJustification,
    PublishedSnapshot,
    RetractionAcknowledgement,
    ReviewSignOff,
    StatementApproval,
)

# Written only by the workflow and never changed: looked up now and then, not worked in.
RECORD_MODELS = frozenset(
    {
        PublishedSnapshot,
        StatementApproval,
        ChangeRequest,
        ReviewSignOff,
        FindingJustification,
        RetractionAcknowledgement,
        AuditEvent,
    }
)
RECORDS_TITLE = "Records (read only)"
DESK_ROWS = 10  # per list on the index; its heading counts them all
NOT_A_FILTER = "This list has no filter {names}: showing the whole list. Use the filters beside it."
NUL_IN_FILTER = "A filter value cannot contain a NUL character: showing the whole list."
DATE_OUT_OF_RANGE = "That date is out of range: showing the whole list."


def _changelist(**filters) -> str:
    return f"{reverse('admin:articles_article_changelist')}?{urlencode(filters)}"


def own_work(user) -> list[QueueSection]:
    """Return the lists of a writer's own articles, those sent back with the reviewer's open comments."""
    mine = Article.objects.written_by(user).select_related(None).defer("summary", "body")
    Status = Article.Status
    sections = [
        QueueSection.of(
            mine.drafts().order_by("-updated_at", "-pk"),
            DESK_ROWS,
            title="Your drafts",
            empty="No drafts.",
            date_label="Last saved",
            more_url=_changelist(status__exact=Status.DRAFT),
        ),
        QueueSection.of(
            mine.changes_requested().order_by("updated_at", "pk"),
            DESK_ROWS,
            title="Changes requested",
            empty="No article is waiting for your changes.",
            date_label="Sent back",
            more_url=_changelist(status__exact=Status.CHANGES_REQUESTED),
        ),
        QueueSection.of(
            (mine.in_review() | mine.signed_off()).order_by("updated_at", "pk"),
            DESK_ROWS,
            title="In review or signed off",
            empty="Nothing of yours is with the reviewers or editors.",
            date_label="Since",
        ),
        QueueSection.of(
            mine.scheduled().order_by("scheduled_for", "pk"),
            DESK_ROWS,
            title="Scheduled",
            empty="Nothing of yours is scheduled.",
            date_label="Publishes at",
            date_field="scheduled_for",
        ),
        QueueSection.of(
            mine.review_overdue().select_related(None).order_by("live_review_due", "pk"),
            DESK_ROWS,
            title="Live, due for re-review",
            empty="None of your live articles is due for re-review.",
            date_label="Review was due",
            date_field="live_review_due",
        ),
    ]
    sent_back = sections[1].rows
    comments = defaultdict(list)
    for change_request in ChangeRequest.objects.filter(article__in=sent_back).open() if sent_back else []:
        comments[change_request.article_id].append(change_request)
    for article in sent_back:
        article.open_change_requests = comments[article.pk]
    return sections


def publishing_work() -> list[QueueSection]:
    """Return what waits for an editor, sorted by the gate (workflow.publishing_queue): an article is listed
    as ready only if publishing would go ahead; the others say what stops them."""
    articles = Article.objects.select_related("author__staff_profile", "live_snapshot")
    signed_off = QueueSection.of(
        articles.signed_off().order_by("updated_at", "pk"),
        DESK_ROWS,
        title="Signed off, ready to publish",
        empty="Nothing is waiting for an editor.",
        date_label="Signed off",
        more_url=_changelist(status__exact=Article.Status.SIGNED_OFF),
    )
    scheduled = QueueSection.of(
        articles.scheduled().order_by("scheduled_for", "pk"),
        DESK_ROWS,
        title="Scheduled",
        empty="Nothing is scheduled.",
        date_label="Publishes at",
        date_field="scheduled_for",
        more_url=_changelist(status__exact=Article.Status.SCHEDULED),
    )
    gate = workflow.publishing_queue(signed_off.rows + scheduled.rows)
    held = gate.reapproval + gate.blocked
    sections = [signed_off.without(held), scheduled.without(held)]
    if held:
        sections.insert(
            0,
            QueueSection(held, len(held), title="Signed off, but publishing is blocked", date_label="Last change"),
        )
    return sections


def review_counts() -> dict[str, int]:
    """Return how many articles wait on the review desk, for the link to it."""
    return {
        "in_review": Article.objects.in_review().count(),
        "review_overdue": Article.objects.review_overdue().count(),
    }


class DeclaredFiltersChangeList(ChangeList):
    """A change list that filters by its declared list filters and date hierarchy, and nothing else.

    Django lets a query string filter by any lookup on a model's own fields, and a bad pattern or value
    (`?title__regex=(`) reached PostgreSQL and answered with a server error. Staff filter with the filters
    beside the list; anything else in the query string is refused like any wrong parameter: Django shows the
    whole list again, and a message says why.
    """

    def get_filters(self, request):
        asked = self.get_filters_params()
        if any("\x00" in value for values in asked.values() for value in values):
            raise self._refused(request, NUL_IN_FILTER)  # PostgreSQL text holds no NUL: nothing could match
        try:
            filters = super().get_filters(request)
        except OverflowError:  # a date hierarchy year beyond any date
            raise self._refused(request, DATE_OUT_OF_RANGE) from None
        # What no filter took is left among the lookups, under the name it was asked by.
        undeclared = sorted(set(filters[2]) & set(asked))
        if undeclared:
            raise self._refused(request, NOT_A_FILTER.format(names=", ".join(undeclared)))
        return filters

    @staticmethod
    def _refused(request, message: str) -> IncorrectLookupParameters:
        messages.error(request, message)
        return IncorrectLookupParameters(message)


class DeclaredFiltersOnly:
    """Give a ModelAdmin the DeclaredFiltersChangeList; a change list of its own must extend that class."""

    def get_changelist(self, request, **kwargs):
        changelist = super().get_changelist(request, **kwargs)
        if changelist is ChangeList:
            return DeclaredFiltersChangeList
        if not issubclass(changelist, DeclaredFiltersChangeList):
            raise ImproperlyConfigured(f"{changelist.__name__} must extend DeclaredFiltersChangeList.")
        return changelist


class ClinicAdminSite(admin.AdminSite):
    """Django's admin site, whose index starts with the work of the person logged in."""

    login_form = StaffLoginForm

    def register(self, model_or_iterable, admin_class=None, **options):
        """Register as Django does, every admin (django-axes' and django-otp's too) with DeclaredFiltersOnly."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, DeclaredFiltersOnly):
            admin_class = type(admin_class.__name__, (DeclaredFiltersOnly, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)

    def get_app_list(self, request, app_label=None):
        # The records go in a group of their own, after everything else (on the index and in the sidebar).
        app_list = super().get_app_list(request, app_label)
        for app in list(app_list):
            records = [model for model in app["models"] if model["model"] in RECORD_MODELS]
            if records:
                app["models"] = [model for model in app["models"] if model["model"] not in RECORD_MODELS]
                app_list.append({**app, "name": RECORDS_TITLE, "models": records, "records": True})
                if not app["models"]:
                    app_list.remove(app)
        return app_list

    def index(self, request, extra_context=None):
        user = request.user
        app_list = self.get_app_list(request)
        own = own_work(user) if permissions.can_edit(user) else []
        context = {
            "app_list": [app for app in app_list if not app.get("records")],
            "record_list": [app for app in app_list if app.get("records")],
            "can_write": bool(own),
            "own_work": own if any(section.count for section in own) else [],
            "publishing_work": publishing_work() if permissions.can_publish(user) else [],
            "review_counts": review_counts() if permissions.can_review(user) else None,
            "failing_purges": outbox.failing().count() if permissions.can_see_edge_purges(user) else 0,
            **(extra_context or {}),
        }
        return super().index(request, extra_context=context)
