from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Clinic editorial"
admin.site.site_title = "Clinic editorial"
admin.site.index_title = "Articles, references and disclaimers"

handler404 = "articles.views.not_found"
handler500 = "articles.views.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("articles.urls")),
]
