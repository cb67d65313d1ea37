"""Times shown in the zone of the person they concern, with the zone named.

A broker in New York reading "10:00" for a Chicago lead's appointment can't tell whose ten o'clock it is,
so every time a person reads carries its zone: the abbreviation for the eye ("CST") and the IANA name
("America/Chicago") for the one who must be sure.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.utils import timezone

# "Tue Dec 8, 2026, 10:00 AM": the weekday guards against a date read in the wrong zone.
DATETIME_FORMAT = "%a %b %-d, %Y, %-I:%M %p"


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_valid(name: str | None) -> bool:
    """Return whether `name` is an IANA zone this machine knows (not a path, not an alias of nothing)."""
    return bool(name) and name in _known_zones()


def zone_get(name: str | None) -> ZoneInfo:
    """Return the zone `name`, or the installation's default zone when it is empty or unknown."""
    if name and zone_valid(name):
        try:
            return ZoneInfo(name)
        except ZoneInfoNotFoundError:
            pass
    return ZoneInfo(settings.TIME_ZONE)


def in_zone(value: dt.datetime, name: str | None) -> dt.datetime:
    """Return the aware `value` as wall-clock time in the zone `name` (or the default zone)."""
    return value.astimezone(zone_get(name))


def format_in_zone(value: dt.datetime | None, name: str | None, *, empty: str = "—") -> str:
    """Return "Tue Dec 8, 2026, 10:00 AM CST (America/Chicago)" for `value` in the zone `name`."""
    if value is None:
        return empty
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    zone = zone_get(name)
    local = value.astimezone(zone)
    return f"{local.strftime(DATETIME_FORMAT)} {local.tzname()} ({zone.key})"
