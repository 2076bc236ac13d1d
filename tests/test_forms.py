"""articles/forms.py: input validation only, each form fed what people and browsers really send."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from articles import forms
from articles.models import Disclaimer
from tests.factories import TopicFactory

HASH = "a" * 64


def errors_of(form) -> list[str]:
    assert not form.is_valid()
    return [message for messages in form.errors.values() for message in messages]


# --- Importing references -------------------------------------------------------------------------------


def test_import_refuses_both_a_paste_and_a_file_and_neither():
    upload = SimpleUploadedFile("refs.ris", b"TY  - JOUR\nER  - \n")
    assert errors_of(forms.ImportReferencesForm({"records": "x"}, {"file": upload})) == [forms.PASTE_OR_UPLOAD]
    assert errors_of(forms.ImportReferencesForm({"records": "   "})) == [forms.NOTHING_TO_IMPORT]


def test_import_refuses_a_file_that_is_not_utf8_or_too_large():
    latin1 = SimpleUploadedFile("refs.bib", "@article{müller, title={Über}}".encode("latin-1"))
    assert errors_of(forms.ImportReferencesForm({}, {"file": latin1})) == [forms.NOT_UTF8]
    huge = SimpleUploadedFile("refs.bib", b"x" * (forms.MAX_INPUT_BYTES + 1))
    assert errors_of(forms.ImportReferencesForm({}, {"file": huge})) == [forms.TOO_LARGE]


def test_import_reads_a_windows_file_with_a_byte_order_mark_as_plain_lines():
    upload = SimpleUploadedFile("refs.ris", "\ufeffTY  - JOUR\r\nTI  - Exosomes\r\nER  - \r\n".encode())
    form = forms.ImportReferencesForm({"format": "ris"}, {"file": upload})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["text"] == "TY  - JOUR\nTI  - Exosomes\nER  - \n"


def test_import_refuses_an_unknown_format():
    assert errors_of(forms.ImportReferencesForm({"records": "x", "format": "docx"}))


def test_confirming_an_import_needs_the_preview_fingerprint():
    assert errors_of(forms.ConfirmImportForm({"records": "x", "fingerprint": "not-a-hash"}))
    form = forms.ConfirmImportForm({"records": "a\r\nb", "fingerprint": HASH})
    assert form.is_valid()
    assert form.cleaned_data["records"] == "a\nb"


# --- Reference authors as rows --------------------------------------------------------------------------


def author_rows(*rows: dict) -> dict:
    data = {"authors-count": str(len(rows))}
    for index, row in enumerate(rows):
        data.update({f"authors-{index}-{column}": value for column, value in row.items()})
    return data


def authors_from(data: dict):
    field = forms.AuthorRowsField(required=False)
    return field.clean(field.widget.value_from_datadict(data, {}, "authors"))


def test_author_rows_keep_people_and_organisations_and_drop_blank_and_removed_rows():
    data = author_rows(
        {"order": "1", "family": "Mahmoud", "given": "Rami H"},
        {"order": "2", "literal": "Exosome Study Group"},
        {"order": "3", "family": "Gone", "remove": "on"},
        {"order": "", "family": ""},
    )
    assert authors_from(data) == [{"family": "Mahmoud", "given": "Rami H"}, {"literal": "Exosome Study Group"}]


def test_an_author_given_a_new_position_moves_there_ahead_of_the_one_that_held_it():
    data = author_rows(
        {"order": "1", "family": "First"}, {"order": "2", "family": "Second"}, {"order": "1", "family": "Third"}
    )
    assert [a["family"] for a in authors_from(data)] == ["Third", "First", "Second"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"order": "1", "family": "Smith", "literal": "A Group"}, forms.PERSON_OR_ORGANISATION),
        ({"order": "1", "given": "Ann"}, forms.AUTHOR_NEEDS_NAME),
        ({"order": "first", "family": "Smith"}, forms.ORDER_IS_A_NUMBER),
    ],
)
def test_a_malformed_author_row_is_named_by_its_row(row, message):
    with pytest.raises(forms.forms.ValidationError) as refused:
        authors_from(author_rows({"order": "1", "family": "Fine"}, row))
    assert refused.value.messages == [message.format(row=2)]


def test_a_forged_row_count_is_bounded_and_a_non_number_reads_as_no_rows():
    widget = forms.AuthorRowsWidget()
    assert widget.value_from_datadict({"authors-count": "oops"}, {}, "authors") == []
    assert len(widget.value_from_datadict({"authors-count": "99999999"}, {}, "authors")) == 1000


def test_author_rows_render_what_was_typed_escaped():
    html = forms.AuthorRowsWidget().render("authors", [{"family": '"><script>alert(1)</script>', "given": "A"}])
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'name="authors-count" value="4"' in html  # the author and three blank rows to add more


# --- Site content ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_disclaimer_scope_must_match_its_topics():
    topic = TopicFactory()
    base = {"title": "Not advice", "text": "<p>Read this.</p>", "is_active": "on", "position": "0", "language": "en"}
    for_topics = forms.DisclaimerAdminForm({**base, "scope": Disclaimer.Scope.TOPICS})
    assert "Choose at least one topic" in errors_of(for_topics)[0]
    everywhere = forms.DisclaimerAdminForm({**base, "scope": Disclaimer.Scope.ALL, "topics": [topic.pk]})
    assert "takes no topics" in errors_of(everywhere)[0]
    assert forms.DisclaimerAdminForm({**base, "scope": Disclaimer.Scope.TOPICS, "topics": [topic.pk]}).is_valid()


# --- The patient site and the staff login ---------------------------------------------------------------


def test_a_search_longer_than_200_characters_is_refused_in_words():
    assert errors_of(forms.SearchForm({"q": "x" * 201})) == ["Please use fewer words (at most 200 characters)."]
    assert forms.SearchForm({"q": "  exosomes  "}).is_valid()


def test_the_staff_login_refuses_a_username_longer_than_any_account_can_have():
    form = forms.StaffLoginForm(data={"username": "u" * 500, "password": "whatever"})
    assert errors_of(form)  # refused by the form, before django-axes or the database see it


# --- The review desk ------------------------------------------------------------------------------------


def test_approval_assumes_no_evidence_level_or_certainty():
    messages = errors_of(forms.ApproveStatementForm({"seen_hash": HASH}))
    assert forms.EVIDENCE_LEVEL_REQUIRED in messages
    assert forms.CERTAINTY_REQUIRED in messages


@pytest.mark.parametrize(
    "extra",
    [
        {"evidence_level": "Z"},
        {"certainty": "certain"},
        {"participants": "-3"},
        {"participants": "lots"},
        {"peer_reviewed": "maybe"},
        {"seen_hash": "short"},
    ],
)
def test_approval_refuses_malformed_values(extra):
    data = {"seen_hash": HASH, "evidence_level": "B", "certainty": "moderate", **extra}
    assert errors_of(forms.ApproveStatementForm(data))


def test_approval_reads_yes_no_and_not_known():
    data = {"seen_hash": HASH, "evidence_level": "B", "certainty": "moderate", "peer_reviewed": "false"}
    form = forms.ApproveStatementForm(data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["peer_reviewed"] is False
    assert form.cleaned_data["manufacturer_funded"] is None


def test_signing_off_over_open_warnings_needs_the_box_ticked():
    assert forms.SignOffForm({"seen_hash": HASH}).is_valid()
    assert errors_of(forms.SignOffForm({"seen_hash": HASH}, warnings=["w"])) == [forms.WARNINGS_NOT_CONFIRMED]
    assert forms.SignOffForm({"seen_hash": HASH, "warnings_read": "on"}, warnings=["w"]).is_valid()


@pytest.mark.parametrize("form_class", [forms.CommentForm, forms.ReasonForm])
def test_a_comment_or_reason_of_only_spaces_is_refused(form_class):
    field = "comment" if form_class is forms.CommentForm else "reason"
    assert errors_of(form_class({field: "   \n  "}))


def test_scheduling_reads_the_browsers_date_time_and_refuses_anything_else():
    assert forms.ScheduleForm({"publish_at": "2027-01-05T09:30"}).is_valid()
    for value in ("tomorrow", "2027-13-01T09:30", ""):
        assert errors_of(forms.ScheduleForm({"publish_at": value}))


def test_a_finding_key_must_have_the_length_the_desk_writes():
    assert errors_of(forms.JustifyFindingForm({"finding_key": "abc", "reason": "Fine as written."}))
    assert forms.JustifyFindingForm({"finding_key": "f" * 32, "reason": "Fine as written."}).is_valid()
