from django.urls import path

from articles import desk, feedback, feeds, reach, reach_desk, site_icons, two_factor, views
from articles.sitemaps import SITEMAPS, sitemap

app_name = "articles"

# The pages patients read, in each language: clinic_site.urls_es serves them again under /es/.
language_urlpatterns = [
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
    path("articles/<slug:slug>/leaflet.pdf", views.ArticleLeafletView.as_view(), name="article_leaflet"),
    path("corrections/", views.CorrectionListView.as_view(), name="correction_list"),
    path("articles/<slug:slug>/feedback/", feedback.FeedbackView.as_view(), name="feedback"),
]

# What belongs to the site, not to a language: at the root whatever the page's language (clinic_site.urls_es).
site_urlpatterns = [
    path("sitemap.xml", views.public_page(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("site.webmanifest", views.public_page(site_icons.web_app_manifest), name="web_app_manifest"),
    path("favicon.ico", views.public_page(site_icons.favicon), name="favicon"),
    path("reach/<int:pk>.gif", reach.beacon, name="reach_beacon"),
]

# Staff pages, in English only.
staff_urlpatterns = [
    path("staff/two-factor/", two_factor.SecondFactorView.as_view(), name="second_factor"),
    path("staff/two-factor/verify/", two_factor.VerifyView.as_view(), name="second_factor_verify"),
    path("staff/two-factor/set-up/", two_factor.SetUpView.as_view(), name="second_factor_set_up"),
    path("review/", desk.ReviewQueueView.as_view(), name="review_queue"),
    path("review/<int:pk>/", desk.ReviewArticleView.as_view(), name="review_article"),
    # The desk's steps: one view and one workflow call each (see workflow.ARTICLE_STEPS and STATEMENT_STEPS).
    path("review/<int:pk>/request-changes/", desk.RequestChangesView.as_view(), name="review_request_changes"),
    path("review/<int:pk>/sign-off/", desk.SignOffView.as_view(), name="review_sign_off"),
    path("review/<int:pk>/submit/", desk.SubmitView.as_view(), name="review_submit"),
    path("review/<int:pk>/publish/", desk.PublishView.as_view(), name="review_publish"),
    path("review/<int:pk>/schedule/", desk.ScheduleView.as_view(), name="review_schedule"),
    path("review/<int:pk>/unschedule/", desk.UnscheduleView.as_view(), name="review_unschedule"),
    path("review/<int:pk>/unpublish/", desk.UnpublishView.as_view(), name="review_unpublish"),
    path("review/<int:pk>/archive/", desk.ArchiveView.as_view(), name="review_archive"),
    path(
        "review/<int:pk>/acknowledge-retraction/",
        desk.AcknowledgeRetractionView.as_view(),
        name="review_acknowledge_retraction",
    ),
    path("review/<int:pk>/justify-finding/", desk.JustifyFindingView.as_view(), name="review_justify_finding"),
    path(
        "review/<int:pk>/statements/<int:statement_pk>/approve/",
        desk.ApproveStatementView.as_view(),
        name="review_approve",
    ),
    path(
        "review/<int:pk>/statements/<int:statement_pk>/statement-changes/",
        desk.RequestStatementChangesView.as_view(),
        name="review_statement_changes",
    ),
    path("review/reports/<int:pk>/", desk.ProblemReportView.as_view(), name="review_report"),
    path("review/reach/", reach_desk.ReachView.as_view(), name="review_reach"),
]

urlpatterns = language_urlpatterns + site_urlpatterns + staff_urlpatterns
