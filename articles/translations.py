"""Translations: articles in another language that name the article they translate (`Article.translation_of`).

A translation is an article of its own in the workflow; what this module adds is what ties it to its source:
- which live page in each other language is "the same article" (the language switcher and hreflang links);
- which of the source's statements each of its statements translates, for the reviewer who approves it;
- drift: a source republished with changed statements marks its translations out of date at once on the desk,
  and, once the editors' grace period (TranslationPolicy) is over, on the translated page itself.
"""

import datetime
import itertools
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from articles import citations, languages, permissions
from articles.models import Article, PublishedSnapshot, TranslationPolicy


def _slug_field(language: str) -> str:
    return f"slug_{language}"


def with_counterparts(articles):
    """Annotate each article with `slug_<code>`: the live address slug of the same article in each language.

    The same article is the source, its translations, and the source's other translations; one query, with a
    small subquery per language (there are two), so the article page's query count does not change. The
    subqueries are written in SQL: built with the ORM (OuterRef, Q), compiling them took most of the CPU of an
    article page rendered without the page cache. They read the outer query's own table, so `articles` must be
    a plain query of articles (not one that joins the table again under another alias).
    """
    annotations = {_slug_field(code): RawSQL(COUNTERPART_SLUG, [code]) for code in languages.NAMES}  # noqa: S611
    return with_grace_days(articles.annotate(**annotations))


# The live slug of another article of the same family in a language (%s), for the row of the outer query.
COUNTERPART_SLUG = f"""
    SELECT snapshot.slug FROM {Article._meta.db_table} family
    JOIN {PublishedSnapshot._meta.db_table} snapshot ON snapshot.id = family.live_snapshot_id
    WHERE family.language = %s AND family.id <> {Article._meta.db_table}.id AND (
        family.id = {Article._meta.db_table}.translation_of_id
        OR family.translation_of_id = {Article._meta.db_table}.id
        OR family.translation_of_id = {Article._meta.db_table}.translation_of_id
    )
    LIMIT 1
"""  # noqa: S608 - table names from the models; the language is a parameter
GRACE_DAYS = f"SELECT out_of_date_grace_days FROM {TranslationPolicy._meta.db_table} ORDER BY id LIMIT 1"  # noqa: S608


def with_grace_days(articles):
    """Annotate each article with the editors' grace period (`readers_told_from` reads it), in the same query."""
    return articles.annotate(out_of_date_grace_days=RawSQL(GRACE_DAYS, []))  # noqa: S611 - no input in it


@dataclass(frozen=True)
class Counterpart:
    language: str
    name: str  # the language's name in that language: "English", "Español"
    url: str


def counterparts(article: Article) -> list[Counterpart]:
    """The live pages of the same article in other languages (needs `with_counterparts`), in settings order."""
    found = []
    for code, name in languages.NATIVE_NAMES.items():
        slug = getattr(article, _slug_field(code), None)
        if code != article.language and slug:
            found.append(Counterpart(code, name, languages.url_in(code, "articles:article_detail", slug=slug)))
    return found


def newer_source(article: Article, now: datetime.datetime | None = None) -> Counterpart | None:
    """The live source a translated page must now tell its readers is newer (see `readers_told_from`), or None.

    Needs `with_counterparts`; none when the source is not live, as there is nothing newer to read.
    """
    told_from = readers_told_from(article)
    if told_from is None or (now or timezone.now()) < told_from:
        return None
    # Sources are in the default language (Article.clean), so this reads nothing more from the database.
    return next((c for c in counterparts(article) if c.language == settings.LANGUAGE_CODE), None)


def readers_told_from(article: Article) -> datetime.datetime | None:
    """When a translation's readers are told its source is newer: the editors' grace period after the source
    changed; None while it is up to date. The grace comes from `with_counterparts` where it annotated it."""
    if article.source_changed_at is None:
        return None
    days = getattr(article, "out_of_date_grace_days", None)
    days = TranslationPolicy.current().out_of_date_grace_days if days is None else days
    return article.source_changed_at + datetime.timedelta(days=days)


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


def source_statements(translation: Article, translated: list, *, source: Article | None = None):
    """For each of a translation's statements (citations.Sentence), the source statement it translates, or None.

    The source as patients read it (its live version; its working copy while it has none). A statement is
    paired with the source statement citing the same references in the same order, the n-th such with the
    n-th; one with no such partner (a sentence the translator added or split) is paired with nothing, and the
    reviewer reads it against the whole source. A caller holding the source (read with its live snapshot, as
    `family_on_desk` reads it) passes it, and nothing is read again.
    """
    source = source or translation.translation_of
    if source is None:
        return [None] * len(translated)
    if source.live_snapshot_id:
        if Article.live_snapshot.is_cached(source):
            statements = source.live_snapshot.statements
        else:
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


def family_on_desk(article: Article) -> dict:
    """What the desk and the admin say of an article's translations: its source, or its translations, and
    which translations are out of date (since when, and from when their readers are told)."""
    if article.translation_of_id:
        source = Article.objects.select_related("live_snapshot").get(pk=article.translation_of_id)
        return {"source": source, "readers_told_from": readers_told_from(article)}
    members = with_grace_days(article.translations.select_related("live_snapshot").order_by("language"))
    return {"translations": [(member, readers_told_from(member)) for member in members]}


class CannotTranslate(Exception):
    """Why a translation cannot be started: said to the person who asked, as it is."""


def start_translation(source: Article, language: str, *, by) -> Article:
    """Start a draft translation of `source` into `language`, written by `by`, and return it.

    The draft begins as a copy of the original, citations and figures in place: the translator replaces the
    English sentence by sentence and keeps each [@key] where it is, which is how the desk pairs each translated
    statement with the one it translates. Refused if there is one already, or for a translation.
    """
    if not permissions.can_translate(by, source):
        raise CannotTranslate(NOT_ALLOWED)
    if source.translation_of_id is not None or source.language != settings.LANGUAGE_CODE:
        raise CannotTranslate(NOT_AN_ORIGINAL.format(title=source.title))
    if language not in languages.PREFIXED:
        raise CannotTranslate(NO_SUCH_LANGUAGE.format(language=language))
    existing = source.translations.filter(language=language).first()
    if existing is not None:
        raise CannotTranslate(ALREADY_TRANSLATED.format(title=existing.title, language=existing.get_language_display()))
    with transaction.atomic():
        draft = Article(
            title=source.title,
            slug=_free_slug(f"{source.slug}-{language}"),
            language=language,
            translation_of=source,
            summary=source.summary,
            key_points=source.key_points,
            body=source.body,
            author=by,
            review_interval_months=source.review_interval_months,
            drafted_with_ai=source.drafted_with_ai,
        )
        draft.save()
        draft.topics.set(source.topics.all())
    return draft


def _free_slug(slug: str) -> str:
    """`slug`, or `slug-2`, `slug-3` ... whichever no article has (a staff member may change it before publishing)."""
    slug = slug[: Article._meta.get_field("slug").max_length - 10]
    taken = set(Article.objects.filter(slug__startswith=slug).values_list("slug", flat=True))
    return next(c for n in itertools.count(1) if (c := slug if n == 1 else f"{slug}-{n}") not in taken)


NOT_ALLOWED = "You may not start translations: ask an editor."
NOT_AN_ORIGINAL = "“{title}” is a translation: translate the English original instead."
NO_SUCH_LANGUAGE = "There is no language “{language}” to translate into."
ALREADY_TRANSLATED = "It has a {language} translation already: “{title}”. Open that one."
