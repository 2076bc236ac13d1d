"""Translations: articles in another language that name the article they translate (`Article.translation_of`).

A translation is an article of its own in the workflow; what this module adds is what ties it to its source:
- which live page in each other language is "the same article" (the language switcher and hreflang links);
- which of the source's statements each of its statements translates, for the reviewer who approves it;
- drift: a source republished with changed statements marks its translations out of date at once on the desk,
  and, once the editors' grace period (TranslationPolicy) is over, on the translated page itself.
"""

import datetime
from dataclasses import dataclass

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from articles import citations, languages
from articles.models import Article, PublishedSnapshot, TranslationPolicy


def _slug_field(language: str) -> str:
    return f"slug_{language}"


def with_counterparts(articles):
    """Annotate each article with `slug_<code>`: the live address slug of the same article in each language.

    The same article is the source, its translations, and the source's other translations; one query, with a
    small subquery per language (there are two), so the article page's query count does not change.
    """
    family = (
        Q(pk=OuterRef("translation_of"))
        | Q(translation_of=OuterRef("pk"))
        | Q(translation_of=OuterRef("translation_of"), translation_of__isnull=False)
    )
    annotations = {}
    for code in languages.NAMES:
        live = Article.objects.filter(family, language=code, live_snapshot__isnull=False).exclude(pk=OuterRef("pk"))
        annotations[_slug_field(code)] = Subquery(live.values("live_snapshot__slug")[:1])
    policy = TranslationPolicy.objects.order_by("pk").values("out_of_date_grace_days")[:1]
    return articles.annotate(**annotations, out_of_date_grace_days=Subquery(policy))


@dataclass(frozen=True)
class Counterpart:
    language: str
    name: str  # the language's name in that language: "English", "Español"
    url: str


def counterparts(article: Article) -> list[Counterpart]:
    """The live pages of the same article in other languages (needs `with_counterparts`), in settings order."""
    found = []
    for code, name in languages.NAMES.items():
        slug = getattr(article, _slug_field(code), None)
        if code != article.language and slug:
            found.append(Counterpart(code, name, languages.url_in(code, "articles:article_detail", slug=slug)))
    return found


def newer_source_notice_due(article: Article, now: datetime.datetime | None = None) -> bool:
    """Whether the translated page must tell readers that its source is newer (needs `with_counterparts`)."""
    if article.source_changed_at is None:
        return False
    days = getattr(article, "out_of_date_grace_days", None)
    days = TranslationPolicy.current().out_of_date_grace_days if days is None else days
    return (now or timezone.now()) >= article.source_changed_at + datetime.timedelta(days=days)


def translations_left_behind(article: Article, *, previous_snapshot_id: int | None, snapshot: PublishedSnapshot):
    """The translations of `article` that its new live `snapshot` leaves out of date, and were not already.

    Out of date: the statements (by hash, so their wording, citations and order) differ from those of the
    version it replaced. None for a first publication, nor for a translation's own.
    """
    if previous_snapshot_id is None or article.translation_of_id is not None:
        return Article.objects.none()
    previous = PublishedSnapshot.objects.values_list("statements", flat=True).get(pk=previous_snapshot_id)
    if [s["hash"] for s in previous] == [s["hash"] for s in snapshot.statements]:
        return Article.objects.none()
    return Article.objects.filter(translation_of=article, source_changed_at__isnull=True)


@dataclass(frozen=True)
class SourceStatement:
    text: str
    number: int | None


def source_statements(translation: Article, translated: list) -> list[SourceStatement | None]:
    """For each of a translation's statements (citations.Sentence), the source statement it translates, or None.

    The source as patients read it (its live version; its working copy while it has none). A statement is
    paired with the source statement citing the same references in the same order, the n-th such with the
    n-th; one with no such partner (a sentence the translator added or split) is paired with nothing, and the
    reviewer reads it against the whole source.
    """
    source = translation.translation_of
    if source is None:
        return [None] * len(translated)
    if source.live_snapshot_id:
        statements = PublishedSnapshot.objects.values_list("statements", flat=True).get(pk=source.live_snapshot_id)
        originals = [
            (tuple(citations.citation_keys(s["text"])), SourceStatement(s["text"], s["number"])) for s in statements
        ]
    else:
        originals = [(tuple(s.keys), SourceStatement(s.text, None)) for s in source.statements]
    by_keys: dict[tuple, list[SourceStatement]] = {}
    for keys, statement in originals:
        by_keys.setdefault(keys, []).append(statement)
    paired = []
    for sentence in translated:
        candidates = by_keys.get(tuple(sentence.keys), [])
        paired.append(candidates.pop(0) if candidates else None)
    return paired
