"""The lead import's upload form, shared by the admin and the dashboard."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from leads.uploads import lead_file_too_large_message


class LeadImportUploadForm(forms.Form):
    file = forms.FileField(
        help_text=(
            "A CSV file from Excel, Google Sheets or a CRM. The first row names the columns; "
            "a phone column is required, and names, email, address, city, state, ZIP, source, "
            "buy/sell, CRM id and consent source/date/text are read when present."
        )
    )
    source = forms.CharField(
        max_length=100, required=False, help_text="Where these leads came from, for rows without a source column"
    )

    def __init__(self, *args: Any, refusal: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A file refused while it uploaded (leads.uploads) never reached FILES: say why, not "required".
        self.refusal = refusal
        if refusal is not None:
            self.fields["file"].required = False

    def clean_file(self) -> Any:
        if self.refusal is not None:
            raise forms.ValidationError(self.refusal, code="file_too_large")
        upload = self.cleaned_data["file"]
        limit = settings.LEAD_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                lead_file_too_large_message(name=upload.name, size=filesizeformat(upload.size), limit=limit),
                code="file_too_large",
            )
        return upload
