"""The URLconf of requests under /es/ (articles.languages): the patient pages in Spanish, and the site's own
addresses (sitemap, icons, view counter) at the root as in English. No staff page and no admin: a Spanish page
cannot link to one."""

from django.urls import include, path

from articles import urls as article_urls

handler404 = "articles.views.not_found"
handler500 = "articles.views.server_error"

public_pages = [path("es/", include(article_urls.language_urlpatterns)), *article_urls.site_urlpatterns]

urlpatterns = [path("", include((public_pages, article_urls.app_name)))]
