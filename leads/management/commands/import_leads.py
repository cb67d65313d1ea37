"""Import a lead CSV file from the shell, with the same checks and report as the admin upload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from leads import csv_import
from leads.models import LeadImport
from leads.services import lead_import_create, lead_import_report_csv, lead_import_run

# Enough to see what went wrong without scrolling; the report has every row.
SHOWN_PROBLEMS = 10


class Command(BaseCommand):
    help = (
        "Import leads from a CSV file. Rows with an invalid, duplicate or do-not-call number are "
        "rejected and reported with their line number; the other rows are imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file: any delimiter, UTF-8, UTF-16 or Windows-1252")
        parser.add_argument("--source", default="", help="lead source for rows that have none, e.g. 'Zillow'")
        parser.add_argument("--report", type=Path, metavar="PATH", help="write the row-by-row report to this CSV file")
        parser.add_argument("--no-progress", action="store_true", help="draw no progress bar (for cron and logs)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc

        lead_import = lead_import_create(file_name=path.name, data=data, source=options["source"])
        # None when the file will fail as a whole; there is then no progress to show.
        total = None if options["no_progress"] else csv_import.count_rows(data)
        # The bar goes to the terminal's stderr, and log lines are written above it rather than through it.
        with logging_redirect_tqdm(), tqdm(total=total, unit=" rows", disable=total is None) as bar:

            def advance(rows: int) -> None:
                bar.update(rows)

            lead_import = lead_import_run(lead_import=lead_import, data=data, progress=advance)

        failure = f"{path.name} was not imported: {lead_import.error}"
        if lead_import.status == LeadImport.Status.FAILED and not lead_import.total_rows:
            raise CommandError(failure)
        self._print_summary(lead_import)
        if options["report"] is not None:
            # utf-8-sig so that Excel, where brokers open it, shows "Zoë" and not "ZoÃ«".
            options["report"].write_text(lead_import_report_csv(lead_import=lead_import), "utf-8-sig", newline="")
            self.stdout.write(f"Report written to {options['report']}")
        else:
            self.stdout.write(f"The report is kept on lead import #{lead_import.pk}; use --report PATH to save it.")
        if lead_import.status == LeadImport.Status.FAILED:
            # Rows before the failure were imported; the summary above counts them.
            raise CommandError(failure)

    def _print_summary(self, lead_import: LeadImport) -> None:
        warnings = [p for p in lead_import.row_errors if p["level"] == "warning"]
        errors = [p for p in lead_import.row_errors if p["level"] == "error"]
        style = self.style.SUCCESS if lead_import.status == LeadImport.Status.COMPLETED else self.style.ERROR
        self.stdout.write(
            style(f"Lead import #{lead_import.pk} {lead_import.get_status_display().lower()}: {lead_import.file_name}")
        )
        for label, value in [
            ("rows", lead_import.total_rows),
            ("imported", lead_import.imported_count),
            ("invalid", lead_import.invalid_count),
            ("duplicate", lead_import.duplicate_count),
            ("do-not-call", lead_import.dnc_count),
            ("warnings", len(warnings) + len(lead_import.warnings)),
        ]:
            self.stdout.write(f"  {label:<12} {value:>8}")
        for note in lead_import.warnings:
            self.stdout.write(self.style.WARNING(f"  warning: {note}"))
        for problem in sorted(errors, key=lambda p: p["line"])[:SHOWN_PROBLEMS]:
            self.stdout.write(f"  line {problem['line']}: {problem['kind']}: {problem['reason']}")
        if len(errors) > SHOWN_PROBLEMS:
            self.stdout.write(f"  ... and {len(errors) - SHOWN_PROBLEMS} more rejected rows in the report")
