"""What publishing freezes: the snapshot of the working copy, with its reviewers, disclaimers and dates."""

import datetime

from articles import identity, patient_visible
from articles.models import Article, EvidenceLevel, PublishedSnapshot, public_person
from articles.rendering import render_article
from articles.workflow.status import ReviewStatus


def build_snapshot(article: Article, status: ReviewStatus, *, by, now: datetime.datetime) -> PublishedSnapshot:
    """Return the (unsaved) snapshot the working copy would publish as: previews render it too."""
    # Publishing freezes the rendering the read model made; a preview (by None) marks what is not yet approved.
    rendered = render_article(article, levels=status.levels, mark_unapproved=True) if by is None else status.rendered
    references = {ref["key"]: ref["number"] for ref in rendered.references}
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
        **patient_visible.frozen(article, rendered=rendered, reviewed_at=reviewed_at),  # what patients see of it
        statements=statements,
        reviewed_by=public_person(sign_off_record.reviewer) if sign_off_record else {},
        reviewers=list(reviewers.values()),
        sign_off=sign_off_record,
        reviewed_at=reviewed_at,
        first_published_at=earlier[-1] if earlier else now,
        earlier_versions=[moment.isoformat() for moment in earlier],
        content_hash=status.content_hash,
        published_at=now,
        published_by=by,
    )
