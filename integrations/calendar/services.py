"""Writes for calendar feeds."""

from __future__ import annotations

import logging

from django.utils import timezone

from agents.models import Broker
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
