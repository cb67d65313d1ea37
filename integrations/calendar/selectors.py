"""Reads for calendar invites and feeds, and the secret addresses they are served at."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from agents.models import Appointment, Broker
from integrations.calendar.models import CalendarFeed

# Appointment invites are addressed by a signature of the appointment's id:
# unguessable without SECRET_KEY, and nothing to store or rotate per appointment.
_INVITE_SALT = "integrations.calendar.invite"
# How far back a broker's feed goes; calendar apps keep what they saw before.
FEED_HISTORY = dt.timedelta(days=90)


def appointment_invite_token(*, appointment_id: int) -> str:
    return signing.Signer(salt=_INVITE_SALT).sign(str(appointment_id))


def appointment_for_invite(*, token: str) -> Appointment | None:
    """Return the appointment an invite token names, or None for a forged or mangled token."""
    try:
        appointment_id = int(signing.Signer(salt=_INVITE_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    return Appointment.objects.select_related("lead", "broker").filter(pk=appointment_id).first()


def appointment_invite_url(*, appointment_id: int) -> str:
    """Return the public address of the appointment's .ics invite."""
    token = appointment_invite_token(appointment_id=appointment_id)
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("calendar-invite", args=[token])


def calendar_feed_url(*, feed: CalendarFeed) -> str:
    """Return the broker's private feed address, to paste into Google Calendar, Outlook or Apple Calendar."""
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("calendar-feed", args=[feed.token])


def calendar_feed_by_token(*, token: str) -> CalendarFeed | None:
    return CalendarFeed.objects.select_related("broker").filter(token=token).first()


def broker_feed_appointments(*, broker: Broker) -> list[Appointment]:
    """Return the broker's appointments from FEED_HISTORY ago on, canceled ones included so calendars drop them."""
    since = timezone.now() - FEED_HISTORY
    return list(broker.appointments.filter(start__gte=since).select_related("lead", "broker").order_by("start"))
