"""Sync Google Sheets with the leads: import new rows, then write each lead's results back.

One sync reads the lead tab (and the output tab, if results go there) in one
values.batchGet and writes every changed cell in one values.batchUpdate. It
is idempotent: a row whose phone a lead of this sheet already has is not
imported again, rows are followed by phone when someone sorts or inserts
rows, and a cell is written only when it differs from what the sheet shows,
so a second sync with nothing new makes no write at all.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.backoff import backoff_seconds
from integrations.sheets.client import SheetsClient, SheetsError, ValueRange, a1_range, column_letter, is_configured
from integrations.sheets.models import RESULT_COLUMNS, SheetLead, SheetSync, SheetSyncRun
from integrations.sheets.selectors import sheet_results_for
from leads import csv_import
from leads.models import Lead, LeadImport
from leads.phones import InvalidPhoneNumber, phone_parse
from leads.services import lead_import_create, lead_import_run_records

logger = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died mid-sync.
STALE_CLAIM = dt.timedelta(minutes=15)
# Retries start after about 30 s and double up to 15 minutes: the per-minute
# quota refills within a minute, and Google's 5xx spells rarely last longer.
RETRY_BASE_S = 30.0
RETRY_CAP_S = 900.0
# Each sync makes at most two Sheets requests. Beat starts the sheets two
# seconds apart, so however many there are, they stay under the API's 60
# requests a minute per user.
SPACING_S = 2
# The output tab's own columns before the results.
OUTPUT_KEY_COLUMNS = {"phone": "Phone", "name": "Name"}


class SheetSyncUnavailable(Exception):
    """The sync cannot run at all: no service-account key is configured."""


def sheet_sync_enqueue(*, sheet_syncs: Iterable[SheetSync], trigger: str) -> int:
    """Queue a sync of each sheet once the transaction commits; return how many were queued.

    Raises:
        SheetSyncUnavailable: when GOOGLE_SERVICE_ACCOUNT_FILE is not set.
    """
    from integrations.tasks import sheet_sync as sheet_sync_task  # the tasks module imports this one

    if not is_configured():
        raise SheetSyncUnavailable(
            "Google Sheets sync is off: set GOOGLE_SERVICE_ACCOUNT_FILE to a service-account key file "
            "and share each sheet with that service account's email address."
        )
    ids = [sheet.pk for sheet in sheet_syncs]
    for position, sheet_id in enumerate(ids):
        transaction.on_commit(
            functools.partial(sheet_sync_task.apply_async, (sheet_id, trigger), countdown=position * SPACING_S)
        )
    return len(ids)


def sheet_sync_run(
    *,
    sheet_sync_id: int,
    trigger: str = "beat",
    attempt: int = 1,
    max_attempts: int = 1,
    client: SheetsClient | None = None,
) -> SheetSyncRun:
    """Sync one sheet once and log the run, failures included.

    A quota error (429), a Google server error or a timeout leaves the run
    RETRYING with `next_retry_at` set while `attempt` < `max_attempts`; the
    task schedules that retry. Any other failure ends the run FAILED with the
    reason, and the rows imported before it stay imported.
    """
    now = timezone.now()
    if not SheetSync.objects.filter(pk=sheet_sync_id).exists():
        raise SheetSync.DoesNotExist(f"sheet {sheet_sync_id} was deleted")
    claimed = (
        SheetSync.objects.filter(pk=sheet_sync_id)
        .filter(Q(syncing_since__isnull=True) | Q(syncing_since__lt=now - STALE_CLAIM))
        .update(syncing_since=now)
    )
    run = SheetSyncRun.objects.create(sheet_sync_id=sheet_sync_id, trigger=trigger, attempt=attempt)
    if not claimed:
        return _run_end(run, SheetSyncRun.Status.SKIPPED, error="another sync of this sheet was running")
    sheet_sync = SheetSync.objects.select_related("campaign").get(pk=sheet_sync_id)
    status: str = SheetSyncRun.Status.COMPLETED
    error = ""
    try:
        # The admin form checks the same; a row saved some other way fails here, before any request.
        sheet_sync.full_clean(exclude=["campaign"])
        client = client or SheetsClient.from_settings()
        _sync(sheet_sync, run, client)
    except Exception as exc:  # noqa: BLE001 - _failure logs the unexpected ones with their traceback
        status, error = _failure(exc, run=run, attempt=attempt, max_attempts=max_attempts)
    finally:
        run.requests_made = client.requests_made if client is not None else 0
        done = {"last_synced_at": now} if status == SheetSyncRun.Status.COMPLETED else {}
        SheetSync.objects.filter(pk=sheet_sync_id).update(syncing_since=None, **done)
    return _run_end(run, status, error=error)


def _failure(exc: Exception, *, run: SheetSyncRun, attempt: int, max_attempts: int) -> tuple[str, str]:
    """Return the run's status and error for a failed sync, setting its next retry when one is due."""
    if isinstance(exc, SheetsError):
        if exc.retryable and attempt < max_attempts:
            wait = backoff_seconds(attempt=attempt, base_s=RETRY_BASE_S, cap_s=RETRY_CAP_S)
            run.next_retry_at = timezone.now() + dt.timedelta(seconds=wait)
            return SheetSyncRun.Status.RETRYING, str(exc)
        return SheetSyncRun.Status.FAILED, str(exc)
    if isinstance(exc, csv_import.ImportFileError):
        return SheetSyncRun.Status.FAILED, str(exc)
    if isinstance(exc, ValidationError):
        return SheetSyncRun.Status.FAILED, "the sheet's settings are invalid: " + " ".join(exc.messages)
    logger.exception("sheet sync failed", extra={"sheet_sync": run.sheet_sync_id})
    return SheetSyncRun.Status.FAILED, f"{type(exc).__name__}: {exc}"


