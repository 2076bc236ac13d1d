from django.conf import settings


def clinic(request):
    """Make the clinic's name and contact details available to every template."""
    return {"clinic": settings.CLINIC}
