"""System checks `manage.py check --deploy` runs on production settings."""

from django.conf import settings
from django.core import checks

SIGNED_FIGURE_ADDRESSES = (
    "Images are kept in S3-compatible storage (MEDIA_S3_BUCKET) without plain, lasting addresses: published "
    "pages freeze their figures' addresses, and a signed one stops working after an hour (nor does the site's "
    "Content-Security-Policy admit the bucket's own host)."
)
SIGNED_FIGURE_ADDRESSES_HINT = (
    'Put a CDN in front of the bucket and set MEDIA_CDN_DOMAIN to its host name (docs/deploy.md, "Images and '
    'object storage"), and leave MEDIA_S3_SIGNED_URLS unset or 0.'
)


@checks.register(checks.Tags.security, deploy=True)
def figures_have_lasting_addresses(app_configs, **kwargs):
    """Refuse object storage whose addresses a published page cannot keep."""
    if not settings.MEDIA_S3_BUCKET:
        return []
    options = settings.STORAGES["default"].get("OPTIONS", {})
    if options.get("custom_domain") and not options.get("querystring_auth"):
        return []
    return [checks.Error(SIGNED_FIGURE_ADDRESSES, hint=SIGNED_FIGURE_ADDRESSES_HINT, id="articles.E001")]
