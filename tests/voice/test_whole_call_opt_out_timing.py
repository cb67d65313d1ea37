"""Whole calls where the lead's opt-out comes late in a turn, over the agent's reply, or during the opening.

Every word the lead says must reach the brain: an opt-out anywhere ends the
call and writes the do-not-call entry, whatever the agent was saying then.
"""

from __future__ import annotations

from typing import Any

import pytest

from calls.models import Call, TranscriptTurn
from emulator import audio
from emulator.persona import persona_from_dict
from emulator.server import emulator_in_thread
from integrations.twilio.client import OutboundCall, call_create
from leads.models import DoNotCall
from tests.factories import CallFactory, ConsentFactory
from tests.voice.settle import recorded_call_settled

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
CALLER = "+14155550100"


def _call(steps: list[dict[str, Any]], base_url: str, settings: Any, port: int) -> Call:
    audio.warm_up()
    call = CallFactory(lead__state="CA", lead__first_name="Dana", campaign__business_name="Bayside Realty")
    ConsentFactory(lead=call.lead)
    persona = persona_from_dict("late_opt_out", {"description": "opts out late", "steps": steps})
    with emulator_in_thread(port=port) as emulator:
        emulator.server.assign(call.lead.phone, persona)
        settings.TWILIO_API_BASE_URL = emulator.server.base_url
        sid = call_create(
            OutboundCall.to_our_webhooks(call_id=call.pk, to=call.lead.phone, from_=CALLER, base_url=base_url)
        )
        emulator.run(emulator.server.wait_call(sid, timeout=240))
    return recorded_call_settled(call.pk)


def _assert_opted_out(call: Call) -> None:
    transcript = "\n".join(f"{t.speaker}: {t.text}" for t in call.turns.order_by("index"))
    assert DoNotCall.objects.filter(phone=call.lead.phone).exists(), transcript
    assert call.outcome == Call.Outcome.OPTED_OUT, transcript
    agent_lines = list(call.turns.filter(speaker=TranscriptTurn.Speaker.AGENT).values_list("text", flat=True))
    assert "won't call you again" in agent_lines[-1], transcript
    lead_words = " ".join(call.turns.filter(speaker=TranscriptTurn.Speaker.LEAD).values_list("text", flat=True))
    assert "list" in lead_words.lower(), transcript


def test_an_opt_out_said_as_the_second_sentence_after_a_pause_is_honoured(
    live_app: str, settings: Any, emulator_port: int
) -> None:
    steps = [
        {"listen": 20},
        {"say": "Where did you get my number?"},
        {"silence": 0.6},
        {"say": "Actually, just put me on your do not call list."},
        {"listen": 20},
    ]
    _assert_opted_out(_call(steps, live_app, settings, emulator_port))


def test_an_opt_out_said_over_the_agents_reply_is_honoured(live_app: str, settings: Any, emulator_port: int) -> None:
    steps = [
        {"listen": 20},
        {"say": "Where did you get my number?"},
        {"barge_in": "No, stop. Take me off your list.", "after_s": 0.8},
        {"listen": 20},
    ]
    _assert_opted_out(_call(steps, live_app, settings, emulator_port))


def test_an_opt_out_said_during_the_opening_is_honoured_once_the_disclosure_is_heard(
    live_app: str, settings: Any, emulator_port: int
) -> None:
    steps = [
        {"barge_in": "Hello? Take me off your list.", "after_s": 1.5},
        {"listen": 20},
    ]
    call = _call(steps, live_app, settings, emulator_port)

    _assert_opted_out(call)
    opening = call.turns.filter(speaker=TranscriptTurn.Speaker.AGENT).order_by("index").first()
    assert opening is not None and "say stop calling" in opening.text


def test_an_opt_out_said_as_the_lead_hangs_up_is_honoured(live_app: str, settings: Any, emulator_port: int) -> None:
    # The stop event comes right behind the last word: no pause ends the turn, nobody hears a reply.
    steps = [
        {"listen": 20},
        {"say": "no thanks. take me off your list"},
        {"hang_up": True},
    ]
    call = _call(steps, live_app, settings, emulator_port)

    transcript = "\n".join(f"{t.speaker}: {t.text}" for t in call.turns.order_by("index"))
    assert DoNotCall.objects.filter(phone=call.lead.phone).exists(), transcript
    assert call.outcome == Call.Outcome.OPTED_OUT, transcript
    last = call.turns.order_by("index").last()
    assert last is not None and last.speaker == TranscriptTurn.Speaker.LEAD, transcript
    assert "list" in last.text.lower(), transcript
