"""The patient site, which reads published snapshots only (`Article.objects.live()`), and the review desk,
where every step is a call into `articles.workflow`."""

import functools
import re
import sys
from dataclasses import dataclass, replace

from django import db
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Max
from django.http import Http404, HttpResponse, HttpResponseServerError
from django.shortcuts import get_object_or_404, redirect
from django.template import loader
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control
from django.utils.decorators import method_decorator
from django.utils.http import http_date
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.defaults import page_not_found
from django.views.generic import DetailView, ListView, TemplateView

from articles import page_cache, permissions, search, structured_data, workflow
from articles.diffs import paragraph_diff, word_diff
from articles.forms import (
    AcknowledgeRetractionForm,
    ApproveStatementForm,
    JustifyFindingForm,
    ReasonForm,
    ScheduleForm,
    SearchForm,
    SendBackForm,
    SendBackStatementForm,
    SignOffForm,
    StatementChangesForm,
)
from articles.models import (
    Article,
    ChangeRequest,
    Disclaimer,
    EvidenceStatement,
    Page,
    PublishedSnapshot,
    Reference,
    ReviewSignOff,
    StaffProfile,
    StatementApproval,
    Topic,
)

ARTICLES_PER_PAGE = 12
QUEUE_ROWS = 25  # per section of the review queue: the longest waiting first; the badge counts them all
PUBLISHING_ROWS = 10  # signed-off and scheduled rows shown: each costs the gate's check (about 18 queries)
FEATURED_ON_HOME = 3
NEWEST_ON_HOME = 6
ARTICLES_ON_BIO = 12  # of each list on a staff bio page, the newest; the page says when there are more
DATABASE_RETRY_AFTER_SECONDS = 30


