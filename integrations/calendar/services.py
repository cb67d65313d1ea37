"""Writes for calendar feeds, and the invite as an e-mail attachment."""

from __future__ import annotations

import logging

from django.utils import timezone

from agents.models import Appointment, Broker
from integrations.calendar.ics import appointment_invite
from integrations.calendar.models import CalendarFeed, calendar_token_new

logger = logging.getLogger(__name__)


def calendar_feed_get_or_create(*, broker: Broker) -> CalendarFeed:
    """Return the broker's feed, creating it (with a fresh token) the first time."""
    feed, _ = CalendarFeed.objects.get_or_create(broker=broker)
    return feed


def calendar_feed_rotate(*, feed: CalendarFeed) -> CalendarFeed:
    """Give the feed a new token: the old address stops working at once."""
    feed.token, feed.rotated_at = calendar_token_new(), timezone.now()
    feed.save(update_fields=["token", "rotated_at"])
    logger.info("calendar feed token rotated", extra={"broker": feed.broker_id})
    return feed


def appointment_invite_attachment(*, appointment: Appointment) -> tuple[str, bytes, str]:
    """Return (file name, content, MIME type) for attaching the invite, e.g. to EmailMessage.attach().

    The method parameter in the MIME type is what makes mail clients show
    the accept/decline buttons (RFC 6047).
    """
    method = "CANCEL" if appointment.status == Appointment.Status.CANCELED else "REQUEST"
    return "invite.ics", appointment_invite(appointment=appointment), f"text/calendar; method={method}; charset=utf-8"
