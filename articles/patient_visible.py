"""Everything patients see of an article, declared once: each place that handles it reads this list.

Each `Visible` entry says, for one field of the article or one kind of record it shows:

- how `save()` sanitizes it (`sanitized`: model and field to PLAIN, RICH or nothing for a choice or a number),
- whether the review pins it (`pinned`: PINNED, or why patients and reviewers never see it) and how
  (`hashed`: its value in the article's content hash, identity.content_hash),
- how it is frozen into the published snapshot (`frozen`: the snapshot fields it fills, workflow.build_snapshot),
- how the revision history compares it (`compared`: a label and the text compared, admin's compare view),
- which models' saves and deletes make cached public pages stale (`stale_on`, page_cache.connect_signals).
  What a snapshot freezes goes stale only by publishing again, which invalidates on its own.

"Pinned" means the hashes cover it: changing it withdraws the article's sign-off (`Article.content_hash`) and,
for a reference, the approvals of the statements citing it (`Reference.pinned_record`). A new patient-visible
field is one entry here plus its template; tests/test_publishing_pins.py reads the editable fields off the real
admin forms and fails on a field missing here, so a new one cannot be published unreviewed unnoticed.
"""

import calendar
import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from articles.sanitize import clean_html, plain_lines, plain_text

PINNED = "pinned"
NOT_HASHED = object()  # what a `hashed` function returns to leave its entry out of the hash payload
PLAIN = plain_text  # no markup at all
RICH = clean_html  # the rich-text bleach policy
PLAIN_LINES = plain_lines  # no markup, one item a line


@dataclass
class Publishing:
    """What freezing the working copy reads besides the article: the rendering and the sign-off's time."""

    article: Any  # Article
    rendered: Any  # rendering.RenderedArticle
    reviewed_at: datetime.datetime | None

    @cached_property
    def topics(self) -> list:
        return list(self.article.topics.order_by("name"))


@dataclass(frozen=True)
class Visible:
    """One thing patients see of an article, and what sanitizing, hashing, publishing, history and the page
    cache each do with it."""

    name: str
    pinned: str = PINNED
    article_field: bool = True  # a field of Article that the admin's article form edits, else a related record
    sanitized: dict[str, Callable[[str], str]] = field(default_factory=dict)  # "Model.field": policy
    hashed: Callable[[Any, list], Any] | None = None  # (article, cited references) -> its value in the hash
    frozen: Callable[[Any, Publishing], dict] | None = None  # (article, publishing) -> snapshot fields
    compared: tuple[str, Callable[[Any], str]] | None = None  # label, (revision) -> comparable text
    stale_on: tuple[str, ...] = ()  # names of models in this app


def _field(name: str) -> Callable[[Any, list], Any]:
    return lambda article, cited: getattr(article, name)


def _unless_blank(name: str) -> Callable[[Any, list], Any]:
    # A blank value adds nothing to the hash, so a new field of this kind changes no existing article's hash.
    return lambda article, cited: getattr(article, name) or NOT_HASHED


def _unless_default_language(article, cited):
    # English adds nothing, so that articles published before there were languages keep their hashes.
    return article.language if article.language != settings.LANGUAGE_CODE else NOT_HASHED


def _correction(article, publishing: Publishing) -> dict:
    """Freeze the note, whether this publication corrects a live article, and the article's earlier corrections."""
    corrected = article.snapshots.filter(is_correction=True).order_by("-published_at") if article.pk else None
    earlier = list(corrected.values_list("published_at", "correction_note")) if corrected is not None else []
    return {
        "correction_note": article.correction_note,
        "is_correction": bool(article.correction_note) and article.live_snapshot_id is not None,
        "earlier_corrections": [{"at": at.isoformat(), "note": note} for at, note in earlier],
    }


def _topic_slugs(article, cited) -> list[str]:
    # Through all(): the topics prefetched with the article when the gate reads many (workflow.GateReads).
    return sorted(topic.slug for topic in article.topics.all()) if article.pk else []


def _byline(article, cited) -> dict:
    from articles.models import public_person

    return public_person(article.author) if article.author_id else {}


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Return the same day `months` later, or the month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _next_review_due(article, publishing: Publishing) -> dict:
    reviewed_at = publishing.reviewed_at
    due = add_months(timezone.localdate(reviewed_at), article.review_interval()) if reviewed_at else None
    return {"next_review_due": due}


def disclaimers_in_force(topic_ids, language: str) -> list[dict]:
    """Return the active disclaimers for an article in these topics and language, with the versions in force."""
    from articles.models import Disclaimer

    disclaimers = list(Disclaimer.objects.applying_to(topic_ids, language))
    versions = dict(
        Disclaimer.history.filter(id__in=[d.pk for d in disclaimers])
        .values("id")
        .annotate(latest=Max("history_id"))
        .values_list("id", "latest")
    )
    return [{"id": d.pk, "title": d.title, "version": versions.get(d.pk)} for d in disclaimers]


