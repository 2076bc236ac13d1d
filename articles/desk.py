"""The review desk: reviewers approve and sign off, editors publish. Every step is one view and one workflow call.

Each step has its own URL and view (listed one by one in urls.py); the shared `DeskStepView` logs in, looks
the article up, validates the form, turns a refusal into the message the person reads, and comes back to
the article. What the desk offers comes from `workflow.allowed_steps`, which reads the declared table.
"""

import re
from dataclasses import dataclass, replace

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Subquery
from django.db.models.functions import Greatest
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import date as format_date
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import DetailView, TemplateView

from articles import citations, claims, feedback, permissions, translations, workflow
from articles.diffs import paragraph_diff, word_diff
from articles.edge import outbox
from articles.forms import (
    AcknowledgeRetractionForm,
    ApproveStatementForm,
    JustifyFindingForm,
    ReasonForm,
    ScheduleForm,
    SendBackForm,
    SendBackStatementForm,
    SignOffForm,
    StatementChangesForm,
)
from articles.models import (
    Article,
    ChangeRequest,
    EvidenceStatement,
    ProblemReport,
    Reference,
    ReviewSignOff,
    StatementApproval,
)

QUEUE_ROWS = 25  # per section of the review queue: the longest waiting first; the badge counts them all
PUBLISHING_ROWS = 10  # signed-off and scheduled rows shown: each costs the gate's check (its reads are shared)


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

    @property
    def dated_rows(self) -> list[tuple]:
        """Return each row with its `date_field` as the table shows it: a day, or a day and a time."""
        shown = "j M Y" if self.date_field == "live_review_due" else "j M Y H:i"
        return [(row, format_date(getattr(row, self.date_field), shown)) for row in self.rows]

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
        # `publish` would take it now (workflow.publishing_queue runs the gate's check on the rows shown, its
        # records read for all of them at once).
        waiting = Article.objects.select_related("author__staff_profile", "live_snapshot")
        signed_off = QueueSection.of(waiting.signed_off().order_by("updated_at", "pk"), PUBLISHING_ROWS)
        scheduled = QueueSection.of(
            waiting.scheduled().order_by("scheduled_for", "pk"), PUBLISHING_ROWS, date_field="scheduled_for"
        )
        gate = workflow.publishing_queue(signed_off.rows + scheduled.rows)
        held = gate.reapproval + gate.blocked
        return super().get_context_data(
            in_review=QueueSection.of(articles.in_review().order_by("updated_at", "pk")),
            changes_requested=QueueSection.of(articles.changes_requested().order_by("updated_at", "pk")),
            signed_off=signed_off.without(held),
            scheduled=scheduled.without(held),
            reference_changed=QueueSection(gate.reapproval, len(gate.reapproval)),
            blocked=QueueSection(gate.blocked, len(gate.blocked)),
            review_overdue=QueueSection.of(overdue.order_by("live_review_due", "pk"), date_field="live_review_due"),
            out_of_date=QueueSection.of(
                articles.out_of_date().order_by("source_changed_at", "pk"), date_field="source_changed_at"
            ),
            retractions=[
                (ref, [article for article in citing if ref.citation_key in article.live_snapshot.cited_keys])
                for ref in retracted
            ],
            failing_purges=outbox.failing().count() if permissions.can_see_edge_purges(self.request.user) else 0,
            problem_reports=QueueSection.of(
                ProblemReport.objects.open()
                .newest_first()
                .select_related("article")
                .only("kind", "created_at", "article__title"),
                date_field="created_at",
            ),
            **kwargs,
        )


# The timeline as sentences: "Daniel Reyes signed off, 3 Dec 2026 09:21". The dotted action and the content hash
# stay available, folded, for whoever needs to trace a record.
STATE_NAMES = dict(Article.Status.choices)


