"""The patient site, which reads published snapshots only (`Article.objects.live()`).

The review desk, for staff, is in `articles.desk`."""

import functools
import sys

from django import db
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseServerError
from django.shortcuts import get_object_or_404, redirect
from django.template import loader
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header, http_date, quote_etag
from django.utils.translation import gettext, gettext_noop
from django.views.defaults import page_not_found
from django.views.generic import DetailView, ListView, TemplateView

from articles import article_page, languages, leaflets, page_cache, search, site_icons, translations
from articles.edge import tags
from articles.forms import SearchForm
from articles.models import Article, Disclaimer, Page, PublishedSnapshot, StaffProfile, Topic, UrgentHelp

ARTICLES_PER_PAGE = 12
FEATURED_ON_HOME = 3
NEWEST_ON_HOME = 6
CORRECTIONS_PER_PAGE = 20
RELATED_ARTICLES = 4  # on an article page: the newest live articles sharing a topic with it
ARTICLES_ON_BIO = 12  # of each list on a staff bio page, the newest; the page says when there are more
DATABASE_RETRY_AFTER_SECONDS = 30
HOME_DESCRIPTION = gettext_noop(
    "Articles written by our team and checked by our clinicians, with how strong the research is."
)


def public_page(view):
    """Serve `view` as a public page: kept by the page cache, and by shared caches (see with_public_caching)."""
    return page_cache.cached_page(public_response(view))


