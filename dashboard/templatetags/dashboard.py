"""Filters the dashboard templates format figures with."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template
from django.utils import timezone

from billing.display import usd as _usd
from billing.models import PriceItem
from common.zones import format_in_zone

register = template.Library()

# A ledger line's quantity in words: (one, many) per price unit.
UNIT_WORDS: dict[str, tuple[str, str]] = {
    PriceItem.Unit.MINUTE: ("minute", "minutes"),
    PriceItem.Unit.CPU_SECOND: ("CPU second", "CPU seconds"),
    PriceItem.Unit.CHARACTER: ("character", "characters"),
    PriceItem.Unit.MB_MONTH: ("MB-month", "MB-months"),
}


@register.filter
def usd(amount: Decimal | float | None, places: int = 4) -> str:
    """Return "$0.0123" (places decimals), or an em dash for no figure."""
    return _usd(None if amount is None else Decimal(str(amount)), int(places))


@register.filter
def quantity(amount: Decimal | float, unit: str) -> str:
    """Return a ledger quantity with its unit: "2 minutes", "1 character", "3.25 CPU seconds"."""
    value = Decimal(str(amount)).normalize()
    one, many = UNIT_WORDS.get(unit, (unit, unit))
    number = f"{value:,f}" if value != value.to_integral() else f"{int(value):,}"
    return f"{number} {one if value == 1 else many}"


@register.filter
def mmss(seconds: int | None) -> str:
    """Return a duration in seconds as "m:ss", or an em dash."""
    if seconds is None:
        return "—"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"


@register.filter
def ms_mmss(milliseconds: int | None) -> str:
    """Return an offset in milliseconds as "m:ss.s", or an em dash."""
    if milliseconds is None:
        return "—"
    minutes, rest = divmod(int(milliseconds) / 1000, 60)
    return f"{int(minutes)}:{rest:04.1f}"


@register.filter
def percent_of(part: int | None, whole: int | None) -> str:
    """Return part as a whole percentage of whole ("42%"), or an em dash when whole is 0."""
    if not whole or part is None:
        return "—"
    return f"{round(part * 100 / whole)}%"


@register.filter
def in_zone(value: dt.datetime | str | None, zone: str | None) -> str:
    """Return the time in the zone of the person it concerns, named: "Tue Dec 8, 2026, 10:00 AM CST (America/Chicago)".

    Takes an ISO string too, as a call's qualification keeps its callback time.
    """
    if not isinstance(value, str):
        return format_in_zone(value, zone)
    try:
        return format_in_zone(dt.datetime.fromisoformat(value), zone)
    except ValueError:
        return value


@register.filter
def viewer_time(value: dt.datetime | None) -> str:
    """Return the time in the viewer's zone (ViewerTimezoneMiddleware), named."""
    return format_in_zone(value, timezone.get_current_timezone_name())
