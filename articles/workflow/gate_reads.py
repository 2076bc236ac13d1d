"""What the gate reads from the database, read for a list of articles at once.

`review_status` reads through `GateReads.of([article])`; the publishing queue reads the rows a page shows with
one `GateReads.of(rows)`, so its queries do not grow with the rows while each verdict comes from the same code.
"""

import copy
import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q, prefetch_related_objects

from articles import figures, patient_visible
from articles.models import (
    Article,
    ChangeRequest,
    Disclaimer,
    EvidenceStatement,
    FindingJustification,
    RedFlagPhrase,
    Reference,
    RetractionAcknowledgement,
    ReviewSignOff,
    StatementApproval,
)


@dataclass
class Revision:
    """An article's revision current at a moment, with the related ids of its pinned many-to-many fields."""

    record: object  # the history record
    related: dict[str, set[int]]


@dataclass
class GateReads:
    """The review records, references and topics of some articles, by article id, as the gate orders them."""

    articles: dict[int, Article]  # copies of the articles, their topics prefetched
    resolved: dict[int, tuple[list[Reference], list[str]]]
    contributor_ids: dict[int, set[int]]
    stored: dict[int, list[EvidenceStatement]]
    approvals: dict[int, list[StatementApproval]]
    requests: dict[int, list[ChangeRequest]]  # on a statement
    article_requests: dict[int, list[ChangeRequest]]  # on the whole article
    sign_offs: dict[int, list[ReviewSignOff]]
    acknowledged: dict[int, set[int]]
    justifications: dict[int, list[FindingJustification]]  # oldest first
    red_flags: dict[str, list[RedFlagPhrase]]  # by language
    sitewide_disclaimer: set[str]  # the languages with an active site-wide disclaimer
    covered_topics: set[tuple[str, int]]  # (language, topic id) with an active topic disclaimer
    known_keys: list[str]  # every citation key, read only when some article cites an unknown one (else none)
    images: dict  # the library's images the bodies show, by id (figures.library_images)
    revisions: dict[int, Revision | None] = field(default_factory=dict)  # filled by `read_revisions`

    @classmethod
    def of(cls, articles) -> "GateReads":
        """Read what the gate needs of `articles` in a fixed number of queries, however many they are."""
        # Copies: the prefetched topics must not outlive this read on the caller's instances.
        copies = {a.pk: _without_prefetch(a) for a in articles}
        ids = list(copies)
        prefetch_related_objects(list(copies.values()), "topics")
        keys = {pk: a.citation_keys for pk, a in copies.items()}
        found = Reference.objects.by_keys({k for ks in keys.values() for k in ks})
        resolved = {pk: copies[pk].resolve_citations(found=found) for pk in ids}
        languages = {a.language for a in copies.values()}
        flagged = {t.pk for a in copies.values() for t in a.topics.all() if needs_topic_disclaimer(t)}
        active = Disclaimer.objects.active().filter(language__in=languages)
        requests = _by_article(
            ChangeRequest.objects.filter(article_id__in=ids).select_related("requested_by__staff_profile")
        )
        return cls(
            images=figures.library_images({i for a in copies.values() for i in figures.figure_ids(a.body)}),
            articles=copies,
            resolved=resolved,
            contributor_ids=Article.contributor_ids_of(copies.values()),
            stored=_by_article(EvidenceStatement.objects.filter(article_id__in=ids)),
            approvals=_by_article(
                StatementApproval.objects.filter(article_id__in=ids)
                .select_related("reviewer__staff_profile")
                .order_by("-approved_at", "-pk")
            ),
            requests=defaultdict(list, {pk: [r for r in rs if r.statement_hash] for pk, rs in requests.items()}),
            article_requests=defaultdict(
                list, {pk: [r for r in rs if not r.statement_hash] for pk, rs in requests.items()}
            ),
            sign_offs=_by_article(
                ReviewSignOff.objects.filter(article_id__in=ids)
                .select_related("reviewer__staff_profile")
                .order_by("-signed_at", "-pk")
            ),
            acknowledged=defaultdict(
                set,
                {
                    pk: {a.reference_id for a in acks}
                    for pk, acks in _by_article(RetractionAcknowledgement.objects.filter(article_id__in=ids)).items()
                },
            ),
            justifications=_by_article(
                FindingJustification.objects.filter(article_id__in=ids)
                .select_related("justified_by__staff_profile")
                .order_by("justified_at")
            ),
            red_flags=_by_language(RedFlagPhrase.objects.checked_in_any(languages)),
            sitewide_disclaimer=set(active.filter(scope=Disclaimer.Scope.ALL).values_list("language", flat=True)),
            covered_topics=set(
                active.filter(scope=Disclaimer.Scope.TOPICS, topics__in=flagged).values_list("language", "topics")
            )
            if flagged
            else set(),
            known_keys=list(Reference.objects.values_list("citation_key", flat=True))
            if any(unknown for _, unknown in resolved.values())
            else [],
        )

    def read_revisions(self, moments: dict[int, datetime.datetime]) -> None:
        """Read each article's revision current at its moment (`revision_at`), for all of them in three queries."""
        moments = {pk: moment for pk, moment in moments.items() if pk not in self.revisions}
        if not moments:
            return
        when = Q()
        for pk, moment in moments.items():
            when |= Q(id=pk, history_date__lte=moment)
        # Newest first per article, ids only: the first of each is its revision then; only those are read in full.
        wanted = {}
        for pk, history_id in (
            Article.history.filter(when).order_by("id", "-history_date", "-history_id").values_list("id", "history_id")
        ):
            wanted.setdefault(pk, history_id)
        current = {r.id: r for r in Article.history.filter(history_id__in=list(wanted.values()))} if wanted else {}
        related = defaultdict(lambda: defaultdict(set))
        for name in _pinned_m2m() if current else []:
            through = getattr(next(iter(current.values())), name).model  # the history's copy of the link table
            target = Article._meta.get_field(name).m2m_reverse_field_name()
            rows = through.objects.filter(history__in=[r.history_id for r in current.values()])
            for history_id, related_id in rows.values_list("history_id", target):
                related[history_id][name].add(related_id)
        for pk in moments:
            record = current.get(pk)
            self.revisions[pk] = Revision(record, dict(related[record.history_id])) if record else None

    def images_of(self, article: Article) -> dict:
        """Return the library's images the article's body shows, by id, as figures.library_images would."""
        return {i: self.images[i] for i in figures.figure_ids(article.body) if i in self.images}

    def topics(self, pk: int) -> list:
        return list(self.articles[pk].topics.all())


def _without_prefetch(article: Article) -> Article:
    twin = copy.copy(article)
    twin.__dict__.pop("_prefetched_objects_cache", None)
    return twin


def needs_topic_disclaimer(topic) -> bool:
    return topic.requires_topic_disclaimer or topic.not_fda_approved


def _by_article(queryset) -> dict[int, list]:
    rows = defaultdict(list)
    for row in queryset:
        rows[row.article_id].append(row)
    return rows


def _by_language(queryset) -> dict[str, list]:
    rows = defaultdict(list)
    for row in queryset:
        rows[row.language].append(row)
    return rows


def _pinned_m2m() -> list[str]:
    names = patient_visible.pinned(patient_visible.ARTICLE_FIELDS)
    return [name for name in names if Article._meta.get_field(name).many_to_many]