def _run_end(run: SheetSyncRun, status: str, *, error: str = "") -> SheetSyncRun:
    run.status, run.error, run.finished_at = status, error, timezone.now()
    run.save()
    logger.info(
        "sheet sync finished",
        extra={
            "sheet_sync": run.sheet_sync_id,
            "status": status,
            "imported": run.imported_count,
            "rejected": run.rejected_count,
            "cells_written": run.cells_written,
            "error": error,
        },
    )
    return run


@dataclass(frozen=True)
class _Tab:
    """A tab's cells as read, addressed by sheet row number."""

    title: str
    first_row: int
    rows: list[list[str]]

    @classmethod
    def read(cls, title: str, value_range: ValueRange) -> _Tab:
        return cls(title=title, first_row=value_range.first_row, rows=value_range.values)

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.rows) - 1

    def cells(self, row: int) -> list[str]:
        index = row - self.first_row
        return self.rows[index] if 0 <= index < len(self.rows) else []


def _sync(sheet_sync: SheetSync, run: SheetSyncRun, client: SheetsClient) -> None:
    to_output = sheet_sync.write_back == SheetSync.WriteBack.OUTPUT_SHEET
    ranges = [a1_range(sheet_sync.worksheet)]
    if to_output:
        ranges.append(a1_range(sheet_sync.output_worksheet))
    read = client.values_batch_get(spreadsheet_id=sheet_sync.spreadsheet_id, ranges=ranges)
    tab = _Tab.read(sheet_sync.worksheet, read[0])
    header = tab.cells(sheet_sync.header_row)
    header_map = csv_import.map_headers(header, overrides=sheet_sync.column_map)
    rows = [
        (row, tab.cells(row))
        for row in range(sheet_sync.header_row + 1, tab.last_row + 1)
        if not csv_import.is_blank(tab.cells(row))
    ]
    run.rows_read = len(rows)
    phones = _row_phones(rows, header_map)
    linked = _links_follow(sheet_sync, phones)
    new = [csv_import.Record(row, cells) for row, cells in rows if phones.get(row) not in linked]
    run.already_imported = len(rows) - len(new)
    if new:
        _import(sheet_sync, run, header_map, new, phones)
        linked = _links_follow(sheet_sync, phones)

    if sheet_sync.write_back == SheetSync.WriteBack.OFF:
        return
    results = sheet_results_for(lead_ids=[link.lead_id for link in linked.values()])
    if to_output:
        every_link = SheetLead.objects.filter(sheet_sync=sheet_sync).order_by("row")
        writes = _output_writes(sheet_sync, _Tab.read(sheet_sync.output_worksheet, read[1]), every_link, results)
    else:
        targets = [(link.row, results[link.lead_id]) for link in linked.values() if link.lead_id in results]
        writes = _tab_writes(tab, sheet_sync.header_row, header, _result_keys(sheet_sync), targets, append_from=None)
    run.cells_written = client.values_batch_update(spreadsheet_id=sheet_sync.spreadsheet_id, data=writes)


def _row_phones(rows: Sequence[tuple[int, list[str]]], header_map: csv_import.HeaderMap) -> dict[int, str | None]:
    """Return each row's phone in E.164 (None when it is not a valid number), as the import will see it."""
    column = header_map.columns.index("phone")
    phones: dict[int, str | None] = {}
    for row, cells in rows:
        raw = csv_import._clean(cells[column]) if column < len(cells) else ""
        try:
            phones[row] = phone_parse(raw).e164
        except InvalidPhoneNumber:
            phones[row] = None
    return phones


def _links_follow(sheet_sync: SheetSync, phones: Mapping[int, str | None]) -> dict[str, SheetLead]:
    """Return this sheet's leads found in the tab now, by phone, moving each link to the row its phone is in now."""
    first_row: dict[str, int] = {}
    for row, phone in phones.items():
        if phone is not None:
            first_row.setdefault(phone, row)
    found: dict[str, SheetLead] = {}
    moved: list[SheetLead] = []
    for link in SheetLead.objects.filter(sheet_sync=sheet_sync, lead__phone__in=list(first_row)).select_related("lead"):
        row = first_row[link.lead.phone]
        if link.row != row:
            link.row = row
            moved.append(link)
        found[link.lead.phone] = link
    if moved:
        SheetLead.objects.bulk_update(moved, ["row"])
        Lead.objects.bulk_update([Lead(pk=link.lead_id, sheet_row=link.row) for link in moved], ["sheet_row"])
    return found


