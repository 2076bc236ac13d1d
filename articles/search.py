"""Search the live articles: PostgreSQL full-text search, with a plain contains search for the SQLite demo.

Ranked title above summary above body (weights A, B, C of `models.SEARCH_VECTOR`, the expression a GIN
index covers), English stemming ("heal" finds "healing"), typo tolerance on titles through pg_trgm (a
trigram GIN index), and highlighted snippets that are escaped before the highlight is added.
"""

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from articles.models import SEARCH_VECTOR, PublishedSnapshot

MAX_QUERY_LENGTH = 200
_START, _STOP = "\x02", "\x03"  # highlight markers no stored text contains; swapped for <mark> after escaping


def clean_query(text: str) -> str:
    """Return the query's words: control characters (NUL included) dropped, whitespace collapsed, length capped."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text or "")
    return " ".join(printable.split())[:MAX_QUERY_LENGTH]


def search_live_snapshots(text: str) -> QuerySet:
    """Return the live snapshots matching `text`, best first."""
    words = clean_query(text)
    live = PublishedSnapshot.objects.live()
    if not words:
        return live.none()
    if connection.vendor != "postgresql":
        return live.filter(
            Q(title__icontains=words) | Q(summary__icontains=words) | Q(body_text__icontains=words)
        ).order_by("-published_at", "pk")
    query = SearchQuery(words, search_type="websearch", config="english")
    return (
        live.annotate(search=SEARCH_VECTOR)
        .filter(Q(search=query) | Q(title__trigram_word_similar=words))
        .annotate(rank=SearchRank(SEARCH_VECTOR, query), title_similarity=TrigramWordSimilarity(words, "title"))
        .order_by("-rank", "-title_similarity", "-published_at", "pk")
    )


def snippets(snapshots, text: str) -> dict[int, SafeString]:
    """Return a highlighted passage of each snapshot's body that matches `text` (one query for the page)."""
    ids = [snapshot.pk for snapshot in snapshots]
    words = clean_query(text)
    if not ids or not words:
        return {}
    if connection.vendor != "postgresql":
        return {
            pk: escape(summary)
            for pk, summary in PublishedSnapshot.objects.filter(pk__in=ids).values_list("pk", "summary")
        }
    headline = SearchHeadline(
        "body_text",
        SearchQuery(words, search_type="websearch", config="english"),
        config="english",
        start_sel=_START,
        stop_sel=_STOP,
        max_fragments=2,
        max_words=30,
        min_words=12,
        fragment_delimiter=" … ",
    )
    rows = PublishedSnapshot.objects.filter(pk__in=ids).annotate(headline=headline).values_list("pk", "headline")
    return {pk: highlighted(text) for pk, text in rows}


def highlighted(headline: str) -> SafeString:
    """Return a search headline as HTML: its text escaped, its matches in <mark>."""
    return mark_safe(escape(headline).replace(_START, "<mark>").replace(_STOP, "</mark>"))  # noqa: S308 - escaped