def public_response(view):
    """Serve `view` for everyone alike, as shared caches may keep it (see with_public_caching).

    A missing page is answered like one: a shared cache refreshing an unpublished article's page must be
    able to keep the 404, or it would go on serving the old page.
    """

    @functools.wraps(view)
    def public_view(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404 as missing:
            response = page_not_found(request, missing)
        return with_public_caching(request, response)

    return public_view


def with_public_caching(request, response):
    """Let a shared cache (nginx, a CDN) keep a public page for PUBLIC_CACHE_SECONDS; browsers check each visit.

    The page names what it shows (`Surrogate-Key`, articles.edge.tags), so that an edge told of a change can
    forget exactly the pages it touches.

    Only a page, a 404 or a 410 built for no one in particular: a page that read the session stays private.
    ConditionalGetMiddleware answers a browser's check with 304 by the ETag.
    """
    if hasattr(response, "render"):
        response.render()  # first: a template may read the session
    if response.status_code in (200, 404, 410) and page_cache.same_for_everyone(request, response):
        patch_cache_control(
            response,
            public=True,
            max_age=0,
            s_maxage=settings.PUBLIC_CACHE_SECONDS,
            # At most a minute past its time, while the edge asks again: what changes with the date alone.
            stale_while_revalidate=min(settings.PUBLIC_CACHE_SECONDS, 60),
        )
        tags.label(response, tags.of_response(request, response))  # what an edge purges it by (articles.edge)
    return response


def not_found(request, exception):
    """The 404 page for any address, cached as public pages are unless it was built for someone (a staff page)."""
    return with_public_caching(request, page_not_found(request, exception))


def footer_pages(pages, language: str) -> list:
    """The footer's pages for a page in `language`: those in it, or the English ones where it has none."""
    shown = [page for page in pages if page.show_in_footer]
    return [page for page in shown if page.language == language] or [
        page for page in shown if page.language == settings.LANGUAGE_CODE
    ]


class PublicPageMixin:
    """Public pages: the same for every visitor (see public_page)."""

    lists_articles = False  # a list of live articles in the page's language: any publish in it changes the page

    @classmethod
    def as_view(cls, **initkwargs):
        return public_page(super().as_view(**initkwargs))

    def get_context_data(self, **kwargs):
        if self.lists_articles:
            tags.shows(self.request, tags.articles(translation.get_language()))
        return super().get_context_data(**kwargs)


class HomeView(PublicPageMixin, TemplateView):
    template_name = "articles/home.html"
    lists_articles = True

    def get_context_data(self, **kwargs):
        live = Article.objects.live().in_language().as_cards().newest_first()
        featured = list(live.filter(is_featured=True)[:FEATURED_ON_HOME])
        newest = [a for a in live[: NEWEST_ON_HOME + len(featured)] if a not in featured][:NEWEST_ON_HOME]
        in_language = PublishedSnapshot.objects.live().filter(language=translation.get_language())
        topics = list(Topic.objects.filter(snapshots__in=in_language).distinct())
        tags.shows(self.request, *(tags.topic(topic.pk) for topic in topics))
        return super().get_context_data(
            featured=featured,
            newest=newest,
            topics=topics,
            link_preview=site_icons.link_preview(
                title=settings.CLINIC["name"], description=gettext(HOME_DESCRIPTION), path="/"
            ),
            **kwargs,
        )


class IdsFirstPaginator(Paginator):
    """Find a page's ids with a narrow subquery (read from an index), and load only those rows in full.

    Otherwise PostgreSQL would fetch and join every row before the page, only to skip it: a page deep in a
    list of 100,000 articles took as long as reading all of them.
    """

    def page(self, number):
        page = super().page(number)
        page.object_list = self.object_list.filter(pk__in=page.object_list.values("pk"))
        return page


class ArticleListView(PublicPageMixin, ListView):
    template_name = "articles/article_list.html"
    lists_articles = True
    context_object_name = "articles"
    paginate_by = ARTICLES_PER_PAGE
    paginator_class = IdsFirstPaginator

    def get_queryset(self):
        return Article.objects.live().in_language().as_cards().newest_first()


class TopicDetailView(PublicPageMixin, ListView):
    template_name = "articles/topic_detail.html"
    lists_articles = True
    context_object_name = "articles"
    paginate_by = ARTICLES_PER_PAGE
    paginator_class = IdsFirstPaginator

    def get_queryset(self):
        self.topic = get_object_or_404(Topic, slug=self.kwargs["slug"])
        return Article.objects.live().in_language().published_under(self.topic).as_cards().newest_first()

    def get_context_data(self, **kwargs):
        topic, path = self.topic, self.topic.get_absolute_url()
        name, description = topic.local_name, topic.local_description or topic.local_name
        preview = site_icons.link_preview(title=name, description=description, path=path)
        tags.shows(self.request, tags.topic(topic.pk))
        return super().get_context_data(topic=topic, link_preview=preview, **kwargs)


class ArticleDetailView(PublicPageMixin, DetailView):
    template_name = "articles/article_detail.html"
    context_object_name = "article"

    def get(self, request, *args, **kwargs):
        try:
            response = super().get(request, *args, **kwargs)
        except Http404:
            earlier = PublishedSnapshot.objects.filter(slug=kwargs["slug"]).select_related("article__live_snapshot")
            for snapshot in earlier.order_by("-published_at")[:1]:
                if snapshot.article.live_snapshot:  # the article lives on at a new address
                    return redirect(self.address_of(snapshot.article.live_snapshot), permanent=True)
                if snapshot.article.status == Article.Status.ARCHIVED:
                    return TemplateResponse(request, "410.html", status=410)
            raise
        if self.object.language != translation.get_language():  # a Spanish article's slug under English, say
            return redirect(self.address_of(self.object.live_snapshot), permanent=True)
        return response

    def address_of(self, snapshot: PublishedSnapshot) -> str:
        """Return where this view shows `snapshot` (a renamed article's old address redirects there)."""
        return snapshot.get_absolute_url()

    def get_object(self, queryset=None):
        live = translations.with_counterparts(self.with_snapshot(Article.objects.live()))
        return get_object_or_404(live, live_snapshot__slug=self.kwargs["slug"])

    def with_snapshot(self, articles):
        """Load what the page reads of the live snapshot: the parts rendered at publication, not what made them."""
        return article_page.with_parts(articles)

    def get_context_data(self, **kwargs):
        snapshot = self.object.live_snapshot
        # Inactive disclaimers and hidden pages too: retiring one must move Last-Modified forward.
        in_scope = list(Disclaimer.objects.in_scope_of(snapshot.topic_ids, snapshot.language))
        disclaimers = [d for d in in_scope if d.is_active]
        pages = list(Page.objects.only("title", "slug", "language", "show_in_footer", "updated_at"))
        boxes = list(UrgentHelp.objects.for_topics(snapshot.topic_ids))  # retired ones too, as disclaimers
        live = Article.objects.live().in_language(snapshot.language).as_cards()
        related = list(live.related_to(self.object).newest_first()[:RELATED_ARTICLES])
        changes = [snapshot.published_at, *(d.updated_at for d in in_scope), *(p.updated_at for p in pages)]
        changes += [box.updated_at for box in boxes] + [article.live_snapshot.published_at for article in related]
        self.last_modified = max(changes)
        tags.shows(
            self.request,
            tags.article(self.object.pk),
            tags.disclaimers(snapshot.language),
            *(tags.topic(pk) for pk in snapshot.topic_ids),  # their urgent-help boxes
            *(tags.article(article.pk) for article in related),
        )
        return super().get_context_data(
            snapshot=snapshot,
            footer_pages=footer_pages(pages, snapshot.language),
            newer_source=translations.newer_source(self.object),
            canonical_url=settings.SITE_URL + snapshot.get_absolute_url(),
            **self.snapshot_context(snapshot),
            sitewide_disclaimers=[d for d in disclaimers if d.scope == Disclaimer.Scope.ALL],
            topic_disclaimers=[d for d in disclaimers if d.scope == Disclaimer.Scope.TOPICS],
            urgent_help=sorted((b for b in boxes if b.is_active), key=lambda b: snapshot.topic_ids.index(b.topic_id)),
            related_articles=related,
            **kwargs,
        )

    def snapshot_context(self, snapshot: PublishedSnapshot) -> dict:
        """The snapshot's parts of the page, as kept at publication (articles.article_page)."""
        parts = article_page.parts_for(snapshot)
        preview = site_icons.link_preview(
            title=snapshot.title,
            description=snapshot.summary,
            path=snapshot.get_absolute_url(),
            kind="article",
            image=parts.lead_image,
        )
        return {"parts": parts, "link_preview": preview}

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        response["Last-Modified"] = http_date(self.last_modified.timestamp())
        return response


class ArticleLeafletView(ArticleDetailView):
    """The live snapshot as an A4 leaflet (PDF), for everyone alike: 404 and 410 as the article page."""

    @classmethod
    def as_view(cls, **initkwargs):
        # Not the page cache: the PDF is kept per snapshot already (leaflets.leaflet_for), and shared caches
        # may keep it too.
        return public_response(super(PublicPageMixin, cls).as_view(**initkwargs))

    def address_of(self, snapshot: PublishedSnapshot) -> str:
        return languages.url_in(snapshot.language, "articles:article_leaflet", slug=snapshot.slug)

    def with_snapshot(self, articles):
        return articles  # the leaflet lays out the whole snapshot itself

    def snapshot_context(self, snapshot: PublishedSnapshot) -> dict:
        return {}

    def render_to_response(self, context, **response_kwargs):
        try:
            leaflet = leaflets.leaflet_for(context["snapshot"], context=context)
        except leaflets.LeafletUnavailable:
            return TemplateResponse(
                self.request,
                "articles/leaflet_unavailable.html",
                {**context, "message": gettext(leaflets.NOT_AVAILABLE)},
                status=503,
            )
        response = HttpResponse(leaflet.pdf, content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=leaflet.filename)
        response["ETag"] = quote_etag(leaflet.digest)
        response["Last-Modified"] = http_date(self.last_modified.timestamp())
        return response


class CorrectionListView(PublicPageMixin, ListView):
    """Every correction of a live article, newest first, linking to its live page (one query a page, and a count)."""

    template_name = "articles/correction_list.html"
    context_object_name = "corrections"
    lists_articles = True
    paginate_by = CORRECTIONS_PER_PAGE

    def get_queryset(self):
        # The live version's title and address: the article may have been renamed or moved since the correction.
        return (
            PublishedSnapshot.objects.corrections()
            .filter(language=translation.get_language())
            .values("published_at", "correction_note", "article__live_snapshot__title", "article__live_snapshot__slug")
        )


class SearchView(PublicPageMixin, ListView):
    template_name = "articles/search.html"
    context_object_name = "results"
    lists_articles = True
    paginate_by = ARTICLES_PER_PAGE

    def get_queryset(self):
        self.form = SearchForm(self.request.GET or None)
        self.query = self.form.cleaned_data["q"] if self.form.is_valid() else ""
        self.matches = search.find_matches(self.query, language=translation.get_language())
        return search.search_live_snapshots(self.query, matches=self.matches)

    def get_paginator(self, *args, **kwargs):
        paginator = super().get_paginator(*args, **kwargs)
        paginator.count = self.matches.count  # known already: no COUNT of the matches
        return paginator

    def get_context_data(self, **kwargs):
        more = self.matches.more_than_ranked
        context = super().get_context_data(
            form=self.form, query=self.query, more_than_ranked=more, typos=self.matches.typos, **kwargs
        )
        context["results"] = [(snapshot, search.snippet(snapshot)) for snapshot in context["results"]]
        return context


class PageView(PublicPageMixin, DetailView):
    """A simple page editors keep: the editorial, corrections and privacy policies."""

    template_name = "articles/page.html"
    context_object_name = "page"
    model = Page

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if self.object.language != translation.get_language():  # it lives at its own language's address
            return redirect(self.object.get_absolute_url(), permanent=True)
        return response

    def get_context_data(self, **kwargs):
        page = self.object
        preview = site_icons.link_preview(
            title=page.title, description=site_icons.plain_text(page.body), path=page.get_absolute_url()
        )
        tags.shows(self.request, tags.page(page.pk))
        return super().get_context_data(link_preview=preview, **kwargs)


class StaffBioView(PublicPageMixin, DetailView):
    template_name = "articles/staff_bio.html"
    context_object_name = "profile"
    lists_articles = True

    def get_queryset(self):
        return StaffProfile.objects.select_related("user")

    def get_context_data(self, **kwargs):
        live = Article.objects.live().in_language().as_cards().newest_first()
        # One more than shown says whether there are more, without counting a reviewer's thousands.
        written = list(live.bylined_to(self.object)[: ARTICLES_ON_BIO + 1])
        reviewed = list(live.signed_off_by(self.object)[: ARTICLES_ON_BIO + 1])
        tags.shows(self.request, tags.staff(self.object.pk))
        return super().get_context_data(
            written=written[:ARTICLES_ON_BIO],
            more_written=len(written) > ARTICLES_ON_BIO,
            reviewed=reviewed[:ARTICLES_ON_BIO],
            more_reviewed=len(reviewed) > ARTICLES_ON_BIO,
            **kwargs,
        )


def server_error(request):
    """The 500 page, or a 503 asking to retry shortly when the database is out of reach (a restart, a failover).

    Rendered without the request, so without context processors: nothing here may need the database.
    """
    error = sys.exc_info()[1]
    if isinstance(error, (db.OperationalError, db.InterfaceError)):
        return HttpResponse(
            loader.render_to_string("503.html"), status=503, headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
        )
    return HttpResponseServerError(loader.render_to_string("500.html"))


@public_page
def robots_txt(request):
    """Let search engines in, keep them out of the staff areas and the view counter, and point them at the sitemap."""
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /review/", "Disallow: /reach/"]
    lines.append(f"Sitemap: {settings.SITE_URL}/sitemap.xml")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