def timeline_of(article: Article) -> list[tuple]:
    """Return the article's latest 100 audit events, newest first, as the desk and the admin show them: each
    with the person's name, the verb, and the states it moved between, in words."""
    events = article.audit_events.select_related("actor__staff_profile").order_by("-at", "-pk")[:100]
    return [
        (
            event,
            workflow.person_name(event.actor),
            workflow.TIMELINE.get(event.action, event.action),
            STATE_NAMES.get(event.from_state, event.from_state or "new").lower(),
            STATE_NAMES.get(event.to_state, event.to_state).lower(),
        )
        for event in events
    ]


def changes_since_last_review(article: Article, reviewer) -> dict | None:
    """Compare the working copy with the revision current at the reviewer's last approval, comment or sign-off."""
    # One query: the database finds the latest of the three moments, and the revision current then (revision_at).
    latest = (
        Subquery(model.objects.filter(article=article, **{person: reviewer}).order_by(f"-{at}").values(at)[:1])
        for model, person, at in (
            (StatementApproval, "reviewer", "approved_at"),
            (ChangeRequest, "requested_by", "requested_at"),
            (ReviewSignOff, "reviewer", "signed_at"),
        )
    )
    revisions = article.history.annotate(reviewed_at=Greatest(*latest))  # PostgreSQL's GREATEST skips NULLs
    then = revisions.filter(history_date__lte=F("reviewed_at")).order_by("-history_date", "-history_id").first()
    if then is None or all(getattr(then, f) == getattr(article, f) for f in ("title", "summary", "key_points", "body")):
        return None
    return {
        "reviewed_at": then.reviewed_at,
        "title": word_diff(then.title, article.title) if then.title != article.title else None,
        "summary": word_diff(then.summary, article.summary) if then.summary != article.summary else None,
        # The key points read as the first paragraphs of the body: one comparison shows a change to either.
        "body": paragraph_diff(then.key_points + then.body, article.key_points + article.body)
        if (then.key_points, then.body) != (article.key_points, article.body)
        else None,
    }


class ReviewArticleView(ReviewDeskMixin, DetailView):
    template_name = "review/article.html"
    context_object_name = "article"

    def get_queryset(self):
        on_desk = translations.with_grace_days(Article.objects.on_review_desk())  # for an out-of-date translation
        return on_desk.select_related("author__staff_profile", "live_snapshot")

    def get_object(self, queryset=None):
        article = super().get_object(queryset)
        # Each step offered asks its permission, and a reviewer's asks who contributed (two queries): read it once.
        contributors = article.contributor_ids()
        article.contributor_ids = lambda: contributors
        return article

    def get_context_data(self, **kwargs):
        article, user = self.object, self.request.user
        status = workflow.review_status(article)
        steps = workflow.allowed_steps(status, user)
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
        in_key_points = {s.hash for s in citations.statements(article.key_points, language=article.language)}
        family = translations.family_on_desk(article)  # a translation's source, read with its live statements
        sentences = [item.sentence for item in status.statements]
        originals = translations.source_statements(article, sentences, source=family.get("source"))
        for entry, original in zip(statements, originals, strict=True):
            entry["original"] = original  # for a translation: the statement of its source it translates
            item = entry["status"]
            entry["in_key_points"] = item.sentence.hash in in_key_points
            entry["can_approve"] = item.number in steps.approve and entry["approve_form"] is not None
            entry["can_comment"] = item.number in steps.comment and entry["changes_form"] is not None
            entry["approve_label"] = workflow.APPROVE_STATEMENT.label.format(number=item.number)
            entry["changes_label"] = workflow.REQUEST_STATEMENT_CHANGES.label.format(number=item.number)
            # The level given, even by an approval that no longer counts: the reviewer sees what it would label.
            given = item.approval or item.reference_changed or item.self_approval
            entry["label_findings"] = (
                claims.label_contradictions(item.sentence.text, given.evidence_level, language=article.language)
                if given
                else []
            )
            if entry["can_comment"]:
                entry["send_back_form"] = SendBackStatementForm(
                    prefix=f"b{item.stored.pk}", initial={"seen_hash": item.sentence.hash}
                )
        live = article.live_snapshot
        return super().get_context_data(
            status=status,
            steps=steps,
            statements=statements,
            comparison=paragraph_diff(live.key_points_source + live.body_source, article.key_points + article.body)
            if live
            else None,
            since_last_review=changes_since_last_review(article, user),
            translation_family=family,
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


# --- The steps: one URL, one view, one workflow call each ---------------------------------------------------------


class DeskStepView(ReviewDeskMixin, View):
    """POST only: take one workflow step from the desk and come back to the article with the outcome.

    A subclass names its `transition` (its entry in the workflow's table), the `success_message` the person
    reads, and `take`, which validates its form and makes its one workflow call.
    """

    http_method_names = ["post"]
    transition: workflow.Transition
    success_message = ""

    def post(self, request, pk: int, **kwargs):
        article = get_object_or_404(Article.objects.on_review_desk(), pk=pk)
        self.by = request.user
        try:
            self.take(self.subject(article, **kwargs))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except workflow.WorkflowError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, self.success_message)
        return redirect("articles:review_article", pk=article.pk)

    def subject(self, article: Article, **kwargs):
        """Return what the step acts on: the article here, one of its statements in StatementStepView."""
        return article

    def take(self, subject) -> None:
        """Validate the step's form and make its workflow call; a refusal raises WorkflowError."""
        raise NotImplementedError

    def valid(self, form_class, **kwargs) -> dict:
        """Return the form's cleaned data, or raise ValidationError with each error as the person reads it."""
        form = form_class(self.request.POST, **kwargs)
        if not form.is_valid():
            raise ValidationError(
                [
                    " ".join(errors) if name == "__all__" else f"{form.fields[name].label}: {' '.join(errors)}"
                    for name, errors in form.errors.items()
                ]
            )
        return form.cleaned_data


