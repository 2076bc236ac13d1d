"""What publishing freezes: the snapshot of the working copy, with its reviewers, disclaimers and dates."""

import calendar
import datetime

from django.db.models import Max
from django.utils import timezone

from articles import identity
from articles.models import Article, Disclaimer, EvidenceLevel, PublishedSnapshot, public_person
from articles.rendering import render_article
from articles.workflow.status import ReviewStatus


def _active_disclaimers(topic_ids) -> list[dict]:
    disclaimers = list(Disclaimer.objects.applying_to(topic_ids))
    versions = dict(
        Disclaimer.history.filter(id__in=[d.pk for d in disclaimers])
        .values("id")
        .annotate(latest=Max("history_id"))
        .values_list("id", "latest")
    )
    return [{"id": d.pk, "title": d.title, "version": versions.get(d.pk)} for d in disclaimers]


def build_snapshot(article: Article, status: ReviewStatus, *, by, now: datetime.datetime) -> PublishedSnapshot:
    """Return the (unsaved) snapshot the working copy would publish as: previews render it too."""
    rendered = render_article(article, levels=status.levels, mark_unapproved=by is None)
    references = {ref["key"]: ref["number"] for ref in rendered.references}
    topics = list(article.topics.order_by("name"))
    sign_off_record = status.sign_off
    reviewers: dict[int, dict] = {}
    statements = []
    for item in status.statements:
        approval = item.approval
        statements.append(
            {
                "number": item.number,
                "hash": item.sentence.hash,
                "text": item.sentence.text,
                "references": [references.get(key) for key in item.sentence.keys],
                "level": approval.evidence_level if approval else "",
                "label": EvidenceLevel(approval.evidence_level).label if approval else "",
                "certainty": approval.certainty if approval else "",
                "approved_by": public_person(approval.reviewer)["name"] if approval else "",
                "approved_at": approval.approved_at.isoformat() if approval else "",
            }
        )
        if approval:
            person = reviewers.setdefault(approval.reviewer_id, {**public_person(approval.reviewer), "at": ""})
            person["at"] = max(person["at"], approval.approved_at.isoformat())
    if sign_off_record:
        person = reviewers.setdefault(sign_off_record.reviewer_id, public_person(sign_off_record.reviewer))
        person["at"] = sign_off_record.signed_at.isoformat()
    earlier = list(article.snapshots.order_by("-published_at").values_list("published_at", flat=True))
    reviewed_at = sign_off_record.signed_at if sign_off_record else None
    return PublishedSnapshot(
        article=article,
        hash_version=identity.HASH_VERSION,
        title=article.title,
        slug=article.slug,
        summary=article.summary,
        body_source=article.body,
        body_html=rendered.body_html,
        references=rendered.references,
        statements=statements,
        topics=[{"id": t.pk, "slug": t.slug, "name": t.name, "offered_by_clinic": t.offered_by_clinic} for t in topics],
        drafted_with_ai=article.drafted_with_ai,
        author=public_person(article.author),
        reviewed_by=public_person(sign_off_record.reviewer) if sign_off_record else {},
        reviewers=list(reviewers.values()),
        disclaimers=_active_disclaimers([t.pk for t in topics]),
        sign_off=sign_off_record,
        reviewed_at=reviewed_at,
        next_review_due=add_months(timezone.localdate(reviewed_at), article.review_interval()) if reviewed_at else None,
        first_published_at=earlier[-1] if earlier else now,
        earlier_versions=[moment.isoformat() for moment in earlier],
        content_hash=status.content_hash,
        published_at=now,
        published_by=by,
    )


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Return the same day `months` later, or the month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))
