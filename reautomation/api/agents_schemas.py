"""Request and response bodies of the appointment and broker endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from agents.models import Appointment, Broker
from common.api_types import LOCAL_TIME_PATTERN, AwareDatetime, CleanStr, Id, local_time_text

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


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class WorkingHoursOut(Schema):
    weekday: Weekday
    start: str = Field(pattern=LOCAL_TIME_PATTERN, description="Local time of the broker")
    end: str = Field(pattern=LOCAL_TIME_PATTERN, description="Local time of the broker")

    @staticmethod
    def resolve_weekday(obj: Any) -> str:
        return WEEKDAYS[int(obj.weekday)]

    @staticmethod
    def resolve_start(obj: Any) -> str:
        return local_time_text(obj.start)

    @staticmethod
    def resolve_end(obj: Any) -> str:
        return local_time_text(obj.end)


class BrokerOut(Schema):
    id: int
    name: str
    email: str
    phone: str = Field(description="E.164, or empty")
    timezone: str = Field(description="The zone of the broker's working hours")
    is_active: bool = Field(description="Only an active broker has open slots")
    appointment_minutes: int = Field(description="How long each appointment with the broker lasts")
    working_hours: list[WorkingHoursOut]

    @staticmethod
    def resolve_working_hours(obj: Broker) -> list[Any]:
        return list(obj.working_hours.all())


class BrokerFilters(Schema):
    active: bool | None = Field(None, description="Only active (true) or inactive (false) brokers")


class SlotFilters(Schema):
    start: AwareDatetime | None = Field(
        None, alias="from", description="Slots starting at or after this time; default and earliest: 2 hours from now"
    )
    end: AwareDatetime | None = Field(
        None, alias="to", description="Slots ending by this time; default and latest: 28 days from now"
    )


class SlotOut(Schema):
    start: dt.datetime = Field(description="Give this as the start of POST /appointments/ to book the slot")
    end: dt.datetime


class BrokerSlotsOut(Schema):
    broker_id: int
    start: dt.datetime = Field(alias="from", description="Where the search started (the query's, or the earliest)")
    end: dt.datetime = Field(alias="to", description="Where the search ended (the query's, or the latest)")
    slots: list[SlotOut] = Field(description="Open slots, earliest first, each as long as the broker's appointments")
