import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_site.settings")
django_application = get_wsgi_application()

from articles.kept_pages import KeptPages  # noqa: E402 - after Django is set up

# Kept public pages leave here, before Django builds a request's response (articles/kept_pages.py).
application = KeptPages(django_application)

# What the process made starting up lives as long as it does: frozen, the cyclic collector's full passes skip it
# rather than walk it all every few requests, which added 60-90 ms to one review desk request in ten (measured).
gc.collect()
gc.freeze()
