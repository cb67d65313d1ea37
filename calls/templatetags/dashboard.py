"""Filters the dashboard templates format figures with."""

from __future__ import annotations

from decimal import Decimal

from django import template

from billing.display import usd as _usd

register = template.Library()


@register.filter
def usd(amount: Decimal | float | None, places: int = 4) -> str:
    """Return "$0.0123" (places decimals), or an em dash for no figure."""
    return _usd(None if amount is None else Decimal(str(amount)), int(places))


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
