import json
import os
from pathlib import Path

from django.http import HttpResponse
from django.urls import path

from clinic_site.urls import handler500  # noqa: F401 - handler500 is used by Django
from clinic_site.urls import urlpatterns as site_urlpatterns

CONSTANT = b"Hello from a plain Django view."


def constant(request):
    """The least a Django view can do: through the same middleware as every page, and through none at all
    (bench_bare_settings), the benchmark's floor."""
    return HttpResponse(CONSTANT)


def static_copy(request):
    """The edge's reference: an article page's bytes and caching headers, saved by the benchmark
    (BENCH_STATIC_COPY), served as they are, so Varnish keeps a static object of the same size and kind."""
    copy = Path(os.environ["BENCH_STATIC_COPY"])
    response = HttpResponse(copy.read_bytes())
    for name, value in json.loads(copy.with_suffix(".json").read_text()).items():
        response[name] = value
    return response


urlpatterns = [path("bench/constant/", constant), path("bench/static-copy/", static_copy), *site_urlpatterns]
