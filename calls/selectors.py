"""Reads for campaigns and calls."""

from __future__ import annotations

from calls.models import Call


def call_get(*, call_id: int) -> Call | None:
    """Return the call with its lead and campaign, or None."""
    return Call.objects.select_related("lead", "campaign").filter(pk=call_id).first()
