"""Wait for what the app writes once a call is over.

The emulator reports a call ended as soon as Twilio's side of it has. Our voice session then still
saves the conversation, transcript and recording and prices the call one last time, in daphne's
process, and then the post-call analysis (outcome, summary) runs as a Celery task, eagerly in
daphne under these tests. A test that reads the database straight away can beat them there.
"""

from __future__ import annotations

import time

from agents.models import ConversationSnapshot
from billing.models import Component, CostEntry
from calls.models import Call

POLL_S = 0.2


def recorded_call_settled(call_id: int, *, timeout_s: float = 60) -> Call:
    """Return the call once its final pricing (after the recording is saved) and its post-call analysis are written.

    Raises:
        AssertionError: when they are not there within `timeout_s` (the session or the analysis failed).
    """
    deadline = time.monotonic() + timeout_s
    while not CostEntry.objects.filter(call_id=call_id, component=Component.RECORDING).exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"call {call_id}: the voice session never saved its recording and final costs")
        time.sleep(POLL_S)
    while not ConversationSnapshot.objects.filter(call_id=call_id, finished_at__isnull=False).exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"call {call_id}: the post-call analysis never stored the outcome and summary")
        time.sleep(POLL_S)
    return Call.objects.get(pk=call_id)
