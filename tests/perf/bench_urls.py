from django.http import HttpResponse
from django.urls import path

from clinic_site.urls import handler500  # noqa: F401 - handler500 is used by Django
from clinic_site.urls import urlpatterns as site_urlpatterns


def constant(request):
    """The reference: the least a Django view can do, through the same middleware as every page."""
    return HttpResponse("Hello from a plain Django view.")


urlpatterns = [path("bench/constant/", constant), *site_urlpatterns]
