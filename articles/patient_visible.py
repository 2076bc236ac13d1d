"""What staff can edit on an article or a reference in the admin, and whether the review pins it.

"Pinned" means the hashes cover the field: changing it withdraws the article's sign-off (`Article.content_hash`)
and, for a reference, the approvals of the statements citing it (`Reference.pinned_record`). Any other field
says why patients and reviewers never see it. tests/test_publishing_pins.py reads the editable fields off the
real admin forms and fails on a field missing here, so a new one cannot be published unreviewed unnoticed.
"""

PINNED = "pinned"

ARTICLE_FIELDS = {
    "title": PINNED,
    "slug": PINNED,  # the URL patients open and share
    "summary": PINNED,
    "body": PINNED,
    "topics": PINNED,  # the topic list, and the topic disclaimers that follow from it
    "author": PINNED,  # "Written by": the display name, credentials and bio page of the author
    "drafted_with_ai": PINNED,  # patients are told
    "review_interval_months": PINNED,  # sets the "Next review due" date patients read
    "is_featured": "An editor's choice of home-page placement: the article page and its snapshot do not show it.",
}

REFERENCE_FIELDS = {
    "citation_key": PINNED,  # anchors and the reference a statement names
    "authors": PINNED,
    "title": PINNED,
    "journal": PINNED,
    "journal_abbrev": PINNED,
    "year": PINNED,
    "published_on": PINNED,
    "volume": PINNED,
    "issue": PINNED,
    "pages": PINNED,
    "doi": PINNED,
    "pmid": PINNED,
    "pmcid": PINNED,
    "url": PINNED,  # the admin links it for the reviewer
    "open_access_pdf": PINNED,
    "publication_type": PINNED,  # the reviewer grades the statement partly on it
    "abstract": PINNED,  # what the reviewer read on the desk
    "is_retracted": PINNED,
    "retraction_note": PINNED,
}


def pinned(fields: dict[str, str]) -> list[str]:
    """Return the names of the pinned fields, in their declared order."""
    return [name for name, decision in fields.items() if decision == PINNED]
