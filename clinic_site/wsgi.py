import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_site.settings")
django_application = get_wsgi_application()

from articles.kept_pages import KeptPages  # noqa: E402 - after Django is set up

# Kept public pages leave here, before Django builds a request's response (articles/kept_pages.py).
application = KeptPages(django_application)
