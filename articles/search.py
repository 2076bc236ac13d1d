"""Search the live articles: PostgreSQL full-text search, with a plain contains search for the SQLite demo.

Each language's search page finds the pages in its language only. Ranked title above summary above body
(weights A, B, C of `models.SEARCH_VECTOR`, which PostgreSQL keeps in the snapshot's generated `search_vector`
column, with a GIN index), stemmed in the page's language ("heal" finds "healing"; in Spanish accents are
ignored, so "cicatrizacion" finds "cicatrización"), typo tolerance on titles through pg_trgm (a trigram GIN
index) when the words match no article, and highlighted snippets that are escaped before the highlight is added.
The query is parsed with the configuration the stored vectors of its language were made with (`SEARCH_CONFIGS`).

Ranking reads every match, so it is bounded: when a query matches more than MAX_RANKED live articles (a word
most articles use), the newest MAX_RANKED of them are ranked, and the page says there are more.
"""

from dataclasses import dataclass, field

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVectorField,
    TrigramWordSimilarity,
)
from django.db import connection
from django.db.models import Expression, Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from articles import languages
from articles.models import SEARCH_CONFIGS, PublishedSnapshot

MAX_QUERY_LENGTH = 200
MAX_RANKED = 200
_START, _STOP = "\x02", "\x03"  # highlight markers no stored text contains; swapped for <mark> after escaping


class StoredSearchVector(Expression):
    """The snapshot's `search_vector` column (PostgreSQL only, so not a model field; see migration 0009)."""

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return f"{table}.{connection.ops.quote_name('search_vector')}", []


@dataclass(frozen=True)
class Matches:
    """What a query matches: the ids of the newest live snapshots it matches (up to MAX_RANKED + 1), and how."""

    words: str
    ids: list[int] = field(default_factory=list)
    typos: bool = False  # the words matched no article, so these are titles with a word like one of them
    language: str = languages.DEFAULT

    @property
    def count(self) -> int:
        return min(len(self.ids), MAX_RANKED)

    @property
    def more_than_ranked(self) -> bool:
        return len(self.ids) > MAX_RANKED


def clean_query(text: str) -> str:
    """Return the query's words: control characters (NUL included) dropped, whitespace collapsed, length capped."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text or "")
    return " ".join(printable.split())[:MAX_QUERY_LENGTH]


def _config(language: str) -> str:
    return SEARCH_CONFIGS.get(language, SEARCH_CONFIGS[languages.DEFAULT])


def _query(words: str, language: str) -> SearchQuery:
    return SearchQuery(words, search_type="websearch", config=_config(language))


def matching(words: str, *, typos: bool = False, language: str = languages.DEFAULT) -> QuerySet:
    """Return the live snapshots in `language` matching the (cleaned) words, newest first.

    With `typos`, those whose title has a word like one of them, in no particular order: sorting them would
    read every candidate the trigram index offers (thousands for "thining hair"), and they are ranked by
    likeness afterwards anyway.
    """
    live = PublishedSnapshot.objects.live().filter(language=language).order_by("-published_at", "-pk")
    if connection.vendor != "postgresql":
        return live.filter(Q(title__icontains=words) | Q(summary__icontains=words) | Q(body_text__icontains=words))
    if typos:
        return live.filter(title__trigram_word_similar=words).order_by()
    return live.alias(search=StoredSearchVector()).filter(search=_query(words, language))


def find_matches(text: str, *, language: str = languages.DEFAULT) -> Matches:
    """Find the newest live snapshots in `language` matching `text` (MAX_RANKED + 1 at most), or typoed titles."""
    words = clean_query(text)
    if not words:
        return Matches(words, language=language)
    # A common word is read newest first from the date index, a rare one from the full-text index.
    ids = list(matching(words, language=language).values_list("pk", flat=True)[: MAX_RANKED + 1])
    if ids or connection.vendor != "postgresql":
        return Matches(words, ids, language=language)
    similar = matching(words, typos=True, language=language).values_list("pk", flat=True)[: MAX_RANKED + 1]
    return Matches(words, list(similar), typos=True, language=language)


def search_live_snapshots(text: str, *, matches: Matches | None = None, language: str = languages.DEFAULT) -> QuerySet:
    """Return the live snapshots matching `text`, best first; when more match, the best of the newest MAX_RANKED.

    `matches` is `find_matches(text)`, when the caller has it already. On PostgreSQL each carries `headline`,
    the passages of its body that match (`snippet()` makes it HTML); PostgreSQL works it out only for the rows
    of the page asked for, after sorting.
    """
    matches = matches or find_matches(text, language=language)
    found = PublishedSnapshot.objects.filter(pk__in=matches.ids[:MAX_RANKED]).only(*PublishedSnapshot.CARD_FIELDS)
    if connection.vendor != "postgresql":
        return found.order_by("-published_at", "pk")
    words, query = matches.words, _query(matches.words, matches.language)
    found = found.annotate(
        title_similarity=TrigramWordSimilarity(words, "title"),
        headline=SearchHeadline(
            "body_text",
            query,
            config=_config(matches.language),
            start_sel=_START,
            stop_sel=_STOP,
            max_fragments=2,
            max_words=30,
            min_words=12,
            fragment_delimiter=" … ",
        ),
    )
    if matches.typos:  # the words are in none of them, so only the likeness of the titles can rank them
        return found.order_by("-title_similarity", "-published_at", "pk")
    return found.annotate(rank=SearchRank(StoredSearchVector(), query)).order_by(
        "-rank", "-title_similarity", "-published_at", "pk"
    )


def snippet(snapshot: PublishedSnapshot) -> SafeString:
    """Return what a search result shows under its title: the matching passages highlighted, or the summary."""
    headline = getattr(snapshot, "headline", None)
    return highlighted(headline) if headline else escape(snapshot.summary)


def highlighted(headline: str) -> SafeString:
    """Return a search headline as HTML: its text escaped, its matches in <mark>."""
    return mark_safe(escape(headline).replace(_START, "<mark>").replace(_STOP, "</mark>"))  # noqa: S308 - escaped
