"""A line that stays silent after the opening is asked whether anyone is there, then closed."""

from __future__ import annotations

from typing import Any

import pytest

from calls.models import Call, TranscriptTurn
from emulator import audio
from emulator.persona import persona_from_dict
from emulator.server import emulator_in_thread
from integrations.twilio.client import OutboundCall, call_create
from tests.factories import CallFactory, ConsentFactory
from tests.voice.settle import recorded_call_settled

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_silent_line_is_asked_if_anyone_is_there_and_then_hung_up(
    live_app: str, settings: Any, emulator_port: int
) -> None:
    audio.warm_up()
    call = CallFactory(lead__state="CA", lead__first_name="Dana", campaign__business_name="Bayside Realty")
    ConsentFactory(lead=call.lead)
    # Silent for longer than two prompts' worth; the agent must end the call before the lead would.
    persona = persona_from_dict("silent_line", {"description": "says nothing", "steps": [{"silence": 60}]})
    with emulator_in_thread(port=emulator_port) as emulator:
        emulator.server.assign(call.lead.phone, persona)
        settings.TWILIO_API_BASE_URL = emulator.server.base_url
        sid = call_create(
            OutboundCall.to_our_webhooks(call_id=call.pk, to=call.lead.phone, from_="+14155550100", base_url=live_app)
        )
        emulated = emulator.run(emulator.server.wait_call(sid, timeout=240))
    call = recorded_call_settled(call.pk)

    agent_lines = list(call.turns.filter(speaker=TranscriptTurn.Speaker.AGENT).values_list("text", flat=True))
    assert agent_lines[1] == "Are you still there?", agent_lines
    assert agent_lines[-1].startswith("It sounds like I've lost you."), agent_lines
    assert not call.turns.filter(speaker=TranscriptTurn.Speaker.LEAD).exists()
    # We hung up through Twilio's REST API, not the lead.
    assert [e["status"] for e in emulated.timeline.find("rest_update")] == ["completed"]
    assert call.status == Call.Status.COMPLETED
