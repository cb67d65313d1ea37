"""Appointment and do-not-call endpoints."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from agents.models import Appointment, WorkingHours
from leads.models import DoNotCall, Lead
from tests.factories import AppointmentFactory, BrokerFactory, DoNotCallFactory, LeadFactory, WorkingHoursFactory

pytestmark = pytest.mark.django_db

MONDAY_NOON_UTC = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def test_it_lists_and_gets_appointments(api: Client) -> None:
    lead = LeadFactory()
    mine = AppointmentFactory(lead=lead)
    AppointmentFactory(status=Appointment.Status.CANCELED)
    items = api.get(f"/api/appointments/?lead_id={lead.pk}").json()["items"]
    assert [item["id"] for item in items] == [mine.pk]
    assert api.get("/api/appointments/?status=canceled").json()["count"] == 1
    body = api.get(f"/api/appointments/{mine.pk}").json()
    assert (body["lead_id"], body["broker_name"]) == (lead.pk, mine.broker.name)


def test_it_cancels_an_appointment_and_answers_409_for_a_past_one(api: Client) -> None:
    booked = AppointmentFactory()
    assert api.post(f"/api/appointments/{booked.pk}/cancel").json()["status"] == "canceled"
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELED
    done = AppointmentFactory(status=Appointment.Status.COMPLETED)
    response = api.post(f"/api/appointments/{done.pk}/cancel")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


@time_machine.travel(MONDAY_NOON_UTC, tick=False)
def test_it_books_an_open_slot_and_answers_409_for_a_taken_one(api: Client) -> None:
    broker = BrokerFactory(timezone="UTC", appointment_minutes=30)
    WorkingHoursFactory(broker=broker, weekday=WorkingHours.Weekday.TUESDAY, start=dt.time(9), end=dt.time(17))
    lead = LeadFactory()
    payload = {"lead_id": lead.pk, "broker_id": broker.pk, "start": "2026-11-24T10:00:00Z"}
    response = api.post("/api/appointments/", payload, content_type="application/json")
    assert response.status_code == 201
    appointment = Appointment.objects.get()
    assert appointment.end - appointment.start == dt.timedelta(minutes=30)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.APPOINTMENT
    again = api.post("/api/appointments/", payload, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "slot_unavailable"
    missing_lead = api.post("/api/appointments/", {**payload, "lead_id": 999999}, content_type="application/json")
    assert missing_lead.status_code == 404


def test_it_adds_a_number_to_the_dnc_list_and_marks_its_leads(api: Client) -> None:
    lead = LeadFactory(phone="+14155550123")
    response = api.post(
        "/api/dnc/", {"phone": "415 555 0123", "reason": "asked by email"}, content_type="application/json"
    )
    assert response.status_code == 201
    entry = DoNotCall.objects.get()
    assert (entry.phone, entry.source, entry.reason) == ("+14155550123", DoNotCall.Source.API, "asked by email")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.DO_NOT_CALL
    again = api.post("/api/dnc/", {"phone": "+14155550123", "reason": "other"}, content_type="application/json")
    assert again.status_code == 200
    assert again.json()["reason"] == "asked by email"
    assert DoNotCall.objects.count() == 1


def test_it_checks_a_number_against_the_dnc_list(api: Client) -> None:
    DoNotCallFactory(phone="+14155550123", reason="registry")
    on = api.get("/api/dnc/check?phone=(415)%20555-0123").json()
    assert (on["phone"], on["on_list"], on["entry"]["reason"]) == ("+14155550123", True, "registry")
    off = api.get("/api/dnc/check?phone=%2B14155550124").json()
    assert (off["on_list"], off["entry"]) == (False, None)
    bad = api.get("/api/dnc/check?phone=12")
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["loc"] == ["query", "phone"]
