"""Writes for leads, consents, the do-not-call list and lead imports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from celery import signature
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from common.access import Viewer
from leads import csv_import, dnc_registry
from leads.csv_import import RejectCode
from leads.models import Consent, DoNotCall, Lead, LeadImport, LeadNote
from leads.names import person_name_clean
from leads.phones import lead_phone_parse, phone_normalize
from leads.selectors import lead_clash_get, leads_visible
from leads.signals import lead_dialing_stopped, lead_import_finished
from leads.timezones import state_normalize, timezone_derive

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]


def lead_create(*, phone: str, state: str = "", **fields: Any) -> Lead:
    """Create a lead from raw input: the phone is normalised and the time zone derived.

    Raises:
        InvalidPhoneNumber: when the phone is not dialable or not in LEAD_COUNTRIES.
    """
    lead = Lead(phone=phone, state=state, **fields)
    _lead_normalize(lead)
    lead.full_clean(exclude=["lead_import"])
    lead.save()
    return lead


def lead_save(*, lead: Lead) -> Lead:
    """Save a lead entered or edited by hand, normalising it as lead_create does.

    The time zone is derived again because an edited phone or state may move
    the lead's calling window. A number already on the do-not-call list marks
    the lead do-not-call, as dnc_add would have done had the lead existed then
    (a national registry listing does not: the gate weighs it against consent).

    Raises:
        InvalidPhoneNumber: when the phone is not dialable or not in LEAD_COUNTRIES.
        ValidationError: when another field is invalid or the number is already a lead.
    """
    _lead_normalize(lead)
    # A registry listing is left to the gate, where the lead's consent may lift it.
    if DoNotCall.objects.filter(phone=lead.phone).exclude(source=DoNotCall.Source.REGISTRY).exists():
        lead.status, lead.next_attempt_at = Lead.Status.DO_NOT_CALL, None
    lead.full_clean(exclude=["lead_import"])
    lead.save()
    return lead


def _lead_normalize(lead: Lead) -> None:
    """Put the phone in E.164 and the state in two letters, derive the time zone, and make the names speakable."""
    lead.first_name, lead.last_name = person_name_clean(lead.first_name), person_name_clean(lead.last_name)
    parsed = lead_phone_parse(lead.phone)
    lead.phone = parsed.e164
    lead.phone_extension = parsed.extension or lead.phone_extension
    lead.state = (state_normalize(lead.state) or "") if lead.state else ""
    guess = timezone_derive(phone_timezones=parsed.timezones, state=lead.state)
    lead.timezone, lead.timezone_source = guess.timezone, guess.source


def dnc_add(*, phone: str, reason: str = "", source: str = DoNotCall.Source.ADMIN) -> DoNotCall:
    """Put a number on the do-not-call list and stop every campaign dialing it; adding it twice is harmless.

    A registry entry only records the listing: the gate lets an active consent
    override it, so the number's leads keep their status. Any other entry
    blocks the number whatever the consents say; it marks the leads
    do-not-call, clears their next attempts and cancels their queued calls in
    every campaign, and it takes the place of a registry entry for the number.
    A lead's own request also revokes the lead's consents.
    """
    e164 = phone_normalize(phone)
    registry = source == DoNotCall.Source.REGISTRY
    with transaction.atomic():
        entry, created = DoNotCall.objects.get_or_create(phone=e164, defaults={"reason": reason, "source": source})
        if not created and not registry and entry.source == DoNotCall.Source.REGISTRY:
            # Left as a registry entry, an active consent would let the number be dialed again.
            entry.source, entry.reason = source, reason
            entry.save(update_fields=["source", "reason"])
        if not registry:
            leads_dialing_stop(
                leads=Lead.objects.filter(phone=e164),
                reason=f"do-not-call ({DoNotCall.Source(source).label})",
                revoke_consents=source == DoNotCall.Source.LEAD_REQUEST,
            )
    if created:
        logger.info("number added to do-not-call list", extra={"dnc_source": source})
    return entry


def leads_dialing_stop(*, leads: QuerySet[Lead], reason: str, revoke_consents: bool = False) -> list[int]:
    """Mark the leads do-not-call and have every campaign drop them at once; return their ids.

    Their next attempts are cleared here, and the `lead_dialing_stopped` signal
    has the apps above (calls) cancel their queued calls in the same transaction.
    A call already live is left to finish: the lead is on it.
    """
    now = timezone.now()
    with transaction.atomic():
        lead_ids = list(leads.values_list("pk", flat=True))
        if not lead_ids:
            return []
        Lead.objects.filter(pk__in=lead_ids).update(
            status=Lead.Status.DO_NOT_CALL, next_attempt_at=None, updated_at=now
        )
        if revoke_consents:
            Consent.objects.filter(lead_id__in=lead_ids, revoked_at__isnull=True).update(revoked_at=now)
        lead_dialing_stopped.send(sender=Lead, lead_ids=lead_ids, reason=reason)
    logger.info("lead dialing stopped", extra={"leads": len(lead_ids), "reason": reason})
    return lead_ids


def consent_revoke(*, lead: Lead, reason: str = "", at: dt.datetime | None = None) -> DoNotCall:
    """Record that the lead withdrew consent, however they said it, so that no campaign calls them again.

    Every consent of the lead is revoked as of `at` (now by default), and the
    number goes on the do-not-call list as the lead's own request. A lead may
    revoke by any reasonable means (47 CFR 64.1200(a)(10)) and means every call
    from us, so it covers every campaign; unlike a registry listing, no other
    consent on file can override it.
    """
    at = at or timezone.now()
    with transaction.atomic():
        Consent.objects.filter(lead=lead, revoked_at__isnull=True).update(revoked_at=at)
        entry = dnc_add(phone=lead.phone, reason=reason or "consent revoked", source=DoNotCall.Source.LEAD_REQUEST)
    logger.info("consent revoked", extra={"lead": lead.pk})
    return entry


def consent_revoke_for_leads(*, leads: Iterable[Lead], reason: str) -> int:
    """Revoke every given lead's consent as consent_revoke does; return how many leads."""
    count = 0
    for lead in leads:
        consent_revoke(lead=lead, reason=reason)
        count += 1
    return count


