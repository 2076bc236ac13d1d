from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.validators import MaxLengthValidator
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from articles.importers import MAX_INPUT_BYTES, SUPPORTED_FORMATS
from articles.models import EVIDENCE_LEVEL_DESIGNS, Certainty, Disclaimer, EvidenceLevel, Reference

PASTE_OR_UPLOAD = "Paste records or choose a file, not both."
NOTHING_TO_IMPORT = "Paste one or more records, or choose a file to upload."
NOT_UTF8 = "The file is not UTF-8 text. Export it again as UTF-8 (or plain text) and upload that."
TOO_LARGE = "The file is larger than 2 MB. Split it into smaller batches."


class StaffLoginForm(AdminAuthenticationForm):
    """The staff login (admin and review desk), refusing a username longer than any account can have.

    Django's login form sets the username's max_length after building the field, so the limit reached the
    HTML attribute only: a longer username went on to django-axes, whose record of the failed login holds
    255 characters, and the login answered with a server error.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class ImportReferencesForm(forms.Form):
    records = forms.CharField(
        label="Paste records",
        required=False,
        widget=forms.Textarea(attrs={"rows": 14, "cols": 100, "spellcheck": "false"}),
        help_text="BibTeX, RIS, PubMed MEDLINE, CSL-JSON or the aggregator's JSON lines.",
    )
    file = forms.FileField(label="…or upload a file", required=False)
    format = forms.ChoiceField(
        choices=[("", "Detect automatically"), *SUPPORTED_FORMATS.items()],
        required=False,
        help_text="Leave on “Detect automatically” unless the records are misread.",
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is None:
            return None
        if upload.size > MAX_INPUT_BYTES:
            raise forms.ValidationError(TOO_LARGE)
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(NOT_UTF8) from None

    def clean(self):
        cleaned = super().clean()
        pasted, uploaded = cleaned.get("records", "").strip(), cleaned.get("file")
        if self.errors:
            return cleaned
        if pasted and uploaded:
            raise forms.ValidationError(PASTE_OR_UPLOAD)
        if not pasted and not uploaded:
            raise forms.ValidationError(NOTHING_TO_IMPORT)
        cleaned["text"] = _one_newline(pasted or uploaded)
        return cleaned


class ConfirmImportForm(forms.Form):
    """The preview's Confirm: the same records again (read and checked once more) and the plan's fingerprint."""

    records = forms.CharField(widget=forms.Textarea(attrs={"hidden": "", "aria-hidden": "true"}), strip=False)
    format = forms.ChoiceField(
        choices=[("", "Detect automatically"), *SUPPORTED_FORMATS.items()], required=False, widget=forms.HiddenInput
    )
    fingerprint = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput)

    def clean_records(self):
        return _one_newline(self.cleaned_data["records"])  # its size is checked when it is read again


def _one_newline(text: str) -> str:
    """Return text with browsers' CRLF line ends as LF, so a preview and its confirmation read the same lines."""
    return text.replace("\r\n", "\n")


class DisclaimerAdminForm(forms.ModelForm):
    class Meta:
        model = Disclaimer
        fields = ["title", "text", "language", "scope", "topics", "is_active", "position"]

    def clean(self):
        cleaned = super().clean()
        scope, topics = cleaned.get("scope"), cleaned.get("topics")
        if scope == Disclaimer.Scope.TOPICS and not topics:
            self.add_error("topics", "Choose at least one topic, or make the disclaimer apply to every article.")
        if scope == Disclaimer.Scope.ALL and topics:
            self.add_error("topics", "A disclaimer for every article takes no topics: clear them or change the scope.")
        return cleaned


EXTRA_AUTHOR_ROWS = 3  # blank rows to add authors in, without JavaScript; save to get more
AUTHOR_NEEDS_NAME = "Author {row}: give the family name, or an organisation's name for a group author."
PERSON_OR_ORGANISATION = "Author {row}: give a person's names or an organisation's name, not both."
ORDER_IS_A_NUMBER = "Author {row}: the position must be a whole number, such as 1 for the first author."
AUTHOR_COLUMNS = [
    ("order", "Position", {"type": "number", "min": "1", "size": "3", "class": "vIntegerField"}),
    ("family", "Family name", {"type": "text", "class": "vTextField"}),
    ("given", "Given names or initials", {"type": "text", "class": "vTextField"}),
    ("suffix", "Suffix (Jr, III)", {"type": "text", "size": "4"}),
    ("literal", "or organisation", {"type": "text", "class": "vTextField"}),
    ("remove", "Remove", {"type": "checkbox"}),
]


