"""The opening announces the recording when the compliance gate asked for it (all-party-consent states)."""

from __future__ import annotations

import asyncio

import pytest

from agents.brain import Conversation, context_for_call
from agents.context import AgentContext
from agents.graph import invoke
from calls.models import Call
from tests.factories import CallFactory


def _opening(*, announce_recording: bool) -> str:
    context = AgentContext(
        call_id=None,
        lead_id=None,
        lead_first_name="Jane",
        business_name="Bayside Realty",
        announce_recording=announce_recording,
    )
    return str(asyncio.run(invoke({"event": "start"}, context=context))["reply"])


def test_it_says_the_call_is_recorded_right_after_introducing_itself() -> None:
    assert _opening(announce_recording=True) == (
        "Hi Jane, this is Alex, an AI assistant calling for Bayside Realty. This call is recorded. I'm calling to see "
        "if you're thinking about buying or selling a home. If you'd rather not get these calls, just say stop "
        "calling and I'll take you off our list. Do you have a quick minute?"
    )
    assert "recorded" not in _opening(announce_recording=False)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mode", "announce"),
    [(Call.RecordingMode.ANNOUNCE, True), (Call.RecordingMode.RECORD, False), (Call.RecordingMode.OFF, False)],
)
def test_it_takes_the_notice_from_the_calls_recording_mode(mode: str, announce: bool) -> None:
    call = CallFactory.create(recording_mode=mode)
    assert context_for_call(call_id=call.pk, llm=None).announce_recording is announce


@pytest.mark.parametrize(
    ("recorded", "answer"), [(True, "Yes, this call is recorded"), (False, "isn't being recorded")]
)
def test_a_lead_who_asks_whether_the_call_is_recorded_is_told_the_truth(recorded: bool, answer: str) -> None:
    context = AgentContext(
        call_id=None, lead_id=None, lead_first_name="Jane", business_name="Bayside Realty", recorded=recorded
    )
    conversation = Conversation(context=context)

    async def talk() -> str:
        await conversation.opening()
        return (await conversation.respond("hold on is this call being recorded")).text

    reply = asyncio.run(talk())

    assert answer in reply
    assert reply.endswith("Are you thinking about buying, selling, or both?")