def _import(
    sheet_sync: SheetSync,
    run: SheetSyncRun,
    header_map: csv_import.HeaderMap,
    records: list[csv_import.Record],
    phones: Mapping[int, str | None],
) -> None:
    """Import rows through the CSV import's own checks, and remember which row each new lead came from."""
    lead_import = lead_import_create(
        file_name=f"Google Sheet {sheet_sync.name} / {sheet_sync.worksheet}"[:255],
        data=b"",
        source=sheet_sync.source,
        keep_file=False,
    )
    lead_import = lead_import_run_records(lead_import=lead_import, header_map=header_map, records=records)
    run.lead_import = lead_import
    run.imported_count = lead_import.imported_count
    run.rejected_count = lead_import.rejected_count
    run.row_errors = list(lead_import.row_errors)
    if lead_import.status == LeadImport.Status.FAILED:
        raise RuntimeError(f"the import of new rows failed: {lead_import.error}")
    row_of: dict[str, int] = {}
    for record in records:
        phone = phones.get(record.line)
        if phone is not None:
            row_of.setdefault(phone, record.line)
    leads = list(Lead.objects.filter(lead_import=lead_import).only("pk", "phone"))
    SheetLead.objects.bulk_create(
        [SheetLead(sheet_sync=sheet_sync, lead=lead, row=row_of[lead.phone]) for lead in leads]
    )
    Lead.objects.bulk_update([Lead(pk=lead.pk, sheet_row=row_of[lead.phone]) for lead in leads], ["sheet_row"])
    if sheet_sync.campaign is not None:
        sheet_sync.campaign.leads.add(*leads)


def _result_keys(sheet_sync: SheetSync) -> dict[str, str]:
    return {key: sheet_sync.result_header(key) for key in RESULT_COLUMNS}


def _output_writes(
    sheet_sync: SheetSync, tab: _Tab, links: Iterable[SheetLead], results: Mapping[int, Mapping[str, str]]
) -> list[ValueRange]:
    """Plan the output tab: a header row, then one row per lead found by its phone, new leads appended."""
    header = tab.cells(1)
    row_of: dict[str, int] = {}
    for row in range(2, tab.last_row + 1):
        cells = tab.cells(row)
        try:
            row_of.setdefault(phone_parse(cells[0] if cells else "").e164, row)
        except InvalidPhoneNumber:
            continue
    targets: list[tuple[int | None, Mapping[str, str]]] = []
    for link in links:
        wanted = results.get(link.lead_id)
        if wanted is not None:
            targets.append((row_of.get(wanted["phone"]), wanted))
    keys = {**OUTPUT_KEY_COLUMNS, **_result_keys(sheet_sync)}
    return _tab_writes(tab, 1, header, keys, targets, append_from=max(tab.last_row, 1) + 1)


def _tab_writes(
    tab: _Tab,
    header_row: int,
    header: list[str],
    keys: Mapping[str, str],
    targets: Sequence[tuple[int | None, Mapping[str, str]]],
    *,
    append_from: int | None,
) -> list[ValueRange]:
    """Plan the ranges that make each target row show its wanted values; a cell already right is left alone.

    Columns are found by header (case and spaces ignored); a missing one is
    added after the last header. A target with no row is appended from
    `append_from` (output tabs); without `append_from` it is skipped.
    """
    positions = {name.strip().lower(): i for i, name in reversed(list(enumerate(header))) if name.strip()}
    columns: dict[str, int] = {}
    changes: dict[tuple[int, int], str] = {}
    next_free = len(header)
    for key, name in keys.items():
        column = positions.get(name.strip().lower())
        if column is None:
            column, next_free = next_free, next_free + 1
            changes[(header_row, column)] = name
        columns[key] = column
    next_row = append_from
    for row, wanted in targets:
        if row is None:
            if next_row is None:
                continue
            row, next_row = next_row, next_row + 1
        cells = tab.cells(row)
        for key, column in columns.items():
            have = cells[column] if column < len(cells) else ""
            if have != wanted.get(key, ""):
                changes[(row, column)] = wanted.get(key, "")
    return _ranges(tab.title, changes)


def _ranges(title: str, changes: Mapping[tuple[int, int], str]) -> list[ValueRange]:
    """Group changed cells into one range per run of adjacent cells in a row."""
    ranges: list[ValueRange] = []
    run: list[tuple[int, int]] = []
    for cell in sorted(changes):
        if run and (cell[0] != run[-1][0] or cell[1] != run[-1][1] + 1):
            ranges.append(_range(title, run, changes))
            run = []
        run.append(cell)
    if run:
        ranges.append(_range(title, run, changes))
    return ranges


def _range(title: str, cells: list[tuple[int, int]], changes: Mapping[tuple[int, int], str]) -> ValueRange:
    (row, first), (_, last) = cells[0], cells[-1]
    span = f"{column_letter(first)}{row}" + (f":{column_letter(last)}{row}" if last != first else "")
    return ValueRange(range=a1_range(title, span), values=[[changes[cell] for cell in cells]])
