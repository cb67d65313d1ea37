"""The `data` of each webhook event, built from the database when the event happens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from agents.models import Appointment
from calls.models import Call
from integrations.calendar.selectors import appointment_invite_url
from leads.models import Lead


def _at(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def lead_data(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.pk,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "phone": lead.phone,
        "email": lead.email,
        "status": lead.status,
        "score": lead.score,
        "intent": lead.intent,
        "external_id": lead.crm_id,
        "source": lead.source,
        "timezone": lead.timezone,
    }


def call_completed(*, call_id: int) -> dict[str, Any]:
    call = Call.objects.select_related("lead").get(pk=call_id)
    return {
        "call": {
            "id": call.pk,
            "campaign_id": call.campaign_id,
            "attempt": call.attempt,
            "status": call.status,
            "answered_by": call.answered_by,
            "outcome": call.outcome,
            "score": call.score,
            "summary": call.summary,
            "started_at": _at(call.started_at),
            "answered_at": _at(call.answered_at),
            "ended_at": _at(call.ended_at),
            "duration_seconds": call.duration_seconds,
        },
        "lead": lead_data(call.lead),
    }


def appointment_booked(*, appointment_id: int) -> dict[str, Any]:
    appointment = Appointment.objects.select_related("lead", "broker").get(pk=appointment_id)
    broker = appointment.broker
    return {
        "appointment": {
            "id": appointment.pk,
            "start": _at(appointment.start),
            "end": _at(appointment.end),
            "status": appointment.status,
            "call_id": appointment.call_id,
            "notes": appointment.notes,
            "invite_url": appointment_invite_url(appointment_id=appointment.pk),
        },
        "broker": {"id": broker.pk, "name": broker.name, "email": broker.email, "timezone": broker.timezone},
        "lead": lead_data(appointment.lead),
    }


def lead_qualified(*, lead_id: int, call_id: int | None) -> dict[str, Any]:
    lead = Lead.objects.get(pk=lead_id)
    return {"lead": {**lead_data(lead), "qualification": lead.qualification}, "call_id": call_id}


def lead_opted_out(*, lead_id: int, reason: str) -> dict[str, Any]:
    return {"lead": lead_data(Lead.objects.get(pk=lead_id)), "reason": reason}
