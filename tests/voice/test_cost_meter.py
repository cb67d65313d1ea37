"""A running call's cost: the session prices it as it goes, wraps it up at its per-call limit, and drops premium speech.

It also moves a standard call to premium speech once the lead's running score
reaches PREMIUM_SCORE_THRESHOLD, while the budgets allow it.

The brain is the real agent Conversation, the ledger a real database, ElevenLabs
the local replay of its wire format (tests/elevenlabs_replay.py) and Piper the
bundled voice. The pipeline around the brain is left out: the session hands the
brain a frame, and BrainProcessor is tested on its own with Pipecat's run_test.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone
from pipecat.frames.frames import Frame, LLMContextFrame, LLMTextFrame, TTSSpeakFrame
from pipecat.pipeline.worker import PipelineParams
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frame_processor import FrameDirection
from pipecat.tests.utils import SleepFrame, run_test

from agents import prompts
from agents.brain import Conversation
from agents.brain import Reply as BrainReply
from agents.context import AgentContext
from billing.models import CostEntry
from billing.services import CallMeter
from calls.models import Call
from tests.elevenlabs_replay import Reply, elevenlabs_replay_server
from tests.factories import BudgetFactory, CallFactory
from voice.brain import BrainProcessor, CallWrapUpFrame, TurnTiming
from voice.session import CallSession
from voice.speech import PremiumTTSService
from voice.transport import SocketBridge

WRAP_UP = (
    "I'm sorry, I have to wrap up our call here. Bayside Realty will follow up with you, "
    "and you can always reach the team at 415-555-0100. Thanks so much for your time, Jane. Goodbye."
)


class SlowConversation(Conversation):
    """The real brain, taking a moment over each turn, as it does on a busy host."""

    async def respond(self, text: str, *, hold: Any = None) -> BrainReply:
        await asyncio.sleep(0.3)
        return await super().respond(text)


def _conversation(kind: type[Conversation] = Conversation) -> Conversation:
    context = AgentContext(
        call_id=None,
        lead_id=None,
        lead_first_name="Jane",
        business_name="Bayside Realty",
        callback_number="+14155550100",
    )
    return kind(context=context, extract=False)


def _lead_says(text: str) -> LLMContextFrame:
    return LLMContextFrame(context=LLMContext(messages=[{"role": "user", "content": text}]))


class BrainInbox:
    """Stands in for the pipeline's brain processor: keeps the frames the session queues for it."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.replied_at = 0.0

    async def queue_frame(self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM) -> None:
        self.frames.append(frame)


def _session(call_id: int, *, tts: Any = None, score: int | None = None) -> CallSession:
    async def send(_data: str) -> None:
        return None

    async def close() -> None:
        return None

    session = CallSession(
        call_id=call_id,
        call_sid="CA" + "5" * 32,
        stream_sid="MZ" + "5" * 32,
        bridge=SocketBridge(send=send, close=close),
        conversation_factory=lambda _call_id: asyncio.sleep(0, _conversation()),
    )
    session._pipeline = SimpleNamespace(  # type: ignore[assignment]
        brain=BrainInbox(),
        stt=SimpleNamespace(compute_s=1.25),
        tts=tts or SimpleNamespace(compute_s=0.5),
        speaking=SimpleNamespace(speaking=False),
    )
    session._conversation = SimpleNamespace(compute_s=2.0, score=score)  # type: ignore[assignment]
    return session


# --- the brain ---------------------------------------------------------------------------------------------------


def test_it_has_a_wrap_up_line_that_names_the_business_and_the_callback_number() -> None:
    text = prompts.wrap_up_message(business_name="Bayside Realty", callback_number="+14155550100", first_name="Jane")
    assert text == WRAP_UP


async def _brain_says(conversation: Conversation, frames: list[Frame]) -> tuple[list[str], list[bool]]:
    """Return what the brain said and whether it ended the call; check each reply made the transcript."""
    ended: list[bool] = []
    turns: list[TurnTiming] = []

    async def on_end_call() -> None:
        ended.append(True)

    brain = BrainProcessor(conversation=conversation, on_end_call=on_end_call, on_turn=turns.append)
    down, _ = await run_test(brain, frames_to_send=frames)
    assert not any(isinstance(frame, CallWrapUpFrame) for frame in down)
    spoken = [frame.text for frame in down if isinstance(frame, LLMTextFrame)]
    assert [turn.reply_text for turn in turns] == spoken
    return spoken, ended


@pytest.mark.asyncio
async def test_it_says_the_polite_goodbye_once_and_ends_the_call() -> None:
    frames = [CallWrapUpFrame(), CallWrapUpFrame(), SleepFrame(0.3), _lead_says("Wait, what?")]

    spoken, ended = await _brain_says(_conversation(), frames)

    # Only one goodbye, and nothing said after it.
    assert (spoken, ended) == ([WRAP_UP], [True])


@pytest.mark.asyncio
async def test_it_answers_the_turn_under_way_and_says_goodbye_in_the_same_reply() -> None:
    frames = [_lead_says("We're thinking about selling."), CallWrapUpFrame()]

    spoken, ended = await _brain_says(_conversation(SlowConversation), frames)

    [reply] = spoken
    assert reply.endswith(" " + WRAP_UP) and len(reply) > len(WRAP_UP) + 1
    assert ended == [True]