@dataclass
class RegistryImportResult:
    """What became of a registry file's lines."""

    lines: int = 0  # non-blank lines after any header
    added: int = 0
    already_present: int = 0  # on the list already, from any source, or repeated in the file
    rejected_count: int = 0
    # (line, why) for the first REGISTRY_REJECTIONS_KEPT rejected lines: a
    # wrong file could reject millions, and the count says how many there were.
    rejected: list[tuple[int, str]] = field(default_factory=list)


REGISTRY_REJECTIONS_KEPT = 1000


def dnc_registry_import(*, lines: Iterable[str], reason: str = "", batch_size: int = 5000) -> RegistryImportResult:
    """Put a national registry file's numbers on the do-not-call list as registry entries; a rerun adds nothing.

    The lines are read as they come and written a batch at a time, so a file
    of millions of numbers never sits in memory. A number already on the list
    keeps its entry: a lead's own request stays one. Leads are not marked
    do-not-call, because an active consent lifts a registry listing at the gate.
    """
    result = RegistryImportResult()
    batch: dict[str, int] = {}
    for item in dnc_registry.registry_lines(lines):
        result.lines += 1
        if item.problem:
            result.rejected_count += 1
            if len(result.rejected) < REGISTRY_REJECTIONS_KEPT:
                result.rejected.append((item.line, item.problem))
        elif item.phone in batch:
            result.already_present += 1
        else:
            batch[item.phone] = item.line
            if len(batch) >= batch_size:
                _registry_batch_write(result, list(batch), reason)
                batch = {}
    _registry_batch_write(result, list(batch), reason)
    logger.info(
        "dnc registry import",
        extra={"added": result.added, "already_present": result.already_present, "rejected": result.rejected_count},
    )
    return result


