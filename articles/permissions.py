"""One predicate per verb. Workflow, views and templates all ask these; none re-implements them.

Separation of duties: nobody approves a statement in, or signs off, an article they wrote or edited
(superusers included) unless settings.ALLOW_SELF_REVIEW is on for a one-person clinic.
"""

from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from articles.models import Article, TwoFactorRequirement


def _is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def is_contributor(user, article: Article) -> bool:
    """Return True if the user wrote the article or saved any revision of it."""
    return bool(user and user.pk in article.contributor_ids())


def can_edit(user, article: Article | None = None) -> bool:
    """Return True if the user may change the article's working copy."""
    if article is not None and article.status == Article.Status.ARCHIVED:
        return False
    return _is_staff(user) and user.has_perm("articles.change_article")


def can_translate(user, article: Article) -> bool:
    """Return True if the user may start a translation of the article (a new article: writers and editors)."""
    return article.status != Article.Status.ARCHIVED and _is_staff(user) and user.has_perm("articles.add_article")


def can_submit(user, article: Article) -> bool:
    """Return True if the user may send the article to the reviewers."""
    if can_edit(user, article):
        return True
    # A reviewer may reopen a live article that is due for re-review without asking a writer.
    return can_review(user) and Article.objects.review_overdue().filter(pk=article.pk).exists()


def can_review(user, article: Article | None = None) -> bool:
    """Return True if the user may use the review desk as a reviewer and request changes."""
    return _is_staff(user) and user.has_perm("articles.review_article")


def can_approve(user, article: Article) -> bool:
    """Return True if the user may approve statements in, sign off, or clear retractions for the article."""
    return can_review(user, article) and (settings.ALLOW_SELF_REVIEW or not is_contributor(user, article))


def can_publish(user, article: Article | None = None) -> bool:
    """Return True if the user may publish, schedule, unpublish or archive articles."""
    return _is_staff(user) and user.has_perm("articles.publish_article")


def is_scheduled_job(user, article: Article | None = None) -> bool:
    """Return True if no person takes the step: the clinic's scheduled jobs (cron) act as nobody."""
    return user is None


def can_use_review_desk(user) -> bool:
    """Return True if the user may open the review desk (reviewers and editors)."""
    return can_review(user) or can_publish(user)


def can_read_reports(user) -> bool:
    """Return True if the user may read what patients reported about pages (writers, reviewers, editors)."""
    return _is_staff(user) and user.has_perm("articles.view_problemreport")


def can_triage_reports(user) -> bool:
    """Return True if the user may close a patient's problem report with an outcome (editors)."""
    return _is_staff(user) and user.has_perm("articles.change_problemreport")


def can_see_reach(user) -> bool:
    """Return True if the user may see how many patients read each article (editors and reviewers)."""
    return _is_staff(user) and user.has_perm("articles.view_articledailyviews")


def can_see_edge_purges(user) -> bool:
    """Editors: whether the edges in front of the patient site confirm forgetting changed pages."""
    return _is_staff(user) and user.has_perm("articles.view_edgepurge")


def can_import_references(user) -> bool:
    """Return True if the user may add and update references through the importers."""
    return _is_staff(user) and user.has_perm("articles.add_reference") and user.has_perm("articles.change_reference")


def can_manage_disclaimers(user) -> bool:
    """Return True if the user may add, change or retire disclaimers."""
    return _is_staff(user) and user.has_perm("articles.change_disclaimer")


def can_manage_urgent_help(user) -> bool:
    """Return True if the user may add, change or retire a topic's "Get urgent help" box (editors)."""
    return _is_staff(user) and user.has_perm("articles.change_urgenthelp")


def can_set_up_second_factor(user) -> bool:
    """Return True if the user may set up an authenticator app for their own login (any staff member)."""
    return _is_staff(user)


def can_lift_second_factor_requirements(user) -> bool:
    """Return True if the user may change groups, and so lift any group's second-factor requirement."""
    return bool(user and user.is_authenticated) and (user.is_superuser or user.has_perm("auth.change_group"))


def group_requires_second_factor(user) -> bool:
    """Return True if the user must confirm each login with a code from an authenticator app.

    Members of a group that requires it must; so must whoever could lift that requirement (superusers, and
    staff who may change groups) while any group has it, or a password alone would be enough to turn it off.
    """
    if not (user and user.is_authenticated):
        return False
    required = TwoFactorRequirement.objects.filter(required=True)
    if can_lift_second_factor_requirements(user):
        return required.exists()
    return required.filter(group__user=user).exists()


def has_authenticator(user) -> bool:
    """Return True if the user has set up (and confirmed) an authenticator app."""
    return bool(user and user.is_authenticated) and TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def needs_second_factor(user) -> bool:
    """Return True if the user must enter a code after the password before any admin page or the review desk.

    Their group may require it; and whoever has set up an authenticator uses it, required or not.
    """
    return has_authenticator(user) or group_requires_second_factor(user)


def can_view_images(user) -> bool:
    """Return True if the user may look through the image library (writers, reviewers, editors)."""
    return _is_staff(user) and user.has_perm("articles.view_image")


def can_upload_images(user) -> bool:
    """Return True if the user may add pictures to the image library (writers, editors)."""
    return _is_staff(user) and user.has_perm("articles.add_image")


def can_edit_images(user) -> bool:
    """Return True if the user may change a library image's file, alt text, caption or credit (writers, editors)."""
    return _is_staff(user) and user.has_perm("articles.change_image")


def can_delete_images(user) -> bool:
    """Return True if the user may remove an image from the library (editors; its stored files stay)."""
    return _is_staff(user) and user.has_perm("articles.delete_image")


def can_view_consent(user) -> bool:
    """Return True if the user may read patients' consent records, which name the patient (editors)."""
    return _is_staff(user) and user.has_perm("articles.view_patientconsent")


def can_record_consent(user) -> bool:
    """Return True if the user may record or withdraw a patient's consent to a photograph (editors)."""
    return (
        _is_staff(user)
        and user.has_perm("articles.add_patientconsent")
        and user.has_perm("articles.change_patientconsent")
    )
