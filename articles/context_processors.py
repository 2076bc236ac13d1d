from django.conf import settings

from articles.models import Page


def clinic(request):
    """Make the clinic's details, and the pages linked from every footer, available to every template."""
    return {"clinic": settings.CLINIC, "footer_pages": Page.objects.filter(show_in_footer=True).only("title", "slug")}
