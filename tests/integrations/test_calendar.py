"""ICS invites for appointments and private per-broker feeds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMessage
from django.urls import reverse
from icalendar import Calendar

from agents.ics import appointment_invite_attachment
from agents.models import Appointment
from integrations.calendar.selectors import appointment_invite_url, calendar_feed_url
from integrations.calendar.services import calendar_feed_get_or_create
from integrations.models import CalendarFeed
from tests.factories import AppointmentFactory, BrokerFactory, CalendarFeedFactory, LeadFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
START = dt.datetime(2026, 12, 1, 20, 0, tzinfo=dt.UTC)


def _appointment(**fields: Any) -> Appointment:
    lead = LeadFactory(
        first_name="Zoë", last_name="O'Brien, Jr.", email="zoe@example.com", address="12 Main St; Apt 4", city="Boston",
        state="MA", zip_code="02101",
    )  # fmt: skip
    broker = BrokerFactory(name="Dana Reyes", email="dana@example.com", timezone="America/New_York")
    defaults = {"lead": lead, "broker": broker, "start": START, "end": START + dt.timedelta(minutes=30)}
    return AppointmentFactory(**{**defaults, **fields})


def _path(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


@time_machine.travel(NOW, tick=False)
def test_it_serves_an_rfc5545_invite_at_the_appointments_secret_address(client: Any) -> None:
    appointment = _appointment(notes="Wants to list in the spring; has a pool, and a long driveway " * 3)

    response = client.get(_path(appointment_invite_url(appointment_id=appointment.pk)))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    raw = response.content
    lines = raw.split(b"\r\n")
    assert raw.endswith(b"\r\n") and all(len(line) <= 75 for line in lines)  # folded at 75 octets
    assert b"SUMMARY:Zo\xc3\xab O'Brien\\, Jr. with Dana Reyes" in raw  # commas escaped
    assert b"LOCATION:12 Main St\\; Apt 4\\, Boston\\, MA\\, 02101" in raw
    assert b"DTSTART:20261201T200000Z" in raw and b"DTEND:20261201T203000Z" in raw
    assert b"DTSTAMP:20261124T120000Z" in raw
    (event,) = Calendar.from_ical(raw).walk("VEVENT")
    calendar = Calendar.from_ical(raw)
    assert calendar["METHOD"] == "REQUEST" and calendar["VERSION"] == "2.0"
    assert event["UID"] == f"appointment-{appointment.pk}@127.0.0.1"
    assert event["STATUS"] == "CONFIRMED"
    assert str(event["ORGANIZER"]) == "mailto:dana@example.com"
    assert str(event["ATTENDEE"]) == "mailto:zoe@example.com"
    assert "When: Tuesday December 1, 2026 at 3:00 PM EST" in str(event["DESCRIPTION"])
    assert str(event["DESCRIPTION"]).endswith(f"\nNotes: {appointment.notes}")  # unfolded and unescaped intact


def test_it_refuses_a_forged_invite_address(client: Any) -> None:
    appointment = _appointment()
    url = _path(appointment_invite_url(appointment_id=appointment.pk))
    other = _path(appointment_invite_url(appointment_id=appointment.pk + 1))

    assert client.get(url.replace(f"/{appointment.pk}:", f"/{appointment.pk + 1}:")).status_code == 404
    assert client.get(other).status_code == 404  # signed, but no such appointment
    assert client.get("/calendar/invites/1.ics").status_code == 404


def test_it_cancels_the_invite_once_the_appointment_is_canceled(client: Any) -> None:
    appointment = _appointment(status=Appointment.Status.CANCELED)

    calendar = Calendar.from_ical(client.get(_path(appointment_invite_url(appointment_id=appointment.pk))).content)

    (event,) = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == 1


def test_it_attaches_the_invite_to_an_email() -> None:
    appointment = _appointment()
    message = EmailMessage("Your appointment", "See the invite.", to=["zoe@example.com"])

    message.attach(*appointment_invite_attachment(appointment=appointment))
    message.send()

    (sent,) = mail.outbox
    name, content, mimetype = sent.attachments[0]
    assert (name, mimetype) == ("invite.ics", "text/calendar; method=REQUEST; charset=utf-8")
    assert b"BEGIN:VEVENT" in (content if isinstance(content, bytes) else content.encode())


@time_machine.travel(NOW, tick=False)
def test_it_serves_a_brokers_private_feed_with_only_their_appointments(client: Any) -> None:
    mine = _appointment()
    canceled = _appointment(broker=mine.broker, status=Appointment.Status.CANCELED, start=START + dt.timedelta(days=1),
                            end=START + dt.timedelta(days=1, minutes=30))  # fmt: skip
    _appointment()  # another broker's
    feed = calendar_feed_get_or_create(broker=mine.broker)
    assert calendar_feed_get_or_create(broker=mine.broker) == feed
    assert len(feed.token) >= 43  # 256 bits, URL-safe

    response = client.get(_path(calendar_feed_url(feed=feed)))

    assert response.status_code == 200 and response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert calendar["METHOD"] == "PUBLISH" and calendar["X-WR-CALNAME"] == "Dana Reyes: appointments"
    events = {str(e["UID"]): str(e["STATUS"]) for e in calendar.walk("VEVENT")}
    assert events == {
        f"appointment-{mine.pk}@127.0.0.1": "CONFIRMED",
        f"appointment-{canceled.pk}@127.0.0.1": "CANCELLED",
    }
    assert "ATTENDEE" not in response.content.decode()  # a feed does not invite anyone
    assert client.get("/calendar/feeds/not-the-token.ics").status_code == 404


def test_it_rotates_a_feed_address_from_the_admin(admin_client: Any, client: Any) -> None:
    feed = CalendarFeedFactory()
    old_url = _path(calendar_feed_url(feed=feed))
    assert client.get(old_url).status_code == 200
    changelist = reverse("admin:integrations_calendarfeed_changelist")
    assert feed.token in admin_client.get(changelist).content.decode()

    response = admin_client.post(changelist, {"action": "rotate", "_selected_action": [feed.pk]})

    assert response.status_code == 302
    feed.refresh_from_db()
    assert feed.rotated_at is not None
    assert client.get(old_url).status_code == 404
    assert client.get(_path(calendar_feed_url(feed=feed))).status_code == 200
    assert CalendarFeed.objects.count() == 1


def test_it_links_the_invite_from_the_appointment_in_the_admin(admin_client: Any) -> None:
    appointment = _appointment()

    page = admin_client.get(reverse("admin:agents_appointment_change", args=[appointment.pk]))

    assert appointment_invite_url(appointment_id=appointment.pk) in page.content.decode()