@pytest.mark.asyncio
async def test_it_records_the_goodbye_and_answers_nothing_after_it() -> None:
    conversation = _conversation()
    await conversation.opening()

    reply = await conversation.wrap_up()

    assert (reply.text, reply.end_call, reply.stage) == (WRAP_UP, True, "ended")
    assert conversation.state.messages[-1].content == WRAP_UP
    assert (await conversation.respond("hello?")).text == ""
    assert (await conversation.wrap_up()).text == ""
    assert conversation.compute_s > 0


# --- the session ---------------------------------------------------------------------------------------------


def _ledger(call_id: int) -> dict[str, Decimal]:
    return dict(CostEntry.objects.filter(call_id=call_id).values_list("component", "quantity"))


@pytest.fixture
def priced_call(transactional_db: None) -> Call:
    call = CallFactory.create(status=Call.Status.IN_PROGRESS, dialed_at=timezone.now())
    BudgetFactory.create(campaign=call.campaign, per_call_limit_usd=Decimal("0.05"))
    return call


@pytest.mark.asyncio
async def test_it_prices_the_running_call_and_wraps_it_up_once_at_its_per_call_limit(priced_call: Call) -> None:
    session = _session(priced_call.pk)
    inbox = session._pipeline.brain  # type: ignore[union-attr]

    session._started = time.time() - 30
    await session.meter_once()
    assert inbox.frames == []
    # 200 seconds in: four started minutes at Twilio's $0.014 is $0.056, past the $0.05 limit.
    session._started = time.time() - 200
    for _ in range(3):
        await session.meter_once()

    assert [type(frame) for frame in inbox.frames] == [CallWrapUpFrame]
    assert session.wrapped_up
    # Not the ORM's async API: database_sync_to_async closes its thread's connection,
    # so PostgreSQL can drop the test database at the end.
    ledger = await database_sync_to_async(_ledger)(priced_call.pk)
    assert ledger == {
        "telephony": Decimal("4.000"),
        "stt": Decimal("1.250"),
        "llm": Decimal("2.000"),
        "tts": Decimal("0.500"),
    }


@pytest.mark.asyncio
async def test_it_does_not_wrap_up_a_call_under_its_limit_or_one_already_saying_goodbye() -> None:
    session = _session(1)
    inbox = session._pipeline.brain  # type: ignore[union-attr]

    await session.apply_meter(CallMeter(cost_usd=Decimal("0.04"), limit_usd=Decimal("0.05"), premium_allowed=True))
    assert inbox.frames == []
    session.ended_by_agent = True
    await session.apply_meter(CallMeter(cost_usd=Decimal("0.06"), limit_usd=Decimal("0.05"), premium_allowed=True))
    assert inbox.frames == []


@pytest.mark.asyncio
async def test_it_waits_for_the_agent_to_stop_speaking_before_wrapping_up() -> None:
    session = _session(1)
    pipeline = session._pipeline
    over = CallMeter(cost_usd=Decimal("0.06"), limit_usd=Decimal("0.05"), premium_allowed=True)

    pipeline.speaking.speaking = True  # type: ignore[union-attr]
    await session.apply_meter(over)
    pipeline.speaking.speaking = False  # type: ignore[union-attr]
    pipeline.brain.replied_at = time.monotonic()  # type: ignore[union-attr]  # a reply not yet audible
    await session.apply_meter(over)
    assert pipeline.brain.frames == []  # type: ignore[union-attr]

    pipeline.brain.replied_at = time.monotonic() - 5  # type: ignore[union-attr]
    await session.apply_meter(over)
    assert [type(frame) for frame in pipeline.brain.frames] == [CallWrapUpFrame]  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_it_speaks_with_piper_once_the_budget_no_longer_allows_elevenlabs(settings: Any) -> None:
    async with elevenlabs_replay_server(settings, Reply(audio_ms=300)) as server:
        tts = PremiumTTSService()
        session = _session(1, tts=tts)
        meter = CallMeter(cost_usd=Decimal("0.085"), limit_usd=Decimal("0.10"), premium_allowed=False)
        await session.apply_meter(meter)
        await run_test(
            tts,
            frames_to_send=[TTSSpeakFrame("Is now a good time to talk about the house on Cedar Lane?")],
            pipeline_params=PipelineParams(audio_out_sample_rate=8000),
        )

    assert server.requests == []
    assert tts.engine == "piper"
    assert tts.fallback_reason == "the budget no longer allows ElevenLabs (call at $0.0850)"
    usage = session.usage()
    assert (usage.elevenlabs_characters, usage.stt_compute_s, usage.llm_compute_s) == (0, 1.25, 2.0)
    assert usage.tts_compute_s > 0  # Piper really spoke


# --- the premium voice mid-call ------------------------------------------------------------------------------------

SENTENCE = "Is now a good time to talk about the house on Cedar Lane?"
ALLOWED = CallMeter(cost_usd=Decimal("0.01"), limit_usd=Decimal("0.05"), premium_allowed=True)