def _figures(article, cited):
    from articles import figures  # it reads the image library's models

    return figures.hashed(article, cited)


def _revision_topics(record) -> str:
    from articles.models import Topic

    topics = Topic.objects.filter(pk__in=record.topics.values_list("topic_id", flat=True)).order_by("name")
    return ", ".join(t.name for t in topics)


def _revision_body(record) -> str:
    return _revision_rich_text(record.body)


def _revision_rich_text(html: str) -> str:
    # A space after each paragraph and item, so the words of two paragraphs do not run together.
    return plain_text((html or "").replace("</p>", "</p> ").replace("</li>", "</li> "))


VISIBLE = (
    Visible(
        "title",
        sanitized={"Article.title": PLAIN},
        hashed=_field("title"),
        frozen=lambda article, publishing: {"title": article.title},
        compared=("title", lambda record: record.title),
    ),
    Visible(
        "slug",  # the URL patients open and share
        hashed=_field("slug"),
        frozen=lambda article, publishing: {"slug": article.slug},
        compared=("slug", lambda record: record.slug),
    ),
    Visible(
        "language",  # which site the page is on (/es/ ...), and the language its labels and dates are in
        hashed=_unless_default_language,
        frozen=lambda article, publishing: {"language": article.language},
        compared=("language", lambda record: record.get_language_display()),
    ),
    Visible(
        "summary",
        sanitized={"Article.summary": PLAIN},
        hashed=_field("summary"),
        frozen=lambda article, publishing: {"summary": article.summary},
        compared=("summary", lambda record: record.summary),
    ),
    Visible(
        "body",
        sanitized={"Article.body": RICH},
        hashed=_field("body"),
        frozen=lambda article, publishing: {
            "body_source": article.body,
            "body_html": publishing.rendered.body_html,  # with ids on its sections when it has "On this page"
            "contents": publishing.rendered.contents,
        },
        compared=("body", _revision_body),
    ),
    Visible(
        "topics",  # the topic list, and the topic disclaimers that follow from it
        sanitized={
            "Topic.name": PLAIN,
            "Topic.description": PLAIN,
            "Topic.name_es": PLAIN,
            "Topic.description_es": PLAIN,
        },
        hashed=_topic_slugs,
        frozen=lambda article, publishing: {
            "topics": [
                {
                    "id": t.pk,
                    "slug": t.slug,
                    "name": t.name_in(article.language),
                    "offered_by_clinic": t.offered_by_clinic,
                }
                for t in publishing.topics
            ]
        },
        compared=("topics", _revision_topics),
        stale_on=("Topic",),  # topic pages show the live name and description
    ),
    Visible(
        "author",  # "Written by": the display name, credentials and bio page of the author
        sanitized={
            "StaffProfile.display_name": PLAIN,
            "StaffProfile.credentials": PLAIN,
            "StaffProfile.bio": RICH,
            "StaffProfile.conflicts_of_interest": PLAIN,
        },
        hashed=_byline,
        frozen=lambda article, publishing: {"author": _byline(article, [])},
        compared=("author", lambda record: str(record.author) if record.author_id else ""),
        stale_on=("StaffProfile",),  # bio pages show the live profile
    ),
    Visible(
        "drafted_with_ai",  # patients are told
        hashed=_field("drafted_with_ai"),
        frozen=lambda article, publishing: {"drafted_with_ai": article.drafted_with_ai},
    ),
    Visible(
        "review_interval_months",  # sets the "Next review due" date patients read
        hashed=_field("review_interval_months"),
        frozen=_next_review_due,
    ),
    Visible(
        "correction_note",  # "Corrected on <date>: <note>" on the page and in /corrections/ (see _correction)
        sanitized={"Article.correction_note": PLAIN},
        hashed=_unless_blank("correction_note"),
        frozen=_correction,
        compared=("correction note", lambda record: record.correction_note),
    ),
    Visible(
        "key_points",  # the "Key points" box above the body; its cited points are statements like the body's
        sanitized={"Article.key_points": RICH},
        hashed=_unless_blank("key_points"),
        frozen=lambda article, publishing: {
            "key_points_source": article.key_points,
            "key_points_html": publishing.rendered.key_points_html,
        },
        compared=("key points", lambda record: _revision_rich_text(record.key_points)),
    ),
    Visible(
        "translation_of",  # the desk pairs statements by it; the language switcher links the live counterpart
        pinned="Which original a translation translates: each article's own review pins what patients read of it, "
        "and the switcher links only live versions.",
    ),
    Visible(
        "is_featured",  # the admin invalidates the page cache when it changes (ArticleAdmin.save_model)
        pinned="An editor's choice of home-page placement: the article page and its snapshot do not show it.",
    ),
    Visible(
        "figures",  # the library images the body's [[figure:N]] markers show: file, alt text, caption and credit
        article_field=False,
        sanitized={"Image.alt_text": PLAIN, "Image.caption": PLAIN, "Image.credit": PLAIN},
        hashed=_figures,
        frozen=lambda article, publishing: {"figures": publishing.rendered.figures},
    ),
    Visible(
        "references",  # each cited reference's record, as REFERENCE_FIELDS pins it (identity.content_hash)
        article_field=False,
        sanitized={"Reference.title": PLAIN, "Reference.abstract": PLAIN},
        hashed=lambda article, cited: cited,
        frozen=lambda article, publishing: {"references": publishing.rendered.references},
    ),
    Visible(
        "disclaimers",  # the ones in force for the article's topics, shown at once on every live page in scope
        pinned="Editors' rules for whole topics or the site: no article's review covers them.",
        article_field=False,
        sanitized={"Disclaimer.title": PLAIN, "Disclaimer.text": RICH},
        frozen=lambda article, publishing: {
            "disclaimers": disclaimers_in_force([t.pk for t in publishing.topics], article.language)
        },
        stale_on=("Disclaimer",),
    ),
    Visible(
        "urgent_help",  # a topic's "Get urgent help" box, above the body of every live page in the topic
        pinned="Editors' boxes for whole topics, shown at once on every live page of the topic: no article's "
        "review covers them.",
        article_field=False,
        sanitized={
            "UrgentHelp.heading": PLAIN,
            "UrgentHelp.symptoms": PLAIN_LINES,
            "UrgentHelp.same_day_contact": PLAIN,
            "UrgentHelp.same_day_phone": PLAIN,
            "UrgentHelp.emergency_symptoms": PLAIN_LINES,
            "UrgentHelp.emergency_phone": PLAIN,
        },
        stale_on=("UrgentHelp",),
    ),
    Visible(
        "pages",  # the policy pages every page's footer links
        pinned="The clinic's policy pages, kept by editors: no article's review covers them.",
        article_field=False,
        sanitized={"Page.title": PLAIN, "Page.body": RICH},
        stale_on=("Page",),
    ),
)

