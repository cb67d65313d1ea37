"""iCalendar (RFC 5545) for appointments: an invite per appointment and a feed per broker.

Here, beside the appointments, so the booking e-mails (agents.notifications)
attach the same invite that integrations.calendar serves.

icalendar does the escaping, the line folding at 75 octets and CRLF line
ends. Times are written in UTC ("Z"), which every calendar shows in its
reader's own zone; a TZID would need a VTIMEZONE block per zone.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from agents.models import Appointment, Broker

PRODID = "-//REAutomation//Appointments//EN"
_STATUS: dict[str, str] = {
    Appointment.Status.BOOKED: "CONFIRMED",
    Appointment.Status.CONFIRMED: "CONFIRMED",
    Appointment.Status.COMPLETED: "CONFIRMED",
    Appointment.Status.NO_SHOW: "CONFIRMED",
    Appointment.Status.CANCELED: "CANCELLED",
}


def appointment_uid(appointment: Appointment) -> str:
    """Return the event's UID: stable, so a later invite or the feed updates the same calendar entry."""
    host = urlsplit(settings.PUBLIC_BASE_URL).hostname or "reautomation.local"
    return f"appointment-{appointment.pk}@{host}"


def appointment_invite(*, appointment: Appointment) -> bytes:
    """Return an invite for one appointment: METHOD:REQUEST, or METHOD:CANCEL once it is canceled."""
    canceled = appointment.status == Appointment.Status.CANCELED
    calendar = _calendar(method="CANCEL" if canceled else "REQUEST")
    calendar.add_component(_event(appointment, with_attendees=True))
    return bytes(calendar.to_ical())


def appointment_invite_attachment(*, appointment: Appointment) -> tuple[str, bytes, str]:
    """Return (file name, content, MIME type) for attaching the invite, e.g. to EmailMessage.attach().

    The method parameter in the MIME type is what makes mail clients show
    the accept/decline buttons (RFC 6047).
    """
    method = "CANCEL" if appointment.status == Appointment.Status.CANCELED else "REQUEST"
    return "invite.ics", appointment_invite(appointment=appointment), f"text/calendar; method={method}; charset=utf-8"


def broker_feed(*, broker: Broker, appointments: Iterable[Appointment]) -> bytes:
    """Return a broker's subscription feed: METHOD:PUBLISH, one event per appointment."""
    calendar = _calendar(method="PUBLISH")
    calendar.add("x-wr-calname", f"{broker.name}: appointments")
    calendar.add("x-wr-timezone", broker.timezone)
    # Calendar apps poll a feed; this asks for every 15 minutes where they honour it.
    calendar.add("refresh-interval", dt.timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT15M")
    for appointment in appointments:
        calendar.add_component(_event(appointment, with_attendees=False))
    return bytes(calendar.to_ical())


def _calendar(*, method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    return calendar


def _event(appointment: Appointment, *, with_attendees: bool) -> Event:
    lead, broker = appointment.lead, appointment.broker
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("dtstamp", timezone.now().astimezone(dt.UTC))
    event.add("created", appointment.created_at.astimezone(dt.UTC))
    event.add("dtstart", appointment.start.astimezone(dt.UTC))
    event.add("dtend", appointment.end.astimezone(dt.UTC))
    # A canceled appointment is the same event in a later revision.
    event.add("sequence", 1 if appointment.status == Appointment.Status.CANCELED else 0)
    event.add("status", _STATUS.get(appointment.status, "CONFIRMED"))
    event.add("summary", f"{lead.full_name or lead.phone} with {broker.name}")
    event.add("description", _description(appointment))
    place = ", ".join(part for part in (lead.address, lead.city, lead.state, lead.zip_code) if part)
    if place:
        event.add("location", place)
    organizer = vCalAddress(f"mailto:{broker.email}")
    organizer.params["cn"] = vText(broker.name)
    event.add("organizer", organizer)
    if with_attendees and lead.email:
        attendee = vCalAddress(f"mailto:{lead.email}")
        attendee.params["cn"] = vText(lead.full_name or lead.email)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("NEEDS-ACTION")
        event.add("attendee", attendee)
    return event


def _description(appointment: Appointment) -> str:
    lead, broker = appointment.lead, appointment.broker
    try:
        local = appointment.start.astimezone(zoneinfo.ZoneInfo(broker.timezone))
        when = local.strftime("%A %B %-d, %Y at %-I:%M %p %Z")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        when = appointment.start.isoformat()
    lines = [f"When: {when}", f"Lead: {lead.full_name or 'unnamed'}, {lead.phone}"]
    if lead.email:
        lines.append(f"Email: {lead.email}")
    if appointment.notes:
        lines.append(f"Notes: {appointment.notes}")
    return "\n".join(lines)