def public_page(view):
    """Serve `view` as a public page: kept by the page cache, and by shared caches (see with_public_caching).

    A missing page is answered like one: a shared cache refreshing an unpublished article's page must be
    able to keep the 404, or it would go on serving the old page.
    """

    @functools.wraps(view)
    def public_view(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404 as missing:
            response = page_not_found(request, missing)
        return with_public_caching(request, response)

    return page_cache.cached_page(public_view)


def with_public_caching(request, response):
    """Let a shared cache (nginx, a CDN) keep a public page for PUBLIC_CACHE_SECONDS; browsers check each visit.

    Only a page, a 404 or a 410 built for no one in particular: a page that read the session stays private.
    ConditionalGetMiddleware answers a browser's check with 304 by the ETag.
    """
    if hasattr(response, "render"):
        response.render()  # first: a template may read the session
    if response.status_code in (200, 404, 410) and page_cache.same_for_everyone(request, response):
        patch_cache_control(
            response,
            public=True,
            max_age=0,
            s_maxage=settings.PUBLIC_CACHE_SECONDS,
            stale_while_revalidate=settings.PUBLIC_CACHE_SECONDS,
        )
    return response


def not_found(request, exception):
    """The 404 page for any address, cached as public pages are unless it was built for someone (a staff page)."""
    return with_public_caching(request, page_not_found(request, exception))


class PublicPageMixin:
    """Public pages: the same for every visitor (see public_page)."""

    @classmethod
    def as_view(cls, **initkwargs):
        return public_page(super().as_view(**initkwargs))


class HomeView(PublicPageMixin, TemplateView):
    template_name = "articles/home.html"

    def get_context_data(self, **kwargs):
        live = Article.objects.live().as_cards().newest_first()
        featured = list(live.filter(is_featured=True)[:FEATURED_ON_HOME])
        newest = [a for a in live[: NEWEST_ON_HOME + len(featured)] if a not in featured][:NEWEST_ON_HOME]
        return super().get_context_data(
            featured=featured,
            newest=newest,
            topics=Topic.objects.filter(snapshots__in=PublishedSnapshot.objects.live()).distinct(),
            **kwargs,
        )


class IdsFirstPaginator(Paginator):
    """Find a page's ids with a narrow subquery (read from an index), and load only those rows in full.

    Otherwise PostgreSQL would fetch and join every row before the page, only to skip it: a page deep in a
    list of 100,000 articles took as long as reading all of them.
    """

    def page(self, number):
        page = super().page(number)
        page.object_list = self.object_list.filter(pk__in=page.object_list.values("pk"))
        return page


class ArticleListView(PublicPageMixin, ListView):
    template_name = "articles/article_list.html"
    context_object_name = "articles"
    paginate_by = ARTICLES_PER_PAGE
    paginator_class = IdsFirstPaginator

    def get_queryset(self):
        return Article.objects.live().as_cards().newest_first()


class TopicDetailView(PublicPageMixin, ListView):
    template_name = "articles/topic_detail.html"
    context_object_name = "articles"
    paginate_by = ARTICLES_PER_PAGE
    paginator_class = IdsFirstPaginator

    def get_queryset(self):
        self.topic = get_object_or_404(Topic, slug=self.kwargs["slug"])
        return Article.objects.live().published_under(self.topic).as_cards().newest_first()

    def get_context_data(self, **kwargs):
        return super().get_context_data(topic=self.topic, **kwargs)


class ArticleDetailView(PublicPageMixin, DetailView):
    template_name = "articles/article_detail.html"
    context_object_name = "article"

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            earlier = PublishedSnapshot.objects.filter(slug=kwargs["slug"]).select_related("article__live_snapshot")
            for snapshot in earlier.order_by("-published_at")[:1]:
                if snapshot.article.live_snapshot:  # the article lives on at a new address
                    return redirect(snapshot.article.live_snapshot.get_absolute_url(), permanent=True)
                if snapshot.article.status == Article.Status.ARCHIVED:
                    return TemplateResponse(request, "410.html", status=410)
            raise

    def get_object(self, queryset=None):
        return get_object_or_404(Article.objects.live(), live_snapshot__slug=self.kwargs["slug"])

    def get_context_data(self, **kwargs):
        snapshot = self.object.live_snapshot
        # Inactive disclaimers and hidden pages too: retiring one must move Last-Modified forward.
        in_scope = list(Disclaimer.objects.in_scope_of(snapshot.topic_ids))
        disclaimers = [d for d in in_scope if d.is_active]
        pages = list(Page.objects.only("title", "slug", "show_in_footer", "updated_at"))
        changes = [snapshot.published_at, *(d.updated_at for d in in_scope), *(p.updated_at for p in pages)]
        self.last_modified = max(changes)
        url = settings.SITE_URL + snapshot.get_absolute_url()
        return super().get_context_data(
            snapshot=snapshot,
            footer_pages=[page for page in pages if page.show_in_footer],
            canonical_url=url,
            structured_data=structured_data.as_script(structured_data.medical_web_page(snapshot, url=url)),
            sitewide_disclaimers=[d for d in disclaimers if d.scope == Disclaimer.Scope.ALL],
            topic_disclaimers=[d for d in disclaimers if d.scope == Disclaimer.Scope.TOPICS],
            **kwargs,
        )

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        response["Last-Modified"] = http_date(self.last_modified.timestamp())
        return response


class SearchView(PublicPageMixin, ListView):
    template_name = "articles/search.html"
    context_object_name = "results"
    paginate_by = ARTICLES_PER_PAGE

    def get_queryset(self):
        self.form = SearchForm(self.request.GET or None)
        self.query = self.form.cleaned_data["q"] if self.form.is_valid() else ""
        self.matches = search.find_matches(self.query)
        return search.search_live_snapshots(self.query, matches=self.matches)

    def get_paginator(self, *args, **kwargs):
        paginator = super().get_paginator(*args, **kwargs)
        paginator.count = self.matches.count  # known already: no COUNT of the matches
        return paginator

    def get_context_data(self, **kwargs):
        more = self.matches.more_than_ranked
        context = super().get_context_data(
            form=self.form, query=self.query, more_than_ranked=more, typos=self.matches.typos, **kwargs
        )
        context["results"] = [(snapshot, search.snippet(snapshot)) for snapshot in context["results"]]
        return context


class PageView(PublicPageMixin, DetailView):
    """A simple page editors keep: the editorial, corrections and privacy policies."""

    template_name = "articles/page.html"
    context_object_name = "page"
    model = Page


class StaffBioView(PublicPageMixin, DetailView):
    template_name = "articles/staff_bio.html"
    context_object_name = "profile"

    def get_queryset(self):
        return StaffProfile.objects.select_related("user")

    def get_context_data(self, **kwargs):
        live = Article.objects.live().as_cards().newest_first()
        # One more than shown says whether there are more, without counting a reviewer's thousands.
        written = list(live.bylined_to(self.object)[: ARTICLES_ON_BIO + 1])
        reviewed = list(live.signed_off_by(self.object)[: ARTICLES_ON_BIO + 1])
        return super().get_context_data(
            written=written[:ARTICLES_ON_BIO],
            more_written=len(written) > ARTICLES_ON_BIO,
            reviewed=reviewed[:ARTICLES_ON_BIO],
            more_reviewed=len(reviewed) > ARTICLES_ON_BIO,
            **kwargs,
        )


def server_error(request):
    """The 500 page, or a 503 asking to retry shortly when the database is out of reach (a restart, a failover).

    Rendered without the request, so without context processors: nothing here may need the database.
    """
    error = sys.exc_info()[1]
    if isinstance(error, (db.OperationalError, db.InterfaceError)):
        return HttpResponse(
            loader.render_to_string("503.html"), status=503, headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
        )
    return HttpResponseServerError(loader.render_to_string("500.html"))


@public_page
def robots_txt(request):
    """Let search engines in, keep them out of the staff areas, and point them at the sitemap."""
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /review/", f"Sitemap: {settings.SITE_URL}/sitemap.xml"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


# --- The review desk: reviewers approve and sign off, editors publish. Every step is a workflow call. ---


class ReviewDeskMixin(LoginRequiredMixin):
    """Reviewers and editors only; others are refused before any query about articles."""

    login_url = "admin:login"

    @method_decorator(never_cache)  # private pages: no shared cache in front may keep them
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.can_use_review_desk(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


@dataclass
class QueueSection:
    """The first rows of one list of articles (on the review queue, or the admin index), and how many it holds."""

    rows: list
    count: int
    title: str = ""
    empty: str = ""
    date_label: str = ""
    date_field: str = "updated_at"
    more_url: str = ""

    @classmethod
    def of(cls, articles, limit: int | None = None, **fields) -> "QueueSection":
        limit = limit or QUEUE_ROWS
        rows = list(articles[:limit])
        return cls(rows, len(rows) if len(rows) < limit else articles.count(), **fields)

    @property
    def more(self) -> int:
        return self.count - len(self.rows)

    def without(self, rows: list) -> "QueueSection":
        """Return this section without `rows` (listed in another section)."""
        kept = [row for row in self.rows if row not in rows]
        return replace(self, rows=kept, count=self.count - (len(self.rows) - len(kept)))


class ReviewQueueView(ReviewDeskMixin, TemplateView):
    template_name = "review/queue.html"

    def get_context_data(self, **kwargs):
        # The table shows title, writer and a date: not the bodies, nor the live snapshot beyond its due date.
        articles = Article.objects.select_related("author__staff_profile").defer("summary", "body")
        overdue = articles.review_overdue().select_related(None).select_related("author__staff_profile")
        retracted = list(Reference.objects.filter(is_retracted=True).order_by("citation_key"))
        citing = Article.objects.live().citing_live(*(ref.citation_key for ref in retracted))
        citing = list(citing.only("title", "updated_at", "live_snapshot__references"))
        # What waits for an editor is sorted by the gate itself: an article is listed as ready only if
        # `publish` would take it now (workflow.publishing_queue runs the gate's check on each row shown).
        waiting = Article.objects.select_related("author__staff_profile", "live_snapshot")
        signed_off = QueueSection.of(waiting.signed_off().order_by("updated_at", "pk"), PUBLISHING_ROWS)
        scheduled = QueueSection.of(waiting.scheduled().order_by("scheduled_for", "pk"), PUBLISHING_ROWS)
        gate = workflow.publishing_queue(signed_off.rows + scheduled.rows)
        held = gate.reapproval + gate.blocked
        return super().get_context_data(
            in_review=QueueSection.of(articles.in_review().order_by("updated_at", "pk")),
            changes_requested=QueueSection.of(articles.changes_requested().order_by("updated_at", "pk")),
            signed_off=signed_off.without(held),
            scheduled=scheduled.without(held),
            reference_changed=QueueSection(gate.reapproval, len(gate.reapproval)),
            blocked=QueueSection(gate.blocked, len(gate.blocked)),
            review_overdue=QueueSection.of(overdue.order_by("live_review_due", "pk")),
            retractions=[
                (ref, [article for article in citing if ref.citation_key in article.live_snapshot.cited_keys])
                for ref in retracted
            ],
            **kwargs,
        )


# The timeline as sentences: "Daniel Reyes signed off, 3 Dec 2026 09:21". The dotted action and the content hash
# stay available, folded, for whoever needs to trace a record.
TIMELINE_VERBS = {
    "articles.article.submit": "submitted it for review",
    "articles.statement.approve": "approved a statement",
    "articles.statement.request_changes": "asked for a change to a statement",
    "articles.article.request_changes": "sent it back to the writer",
    "articles.article.sign_off": "signed off",
    "articles.article.publish": "published it",
    "articles.article.schedule": "scheduled it",
    "articles.article.unschedule": "cancelled the schedule",
    "articles.article.schedule_failed": "could not publish it as scheduled",
    "articles.article.unpublish": "unpublished it",
    "articles.article.archive": "archived it",
    "articles.article.restore": "restored it",
    "articles.article.reopen": "edited it after sign-off, which reopened the review",
    "articles.article.edit_live": "edited the live article",
    "articles.finding.justify": "accepted a claim-check finding",
    "articles.reference.acknowledge_retraction": "acknowledged a retraction",
    "articles.review.remind": "reminded the reviewers that a re-review is due",
}


STATE_NAMES = dict(Article.Status.choices)


def timeline_of(article: Article) -> list[tuple]:
    """Return the article's latest 100 audit events, newest first, as the desk and the admin show them: each
    with the person's name, the verb, and the states it moved between, in words."""
    events = article.audit_events.select_related("actor__staff_profile").order_by("-at", "-pk")[:100]
    return [
        (
            event,
            workflow.person_name(event.actor),
            TIMELINE_VERBS.get(event.action, event.action),
            STATE_NAMES.get(event.from_state, event.from_state or "new").lower(),
            STATE_NAMES.get(event.to_state, event.to_state).lower(),
        )
        for event in events
    ]


def changes_since_last_review(article: Article, reviewer) -> dict | None:
    """Compare the working copy with the revision current at the reviewer's last approval, comment or sign-off."""
    moments = [
        StatementApproval.objects.filter(article=article, reviewer=reviewer).aggregate(at=Max("approved_at"))["at"],
        ChangeRequest.objects.filter(article=article, requested_by=reviewer).aggregate(at=Max("requested_at"))["at"],
        ReviewSignOff.objects.filter(article=article, reviewer=reviewer).aggregate(at=Max("signed_at"))["at"],
    ]
    moments = [moment for moment in moments if moment]
    if not moments:
        return None
    reviewed_at = max(moments)
    then = workflow.revision_at(article, reviewed_at)
    if then is None or (then.title, then.summary, then.body) == (article.title, article.summary, article.body):
        return None
    return {
        "reviewed_at": reviewed_at,
        "title": word_diff(then.title, article.title) if then.title != article.title else None,
        "summary": word_diff(then.summary, article.summary) if then.summary != article.summary else None,
        "body": paragraph_diff(then.body, article.body) if then.body != article.body else None,
    }


class ReviewArticleView(ReviewDeskMixin, DetailView):
    template_name = "review/article.html"
    context_object_name = "article"

    def get_queryset(self):
        return Article.objects.on_review_desk().select_related("author__staff_profile", "live_snapshot")

    def get_context_data(self, **kwargs):
        article, user = self.object, self.request.user
        status = workflow.review_status(article)
        steps = workflow.desk_steps(status, user)
        references = {ref.citation_key: ref for ref in Reference.objects.filter(citation_key__in=article.citation_keys)}
        numbers = {entry["key"]: entry["number"] for entry in status.rendered.references}
        statements = [
            {
                "status": item,
                "references": [(numbers.get(key), references.get(key)) for key in item.sentence.keys],
                "approve_form": ApproveStatementForm(
                    prefix=f"s{item.stored.pk}", initial={"seen_hash": item.sentence.hash}
                )
                if item.stored
                else None,
                "changes_form": StatementChangesForm(
                    prefix=f"c{item.stored.pk}", initial={"seen_hash": item.sentence.hash}
                )
                if item.stored
                else None,
            }
            for item in status.statements
        ]
        for entry in statements:
            item = entry["status"]
            entry["can_approve"] = item.number in steps.approve and entry["approve_form"] is not None
            entry["can_comment"] = item.number in steps.comment and entry["changes_form"] is not None
            if entry["can_comment"]:
                entry["send_back_form"] = SendBackStatementForm(
                    prefix=f"b{item.stored.pk}", initial={"seen_hash": item.sentence.hash}
                )
        live = article.live_snapshot
        return super().get_context_data(
            status=status,
            steps=steps,
            statements=statements,
            comparison=paragraph_diff(live.body_source, article.body) if live else None,
            since_last_review=changes_since_last_review(article, user),
            timeline=timeline_of(article),
            can_approve="justify_finding" in steps,  # the claim-check list's forms
            can_publish=permissions.can_publish(user, article),
            live_as_it_stands=workflow.LIVE_AS_IT_STANDS,
            sign_off_form=SignOffForm(initial={"seen_hash": status.content_hash}, warnings=status.warnings),
            request_changes_form=SendBackForm(),
            schedule_form=ScheduleForm(),
            unpublish_form=ReasonForm(prefix="unpublish"),
            archive_form=ReasonForm(prefix="archive"),
            retractions=[
                (ref, AcknowledgeRetractionForm(prefix=f"r{ref.pk}")) for ref in status.unacknowledged_retractions
            ],
            findings=[
                (
                    finding,
                    status.justified.get(finding.key),
                    JustifyFindingForm(prefix=f"f{finding.key}", initial={"finding_key": finding.key}),
                )
                for finding in status.findings
            ],
            **kwargs,
        )


class ReviewActionView(ReviewDeskMixin, View):
    """POST only: run one workflow step from the desk and come back to the article with the outcome.

    `action` comes from the URL pattern (see urls.py), never from the request body.
    """

    http_method_names = ["post"]
    action = ""
    SUCCESS = {
        "approve": "Statement approved.",
        "statement_changes": "Your comment on the statement is recorded. Send the article back to the writer "
        "when you have finished reading.",
        "request_changes": "The article went back to its writer with your comments.",
        "sign_off": "Signed off. The editors have been told it can be published.",
        "submit": "The article is back in review.",
        "publish": "Published: patients now see this version.",
        "schedule": "Scheduled.",
        "unschedule": "No longer scheduled.",
        "unpublish": "Unpublished: patients no longer see this article.",
        "archive": "Archived.",
        "acknowledge_retraction": "Retraction acknowledged.",
        "justify_finding": "Your reason is recorded; the finding no longer blocks sign-off.",
    }

    def post(self, request, pk, statement_pk=None):
        article = get_object_or_404(Article.objects.on_review_desk(), pk=pk)
        self.by = request.user
        try:
            if statement_pk is None:
                getattr(self, self.action)(article)
            else:
                getattr(self, self.action)(self._statement(article, statement_pk))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except workflow.WorkflowError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, self.SUCCESS[self.action])
        return redirect("articles:review_article", pk=article.pk)

    def _valid(self, form_class, **kwargs) -> dict:
        form = form_class(self.request.POST, **kwargs)
        if not form.is_valid():
            raise ValidationError(
                [
                    " ".join(errors) if name == "__all__" else f"{form.fields[name].label}: {' '.join(errors)}"
                    for name, errors in form.errors.items()
                ]
            )
        return form.cleaned_data

    def _statement(self, article, statement_pk) -> EvidenceStatement:
        statement = EvidenceStatement.objects.select_related("article").filter(article=article, pk=statement_pk).first()
        if statement is None:
            raise workflow.WorkflowError(workflow.STATEMENT_CHANGED)
        return statement

    def approve(self, statement):
        data = self._valid(ApproveStatementForm, prefix=f"s{statement.pk}")
        workflow.approve_statement(statement, by=self.by, **data)

    def statement_changes(self, statement):
        data = self._valid(StatementChangesForm, prefix=f"c{statement.pk}")
        workflow.request_statement_changes(statement, by=self.by, **data)

    def request_changes(self, article):
        comment = self._valid(SendBackForm)["comment"]
        statement_comments = []
        for statement in article.evidence_statements.order_by("position"):
            if f"b{statement.pk}-comment" not in self.request.POST:
                continue
            data = self._valid(SendBackStatementForm, prefix=f"b{statement.pk}")
            if data["comment"]:
                statement_comments.append((statement, data["seen_hash"], data["comment"]))
        workflow.send_back(article, by=self.by, comment=comment, statement_comments=statement_comments)

    def sign_off(self, article):
        data = self._valid(SignOffForm, warnings=workflow.review_status(article).warnings)
        workflow.sign_off(article, by=self.by, seen_hash=data["seen_hash"], comment=data["comment"])
        for warning in workflow.review_status(article).warnings:
            messages.warning(self.request, f"Signed off with a warning: {warning.message}")

    def submit(self, article):
        workflow.submit_for_review(article, by=self.by)

    def publish(self, article):
        workflow.publish(article, by=self.by)

    def schedule(self, article):
        workflow.schedule(article, by=self.by, at=self._valid(ScheduleForm)["publish_at"])

    def unschedule(self, article):
        workflow.unschedule(article, by=self.by)

    def unpublish(self, article):
        workflow.unpublish(article, by=self.by, **self._valid(ReasonForm, prefix="unpublish"))

    def archive(self, article):
        workflow.archive(article, by=self.by, **self._valid(ReasonForm, prefix="archive"))

    def justify_finding(self, article):
        prefix = f"f{self.request.POST.get('finding', '')}"
        data = self._valid(JustifyFindingForm, prefix=prefix)
        workflow.justify_finding(article, by=self.by, finding_key=data["finding_key"], reason=data["reason"])

    def acknowledge_retraction(self, article):
        reference_pk = self.request.POST.get("reference_pk", "")
        if not re.fullmatch(r"[0-9]{1,18}", reference_pk):
            raise Http404("No such reference.")
        reference = get_object_or_404(Reference, pk=int(reference_pk))
        data = self._valid(AcknowledgeRetractionForm, prefix=f"r{reference.pk}")
        workflow.acknowledge_retraction(article, reference, by=self.by, comment=data["comment"])
