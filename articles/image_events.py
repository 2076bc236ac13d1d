"""What a change to a library image does to the articles that show it, and the audit trail it leaves.

Replacing an image's file, recording a patient's consent and withdrawing it are audited (one event for the library,
with no article, and one on the timeline of each article whose working copy or live page shows the picture),
through the gate as every audit event is.

A withdrawn consent must not leave the photograph on the public site, and a published snapshot never changes
(DESIGN.md, rule 1). So recording the withdrawal takes each live article that shows the photograph off the site at
once, through the gate (`workflow.unpublish`, audited), and mails the editors; the editor who records it is told
which articles went and what to do. The withdrawal itself is never refused, since it is a fact the clinic must
record as soon as it learns it: only someone who may also unpublish those articles may record it (`refusal`). The
working copies that still show it cannot be published again until the figure is removed (figures.problems).
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from articles import notifications, permissions
from articles.figure_claims import articles_using, marker_regex
from articles.models import Article, Image, PatientConsent
from articles.workflow.gate import gate
from articles.workflow.transitions import RECORD_CONSENT, REPLACE_IMAGE, WITHDRAW_CONSENT
from articles.workflow.writes import record

UNPUBLISH_REASON = (
    "The patient withdrew their consent to the photograph “{image}” ([[figure:{id}]]): the article was taken off "
    "the site so it no longer shows it."
)
CANNOT_WITHDRAW_HERE = (
    "Consent cannot be withdrawn from here: the photograph is on the live site in {titles}, and withdrawing it takes "
    "those articles off the site, which only an editor who may unpublish them can do. Ask such an editor to record "
    "the withdrawal today."
)
WITHDRAWN_AND_UNPUBLISHED = (
    "Consent withdrawn: “{image}” was on the live site in {titles}. They have been taken off the site and the "
    "editors told. Remove [[figure:{id}]] from each, have it reviewed and publish it again."
)
WITHDRAWN_NOT_LIVE = "Consent withdrawn: no live page shows “{image}”, and no article can publish it now."
STILL_IN_WORKING_COPIES = " These articles still have the figure in their working copy: {titles}."


def live_articles_showing(image: Image) -> list[Article]:
    """Return the articles whose live page shows the image (their snapshot froze it as a figure)."""
    candidates = Article.objects.filter(live_snapshot__body_source__iregex=marker_regex(image)).select_related(
        "live_snapshot"
    )
    return [a for a in candidates.order_by("pk") if any(f["image"] == image.pk for f in a.live_snapshot.figures)]


def _titles(articles) -> str:
    return ", ".join(f"“{article.title}”" for article in articles)


def _audit(image: Image, *, by, action: str, message: str) -> None:
    text = f"Image {image.pk} “{image.title}”: {message}"
    affected = {a.pk: a for a in [*articles_using(image), *live_articles_showing(image)]}
    with gate():
        record(None, by=by, action=action, from_state="", message=text)
        for article in affected.values():
            record(article, by=by, action=action, from_state=article.status, message=text)


def image_replaced(image: Image, *, by, old_hash: str) -> None:
    """Audit a new file for the image; published pages keep the old one (their snapshots froze it)."""
    message = f"picture replaced (file {old_hash[:12]} → {image.content_hash[:12]})."
    _audit(image, by=by, action=REPLACE_IMAGE, message=message)


def consent_recorded(consent: PatientConsent, *, by) -> None:
    message = f"consent recorded (signed {consent.consented_on}, form {consent.form_reference})."
    _audit(consent.image, by=by, action=RECORD_CONSENT, message=message)


def refusal(image: Image, *, by) -> str | None:
    """Return why `by` may not record a withdrawal of consent to the image, or None if they may."""
    live = live_articles_showing(image)
    refused = [article for article in live if not permissions.can_publish(by, article)]
    return CANNOT_WITHDRAW_HERE.format(titles=_titles(refused)) if refused else None


def consent_withdrawn(consent: PatientConsent, *, by) -> str:
    """Audit a withdrawn consent; if the image may no longer be shown, take its live articles off the site.

    Return what the editor who recorded it is told.
    """
    from articles import workflow  # the workflow package imports this module's neighbours

    image = Image.objects.get(pk=consent.image_id)
    message = f"consent withdrawn on {consent.withdrawn_on} (form {consent.form_reference})."
    _audit(image, by=by, action=WITHDRAW_CONSENT, message=message)
    if image.usable_problem() is None:  # another consent still holds
        return f"Consent withdrawn; another consent on record still lets “{image.title}” be shown."
    live = live_articles_showing(image)
    reason = UNPUBLISH_REASON.format(image=image.title, id=image.pk)
    with gate():
        for article in live:
            workflow.unpublish(article, by=by, reason=reason)
            notifications.photograph_withdrawn(article, reason)
    said = (
        WITHDRAWN_AND_UNPUBLISHED.format(image=image.title, titles=_titles(live), id=image.pk)
        if live
        else WITHDRAWN_NOT_LIVE.format(image=image.title)
    )
    working = [a for a in articles_using(image) if a.pk not in {b.pk for b in live}]
    return said + (STILL_IN_WORKING_COPIES.format(titles=_titles(working)) if working else "")


def withdraw_consent(consent: PatientConsent, *, by, on) -> str:
    """Record that the patient withdrew this consent on `on`, and act on it (`consent_withdrawn`); one transaction.

    The one way to withdraw a consent, from the admin or a shell: saving a withdrawal date any other way is refused.
    Raise PermissionDenied with the reason if `by` may not take down the live pages showing the photograph.
    """
    with transaction.atomic():
        PatientConsent.objects.select_for_update().filter(pk=consent.pk).exists()  # one withdrawal at a time
        if (reason := refusal(consent.image, by=by)) is not None:
            raise PermissionDenied(reason)
        consent.withdrawn_on = on
        consent.full_clean()
        consent._withdrawing = True
        consent.save()
        return consent_withdrawn(consent, by=by)


def withdrawals(formset) -> list[PatientConsent]:
    """Return the consents of a valid admin formset to which this save gives a withdrawal date they had not."""
    return [
        form.instance
        for form in formset.forms
        if form.cleaned_data.get("withdrawn_on")
        and not form.initial.get("withdrawn_on")
        and not form.cleaned_data.get("DELETE")
    ]
