from django import forms

from articles.importers import MAX_INPUT_BYTES, SUPPORTED_FORMATS
from articles.models import Disclaimer

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
        cleaned["text"] = pasted or uploaded
        return cleaned


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
