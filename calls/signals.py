"""Signals calls sends to the apps above it, which calls must not import."""

from __future__ import annotations

from django.dispatch import Signal

# Sent once per call, inside the transaction that moves it to a final status
# (completed, busy, no answer, failed, canceled), with `call_id`. A receiver
# records what follows from it in that same transaction: integrations.webhooks
# queues the call.completed event, billing prices the telephony on Twilio's duration.
call_finished = Signal()

# Sent when answering-machine detection has just recorded a machine on a live
# call, with `call_id` and `action`, the campaign's Campaign.VoicemailAction.
# voice has a task carry it out once the transaction commits.
machine_answered = Signal()