def _registry_batch_write(result: RegistryImportResult, phones: list[str], reason: str) -> None:
    if not phones:
        return
    existing = set(DoNotCall.objects.filter(phone__in=phones).values_list("phone", flat=True))
    new = [phone for phone in phones if phone not in existing]
    # ignore_conflicts: a number another writer lists meanwhile keeps its entry, and this run goes on.
    DoNotCall.objects.bulk_create(
        [DoNotCall(phone=phone, reason=reason[:255], source=DoNotCall.Source.REGISTRY) for phone in new],
        ignore_conflicts=True,
    )
    result.added += len(new)
    result.already_present += len(existing)


def dnc_add_for_leads(*, leads: Iterable[Lead], reason: str, source: str = DoNotCall.Source.ADMIN) -> int:
    """Put every given lead's number on the do-not-call list; return how many were added."""
    count = 0
    for lead in leads:
        dnc_add(phone=lead.phone, reason=reason, source=source)
        count += 1
    return count


def lead_import_create(
    *, file_name: str, data: bytes, source: str = "", user: Any = None, keep_file: bool = True
) -> LeadImport:
    """Record an uploaded lead file; the rows are read by lead_import_run."""
    lead_import = LeadImport(file_name=file_name, source=source, created_by=user)
    if keep_file:
        lead_import.file.save(file_name, ContentFile(data), save=False)
    lead_import.save()
    return lead_import


class _ImportState:
    """Counters and sets for one run, so each row is checked in memory, not with a query."""

    def __init__(self, lead_import: LeadImport) -> None:
        self.lead_import = lead_import
        # An agent's upload is theirs; a manager's leads are assigned later (or seen through campaigns).
        importer = lead_import.created_by
        self.owner_id = None if importer is None or Viewer.of(importer).sees_all else importer.pk
        self.existing_phones: dict[str, int] = dict(Lead.objects.values_list("phone", "id"))
        self.existing_crm_ids: set[str] = set(
            Lead.objects.exclude(crm_id=None).values_list("crm_id", flat=True)  # type: ignore[arg-type]
        )
        self.dnc: set[str] = set(DoNotCall.objects.values_list("phone", flat=True))
        self.seen_phones: dict[str, int] = {}
        self.seen_crm_ids: dict[str, int] = {}
        self.problems: list[dict[str, Any]] = []
        self.pending: list[csv_import.LeadRow] = []
        self.counts = {"total": 0, "imported": 0, "invalid": 0, "duplicate": 0, "dnc": 0, "blank": 0}

    def reject(self, kind: str, line: int, reason: str, row: dict[str, str]) -> None:
        self.counts[kind] += 1
        self._note("error", kind, line, reason, row)

    def warn(self, line: int, reason: str, row: dict[str, str]) -> None:
        self._note("warning", "warning", line, reason, row)

    def _note(self, level: str, kind: str, line: int, reason: str, row: dict[str, str]) -> None:
        # "columns" keeps the file's column order for the report: PostgreSQL's
        # jsonb stores the keys of "row" sorted by length.
        problem = {"line": line, "level": level, "kind": kind, "reason": reason, "row": row, "columns": list(row)}
        self.problems.append(problem)


def lead_import_run(*, lead_import: LeadImport, data: bytes, progress: ProgressCallback | None = None) -> LeadImport:
    """Import every good row of a lead file and report every other row with its line and reason.

    A row is rejected for an invalid phone number or one outside LEAD_COUNTRIES, a number or CRM id already
    seen (in the file or the database), or a number on the do-not-call list.
    Values that are merely malformed (email, state, ZIP) are dropped with a
    warning and the row still imports. A file that cannot be read at all
    (no phone column) or has more than LEAD_IMPORT_MAX_ROWS rows fails as a
    whole, with nothing imported, and says why.
    """

    def read(state: _ImportState) -> None:
        # Decoding is inside the try: a file that cannot be decoded must end
        # FAILED with a reason, not stay RUNNING forever.
        text, lead_import.encoding = csv_import.decode(data)
        _import_records(state, text, progress)

    return _import_run(lead_import, read)