ARTICLE_FIELDS = {entry.name: entry.pinned for entry in VISIBLE if entry.article_field}
COMPARED = [entry.compared[0] for entry in VISIBLE if entry.compared]

REFERENCE_FIELDS = {
    "citation_key": PINNED,  # anchors and the reference a statement names
    "authors": PINNED,
    "title": PINNED,
    "journal": PINNED,
    "journal_abbrev": PINNED,
    "year": PINNED,
    "published_on": PINNED,
    "volume": PINNED,
    "issue": PINNED,
    "pages": PINNED,
    "doi": PINNED,
    "pmid": PINNED,
    "pmcid": PINNED,
    "url": PINNED,  # the admin links it for the reviewer
    "open_access_pdf": PINNED,
    "publication_type": PINNED,  # the reviewer grades the statement partly on it
    "abstract": PINNED,  # what the reviewer read on the desk
    "is_retracted": PINNED,
    "retraction_note": PINNED,
}


def pinned(fields: dict[str, str]) -> list[str]:
    """Return the names of the pinned fields, in their declared order."""
    return [name for name, decision in fields.items() if decision == PINNED]


def hashed(article, *, cited: list) -> dict:
    """Return what the content hash covers of `article`, by entry name; `cited`: its references, in order."""
    values = {entry.name: entry.hashed(article, cited) for entry in VISIBLE if entry.hashed}
    return {name: value for name, value in values.items() if value is not NOT_HASHED}


def frozen(article, *, rendered, reviewed_at: datetime.datetime | None) -> dict:
    """Return the snapshot fields that freeze what patients see of `article`, as PublishedSnapshot arguments."""
    publishing = Publishing(article, rendered, reviewed_at)
    fields: dict = {}
    for entry in VISIBLE:
        if entry.frozen:
            values = entry.frozen(article, publishing)
            if overlap := fields.keys() & values.keys():
                raise ValueError(f"Two entries freeze the snapshot's {', '.join(sorted(overlap))}.")
            fields.update(values)
    return fields


def revision_values(record) -> dict[str, str]:
    """Return the comparable text of each compared entry of an article revision, by its label."""
    return {entry.compared[0]: entry.compared[1](record) for entry in VISIBLE if entry.compared}


def stale_on_models() -> list:
    """Return the models whose saves and deletes make cached public pages stale."""
    names = dict.fromkeys(name for entry in VISIBLE for name in entry.stale_on)
    return [apps.get_model("articles", name) for name in names]


def sanitize(record, *, fields=None) -> None:
    """Clean in place each text field of `record` that patients read, by the policy its entry gives.

    `fields`: only these (a save's update_fields: a workflow step that saves its state writes no text)."""
    model = type(record).__name__
    for entry in VISIBLE:
        for target, policy in entry.sanitized.items():
            owner, name = target.split(".")
            if owner == model and (fields is None or name in fields):
                setattr(record, name, policy(getattr(record, name)))
