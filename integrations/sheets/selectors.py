"""Reads for the Google Sheets sync: what each lead's result columns should say."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from agents.models import Appointment
from calls.models import Call
from integrations.sheets.models import SheetSync
from leads.models import DoNotCall, Lead

_OPEN_APPOINTMENT = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)


def sheet_syncs_due() -> list[SheetSync]:
    """Return the sheets celery-beat should sync, oldest sync first."""
    return list(SheetSync.objects.filter(is_active=True).order_by("last_synced_at", "pk"))


def sheet_results_for(*, lead_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Return, per lead, the text of each result column (status, outcome, score, appointment, next attempt, DNC).

    The lead's phone and name come too, for an output tab's first columns.

    Times are in the lead's own time zone with its abbreviation, as a broker
    reading the sheet expects ("2026-12-01 15:00 EST").
    """
    last_outcome = Call.objects.filter(lead=OuterRef("pk"), status__in=Call.TERMINAL_STATUSES).order_by("-queued_at")
    next_appointment = Appointment.objects.filter(
        lead=OuterRef("pk"), status__in=_OPEN_APPOINTMENT, start__gte=timezone.now()
    ).order_by("start")
    leads = Lead.objects.filter(pk__in=list(lead_ids)).annotate(
        last_outcome=Subquery(last_outcome.values("outcome")[:1]),
        appointment_start=Subquery(next_appointment.values("start")[:1]),
    )
    leads_list = list(leads)
    dnc = set(DoNotCall.objects.filter(phone__in=[lead.phone for lead in leads_list]).values_list("phone", flat=True))
    outcome_labels = dict(Call.Outcome.choices)
    results: dict[int, dict[str, str]] = {}
    for lead in leads_list:
        outcome = lead.last_outcome or ""
        results[lead.pk] = {
            "phone": lead.phone,
            "name": lead.full_name,
            "status": lead.get_status_display(),
            "outcome": str(outcome_labels.get(outcome, outcome)) if outcome else "",
            "score": "" if lead.score is None else str(lead.score),
            "appointment": _local(lead.appointment_start, lead.timezone),
            "next_attempt": _local(lead.next_attempt_at, lead.timezone),
            "dnc": "yes" if lead.status == Lead.Status.DO_NOT_CALL or lead.phone in dnc else "",
        }
    return results


def _local(at: dt.datetime | None, zone: str) -> str:
    if at is None:
        return ""
    try:
        tz: dt.tzinfo = zoneinfo.ZoneInfo(zone) if zone else dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
