"""Request and response bodies of the appointment endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from agents.models import Appointment
from reautomation.api_types import AwareDatetime, CleanStr, Id

AppointmentStatus = Literal["booked", "confirmed", "canceled", "completed", "no_show"]


class AppointmentOut(Schema):
    id: int
    lead_id: int
    broker_id: int
    broker_name: str
    call_id: int | None
    start: dt.datetime
    end: dt.datetime
    status: AppointmentStatus
    notes: str
    created_at: dt.datetime

    @staticmethod
    def resolve_broker_name(obj: Appointment) -> str:
        return obj.broker.name


class AppointmentFilters(Schema):
    status: AppointmentStatus | None = None
    lead_id: Id | None = None
    broker_id: Id | None = None
    start_after: AwareDatetime | None = Field(None, description="Appointments starting at or after this time")
    start_before: AwareDatetime | None = Field(None, description="Appointments starting before this time")


class AppointmentIn(Schema):
    lead_id: Id
    broker_id: Id
    start: AwareDatetime = Field(description="An open slot of the broker; it lasts the broker's appointment length")
    notes: CleanStr = Field("", max_length=5000)
