"""The names (tags) an edge cache files each public response under, and the tags each kind of change makes stale.

Every public response carries `Surrogate-Key: <tags>` (space-separated; Varnish's xkey and Fastly read it, and
each configured purger may add the header its own edge reads, such as Cloudflare's `Cache-Tag`). After a change
commits, the outbox (articles.edge.outbox) asks every edge to forget exactly the tags the change touches, so
shared caches may keep pages for EDGE_CACHE_SECONDS (an hour) and still show a retraction within a second.

The vocabulary, and what carries each tag:

- `site`: every public response (the footer's pages, the site-wide parts). A site import purges it.
- `articles-<lang>`: every page that lists live articles in that language (home, lists, topic pages, search,
  feeds, corrections, staff bios, the sitemap), and its 404 and 410 pages: publishing, unpublishing or
  archiving any article in the language purges it.
- `article-<pk>`: the article's page and leaflet, and the pages whose "Related" list links to it.
- `topic-<pk>`: the topic's page and feeds, and the article pages in it (they show its urgent-help box).
- `disclaimers-<lang>`: every article page and leaflet in that language (disclaimers are read live).
- `staff-<pk>`: a staff profile's bio page (articles freeze their byline when published).
- `page-<pk>`: a policy page; footers show pages too, so a page's change also purges `site`.
- `sitemap` and `missing` (404 pages): purged when a topic, page or profile is added, renamed or removed.

What a published snapshot freezes (its text, byline, topic names) changes only by publishing again, which purges
the article's own tag. Which article pages show a newly published article as "Related" is not tracked: they
show it when they are next rendered (within EDGE_CACHE_SECONDS), while an unpublished or renamed related article
purges every page linking to it at once.
"""

from django.conf import settings
from django.utils import translation

HEADER = "Surrogate-Key"
SITE = "site"
SITEMAP = "sitemap"
MISSING = "missing"


def article(pk: int) -> str:
    return f"article-{pk}"


def articles(language: str) -> str:
    return f"articles-{language}"


def topic(pk: int) -> str:
    return f"topic-{pk}"


def disclaimers(language: str) -> str:
    return f"disclaimers-{language}"


def staff(pk: int) -> str:
    return f"staff-{pk}"


def page(pk: int) -> str:
    return f"page-{pk}"


def every_language(make) -> set[str]:
    return {make(code) for code, _name in settings.LANGUAGES}


def describe(tags) -> str:
    """The tags in editors' words: "article 12, the English lists of articles, topic 3"."""
    from articles.languages import NAMES

    words = []
    for tag in tags:
        kind, _dash, rest = tag.partition("-")
        if kind == "articles":
            words.append(f"the {NAMES.get(rest, rest)} lists of articles")
        elif kind == "disclaimers":
            words.append(f"the disclaimers on {NAMES.get(rest, rest)} articles")
        elif kind in {"article", "topic", "page"}:
            words.append(f"{kind} {rest}")
        elif kind == "staff":
            words.append(f"staff profile {rest}")
        else:
            words.append({SITE: "every page", SITEMAP: "the sitemap", MISSING: "pages not found"}.get(tag, tag))
    return ", ".join(words)


# --- What a response shows ----------------------------------------------------------------------------------------


def shows(request, *tags: str) -> None:
    """Note that the response to `request` shows what `tags` name (views call it while building the page)."""
    request.__dict__.setdefault("edge_tags", set()).update(tags)


def of_response(request, response) -> set[str]:
    """Return every tag of a public response: the site's, what the view noted, and for a missing page the lists'
    (a 404 kept at the edge must go when an article is published at its address)."""
    tags = {SITE, *getattr(request, "edge_tags", ())}
    if response.status_code in (404, 410):
        tags |= {articles(translation.get_language()), MISSING}
    return tags


def label(response, tags: set[str]) -> None:
    """Write the tags into the response's headers: ours, and those of each configured edge."""
    from articles.edge import purgers

    ordered = sorted(tags)
    response[HEADER] = " ".join(ordered)
    for purger in purgers.configured():
        for name, value in purger.response_headers(ordered).items():
            response[name] = value


# --- What a change makes stale ------------------------------------------------------------------------------------


def of_publication(article_record) -> set[str]:
    """Tags a publish, unpublish, archive or correction of an article purges: its pages, its language's lists,
    and the pages of its original and translations (their language switchers and newer-version notices)."""
    from articles.models import Article

    family = {article_record.pk}
    source = article_record.translation_of_id or article_record.pk
    family |= set(Article.objects.filter(translation_of=source).values_list("pk", flat=True)) | {source}
    return {articles(article_record.language), *(article(pk) for pk in family)}


def of_saved(instance, *, deleted: bool = False) -> set[str]:
    """Tags the save or delete of a record patient pages read live makes stale (patient_visible's `stale_on`)."""
    name = type(instance).__name__
    if name == "Topic":
        return {topic(instance.pk), SITEMAP, MISSING}
    if name == "UrgentHelp":
        return {topic(instance.topic_id)}
    if name == "Disclaimer":
        return every_language(disclaimers)  # its language may have just changed
    if name == "StaffProfile":
        return {staff(instance.pk), SITEMAP, MISSING}
    if name == "Page":
        return {page(instance.pk), SITE, SITEMAP, MISSING}  # footers list pages
    return {SITE}  # a kind of record not named here: everything, rather than something stale
