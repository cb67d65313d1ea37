"""Appointment and broker endpoints: list, get, book and cancel appointments; brokers and their open slots."""

# No `from __future__ import annotations`: ninja's @paginate wrapper resolves
# annotations in its own module, so a paginated view's must not be strings.

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Path, Query, Router, Status
from ninja.pagination import paginate

from agents.models import Appointment
from agents.scheduling import search_window
from agents.selectors import appointment_list, broker_list, open_slots_list
from agents.services import SlotUnavailable, appointment_book, appointment_cancel
from common.api_errors import ApiError, responses
from common.api_types import Id, Pagination
from integrations.auth import ApiKeyAuth, api_viewer
from leads.selectors import leads_visible
from reautomation.api.agents_schemas import (
    AppointmentFilters,
    AppointmentIn,
    AppointmentOut,
    BrokerFilters,
    BrokerOut,
    BrokerSlotsOut,
    SlotFilters,
)

router = Router(tags=["appointments"])

READ, WRITE = ApiKeyAuth("appointments:read"), ApiKeyAuth("appointments:write")
BROKERS_READ = ApiKeyAuth("brokers:read")


@router.get("/appointments/", response=responses(200, list[AppointmentOut]), auth=READ, summary="List appointments")
@paginate(Pagination)
def appointments_list(request: HttpRequest, filters: Query[AppointmentFilters]) -> Any:
    """Soonest first. Scope: appointments:read."""
    return appointment_list(viewer=api_viewer(request), **filters.dict())


@router.post("/appointments/", response=responses(201, AppointmentOut), auth=WRITE, summary="Book an appointment")
def appointments_book(request: HttpRequest, payload: AppointmentIn) -> Status[Appointment]:
    """The start must be one of the broker's open slots; 409 when it is taken or outside the broker's hours.
    Scope: appointments:write."""
    lead = get_object_or_404(leads_visible(viewer=api_viewer(request)), pk=payload.lead_id)
    try:
        appointment = appointment_book(
            lead_id=lead.pk, broker_id=payload.broker_id, start=payload.start, notes=payload.notes
        )
    except SlotUnavailable as exc:
        raise ApiError(409, f"That time cannot be booked: {exc}.", code="slot_unavailable") from exc
    return Status(201, get_object_or_404(appointment_list(viewer=api_viewer(request)), pk=appointment.pk))


@router.get(
    "/appointments/{int:appointment_id}",
    response=responses(200, AppointmentOut),
    auth=READ,
    summary="Get an appointment",
)
def appointments_get(request: HttpRequest, appointment_id: Path[Id]) -> Appointment:
    """Scope: appointments:read."""
    return get_object_or_404(appointment_list(viewer=api_viewer(request)), pk=appointment_id)


@router.post(
    "/appointments/{int:appointment_id}/cancel",
    response=responses(200, AppointmentOut),
    auth=WRITE,
    summary="Cancel an appointment",
)
def appointments_cancel(request: HttpRequest, appointment_id: Path[Id]) -> Appointment:
    """Canceling twice is harmless; 409 for an appointment that took place or was a no-show.
    Scope: appointments:write."""
    appointment = get_object_or_404(appointment_list(viewer=api_viewer(request)), pk=appointment_id)
    try:
        return appointment_cancel(appointment=appointment)
    except ValidationError as exc:
        raise ApiError(409, " ".join(exc.messages)) from exc


# --- Brokers --------------------------------------------------------------------------------------------------------


@router.get(
    "/brokers/",
    response=responses(200, list[BrokerOut]),
    auth=BROKERS_READ,
    tags=["brokers"],
    summary="List brokers",
)
@paginate(Pagination)
def brokers_list(request: HttpRequest, filters: Query[BrokerFilters]) -> Any:
    """The team's brokers with their weekly working hours, by name. Scope: brokers:read."""
    return broker_list(viewer=api_viewer(request), active=filters.active)


@router.get(
    "/brokers/{int:broker_id}/slots",
    response=responses(200, BrokerSlotsOut),
    auth=BROKERS_READ,
    tags=["brokers"],
    summary="A broker's open slots",
    by_alias=True,
)
def brokers_slots(request: HttpRequest, filters: Query[SlotFilters], broker_id: Path[Id]) -> dict[str, Any]:
    """The times the broker can still take an appointment, as the voice agent offers them: within the broker's
    working hours, free of their appointments, from 2 hours to 28 days ahead. Book one with POST /appointments/
    (scope appointments:write). Scope: brokers:read."""
    broker = get_object_or_404(broker_list(viewer=api_viewer(request)), pk=broker_id)
    if filters.start is not None and filters.end is not None and filters.start >= filters.end:
        detail = {"loc": ["query", "from"], "message": "must be before to", "type": "value_error"}
        raise ApiError(422, "from must be before to.", details=[detail])
    earliest, latest = search_window(timezone.now())
    start = max(filters.start or earliest, earliest)
    end = max(start, min(filters.end or latest, latest))  # a window outside the bookable one is empty
    slots = open_slots_list(start=start, end=end, broker_id=broker.pk) if start < end else []
    return {"broker_id": broker.pk, "from": start, "to": end, "slots": slots}