def _author_row(author) -> dict[str, str]:
    if isinstance(author, str):
        return {"literal": author}
    if not isinstance(author, dict):
        return {}
    return {name: str(author.get(name, "")) for name in ("family", "given", "suffix", "literal")}


class AuthorRowsWidget(forms.Widget):
    """The authors as a table of rows to correct, remove (a box), reorder (a position) or add (blank rows)."""

    def value_from_datadict(self, data, files, name):
        try:
            count = min(int(data.get(f"{name}-count", 0)), 1000)
        except ValueError:
            count = 0
        columns = [column for column, _label, _attrs in AUTHOR_COLUMNS]
        return [{column: data.get(f"{name}-{index}-{column}", "") for column in columns} for index in range(count)]

    def value_omitted_from_data(self, data, files, name):
        return f"{name}-count" not in data

    def id_for_label(self, id_):
        return f"{id_}_0_family" if id_ else None

    def render(self, name, value, attrs=None, renderer=None):
        if value and all(isinstance(row, dict) and "order" in row for row in value):
            rows = value  # as posted, to correct
        else:
            authors = [_author_row(author) for author in value or []]
            rows = [{**row, "order": str(index)} for index, row in enumerate(authors, start=1)]
            rows += [{} for _blank in range(EXTRA_AUTHOR_ROWS)]
        base_id = (attrs or {}).get("id") or f"id_{name}"
        head = format_html_join("", '<th scope="col">{}</th>', ((label,) for _c, label, _a in AUTHOR_COLUMNS))
        body = format_html_join(
            "", "<tr>{}</tr>", ((self._cells(name, base_id, index, row),) for index, row in enumerate(rows))
        )
        return format_html(
            '<table class="author-rows"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>'
            '<input type="hidden" name="{}-count" value="{}">',
            head,
            body,
            name,
            len(rows),
        )

    @staticmethod
    def _cells(name, base_id, index, row):
        cells = []
        for column, label, attrs in AUTHOR_COLUMNS:
            input_id, value = f"{base_id}_{index}_{column}", row.get(column, "")
            checked = attrs["type"] == "checkbox" and bool(value)
            cells.append(
                format_html(
                    '<td><label for="{}" class="visually-hidden">Author {}: {}</label>'
                    '<input id="{}" name="{}-{}-{}"{}{}{}></td>',
                    input_id,
                    index + 1,
                    label,
                    input_id,
                    name,
                    index,
                    column,
                    flatatt(attrs),
                    "" if attrs["type"] == "checkbox" else format_html(' value="{}"', value),
                    " checked" if checked else "",
                )
            )
        return mark_safe("".join(cells))  # noqa: S308 (each cell is built by format_html)


class AuthorRowsField(forms.Field):
    """Authors as rows in the form, the Reference's list of {"family", "given"} or {"literal"} in the database."""

    widget = AuthorRowsWidget

    def to_python(self, value):
        if not value or not all(isinstance(row, dict) and "order" in row for row in value):
            return value or []  # already the stored list (the initial value)
        errors, kept = [], []
        for index, row in enumerate(value, start=1):
            row = {column: str(row.get(column, "")).strip() for column, _label, _attrs in AUTHOR_COLUMNS}
            if row["remove"] or not (row["family"] or row["given"] or row["suffix"] or row["literal"]):
                continue
            if row["literal"] and (row["family"] or row["given"] or row["suffix"]):
                errors.append(PERSON_OR_ORGANISATION.format(row=index))
            elif not (row["family"] or row["literal"]):
                errors.append(AUTHOR_NEEDS_NAME.format(row=index))
            if row["order"] and not row["order"].isdigit():
                errors.append(ORDER_IS_A_NUMBER.format(row=index))
                continue
            position = int(row["order"]) if row["order"] else index
            person = {"family": row["family"], "given": row["given"], "suffix": row["suffix"]}
            author = {"literal": row["literal"]} if row["literal"] else person
            kept.append((position, index, {name: text for name, text in author.items() if text}))
        if errors:
            raise forms.ValidationError(errors)
        # A row given a new position goes there, ahead of the row that held it: "3 to 1" needs no renumbering.
        kept.sort(key=lambda entry: (entry[0], entry[0] == entry[1], entry[1]))
        return [author for _position, _index, author in kept]

    def has_changed(self, initial, data):
        try:
            return self.to_python(data) != (initial or [])
        except forms.ValidationError:
            return True


