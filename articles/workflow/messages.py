"""Refusals, as the person reads them: each says what to do. Tests reuse these constants."""

NOT_ALLOWED_TO_PUBLISH = "You do not have permission to publish articles: ask an editor."
NOT_ALLOWED_TO_SUBMIT = "You do not have permission to submit “{title}” for review: ask its writer or an editor."
NOT_ALLOWED_TO_REVIEW = "You do not have permission to review articles: ask a reviewer."
SELF_REVIEW = "You wrote or edited “{title}”, so another reviewer must {verb}."
ARCHIVED = "“{title}” is archived: restore it first."
MISSING_FIELDS = "“{title}” cannot go further without {fields}: fill them in and save."
NO_TOPIC = "“{title}” has no topic: choose at least one, so the right disclaimers attach."
UNKNOWN_KEYS = "“{title}”: {problem}"  # one per key: citations.UNKNOWN_KEY, with the keys the writer may mean
MALFORMED_MARKERS = "“{title}” has citation markers that cannot be read ({markers}): write them as [@key]."
ALREADY_IN_REVIEW = "“{title}” is already waiting for review."
ALREADY_SIGNED_OFF = "“{title}” is already signed off: an editor can publish it, or edit it to reopen the review."
NOT_IN_REVIEW = "“{title}” is not in review ({state}): the writer must submit it for review first."
SEE_STATEMENT_COMMENTS = "Please change statement(s) {numbers}: see the comments on them."
COMMENT_REQUIRED = "Write a comment that says what needs to change; the writer reads it."
STATEMENT_CHANGED = (
    "This statement changed while you were reading it: nothing was recorded. Read the new text and try again."
)
ARTICLE_CHANGED = (
    "“{title}” changed while you were reading it: nothing was recorded. Reload it and review the new version."
)
INVALID_GRADE = "Choose an evidence level (A to F) and a certainty (high to very low)."
UNAPPROVED = "Statement {number} (“{text}”) has not been approved: ask a reviewer to approve it."
STALE_APPROVAL = "Statement {number} was edited after approval: ask a reviewer to approve it again."
SELF_APPROVED = (
    "Statement {number} was approved by someone who wrote or edited the article: another reviewer must approve it."
)
SELF_SIGNED_OFF = "“{title}” was signed off by someone who wrote or edited it: another reviewer must sign it off."
REFERENCE_CHANGED = (
    "Statement {number} cites a reference whose record changed after approval: ask a reviewer to approve it again."
)
APPROVED_UNDER_EARLIER_RULES = (
    "Statement {number} was approved before approvals covered each cited reference's full record (abstract, "
    "publication type, retraction): ask a reviewer to read the references and approve it again."
)
IS_DRAFT = "“{title}” is a draft: submit it for review."
STILL_IN_REVIEW = "“{title}” is in review: a reviewer signs it off once every statement is approved."
ARTICLE_CHANGES_OPEN = "“{title}” has changes requested (“{comment}”): revise it, then submit it for review again."
CHANGED_SINCE_PUBLISHED = "“{title}” changed since it was published: submit the changes for review."
CHANGES_OPEN = "Statement {number} has changes requested (“{comment}”): revise it, then ask for review again."
NOT_SIGNED_OFF = "“{title}” has not been signed off: ask a reviewer to sign it off."
SIGN_OFF_STALE = "“{title}” changed after it was signed off: ask a reviewer to sign it off again."
SIGNED_OFF_UNDER_EARLIER_RULES = (
    "“{title}” was signed off before sign-offs covered its byline, its address and each cited reference's full "
    "record: ask a reviewer to check them and sign it off again."
)
RETRACTED = (
    "“{title}” cites {key}, which has been retracted: remove the citation, or ask a reviewer to acknowledge "
    "the retraction on the review desk."
)
NO_SITEWIDE_DISCLAIMER = (
    "No site-wide disclaimer is active in {language}: an editor must activate one (such as “not medical "
    "advice”) before anything in {language} is published."
)
TOPIC_DISCLAIMER_MISSING = (
    "Topic “{topic}” needs its own disclaimer in {language} and none is active: an editor must add one."
)
ALREADY_LIVE = "“{title}” is already live as it is: there is nothing new to publish."
NOT_READY_TO_SCHEDULE = "“{title}” is {state}: only a signed-off article can be scheduled."
SCHEDULE_IN_PAST = "Choose a publication time in the future."
NOT_SCHEDULED = "“{title}” is not scheduled."
NOT_LIVE = "“{title}” is not published, so there is nothing to unpublish."
REASON_REQUIRED = "Give a reason; it goes in the audit trail."
NOT_ARCHIVED = "“{title}” is not archived, so there is nothing to restore."
NOT_RETRACTED = "{key} is not marked retracted, so there is nothing to acknowledge."
NOT_CITED = "“{title}” does not cite {key}."
SELF_REVIEW_NOTE = "Self-review: allowed by the ALLOW_SELF_REVIEW setting (one-person clinic)."
UNRESOLVED_FINDING = (
    "Claim check: {message} (“{text}”). Ask for a change, or record on the review desk why it is acceptable."
)
LIVE_AS_IT_STANDS = "Live as it stands: patients see this version, so there is nothing new to publish."
NO_SUCH_FINDING = "That claim-check finding no longer applies to the article as it stands: reload the page."

# Withdrawing an article whose review is overdue past its topic's grace period (workflow/withdrawing.py).
ONLY_THE_DAILY_JOB_WITHDRAWS = (
    "Only the daily withdraw_overdue job withdraws “{title}” for an overdue review: to take it off the site "
    "now, unpublish it."
)
NOT_ON_THE_SITE = "“{title}” is not on the site, so there is nothing to withdraw."
RE_REVIEW_UNDER_WAY = "“{title}” is {state}: its re-review is under way, so it is not withdrawn automatically."
NO_GRACE_PERIOD = "“{title}” has no topic with a grace period: it is never withdrawn automatically."
WITHIN_GRACE_PERIOD = "“{title}” is within its grace period: it stays on the site until the end of {last_day}."
WITHDRAWN_OVERDUE = (
    "Withdrawn automatically: its review was due on {due}, and the grace period of {days} day(s) set by the "
    "topic “{topic}” ended on {last_day}. Re-review it and publish it again to bring it back."
)


class WorkflowError(Exception):
    """A workflow step was refused; the message says what to do."""
