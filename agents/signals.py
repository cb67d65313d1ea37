"""Signals agents sends to the apps above it, which agents must not import."""

from __future__ import annotations

from django.dispatch import Signal

# Each is sent inside the transaction that records the fact, so a receiver's
# writes (integrations.webhooks queues an event) commit or roll back with it.

# An appointment was booked on a call, with `appointment_id`.
appointment_booked = Signal()
# A call moved a lead to qualified for the first time, with `lead_id` and `call_id`.
lead_qualified = Signal()
# A lead asked on a call not to be called again, the first time they asked, with `lead_id` and `reason`.
lead_opted_out = Signal()
