"""Google Sheets a broker keeps leads in, and a log of every sync with them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from leads.csv_import import HEADER_ALIASES

# The columns written back, keyed by what they hold, with their default headers.
RESULT_COLUMNS: dict[str, str] = {
    "status": "Status",
    "outcome": "Outcome",
    "score": "Score",
    "appointment": "Appointment",
    "next_attempt": "Next attempt",
    "dnc": "DNC",
}


class SheetSync(models.Model):
    """A Google Sheet whose rows become leads, and where each lead's results are written back."""

    class WriteBack(models.TextChoices):
        SAME_ROW = "same_row", "Into the lead's own row"
        OUTPUT_SHEET = "output_sheet", "Into an output tab, one row per lead"
        OFF = "off", "Do not write back"

    name = models.CharField(max_length=100)
    spreadsheet_id = models.CharField(
        max_length=100, help_text="The id in the sheet's address: docs.google.com/spreadsheets/d/<id>/edit"
    )
    worksheet = models.CharField(max_length=100, default="Sheet1", help_text="Name of the tab that holds the leads")
    header_row = models.PositiveSmallIntegerField(default=1, help_text="Row number of the column headers")
    column_map = models.JSONField(
        default=dict,
        blank=True,
        help_text='Sheet header → lead field, e.g. {"Cell": "phone", "Owner": "full_name"}. '
        "Headers not listed are recognised as in a CSV import (Phone, First Name, ZIP, ...).",
    )
    write_back = models.CharField(max_length=12, choices=WriteBack.choices, default=WriteBack.SAME_ROW)
    output_worksheet = models.CharField(
        max_length=100, blank=True, help_text="Tab for the results when writing to an output tab"
    )
    result_columns = models.JSONField(
        default=dict,
        blank=True,
        help_text="Result → column header, to rename the written columns; the defaults are "
        + ", ".join(f'"{key}": "{header}"' for key, header in RESULT_COLUMNS.items())
        + ". Missing columns are added after the last header.",
    )
    campaign = models.ForeignKey(
        "calls.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sheet_syncs",
        help_text="Imported leads join this campaign",
    )
    source = models.CharField(max_length=100, blank=True, help_text="Lead source for rows without their own")
    is_active = models.BooleanField(default=True, help_text="Synced periodically by celery-beat")
    # Set while a worker syncs this sheet; the atomic claim on it keeps two
    # syncs of one sheet (beat and the admin action) from running at once.
    syncing_since = models.DateTimeField(null=True, blank=True, editable=False)
    last_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Google Sheet"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        fields = set(HEADER_ALIASES.values())
        column_map = self.column_map or {}
        if not isinstance(column_map, dict) or not all(isinstance(v, str) for v in column_map.values()):
            errors["column_map"] = 'Use an object of header → field, e.g. {"Cell": "phone"}.'
        elif unknown := sorted(set(column_map.values()) - fields):
            choices = ", ".join(sorted(fields))
            errors["column_map"] = f"Unknown lead fields: {', '.join(unknown)}. Use one of: {choices}."
        results = self.result_columns or {}
        if not isinstance(results, dict) or not all(isinstance(v, str) and v.strip() for v in results.values()):
            errors["result_columns"] = 'Use an object of result → column header, e.g. {"score": "Lead score"}.'
        elif unknown := sorted(set(results) - set(RESULT_COLUMNS)):
            errors["result_columns"] = f"Unknown results: {', '.join(unknown)}. Use: {', '.join(RESULT_COLUMNS)}."
        if self.write_back == self.WriteBack.OUTPUT_SHEET and not self.output_worksheet.strip():
            errors["output_worksheet"] = "Name the tab the results go to."
        elif self.write_back == self.WriteBack.OUTPUT_SHEET and self.output_worksheet == self.worksheet:
            errors["output_worksheet"] = "The output tab must not be the tab the leads are read from."
        if errors:
            raise ValidationError(errors)

    def result_header(self, key: str) -> str:
        """Return the header of the column a result is written to."""
        return str((self.result_columns or {}).get(key) or RESULT_COLUMNS[key])


class SheetLead(models.Model):
    """Which row of a sheet a lead came from, so results go back to that row."""

    sheet_sync = models.ForeignKey(SheetSync, on_delete=models.CASCADE, related_name="sheet_leads")
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="sheet_links")
    row = models.PositiveIntegerField(help_text="Row number at the last sync; followed when rows move")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sheet_sync", "lead"], name="sheet_lead_unique")]

    def __str__(self) -> str:
        return f"{self.sheet_sync} row {self.row}"


class SheetSyncRun(models.Model):
    """One sync of one sheet: what was read, imported and written, and every row that failed."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        RETRYING = "retrying", "Failed, retry scheduled"
        SKIPPED = "skipped", "Skipped"

    sheet_sync = models.ForeignKey(SheetSync, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True)
    trigger = models.CharField(max_length=10, default="beat", help_text="beat or admin")
    attempt = models.PositiveSmallIntegerField(default=1)
    rows_read = models.PositiveIntegerField(default=0)
    already_imported = models.PositiveIntegerField(default=0, help_text="Rows whose lead came from an earlier sync")
    imported_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    cells_written = models.PositiveIntegerField(default=0)
    requests_made = models.PositiveSmallIntegerField(default=0, help_text="Sheets API requests this run made")
    # The rows that were read for the first time go through the CSV import's
    # validation; their LeadImport keeps each rejected row with its reason.
    lead_import = models.ForeignKey(
        "leads.LeadImport", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    row_errors = models.JSONField(default=list, blank=True, help_text="Rows that could not be imported or written")
    error = models.TextField(blank=True, help_text="Why the whole sync failed, if it did")
    next_retry_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "sheet sync log entry"
        verbose_name_plural = "sheet sync log"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.sheet_sync} at {self.started_at:%Y-%m-%d %H:%M}" if self.started_at else str(self.sheet_sync)
