"""A whole call to a lead whose CRM name can't be read as it stands still opens with the full AI disclosure."""

from __future__ import annotations

from typing import Any

import pytest

from calls.models import Call, TranscriptTurn
from emulator import audio
from emulator.server import emulator_in_thread
from integrations.twilio.client import OutboundCall, call_create
from leads.models import DoNotCall
from tests.factories import CallFactory, ConsentFactory
from tests.voice.settle import recorded_call_settled

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
CALLER = "+14155550100"


def test_a_lead_named_obrien_2_hears_the_disclosure_and_can_opt_out(
    live_app: str, settings: Any, emulator_port: int
) -> None:
    audio.warm_up()
    # Saved straight into the database, as rows from before the checks were: neither name is cleaned yet.
    call = CallFactory(lead__state="CA", lead__first_name="O'Brien #2", campaign__business_name="Compass #1 Team")
    ConsentFactory(lead=call.lead)
    with emulator_in_thread(port=emulator_port) as emulator:
        emulator.server.assign(call.lead.phone, "opt_out")
        settings.TWILIO_API_BASE_URL = emulator.server.base_url
        sid = call_create(
            OutboundCall.to_our_webhooks(call_id=call.pk, to=call.lead.phone, from_=CALLER, base_url=live_app)
        )
        emulator.run(emulator.server.wait_call(sid, timeout=240))
    call = recorded_call_settled(call.pk)

    agent_lines = list(call.turns.filter(speaker=TranscriptTurn.Speaker.AGENT).values_list("text", flat=True))
    opening = agent_lines[0]
    assert opening.startswith("Hi O'Brien, this is Alex, an AI assistant calling for Compass 1 Team."), agent_lines
    assert "say stop calling" in opening
    assert "Compass 1 Team won't call you again" in agent_lines[-1]
    assert call.outcome == Call.Outcome.OPTED_OUT
    assert DoNotCall.objects.filter(phone=call.lead.phone).exists()
