from django.contrib.sitemaps.views import sitemap
from django.urls import path

from articles import feeds, two_factor, views
from articles.sitemaps import SITEMAPS

app_name = "articles"

ARTICLE_STEPS = [
    "request_changes", "sign_off", "submit", "publish", "schedule", "unschedule", "unpublish", "archive",
    "acknowledge_retraction", "justify_finding",
]  # fmt: skip
STATEMENT_STEPS = ["approve", "statement_changes"]

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("articles/", views.ArticleListView.as_view(), name="article_list"),
    path("articles/<slug:slug>/", views.ArticleDetailView.as_view(), name="article_detail"),
    path("topics/<slug:slug>/", views.TopicDetailView.as_view(), name="topic_detail"),
    path("people/<slug:slug>/", views.StaffBioView.as_view(), name="staff_bio"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("about/<slug:slug>/", views.PageView.as_view(), name="page"),
    path("feeds/articles.rss", views.public_page(feeds.LatestArticlesFeed()), name="feed_rss"),
    path("feeds/articles.atom", views.public_page(feeds.LatestArticlesAtomFeed()), name="feed_atom"),
    path("feeds/topics/<slug:slug>.rss", views.public_page(feeds.TopicFeed()), name="topic_feed_rss"),
    path("feeds/topics/<slug:slug>.atom", views.public_page(feeds.TopicAtomFeed()), name="topic_feed_atom"),
    path("sitemap.xml", views.public_page(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("staff/two-factor/", two_factor.SecondFactorView.as_view(), name="second_factor"),
    path("staff/two-factor/verify/", two_factor.VerifyView.as_view(), name="second_factor_verify"),
    path("staff/two-factor/set-up/", two_factor.SetUpView.as_view(), name="second_factor_set_up"),
    path("review/", views.ReviewQueueView.as_view(), name="review_queue"),
    path("review/<int:pk>/", views.ReviewArticleView.as_view(), name="review_article"),
    *(
        path(
            f"review/<int:pk>/{step.replace('_', '-')}/",
            views.ReviewActionView.as_view(action=step),
            name=f"review_{step}",
        )
        for step in ARTICLE_STEPS
    ),
    *(
        path(
            f"review/<int:pk>/statements/<int:statement_pk>/{step.replace('_', '-')}/",
            views.ReviewActionView.as_view(action=step),
            name=f"review_{step}",
        )
        for step in STATEMENT_STEPS
    ),
]
