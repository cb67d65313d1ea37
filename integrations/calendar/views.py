"""The .ics invite of an appointment and a broker's private feed, served at secret addresses."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from agents.ics import appointment_invite, broker_feed
from integrations.calendar.selectors import appointment_for_invite, broker_feed_appointments, calendar_feed_by_token

_CONTENT_TYPE = "text/calendar; charset=utf-8"


@require_GET
def invite(request: HttpRequest, token: str) -> HttpResponse:
    appointment = appointment_for_invite(token=token)
    if appointment is None:
        raise Http404("no such invite")
    response = HttpResponse(appointment_invite(appointment=appointment), content_type=_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.pk}.ics"'
    # The address is the secret: keep shared caches and search engines away from it.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    calendar_feed = calendar_feed_by_token(token=token)
    if calendar_feed is None:
        raise Http404("no such feed")
    broker = calendar_feed.broker
    body = broker_feed(broker=broker, appointments=broker_feed_appointments(broker=broker))
    response = HttpResponse(body, content_type=_CONTENT_TYPE)
    response["Content-Disposition"] = 'inline; filename="appointments.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
