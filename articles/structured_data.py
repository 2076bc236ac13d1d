"""JSON-LD for search engines (schema.org MedicalWebPage), built from the same snapshot fields the page shows."""

import json

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from articles import figures, site_icons
from articles.models import PublishedSnapshot

# The characters json_script escapes, so the JSON can never close its <script> element.
_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def _person(person: dict) -> dict:
    data = {"@type": "Person", "name": person["name"]}
    if person.get("credentials"):
        data["honorificSuffix"] = person["credentials"]
    if person.get("slug"):
        data["url"] = settings.SITE_URL + reverse("articles:staff_bio", args=[person["slug"]])
    return data


def _citation(reference: dict) -> dict:
    data = {
        "@type": "ScholarlyArticle",
        "name": reference.get("title") or reference["ama"],
        "citation": reference["ama"],
    }
    if reference.get("doi"):
        data["sameAs"] = f"https://doi.org/{reference['doi']}"
        data["identifier"] = {"@type": "PropertyValue", "propertyID": "DOI", "value": reference["doi"]}
    if reference.get("pmid"):
        data.setdefault("sameAs", f"https://pubmed.ncbi.nlm.nih.gov/{reference['pmid']}/")
    return data


def medical_web_page(snapshot: PublishedSnapshot, *, url: str) -> dict:
    """Return the schema.org MedicalWebPage description of a published snapshot."""
    clinic = settings.CLINIC
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "url": url,
        "name": snapshot.title,
        "headline": snapshot.title,
        "description": snapshot.summary,
        "inLanguage": get_language(),  # the language the page is shown in
        "datePublished": (snapshot.first_published_at or snapshot.published_at).isoformat(),
        "dateModified": snapshot.published_at.isoformat(),
        "author": _person(snapshot.author),
        "about": [{"@type": "Thing", "name": topic["name"]} for topic in snapshot.topics],
        "audience": {"@type": "Patient"},
        "publisher": {"@type": "MedicalOrganization", "name": clinic["name"], "url": settings.SITE_URL + "/"},
        "citation": [_citation(reference) for reference in snapshot.references],
    }
    if corrections := snapshot.corrections:
        data["correction"] = [
            {"@type": "CorrectionComment", "text": c["note"], "datePublished": c["at"].isoformat()} for c in corrections
        ]
    if lead := figures.lead_image(snapshot.figures):
        data["image"] = {
            "@type": "ImageObject",
            "contentUrl": site_icons.media_address(lead["url"]),
            "width": lead["width"],
            "height": lead["height"],
            "description": lead["alt"],
            **({"caption": lead["caption"]} if lead["caption"] else {}),
        }
    if snapshot.reviewed_by:
        data["reviewedBy"] = _person(snapshot.reviewed_by)
    # The real review date, also once the next review is overdue: no date here moves on with the calendar.
    if snapshot.reviewed_at:
        data["lastReviewed"] = timezone.localdate(snapshot.reviewed_at).isoformat()
    return data


def as_script(data: dict) -> SafeString:
    """Return the data as a <script type="application/ld+json"> element that cannot be broken out of."""
    payload = json.dumps(data, ensure_ascii=False, sort_keys=True).translate(_JSON_SCRIPT_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{payload}</script>')  # noqa: S308 - escaped above
