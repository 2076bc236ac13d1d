from django.conf import settings
from django.utils import translation

from articles.models import Page
from articles.views import footer_pages


def clinic(request):
    """Make the clinic's details, and the pages linked from every footer, available to every template."""
    pages = Page.objects.filter(show_in_footer=True).only("title", "slug", "language", "show_in_footer")
    return {"clinic": settings.CLINIC, "footer_pages": lambda: footer_pages(pages, translation.get_language())}
