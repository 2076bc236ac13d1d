from django.urls import path

from articles import views

app_name = "articles"

ARTICLE_STEPS = [
    "request_changes", "sign_off", "submit", "publish", "schedule", "unschedule", "unpublish", "archive",
    "acknowledge_retraction",
]  # fmt: skip
STATEMENT_STEPS = ["approve", "statement_changes"]

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("articles/", views.ArticleListView.as_view(), name="article_list"),
    path("articles/<slug:slug>/", views.ArticleDetailView.as_view(), name="article_detail"),
    path("topics/<slug:slug>/", views.TopicDetailView.as_view(), name="topic_detail"),
    path("people/<slug:slug>/", views.StaffBioView.as_view(), name="staff_bio"),
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