# How often a worker writes an import's progress for the admin's bar: often enough to move, seldom enough to be free.
PROGRESS_EVERY_ROWS = 500


def lead_import_process(*, lead_import_id: int) -> LeadImport | None:
    """Import a queued lead file from its stored copy, recording progress; None when it was not waiting.

    Claimed atomically (pending to running), so a file is imported once however
    often its task is delivered. Runs in a Celery worker (leads.tasks): a large
    file takes far longer than a web request may.
    """
    claimed = LeadImport.objects.filter(pk=lead_import_id, status=LeadImport.Status.PENDING).update(
        status=LeadImport.Status.RUNNING
    )
    if not claimed:
        logger.info("lead import not waiting; nothing to do", extra={"lead_import": lead_import_id})
        return None
    lead_import = LeadImport.objects.get(pk=lead_import_id)
    try:
        with lead_import.file.open("rb") as stored:
            data = stored.read()
    except (OSError, ValueError) as exc:
        lead_import.status, lead_import.error = LeadImport.Status.FAILED, f"The uploaded file can't be read: {exc}"
        lead_import.finished_at = timezone.now()
        lead_import.save(update_fields=["status", "error", "finished_at"])
        return lead_import
    lead_import.rows_expected = csv_import.count_rows(data)
    lead_import.save(update_fields=["rows_expected"])

    def advance(rows: int) -> None:
        lead_import.processed_rows += rows
        if lead_import.processed_rows % PROGRESS_EVERY_ROWS == 0:
            LeadImport.objects.filter(pk=lead_import_id).update(processed_rows=lead_import.processed_rows)

    return lead_import_run(lead_import=lead_import, data=data, progress=advance)


