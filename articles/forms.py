from django import forms

from articles.importers import MAX_INPUT_BYTES, SUPPORTED_FORMATS
from articles.models import EVIDENCE_LEVEL_DESIGNS, Certainty, Disclaimer, EvidenceLevel

PASTE_OR_UPLOAD = "Paste records or choose a file, not both."
NOTHING_TO_IMPORT = "Paste one or more records, or choose a file to upload."
NOT_UTF8 = "The file is not UTF-8 text. Export it again as UTF-8 (or plain text) and upload that."
TOO_LARGE = "The file is larger than 2 MB. Split it into smaller batches."


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
        fields = ["title", "text", "scope", "topics", "is_active", "position"]

    def clean(self):
        cleaned = super().clean()
        scope, topics = cleaned.get("scope"), cleaned.get("topics")
        if scope == Disclaimer.Scope.TOPICS and not topics:
            self.add_error("topics", "Choose at least one topic, or make the disclaimer apply to every article.")
        if scope == Disclaimer.Scope.ALL and topics:
            self.add_error("topics", "A disclaimer for every article takes no topics: clear them or change the scope.")
        return cleaned


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search our articles",
        max_length=200,
        strip=True,
        error_messages={"max_length": "Please use fewer words (at most %(limit_value)d characters)."},
    )


# --- The review desk: input validation only; the rules live in workflow.py ---------------------------

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
    )
    certainty = forms.ChoiceField(label="Certainty (GRADE)", choices=Certainty.choices)
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


class SignOffForm(SeenHashForm):
    comment = forms.CharField(label="Comment (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2}))


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