def _voice_tier(call_id: int) -> str:
    return Call.objects.get(pk=call_id).voice_tier


async def _say(tts: PremiumTTSService, text: str = SENTENCE) -> None:
    await run_test(
        tts, frames_to_send=[TTSSpeakFrame(text)], pipeline_params=PipelineParams(audio_out_sample_rate=8000)
    )


@pytest.mark.asyncio
async def test_it_moves_the_call_to_elevenlabs_once_the_leads_score_reaches_the_threshold(
    priced_call: Call, settings: Any
) -> None:
    settings.PREMIUM_SCORE_THRESHOLD = 75
    async with elevenlabs_replay_server(settings) as server:
        tts = PremiumTTSService(elevenlabs=False)
        session = _session(priced_call.pk, tts=tts, score=75)
        await session.apply_meter(ALLOWED)
        await _say(tts)

    assert tts.engine == "elevenlabs"
    assert [r.body["text"] for r in server.requests] == [SENTENCE]
    assert session.usage().elevenlabs_characters == len(SENTENCE)
    assert await database_sync_to_async(_voice_tier)(priced_call.pk) == Call.VoiceTier.PREMIUM


@pytest.mark.parametrize(
    ("score", "meter"),
    [
        (None, ALLOWED),
        (74, ALLOWED),
        (90, CallMeter(cost_usd=Decimal("0.04"), limit_usd=Decimal("0.05"), premium_allowed=False)),
    ],
    ids=["not-scored-yet", "below-threshold", "budget-does-not-allow"],
)
@pytest.mark.asyncio
async def test_it_keeps_a_standard_call_on_piper(
    priced_call: Call, settings: Any, score: int | None, meter: CallMeter
) -> None:
    settings.PREMIUM_SCORE_THRESHOLD = 75
    async with elevenlabs_replay_server(settings) as server:
        tts = PremiumTTSService(elevenlabs=False)
        session = _session(priced_call.pk, tts=tts, score=score)
        await session.apply_meter(meter)
        await _say(tts)

    assert server.requests == []
    assert (tts.engine, tts.can_upgrade, tts.elevenlabs_characters) == ("piper", True, 0)
    assert await database_sync_to_async(_voice_tier)(priced_call.pk) == Call.VoiceTier.STANDARD


@pytest.mark.asyncio
async def test_it_keeps_piper_when_the_budgets_cannot_pay_for_the_rest_of_the_call_with_elevenlabs(
    transactional_db: None, settings: Any
) -> None:
    settings.PREMIUM_SCORE_THRESHOLD = 75
    # $0.02 left, and the rest of a premium call is expected to cost the $0.05 per-call limit.
    call = await database_sync_to_async(CallFactory.create)(status=Call.Status.IN_PROGRESS, dialed_at=timezone.now())
    await database_sync_to_async(BudgetFactory.create)(
        campaign=call.campaign, limit_usd=Decimal("0.02"), per_call_limit_usd=Decimal("0.05")
    )
    tts = PremiumTTSService(elevenlabs=False)
    session = _session(call.pk, tts=tts, score=90)

    await session.apply_meter(ALLOWED)

    assert (tts.engine, tts.can_upgrade) == ("piper", True)
    assert await database_sync_to_async(_voice_tier)(call.pk) == Call.VoiceTier.STANDARD


@pytest.mark.asyncio
async def test_it_does_not_move_a_call_back_to_elevenlabs_after_the_budget_took_it_away() -> None:
    tts = PremiumTTSService()
    session = _session(1, tts=tts, score=95)

    await session.apply_meter(CallMeter(cost_usd=Decimal("0.04"), limit_usd=Decimal("0.05"), premium_allowed=False))
    await session.apply_meter(ALLOWED)

    assert (tts.engine, tts.can_upgrade) == ("piper", False)
    assert tts.fallback_reason == "the budget no longer allows ElevenLabs (call at $0.0400)"


@pytest.mark.asyncio
async def test_it_falls_back_to_piper_when_elevenlabs_fails_after_the_upgrade(priced_call: Call, settings: Any) -> None:
    settings.PREMIUM_SCORE_THRESHOLD = 75
    error = Reply("error", status=429, fixture="stream_429_too_many_concurrent_requests.json")
    async with elevenlabs_replay_server(settings, error, Reply()) as server:
        tts = PremiumTTSService(elevenlabs=False)
        session = _session(priced_call.pk, tts=tts, score=80)
        await session.apply_meter(ALLOWED)
        assert tts.engine == "elevenlabs"
        await _say(tts)
        # Still allowed and still scored: the call stays on Piper all the same.
        await session.apply_meter(ALLOWED)
        await _say(tts, "Great, thanks.")

    assert [r.body["text"] for r in server.requests] == [SENTENCE]
    assert (tts.engine, tts.can_upgrade) == ("piper", False)
    assert "HTTP 429" in tts.fallback_reason
    assert (tts.elevenlabs_characters, tts.piper_characters) == (0, len(SENTENCE) + len("Great, thanks."))