def lead_import_files_expire(*, now: dt.datetime | None = None) -> int:
    """Delete uploaded lead files older than LEAD_IMPORT_FILE_RETENTION_DAYS; return how many.

    The import's record stays, with every row's result and the downloadable
    report (kept in the record, not read from the file).
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.LEAD_IMPORT_FILE_RETENTION_DAYS)
    expired = (
        LeadImport.objects.filter(created_at__lt=cutoff, file_removed_at__isnull=True)
        .exclude(file="")
        .exclude(status__in=[LeadImport.Status.PENDING, LeadImport.Status.RUNNING])
    )
    removed = 0
    for lead_import in expired.iterator():
        lead_import.file.delete(save=False)
        lead_import.file_removed_at = now
        lead_import.save(update_fields=["file", "file_removed_at"])
        removed += 1
    if removed:
        logger.info("uploaded lead files deleted", extra={"count": removed})
    return removed


def lead_imports_lost_requeue(*, now: dt.datetime | None = None) -> list[int]:
    """Queue again each uploaded import still pending LEAD_IMPORT_REQUEUE_AFTER_S after upload; return their ids.

    Its task was lost before a worker claimed it: the broker dropped the message, or the enqueue failed
    after the upload committed. One whose first message is only slow gets two; lead_import_process
    claims it once, and the later message finds nothing to do.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.LEAD_IMPORT_REQUEUE_AFTER_S)
    # Only an upload, with its stored file, waits for a worker; a Google Sheet's import keeps no file
    # and runs where it is created.
    lost = list(
        LeadImport.objects.filter(status=LeadImport.Status.PENDING, created_at__lt=cutoff)
        .exclude(file="")
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
    for lead_import_id in lost:
        # Named, not imported: leads.tasks imports this module.
        signature("leads.tasks.lead_import_process", args=(lead_import_id,)).delay()
    if lost:
        logger.warning("lead imports queued again; their task was lost", extra={"lead_imports": lost})
    return lost


def lead_import_run_records(
    *, lead_import: LeadImport, header_map: csv_import.HeaderMap, records: Iterable[csv_import.Record]
) -> LeadImport:
    """Import rows read from elsewhere (a Google Sheet) exactly as lead_import_run imports a file's records.

    Every check, rejection and warning is the file import's; a record's line
    is what the report calls its row (a sheet's own row number).
    """
    return _import_run(lead_import, lambda state: _import_mapped(state, header_map, records, None))


def _import_run(lead_import: LeadImport, read: Callable[[_ImportState], None]) -> LeadImport:
    LeadImport.objects.filter(pk=lead_import.pk).update(status=LeadImport.Status.RUNNING)
    state = _ImportState(lead_import)
    try:
        read(state)
    except csv_import.ImportFileError as exc:
        lead_import.status, lead_import.error = LeadImport.Status.FAILED, str(exc)
    except Exception as exc:
        # Keep the counts of what did land; the admin shows the failure.
        logger.exception("lead import failed", extra={"lead_import": lead_import.pk})
        lead_import.status, lead_import.error = LeadImport.Status.FAILED, f"{type(exc).__name__}: {exc}"
    else:
        lead_import.status = LeadImport.Status.COMPLETED
    counts = state.counts
    lead_import.total_rows = counts["total"]
    lead_import.imported_count = counts["imported"]
    lead_import.invalid_count = counts["invalid"]
    lead_import.duplicate_count = counts["duplicate"]
    lead_import.dnc_count = counts["dnc"]
    lead_import.row_errors = state.problems
    if counts["blank"]:
        lead_import.warnings.append(f"{counts['blank']} blank rows were skipped")
    lead_import.finished_at = timezone.now()
    with transaction.atomic():
        lead_import.save()
        lead_import_finished.send(sender=LeadImport, lead_import=lead_import)
    logger.info(
        "lead import finished",
        extra={"lead_import": lead_import.pk, "status": lead_import.status, **counts},
    )
    return lead_import


def _import_records(state: _ImportState, text: str, progress: ProgressCallback | None) -> None:
    csv_import.check_row_count(text, limit=settings.LEAD_IMPORT_MAX_ROWS)
    records = csv_import.iter_records(text)
    _import_mapped(state, csv_import.map_headers(csv_import.read_header(records)), records, progress)


def _import_mapped(
    state: _ImportState,
    header_map: csv_import.HeaderMap,
    records: Iterable[csv_import.Record],
    progress: ProgressCallback | None,
) -> None:
    if header_map.ignored:
        state.lead_import.warnings.append("ignored columns: " + ", ".join(header_map.ignored))
    batch_size = settings.LEAD_IMPORT_BATCH_SIZE
    for record in records:
        if record.blank:
            state.counts["blank"] += 1
            continue
        state.counts["total"] += 1
        _import_one(state, header_map, record)
        if len(state.pending) >= batch_size:
            _flush(state)
        if progress is not None:
            progress(1)
    _flush(state)


def _import_one(state: _ImportState, header_map: csv_import.HeaderMap, record: csv_import.Record) -> None:
    line, cells = record.line, record.cells
    raw = {header_map.raw[i] if i < len(header_map.raw) else f"extra {i + 1}": c for i, c in enumerate(cells)}
    if record.problem:
        state.reject("invalid", line, record.problem, raw)
        return
    values = {
        field: csv_import._clean(cells[i]) if i < len(cells) else ""
        for i, field in enumerate(header_map.columns)
        if field is not None
    }
    result = csv_import.validate_row(line, values, raw)
    if isinstance(result, csv_import.RowProblem):
        state.reject("invalid", line, result.reason, raw)
        return
    phone, crm_id = result.fields["phone"], result.fields["crm_id"]
    if phone in state.dnc:
        state.reject("dnc", line, f"{phone} is on the do-not-call list", raw)
        return
    if phone in state.seen_phones:
        state.reject("duplicate", line, f"{phone} repeats line {state.seen_phones[phone]}", raw)
        return
    if phone in state.existing_phones:
        state.reject("duplicate", line, f"{phone} is already lead #{state.existing_phones[phone]}", raw)
        return
    if crm_id and crm_id in state.seen_crm_ids:
        state.reject("duplicate", line, f"CRM id {crm_id!r} repeats line {state.seen_crm_ids[crm_id]}", raw)
        return
    if crm_id and crm_id in state.existing_crm_ids:
        state.reject("duplicate", line, f"CRM id {crm_id!r} is already used by another lead", raw)
        return
    if len(cells) > len(header_map.columns):
        result.warnings.append(f"{len(cells) - len(header_map.columns)} values beyond the last column were ignored")
    for warning in result.warnings:
        state.warn(line, warning, raw)
    state.seen_phones[phone] = line
    if crm_id:
        state.seen_crm_ids[crm_id] = line
    if not result.fields["source"]:
        result.fields["source"] = state.lead_import.source
    state.pending.append(result)


def _flush(state: _ImportState) -> None:
    """Insert the pending rows in one batch; on a race with another writer, fall back row by row."""
    if not state.pending:
        return
    rows, state.pending = state.pending, []
    try:
        with transaction.atomic():
            _insert(state, rows)
    except IntegrityError:
        # Another import or the API added one of these numbers since we loaded
        # the existing set. Insert one at a time so only the clashing rows fail.
        for row in rows:
            try:
                with transaction.atomic():
                    _insert(state, [row])
            except IntegrityError:
                clash = row.fields["phone"] + (f" or CRM id {row.fields['crm_id']!r}" if row.fields["crm_id"] else "")
                state.reject("duplicate", row.line, f"{clash} was added by someone else during the import", row.raw)


def _insert(state: _ImportState, rows: list[csv_import.LeadRow]) -> None:
    leads = Lead.objects.bulk_create(
        [Lead(lead_import=state.lead_import, owner_id=state.owner_id, **row.fields) for row in rows]
    )
    consents = [
        Consent(lead=lead, **row.consent) for lead, row in zip(leads, rows, strict=True) if row.consent is not None
    ]
    Consent.objects.bulk_create(consents)
    state.counts["imported"] += len(rows)


def lead_import_report_csv(*, lead_import: LeadImport) -> str:
    """Return the import's problems as CSV text: line, level, kind, reason and the original row."""
    out = io.StringIO()
    columns: list[str] = []
    for problem in lead_import.row_errors:
        for key in problem.get("columns") or problem.get("row", {}):
            if key not in columns:
                columns.append(key)
    writer = csv.writer(out)
    writer.writerow([spreadsheet_safe(c) for c in ["line", "level", "kind", "reason", *columns]])
    for note in lead_import.warnings:
        writer.writerow(["", "warning", "file", spreadsheet_safe(note), *([""] * len(columns))])
    for problem in sorted(lead_import.row_errors, key=lambda p: p["line"]):
        row = problem.get("row", {})
        cells = [problem["level"], problem["kind"], problem["reason"], *(row.get(c, "") for c in columns)]
        writer.writerow([problem["line"], *(spreadsheet_safe(c) for c in cells)])
    return out.getvalue()


def spreadsheet_safe(value: object) -> object:
    """Return a cell a spreadsheet shows as text: one that starts like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(csv_import.FORMULA_START):
        return "'" + value
    return value


def lead_delete(*, lead: Lead) -> None:
    """Delete a lead with its consents, calls and appointments."""
    lead_id = lead.pk
    lead.delete()
    logger.info("lead deleted", extra={"lead": lead_id})


# --- Bulk upsert (REST API) -------------------------------------------------------------
# Rows are checked by csv_import.validate_row, as a CSV import's are, so a
# lead the API accepts is one the import would accept, with the same warnings.

# The fields a row may set, in csv_import's names; "crm_id" is the external id.
UPSERT_FIELDS = (
    "phone", "first_name", "last_name", "full_name", "email", "address", "city", "state", "zip_code",
    "source", "notes", "intent", "crm_id", "consent_source", "consent_at", "consent_text",
)  # fmt: skip
_EXTERNAL_ID_MAX_LENGTH = 100  # Lead.crm_id


@dataclass
class UpsertRowResult:
    """What became of one row of a bulk upsert."""

    index: int
    external_id: str
    status: str  # "created", "updated" or "rejected"
    # The lead saved; for a duplicate, the lead it duplicates, if the viewer sees that lead.
    lead_id: int | None = None
    reason: str = ""
    reason_code: RejectCode | None = None
    warnings: list[str] = field(default_factory=list)

    def reject(self, code: RejectCode, reason: str, *, lead_id: int | None = None) -> None:
        self.status, self.reason_code, self.reason, self.lead_id = "rejected", code, reason, lead_id


def lead_bulk_upsert(
    *, rows: Sequence[Mapping[str, str]], viewer: Viewer, source: str = "api"
) -> list[UpsertRowResult]:
    """Create or update a lead for each row, matched on its external id (Lead.crm_id); report every row.

    A row is rejected, and the others still saved, when its external id is
    missing, too long or repeats an earlier row; when its phone is invalid,
    belongs to another lead, or (for a new lead) is on the do-not-call list.
    Each rejected row has a RejectCode and a sentence; a duplicate names the
    lead it duplicates only when the viewer sees that lead.
    Only the values a row gives are changed on an existing lead. Malformed
    email, state, ZIP or intent values are dropped with a warning, as in a
    CSV import. `source` is given to new leads that name none. An agent's new
    leads are theirs; a row matching a lead the viewer does not see is rejected.
    """
    external_ids = [(row.get("crm_id") or "").strip() for row in rows]
    existing = {lead.crm_id: lead for lead in Lead.objects.filter(crm_id__in=[e for e in external_ids if e])}
    seen_ids = set(
        leads_visible(viewer=viewer).filter(pk__in=[lead.pk for lead in existing.values()]).values_list("pk", flat=True)
    )
    seen: dict[str, int] = {}
    results = []
    for index, (row, external_id) in enumerate(zip(rows, external_ids, strict=True)):
        result = UpsertRowResult(index=index, external_id=external_id, status="rejected")
        if not external_id:
            result.reject(RejectCode.MISSING_EXTERNAL_ID, "external_id is missing")
        elif len(external_id) > _EXTERNAL_ID_MAX_LENGTH:
            result.reject(
                RejectCode.EXTERNAL_ID_TOO_LONG, f"external_id is longer than {_EXTERNAL_ID_MAX_LENGTH} characters"
            )
        elif external_id in seen:
            repeated = f"external_id {external_id!r} repeats row {seen[external_id]}"
            result.reject(RejectCode.REPEATED_IN_REQUEST, repeated)
        elif external_id in existing and existing[external_id].pk not in seen_ids:
            result.reject(RejectCode.DUPLICATE, f"external_id {external_id!r} belongs to a lead of another agent")
        else:
            seen[external_id] = index
            _upsert_one(result, {**row, "crm_id": external_id}, existing.get(external_id), source, viewer)
        results.append(result)
    counts = {f"rows_{s}": sum(r.status == s for r in results) for s in ("created", "updated", "rejected")}
    logger.info("lead bulk upsert", extra=counts)
    return results


def _upsert_one(result: UpsertRowResult, row: dict[str, str], lead: Lead | None, source: str, viewer: Viewer) -> None:
    values = {**_lead_values(lead), **row} if lead is not None else dict(row)
    if values.get("intent", "").strip().lower() == Lead.Intent.UNKNOWN:
        values["intent"] = ""  # validate_row knows buy/sell/both words; unknown is its default
    checked = csv_import.validate_row(result.index, values, dict(row))
    if isinstance(checked, csv_import.RowProblem):
        result.reject(checked.code, checked.reason)
        return
    result.warnings = checked.warnings
    fields, phone = checked.fields, checked.fields["phone"]
    clash = lead_clash_get(viewer=viewer, phone=phone, exclude_id=lead.pk if lead is not None else None)
    if clash is not None:
        result.reject(RejectCode.DUPLICATE, clash.reason(phone), lead_id=clash.lead_id)
        return
    listed = DoNotCall.objects.filter(phone=phone)
    # A new lead on any list is refused, as the CSV import refuses it; an
    # existing lead is marked do-not-call only by our own list, since the
    # gate lets consent lift a registry listing.
    on_dnc = listed.exclude(source=DoNotCall.Source.REGISTRY).exists()
    if lead is None and listed.exists():
        result.reject(RejectCode.ON_DNC, f"{phone} is on the do-not-call list")
        return
    if lead is None and not fields["source"]:
        fields["source"] = source
    try:
        with transaction.atomic():
            if lead is None:
                fields["owner_id"] = None if viewer.sees_all else viewer.user_id
            saved = _upsert_save(lead, fields, checked.consent, keep_extension="phone" not in row, on_dnc=on_dnc)
    except IntegrityError:
        result.reject(
            RejectCode.CONFLICT, f"{phone} or external_id {result.external_id!r} was saved by someone else meanwhile"
        )
        return
    result.status, result.lead_id = ("updated" if lead else "created"), saved.pk


def _lead_values(lead: Lead) -> dict[str, str]:
    # An existing lead's values as a CSV row would give them, for the fields the row leaves out.
    names = ("first_name", "last_name", "email", "address", "city", "state", "zip_code", "source", "notes")
    values = {name: str(getattr(lead, name)) for name in names}
    values["phone"] = lead.phone
    values["intent"] = "" if lead.intent == Lead.Intent.UNKNOWN else lead.intent
    return values


def _upsert_save(
    lead: Lead | None, fields: dict[str, Any], consent: dict[str, Any] | None, *, keep_extension: bool, on_dnc: bool
) -> Lead:
    if lead is None:
        lead = Lead.objects.create(**fields)
    else:
        extension = lead.phone_extension
        for name, value in fields.items():
            setattr(lead, name, value)
        if keep_extension:
            lead.phone_extension = extension
        if on_dnc:
            lead.status, lead.next_attempt_at = Lead.Status.DO_NOT_CALL, None
        lead.save()
    if (
        consent is not None
        and not lead.consents.filter(source=consent["source"], given_at=consent["given_at"]).exists()
    ):
        Consent.objects.create(lead=lead, **consent)
    return lead


# --- Notes (dashboard) --------------------------------------------------------------------


def lead_note_create(*, lead: Lead, author_id: int | None, text: str) -> LeadNote:
    """Add a note to the lead, its text trimmed.

    Raises:
        ValidationError: on "text" when it is blank or longer than LeadNote.MAX_LENGTH.
    """
    text = text.strip()
    if not text:
        raise ValidationError({"text": "Write something before saving the note."}, code="blank")
    if len(text) > LeadNote.MAX_LENGTH:
        raise ValidationError(
            {"text": f"A note is at most {LeadNote.MAX_LENGTH:,} characters; this one has {len(text):,}."},
            code="max_length",
        )
    note = LeadNote.objects.create(lead=lead, author_id=author_id, text=text)
    logger.info("lead note added", extra={"lead": lead.pk, "note": note.pk})
    return note
