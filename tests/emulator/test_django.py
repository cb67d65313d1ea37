"""A call through the emulator against our real Django webhooks, served by daphne over HTTP.

The app runs in its own process on a free port, on this test's database (a
file on SQLite, the test database on PostgreSQL), so every status callback,
the voice webhook and the AMD callback travel as signed HTTP requests exactly
as Twilio's would.
"""

from __future__ import annotations

from typing import Any

import pytest

from calls.models import Call
from emulator import audio
from emulator.persona import Persona, step_from_dict
from emulator.server import emulator_in_thread
from integrations.twilio.client import OutboundCall, call_create
from tests.factories import CallFactory
from voice.stream_tokens import stream_token_call_id

CALLER = "+14155550100"


@pytest.mark.django_db(transaction=True)
def test_it_drives_a_call_through_our_webhooks_and_database(live_app: str, settings: Any) -> None:
    audio.warm_up()
    call = CallFactory()
    # A lead who answers, says nothing for a moment and hangs up: this test is about
    # the call's lifecycle in our app, not the conversation (the media pipeline is tested on its own).
    lead = Persona(
        name="brief",
        steps=(step_from_dict({"silence": 1.5}), step_from_dict({"hang_up": True})),
        ring_s=0.3,
        amd_after_s=0.5,
    )
    with emulator_in_thread() as emulator:
        emulator.server.assign(call.lead.phone, lead)
        settings.TWILIO_API_BASE_URL = emulator.server.base_url
        sid = call_create(
            OutboundCall.to_our_webhooks(call_id=call.pk, to=call.lead.phone, from_=CALLER, base_url=live_app)
        )
        emulated = emulator.server.calls[sid]
        emulator.run(emulated.timeline.wait_for("webhook_fetched", timeout=30))
        call.refresh_from_db()
        assert (call.status, call.twilio_sid) == (Call.Status.IN_PROGRESS, sid)
        assert call.started_at is not None and call.answered_at is not None and call.ended_at is None
        emulator.run(emulator.server.wait_call(sid, timeout=60))

    call.refresh_from_db()
    assert (call.status, call.twilio_sid, call.answered_by) == (Call.Status.COMPLETED, sid, Call.AnsweredBy.HUMAN)
    assert call.duration_seconds == emulated.duration_s and call.ended_at is not None
    timeline = emulated.timeline
    # Every signed request was accepted by our views (a bad signature would be 403).
    callbacks = timeline.find("status_callback")
    assert [(e["call_status"], e["http_status"]) for e in callbacks] == [
        ("initiated", 204),
        ("ringing", 204),
        ("in-progress", 204),
        ("completed", 204),
    ]
    assert [e["http_status"] for e in timeline.find("webhook_fetched")] == [200]
    assert [e["http_status"] for e in timeline.find("amd_callback")] == [204]
    # The TwiML was parsed into our websocket URL with the call's signed token.
    [stream] = timeline.find("twiml_stream")
    assert stream["url"] == live_app.replace("http://", "ws://") + "/twilio/stream/"
    assert stream["parameters"]["call_id"] == str(call.pk)
    assert stream_token_call_id(token=stream["parameters"]["token"]) == call.pk