class StatementStepView(DeskStepView):
    """A step on one statement of the article (its URL names the statement)."""

    def subject(self, article: Article, *, statement_pk: int) -> EvidenceStatement:
        # Inside the step: a statement that is gone (edited away) is answered like any refusal.
        statement = EvidenceStatement.objects.select_related("article").filter(article=article, pk=statement_pk).first()
        if statement is None:
            raise workflow.WorkflowError(workflow.STATEMENT_CHANGED)
        return statement


class ApproveStatementView(StatementStepView):
    transition = workflow.APPROVE_STATEMENT
    success_message = "Statement approved."

    def take(self, statement: EvidenceStatement) -> None:
        data = self.valid(ApproveStatementForm, prefix=f"s{statement.pk}")
        workflow.approve_statement(statement, by=self.by, **data)


class RequestStatementChangesView(StatementStepView):
    transition = workflow.REQUEST_STATEMENT_CHANGES
    success_message = (
        "Your comment on the statement is recorded. Send the article back to the writer when you have finished reading."
    )

    def take(self, statement: EvidenceStatement) -> None:
        data = self.valid(StatementChangesForm, prefix=f"c{statement.pk}")
        workflow.request_statement_changes(statement, by=self.by, **data)


class RequestChangesView(DeskStepView):
    transition = workflow.REQUEST_CHANGES
    success_message = "The article went back to its writer with your comments."

    def take(self, article: Article) -> None:
        comment = self.valid(SendBackForm)["comment"]
        statement_comments = []
        for statement in article.evidence_statements.order_by("position"):
            if f"b{statement.pk}-comment" not in self.request.POST:
                continue
            data = self.valid(SendBackStatementForm, prefix=f"b{statement.pk}")
            if data["comment"]:
                statement_comments.append((statement, data["seen_hash"], data["comment"]))
        workflow.send_back(article, by=self.by, comment=comment, statement_comments=statement_comments)


class SignOffView(DeskStepView):
    transition = workflow.SIGN_OFF
    success_message = "Signed off. The editors have been told it can be published."

    def take(self, article: Article) -> None:
        data = self.valid(SignOffForm, warnings=workflow.review_status(article).warnings)
        workflow.sign_off(article, by=self.by, seen_hash=data["seen_hash"], comment=data["comment"])
        for warning in workflow.review_status(article).warnings:
            messages.warning(self.request, f"Signed off with a warning: {warning.message}")


