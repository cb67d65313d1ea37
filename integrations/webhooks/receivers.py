"""Turn what the apps below announce (calls.signals, agents.signals) into webhook events.

Connected in integrations.apps. Each signal is sent inside the transaction that
records its fact, so the deliveries queued here commit or roll back with it.
"""

from __future__ import annotations

import functools

from integrations.webhooks import payloads
from integrations.webhooks.models import WebhookEvent
from integrations.webhooks.services import webhook_event_emit


def on_call_finished(sender: object, *, call_id: int, **kwargs: object) -> None:
    """Receive calls.signals.call_finished: send call.completed."""
    webhook_event_emit(
        event=WebhookEvent.CALL_COMPLETED, data=functools.partial(payloads.call_completed, call_id=call_id)
    )


def on_appointment_booked(sender: object, *, appointment_id: int, **kwargs: object) -> None:
    """Receive agents.signals.appointment_booked: send appointment.booked."""
    webhook_event_emit(
        event=WebhookEvent.APPOINTMENT_BOOKED,
        data=functools.partial(payloads.appointment_booked, appointment_id=appointment_id),
    )


def on_lead_qualified(sender: object, *, lead_id: int, call_id: int | None, **kwargs: object) -> None:
    """Receive agents.signals.lead_qualified: send lead.qualified."""
    webhook_event_emit(
        event=WebhookEvent.LEAD_QUALIFIED,
        data=functools.partial(payloads.lead_qualified, lead_id=lead_id, call_id=call_id),
    )


def on_lead_opted_out(sender: object, *, lead_id: int, reason: str, **kwargs: object) -> None:
    """Receive agents.signals.lead_opted_out: send lead.opted_out."""
    webhook_event_emit(
        event=WebhookEvent.LEAD_OPTED_OUT,
        data=functools.partial(payloads.lead_opted_out, lead_id=lead_id, reason=reason),
    )
