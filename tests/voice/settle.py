"""Wait for what the app writes once a call is over.

The emulator reports a call ended as soon as Twilio's side of it has. Our voice session then still
finishes the brain (the post-call summary), saves the transcript and recording, and prices the call
one last time, in daphne's process. A test that reads the database straight away can beat it there.
"""

from __future__ import annotations

import time

from billing.models import Component, CostEntry
from calls.models import Call

POLL_S = 0.2


def recorded_call_settled(call_id: int, *, timeout_s: float = 60) -> Call:
    """Return the call once the session's final pricing, which comes after its recording is saved, is written.

    Raises:
        AssertionError: when it is not there within `timeout_s` (the session failed to save the call).
    """
    deadline = time.monotonic() + timeout_s
    while not CostEntry.objects.filter(call_id=call_id, component=Component.RECORDING).exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"call {call_id}: the voice session never saved its recording and final costs")
        time.sleep(POLL_S)
    return Call.objects.get(pk=call_id)