class SubmitView(DeskStepView):
    transition = workflow.SUBMIT
    success_message = "The article is back in review."

    def take(self, article: Article) -> None:
        workflow.submit_for_review(article, by=self.by)


class PublishView(DeskStepView):
    transition = workflow.PUBLISH
    success_message = "Published: patients now see this version."

    def take(self, article: Article) -> None:
        workflow.publish(article, by=self.by)


class ScheduleView(DeskStepView):
    transition = workflow.SCHEDULE
    success_message = "Scheduled."

    def take(self, article: Article) -> None:
        workflow.schedule(article, by=self.by, at=self.valid(ScheduleForm)["publish_at"])


class UnscheduleView(DeskStepView):
    transition = workflow.UNSCHEDULE
    success_message = "No longer scheduled."

    def take(self, article: Article) -> None:
        workflow.unschedule(article, by=self.by)


class UnpublishView(DeskStepView):
    transition = workflow.UNPUBLISH
    success_message = "Unpublished: patients no longer see this article."

    def take(self, article: Article) -> None:
        workflow.unpublish(article, by=self.by, **self.valid(ReasonForm, prefix="unpublish"))


class ArchiveView(DeskStepView):
    transition = workflow.ARCHIVE
    success_message = "Archived."

    def take(self, article: Article) -> None:
        workflow.archive(article, by=self.by, **self.valid(ReasonForm, prefix="archive"))


class AcknowledgeRetractionView(DeskStepView):
    transition = workflow.ACKNOWLEDGE_RETRACTION
    success_message = "Retraction acknowledged."

    def take(self, article: Article) -> None:
        reference_pk = self.request.POST.get("reference_pk", "")
        if not re.fullmatch(r"[0-9]{1,18}", reference_pk):
            raise Http404("No such reference.")
        reference = get_object_or_404(Reference, pk=int(reference_pk))
        data = self.valid(AcknowledgeRetractionForm, prefix=f"r{reference.pk}")
        workflow.acknowledge_retraction(article, reference, by=self.by, comment=data["comment"])


class JustifyFindingView(DeskStepView):
    transition = workflow.JUSTIFY_FINDING
    success_message = "Your reason is recorded; the finding no longer blocks sign-off."

    def take(self, article: Article) -> None:
        prefix = f"f{self.request.POST.get('finding', '')}"
        data = self.valid(JustifyFindingForm, prefix=prefix)
        workflow.justify_finding(article, by=self.by, finding_key=data["finding_key"], reason=data["reason"])


# --- Patients' problem reports: writers and reviewers read them, editors close them ------------------------------


class ProblemReportView(LoginRequiredMixin, TemplateView):
    """One problem report; an editor closes it here with an outcome and a note (POST)."""

    template_name = "review/report.html"
    login_url = "admin:login"
    model = ProblemReport  # the admin walk opens this page for each report

    @method_decorator(never_cache)
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.can_read_reports(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        report = kwargs.setdefault("report", feedback.report_or_404(self.kwargs["pk"]))
        can_close = permissions.can_triage_reports(self.request.user) and report.status == ProblemReport.Status.OPEN
        kwargs.setdefault("form", feedback.CloseReportForm() if can_close else None)
        kwargs.setdefault("corrections", feedback.corrections_since(report))
        return super().get_context_data(on_desk=permissions.can_use_review_desk(self.request.user), **kwargs)

    def post(self, request, pk: int):
        if not permissions.can_triage_reports(request.user):
            raise PermissionDenied(feedback.NOT_ALLOWED_TO_CLOSE)
        report = feedback.report_or_404(pk)
        form = feedback.CloseReportForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(report=report, form=form), status=400)
        try:
            report = feedback.close_report(report, by=request.user, **form.cleaned_data)
        except workflow.WorkflowError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, feedback.CLOSED.format(outcome=report.get_outcome_display()))
        return redirect("articles:review_report", pk=report.pk)
