"""Brokers and their open slots, worked out as the voice agent offers them, and booked through /appointments/."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.test import Client

from agents.models import Appointment, WorkingHours
from integrations.services import api_key_create
from reautomation.roles import AGENTS, MANAGERS
from tests.factories import AppointmentFactory, BrokerFactory, LeadFactory, WorkingHoursFactory, team_member

pytestmark = pytest.mark.django_db

MONDAY_NOON_UTC = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
TUESDAY = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)


def _broker(**fields: Any) -> Any:
    broker = BrokerFactory(timezone="UTC", appointment_minutes=60, **fields)
    WorkingHoursFactory(broker=broker, weekday=WorkingHours.Weekday.TUESDAY, start=dt.time(9), end=dt.time(12))
    return broker


def _starts(body: dict[str, Any]) -> list[str]:
    return [slot["start"] for slot in body["slots"]]


def test_it_lists_the_brokers_with_their_hours(api: Client) -> None:
    ana = _broker(name="Ana Broker", phone="+14155550100")
    BrokerFactory(name="Zed Gone", is_active=False)

    body = api.get("/api/v1/brokers/").json()

    assert (body["count"], [b["name"] for b in body["items"]]) == (2, ["Ana Broker", "Zed Gone"])
    assert body["items"][0] == {
        "id": ana.pk,
        "name": "Ana Broker",
        "email": ana.email,
        "phone": "+14155550100",
        "timezone": "UTC",
        "is_active": True,
        "appointment_minutes": 60,
        "working_hours": [{"weekday": "tuesday", "start": "09:00:00", "end": "12:00:00"}],
    }
    assert [b["name"] for b in api.get("/api/v1/brokers/?active=false").json()["items"]] == ["Zed Gone"]


@time_machine.travel(MONDAY_NOON_UTC, tick=False)
def test_it_gives_a_brokers_open_slots_without_their_appointments(api: Client) -> None:
    broker = _broker()
    other = _broker()
    AppointmentFactory(broker=broker, start=TUESDAY.replace(hour=10), end=TUESDAY.replace(hour=11))
    AppointmentFactory(
        broker=broker,
        start=TUESDAY.replace(hour=9),
        end=TUESDAY.replace(hour=10),
        status=Appointment.Status.CANCELED,
    )
    AppointmentFactory(broker=other, start=TUESDAY.replace(hour=9), end=TUESDAY.replace(hour=10))

    body = api.get(f"/api/v1/brokers/{broker.pk}/slots?to=2026-11-25T00:00:00Z").json()

    assert body["broker_id"] == broker.pk
    assert (body["from"], body["to"]) == ("2026-11-23T14:00:00Z", "2026-11-25T00:00:00Z")
    assert body["slots"] == [
        {"start": "2026-11-24T09:00:00Z", "end": "2026-11-24T10:00:00Z"},
        {"start": "2026-11-24T11:00:00Z", "end": "2026-11-24T12:00:00Z"},
    ]


@time_machine.travel(MONDAY_NOON_UTC, tick=False)
def test_the_window_is_the_one_the_voice_agent_books_in(api: Client) -> None:
    broker = _broker()
    slots = f"/api/v1/brokers/{broker.pk}/slots"

    whole = api.get(slots).json()
    narrowed = api.get(f"{slots}?from=2026-11-24T10:00:00Z&to=2026-11-24T11:30:00Z").json()
    past = api.get(f"{slots}?from=2026-11-01T00:00:00Z&to=2026-11-23T13:00:00Z").json()

    # From two hours from now to 28 days ahead: Tuesdays 24 Nov to 15 Dec, three slots each.
    assert (whole["from"], whole["to"]) == ("2026-11-23T14:00:00Z", "2026-12-21T12:00:00Z")
    assert len(whole["slots"]) == 12
    assert _starts(narrowed) == ["2026-11-24T10:00:00Z"]
    assert past["slots"] == []
    bad = api.get(f"{slots}?from=2026-11-25T00:00:00Z&to=2026-11-24T00:00:00Z")
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["loc"] == ["query", "from"]


@time_machine.travel(MONDAY_NOON_UTC, tick=False)
def test_an_inactive_broker_has_no_slots_and_an_unknown_one_is_404(api: Client) -> None:
    broker = _broker(is_active=False)

    assert api.get(f"/api/v1/brokers/{broker.pk}/slots").json()["slots"] == []
    assert api.get("/api/v1/brokers/999999/slots").status_code == 404


@time_machine.travel(MONDAY_NOON_UTC, tick=False)
def test_a_crm_books_an_offered_slot_through_appointments_and_it_is_no_longer_offered(api: Client) -> None:
    broker = _broker()
    lead = LeadFactory()
    slots = f"/api/v1/brokers/{broker.pk}/slots?to=2026-11-25T00:00:00Z"
    first = api.get(slots).json()["slots"][0]

    booked = api.post(
        "/api/v1/appointments/",
        {"lead_id": lead.pk, "broker_id": broker.pk, "start": first["start"]},
        content_type="application/json",
    )

    assert booked.status_code == 201
    assert (booked.json()["start"], booked.json()["end"]) == (first["start"], first["end"])
    assert first["start"] not in _starts(api.get(slots).json())


def test_the_brokers_read_scope_is_needed(db: Any) -> None:
    _, raw = api_key_create(name="CRM", scopes=["appointments:read", "appointments:write"])
    broker = _broker()
    client = Client(headers={"X-API-Key": raw})

    for path in ("/api/v1/brokers/", f"/api/v1/brokers/{broker.pk}/slots"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "missing_scope", path


def test_an_agents_key_sees_the_teams_brokers(db: Any) -> None:
    ann = team_member("ann", role=AGENTS)
    _broker(name="Team Broker")
    _, raw = api_key_create(name="Ann's CRM", scopes=["brokers:read", "appointments:write"], created_by=ann)

    body = Client(headers={"X-API-Key": raw}).get("/api/v1/brokers/").json()

    assert [b["name"] for b in body["items"]] == ["Team Broker"]


def test_a_key_that_sees_nobodys_records_sees_no_broker(db: Any) -> None:
    # Made by a manager for Ben; once the manager is an agent, the key sees what both see: nothing.
    manager, ben = team_member("mia"), team_member("ben", role=AGENTS)
    broker = _broker()
    _, raw = api_key_create(name="Ben's CRM", scopes=["brokers:read"], created_by=manager, acts_for=ben)
    manager.groups.remove(Group.objects.get(name=MANAGERS))
    manager.groups.add(Group.objects.get(name=AGENTS))
    client = Client(headers={"X-API-Key": raw})

    assert client.get("/api/v1/brokers/").json()["count"] == 0
    assert client.get(f"/api/v1/brokers/{broker.pk}/slots").status_code == 404
