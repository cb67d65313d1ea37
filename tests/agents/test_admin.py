from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agents.models import Appointment, Broker, WorkingHours
from tests.factories import AppointmentFactory, BrokerFactory, CallFactory, LeadFactory, WorkingHoursFactory

pytestmark = pytest.mark.django_db


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Broker ------------------------------------------------------------------------


def test_it_lists_brokers_with_their_upcoming_appointments(admin_client: Client) -> None:
    dana = BrokerFactory.create(name="Dana Whitaker")
    AppointmentFactory.create_batch(2, broker=dana)
    AppointmentFactory.create(broker=dana, status=Appointment.Status.CANCELED)
    past = timezone.now() - dt.timedelta(days=3)
    AppointmentFactory.create(broker=dana, start=past, end=past + dt.timedelta(minutes=30))
    BrokerFactory.create(name="Marcus Lee")

    response = admin_client.get(reverse("admin:agents_broker_changelist"))

    assert response.status_code == 200
    upcoming = {b.name: b.upcoming_total for b in response.context["cl"].result_list}
    assert upcoming == {"Dana Whitaker": 2, "Marcus Lee": 0}


def test_it_searches_brokers_by_email(admin_client: Client) -> None:
    dana = BrokerFactory.create(email="dana@bayside-realty.example")
    BrokerFactory.create(email="marcus@bayside-realty.example")
    response = admin_client.get(reverse("admin:agents_broker_changelist"), {"q": "dana@"})
    assert list(response.context["cl"].result_list) == [dana]


def test_it_shows_the_broker_add_and_change_pages(admin_client: Client) -> None:
    hours = WorkingHoursFactory.create(broker__name="Dana Whitaker")
    assert admin_client.get(reverse("admin:agents_broker_add")).status_code == 200
    response = admin_client.get(reverse("admin:agents_broker_change", args=[hours.broker.pk]))
    assert response.status_code == 200
    assert "Dana Whitaker" in response.text
    assert 'name="working_hours-0-start"' in response.text


def test_it_adds_a_broker_with_working_hours(admin_client: Client) -> None:
    data = {
        "name": "Dana Whitaker",
        "email": "dana@bayside-realty.example",
        "phone": "+14155550101",
        "timezone": "America/Los_Angeles",
        "is_active": "on",
        "appointment_minutes": "30",
        "user": "",
        "working_hours-TOTAL_FORMS": "1",
        "working_hours-INITIAL_FORMS": "0",
        "working_hours-0-weekday": str(WorkingHours.Weekday.MONDAY),
        "working_hours-0-start": "09:00",
        "working_hours-0-end": "17:00",
    }
    response = admin_client.post(reverse("admin:agents_broker_add"), data)
    assert response.status_code == 302
    broker = Broker.objects.get()
    assert list(broker.working_hours.values_list("weekday", "start", "end")) == [
        (WorkingHours.Weekday.MONDAY, dt.time(9), dt.time(17))
    ]


# --- Appointment ------------------------------------------------------------------------


def test_it_lists_and_filters_appointments(admin_client: Client) -> None:
    booked = AppointmentFactory.create(lead__first_name="Maria")
    canceled = AppointmentFactory.create(status=Appointment.Status.CANCELED)
    url = reverse("admin:agents_appointment_changelist")
    response = admin_client.get(url)
    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == {booked, canceled}
    assert "Maria" in response.text
    assert list(admin_client.get(url, {"status__exact": "booked"}).context["cl"].result_list) == [booked]
    assert list(admin_client.get(url, {"broker__id__exact": canceled.broker_id}).context["cl"].result_list) == [
        canceled
    ]


def test_it_searches_appointments_by_lead_name(admin_client: Client) -> None:
    # Fixed names: Faker could otherwise give the other broker a "Maria" too.
    wanted = AppointmentFactory.create(lead__first_name="Maria", lead__last_name="Okafor", broker__name="Dana Wu")
    AppointmentFactory.create(lead__first_name="James", lead__last_name="Hill", broker__name="Sam Roy")
    response = admin_client.get(reverse("admin:agents_appointment_changelist"), {"q": "maria"})
    assert list(response.context["cl"].result_list) == [wanted]


def test_it_shows_the_appointment_add_and_change_pages(admin_client: Client) -> None:
    appointment = AppointmentFactory.create(notes="Wants a listing presentation")
    assert admin_client.get(reverse("admin:agents_appointment_add")).status_code == 200
    response = admin_client.get(reverse("admin:agents_appointment_change", args=[appointment.pk]))
    assert response.status_code == 200
    assert "Wants a listing presentation" in response.text


def test_it_adds_an_appointment(admin_client: Client) -> None:
    lead, broker, call = LeadFactory.create(), BrokerFactory.create(), CallFactory.create()
    data = {
        "lead": lead.pk,
        "broker": broker.pk,
        "call": call.pk,
        "start_0": "2026-12-01",
        "start_1": "10:00:00",
        "end_0": "2026-12-01",
        "end_1": "10:30:00",
        "status": Appointment.Status.BOOKED,
        "notes": "",
    }
    response = admin_client.post(reverse("admin:agents_appointment_add"), data)
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert (appointment.lead, appointment.broker, appointment.call) == (lead, broker, call)


def test_it_cancels_the_selected_appointments(admin_client: Client) -> None:
    booked = AppointmentFactory.create()
    confirmed = AppointmentFactory.create(status=Appointment.Status.CONFIRMED)
    untouched = AppointmentFactory.create()
    response = admin_client.post(
        reverse("admin:agents_appointment_changelist"),
        {"action": "cancel", "_selected_action": [booked.pk, confirmed.pk]},
    )
    statuses = dict(Appointment.objects.values_list("pk", "status"))
    assert statuses == {
        booked.pk: Appointment.Status.CANCELED,
        confirmed.pk: Appointment.Status.CANCELED,
        untouched.pk: Appointment.Status.BOOKED,
    }
    assert _messages(response) == ["2 appointments canceled."]


def test_it_refuses_to_cancel_an_appointment_that_took_place(admin_client: Client) -> None:
    start = timezone.make_aware(dt.datetime(2026, 11, 2, 15, 0))
    done = AppointmentFactory.create(status=Appointment.Status.COMPLETED, start=start)
    response = admin_client.post(
        reverse("admin:agents_appointment_changelist"), {"action": "cancel", "_selected_action": [done.pk]}
    )
    done.refresh_from_db()
    assert done.status == Appointment.Status.COMPLETED
    assert _messages(response) == ["The appointment on 2026-11-02 15:00 is completed and cannot be canceled."]
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error"]


def test_it_autocompletes_brokers_and_calls_for_an_appointment(admin_client: Client) -> None:
    dana = BrokerFactory.create(name="Dana Whitaker")
    BrokerFactory.create(name="Marcus Lee")
    call = CallFactory.create(lead__first_name="Maria")
    CallFactory.create(lead__first_name="James")
    url = "/admin/autocomplete/"
    params = {"app_label": "agents", "model_name": "appointment"}
    brokers = admin_client.get(url, {**params, "field_name": "broker", "term": "dana"}).json()["results"]
    calls = admin_client.get(url, {**params, "field_name": "call", "term": "maria"}).json()["results"]
    assert [r["id"] for r in brokers] == [str(dana.pk)]
    assert [r["id"] for r in calls] == [str(call.pk)]