class ReferenceAdminForm(forms.ModelForm):
    authors = AuthorRowsField(
        required=False,
        label="Authors",
        help_text="In the order the paper lists them. To move an author, type the position it should take; tick "
        "Remove to drop one; fill a blank row to add one (save to get more blank rows).",
    )

    class Meta:
        model = Reference
        fields = ["authors"]  # the admin adds the fields of its fieldsets


class SearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Search our articles"),
        max_length=200,
        strip=True,
        error_messages={"max_length": gettext_lazy("Please use fewer words (at most %(limit_value)d characters).")},
    )


# --- The review desk: input validation only; the rules live in articles/workflow/ --------------------

EVIDENCE_LEVEL_REQUIRED = (
    "Choose the evidence level (A to F) from the design of the study behind the claim: nothing is assumed."
)
CERTAINTY_REQUIRED = (
    "Choose the certainty (GRADE: high, moderate, low or very low): nothing is assumed, so an animal study is "
    "never recorded as high certainty by default."
)
EVIDENCE_LEVELS = [(level.value, EVIDENCE_LEVEL_DESIGNS[level.value], level.label) for level in EvidenceLevel]
YES_NO_UNKNOWN = [("", "Not known"), ("true", "Yes"), ("false", "No")]


def _yes_no_unknown(value):
    return {"true": True, "false": False}.get(value)


class SeenHashForm(forms.Form):
    """Carries the hash of what the reviewer read, so a change made meanwhile is caught."""

    seen_hash = forms.CharField(widget=forms.HiddenInput, max_length=64, min_length=64)


class ApproveStatementForm(SeenHashForm):
    evidence_level = forms.ChoiceField(
        label="Evidence level",
        choices=[(level, f"{level}: {design} (patients read “{label}”)") for level, design, label in EVIDENCE_LEVELS],
        widget=forms.RadioSelect,
        help_text="Grade the design of the study behind the claim, not its title.",
        error_messages={"required": EVIDENCE_LEVEL_REQUIRED},
    )
    # The empty first choice keeps the browser from preselecting "High" (the first real choice).
    certainty = forms.ChoiceField(
        label="Certainty (GRADE)",
        choices=[("", "Choose the certainty…"), *Certainty.choices],
        error_messages={"required": CERTAINTY_REQUIRED},
    )
    participants = forms.IntegerField(label="People studied", required=False, min_value=0, max_value=100_000_000)
    peer_reviewed = forms.TypedChoiceField(
        label="Peer reviewed?", choices=YES_NO_UNKNOWN, required=False, coerce=_yes_no_unknown, empty_value=None
    )
    manufacturer_funded = forms.TypedChoiceField(
        label="Funded or run by the manufacturer?",
        choices=YES_NO_UNKNOWN,
        required=False,
        coerce=_yes_no_unknown,
        empty_value=None,
    )
    comment = forms.CharField(label="Comment (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CommentForm(forms.Form):
    comment = forms.CharField(
        label="What needs to change", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, strip=True
    )


class StatementChangesForm(SeenHashForm, CommentForm):
    pass


class SendBackForm(forms.Form):
    comment = forms.CharField(
        label="What needs to change overall",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
        strip=True,
        help_text="Optional when you comment on statements below. The writer gets it all in one email.",
    )


class SendBackStatementForm(SeenHashForm):
    comment = forms.CharField(
        label="What needs to change in this statement",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        required=False,
        strip=True,
    )


WARNINGS_NOT_CONFIRMED = (
    "The article has open warnings (listed above the sign-off button): read them, tick “I have read these "
    "warnings”, then sign off."
)


class SignOffForm(SeenHashForm):
    comment = forms.CharField(label="Comment (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, warnings=(), **kwargs):
        super().__init__(*args, **kwargs)
        if warnings:  # open claim-check warnings: signing off over them is a choice the reviewer confirms
            self.fields["warnings_read"] = forms.BooleanField(
                label="I have read these warnings", error_messages={"required": WARNINGS_NOT_CONFIRMED}
            )


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, strip=True)


class ScheduleForm(forms.Form):
    publish_at = forms.DateTimeField(
        label="Publish at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="In the clinic's time zone.",
    )


class JustifyFindingForm(forms.Form):
    finding_key = forms.CharField(widget=forms.HiddenInput, max_length=32, min_length=32)
    reason = forms.CharField(
        label="Why it is acceptable as written",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        strip=True,
        help_text="Goes in the audit trail with your name.",
    )


class AcknowledgeRetractionForm(forms.Form):
    comment = forms.CharField(
        label="Why the article may still cite it",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        strip=True,
    )
