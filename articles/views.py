"""The patient site. Every page reads published snapshots through `Article.objects.live()`."""

from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, ListView, TemplateView

from articles.models import Article, Disclaimer, StaffProfile, Topic

ARTICLES_PER_PAGE = 12


class HomeView(TemplateView):
    template_name = "articles/home.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            newest=Article.objects.live().order_by("-live_snapshot__published_at")[:6],
            topics=Topic.objects.filter(articles__live_snapshot__isnull=False).distinct(),
            **kwargs,
        )


class ArticleListView(ListView):
    template_name = "articles/article_list.html"
    context_object_name = "articles"
    paginate_by = ARTICLES_PER_PAGE

    def get_queryset(self):
        return Article.objects.live().order_by("-live_snapshot__published_at", "pk")


class TopicDetailView(ListView):
    template_name = "articles/topic_detail.html"
    context_object_name = "articles"
    paginate_by = ARTICLES_PER_PAGE

    def get_queryset(self):
        self.topic = get_object_or_404(Topic, slug=self.kwargs["slug"])
        return Article.objects.live().filter(topics=self.topic).order_by("-live_snapshot__published_at", "pk")

    def get_context_data(self, **kwargs):
        return super().get_context_data(topic=self.topic, **kwargs)


class ArticleDetailView(DetailView):
    template_name = "articles/article_detail.html"
    context_object_name = "article"

    def get_object(self, queryset=None):
        return get_object_or_404(Article.objects.live(), live_snapshot__slug=self.kwargs["slug"])

    def get_context_data(self, **kwargs):
        snapshot = self.object.live_snapshot
        disclaimers = list(Disclaimer.objects.applying_to(snapshot.topic_ids))
        return super().get_context_data(
            snapshot=snapshot,
            sitewide_disclaimers=[d for d in disclaimers if d.scope == Disclaimer.Scope.ALL],
            topic_disclaimers=[d for d in disclaimers if d.scope == Disclaimer.Scope.TOPICS],
            **kwargs,
        )


class StaffBioView(DetailView):
    template_name = "articles/staff_bio.html"
    context_object_name = "profile"

    def get_queryset(self):
        return StaffProfile.objects.select_related("user")

    def get_context_data(self, **kwargs):
        articles = Article.objects.live().filter(author=self.object.user).order_by("-live_snapshot__published_at")
        return super().get_context_data(articles=articles, **kwargs)
