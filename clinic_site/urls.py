from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.urls import include, path
from django.views.static import serve

from articles import renditions

admin.site.site_header = "Clinic editorial"
admin.site.site_title = "Clinic editorial"
admin.site.index_title = "Articles, references and disclaimers"

handler404 = "articles.views.not_found"
handler500 = "articles.views.server_error"


def serve_rendition(request, path):
    """Send a stored rendition from MEDIA_ROOT where Django serves media (SERVE_MEDIA: the demo, tests), else 404.

    Only renditions, never the library's originals; in production nginx or the CDN serves the same addresses.
    """
    if not settings.SERVE_MEDIA:
        raise Http404("Media files are served by the web server.")
    return serve(request, f"{renditions.RENDITIONS}/{path}", document_root=settings.MEDIA_ROOT)


urlpatterns = [
    path(f"{settings.MEDIA_URL.strip('/')}/{renditions.RENDITIONS}/<path:path>", serve_rendition),
    path("admin/", admin.site.urls),
    path("", include("articles.urls")),
]
