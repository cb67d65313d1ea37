"""Signals leads sends to the apps above it, which leads must not import."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction that stops the leads' dialing (do-not-call, a
# revoked consent), with `lead_ids` and `reason`. A receiver drops whatever it
# still holds for them in that same transaction: calls cancels their queued calls.
lead_dialing_stopped = Signal()
