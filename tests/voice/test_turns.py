"""When the lead's turn ends: Smart Turn's verdict, the transcript's, and the pauses between sentences."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
import pytest_asyncio
from pipecat.clocks.system_clock import SystemClock
from pipecat.frames.frames import (
    InputAudioRawFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameProcessorSetup
from pipecat.utils.asyncio.task_manager import TaskManager

from voice.turns import (
    SharedSileroVADAnalyzer,
    SharedSmartTurnAnalyzer,
    TranscriptAwareTurnStop,
    Verdict,
    silero_session,
    smart_turn_session,
    text_verdict,
)

RATE = 16000
HOLD = 0.3
MIN_SILENCE = 0.4


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("Oh, hi.", Verdict.FRAGMENT),
        ("Hello?", Verdict.COMPLETE),  # a question is answered, greeting or not
        ("No thanks,", Verdict.FRAGMENT),
        ("We're thinking about selling and", Verdict.FRAGMENT),
        ("Um...", Verdict.FRAGMENT),
        ("Yes.", Verdict.COMPLETE),
        ("Alright, bye.", Verdict.COMPLETE),
        ("Is this a robot?", Verdict.COMPLETE),
        ("Probably in the spring", Verdict.UNSURE),
        ("", Verdict.UNSURE),
    ],
)
def test_it_judges_whether_a_transcript_is_finished(text: str, verdict: Verdict) -> None:
    assert text_verdict(text) is verdict


def test_it_shares_one_smart_turn_model_between_calls() -> None:
    first, second = SharedSmartTurnAnalyzer(), SharedSmartTurnAnalyzer()
    assert first._session is second._session is smart_turn_session()
    # ...while each call keeps its own audio.
    assert first._audio_buffer is not second._audio_buffer


def test_it_shares_one_vad_model_between_calls_with_state_per_call() -> None:
    first, second = SharedSileroVADAnalyzer(), SharedSileroVADAnalyzer()
    assert first._model.session is second._model.session is silero_session()
    first.set_sample_rate(RATE)
    second.set_sample_rate(RATE)
    speech = (np.sin(np.arange(512) / 2) * 12000).astype(np.int16).tobytes()
    first.voice_confidence(speech)
    # One call's audio moved only its own recurrent state.
    assert first._model._state.any() and not second._model._state.any()


class Turn:
    """Drive a stop strategy with the frames the user aggregator would give it."""

    def __init__(self, strategy: TranscriptAwareTurnStop) -> None:
        self.strategy = strategy
        self.stopped_at: list[float] = []

        @strategy.event_handler("on_user_turn_stopped")
        async def _stopped(*_args: Any) -> None:
            self.stopped_at.append(time.time())

    async def speak(self, seconds: float) -> None:
        await self.strategy.process_frame(VADUserStartedSpeakingFrame(start_secs=0.2))
        loud = (np.sin(np.arange(int(RATE * 0.02)) / 3) * 8000).astype(np.int16).tobytes()
        for _ in range(int(seconds / 0.02)):
            await self.strategy.process_frame(InputAudioRawFrame(audio=loud, sample_rate=RATE, num_channels=1))

    async def pause(self, *, text: str) -> float:
        """The lead stops; the VAD reports it 0.2 s later, then Whisper's transcript; return the speech end."""
        speech_end = time.time()
        await self.strategy.process_frame(VADUserStoppedSpeakingFrame(stop_secs=0.2, timestamp=speech_end + 0.2))
        await self.strategy.process_frame(TranscriptionFrame(text, "", "", finalized=True))
        return speech_end


@pytest_asyncio.fixture
async def turn() -> AsyncIterator[Turn]:
    manager = TaskManager(loop=asyncio.get_running_loop())
    strategy = TranscriptAwareTurnStop(
        turn_analyzer=SharedSmartTurnAnalyzer(), fragment_hold_secs=HOLD, min_silence_secs=MIN_SILENCE, max_hold_secs=2
    )
    await strategy.setup(
        FrameProcessorSetup(clock=SystemClock(), task_manager=manager, audio_in_sample_rate=RATE, pipeline_worker=None)
    )
    try:
        yield Turn(strategy)
    finally:
        await strategy.cleanup()


@pytest.mark.asyncio
async def test_it_ends_a_finished_sentence_after_the_minimum_silence(turn: Turn) -> None:
    await turn.speak(0.4)
    speech_end = await turn.pause(text="Alright, bye.")
    assert turn.stopped_at == []  # not while the lead may only be between sentences
    await asyncio.sleep(MIN_SILENCE + 0.3)
    [stopped] = turn.stopped_at
    assert stopped >= speech_end + MIN_SILENCE


@pytest.mark.asyncio
async def test_it_keeps_the_turn_open_when_the_lead_goes_on_after_a_pause(turn: Turn) -> None:
    await turn.speak(0.4)
    await turn.pause(text="Oh, hi.")
    await asyncio.sleep(0.1)
    await turn.speak(0.4)  # "Yes, we're thinking of selling."
    await asyncio.sleep(HOLD + MIN_SILENCE)
    assert turn.stopped_at == []
    await turn.pause(text="Yes, we're thinking of selling.")
    await asyncio.sleep(MIN_SILENCE + 0.3)
    assert len(turn.stopped_at) == 1


@pytest.mark.asyncio
async def test_it_waits_out_a_fragment_then_answers_anyway(turn: Turn) -> None:
    await turn.speak(0.4)
    await turn.pause(text="No thanks,")
    await asyncio.sleep(HOLD - 0.1)
    assert turn.stopped_at == []
    await asyncio.sleep(0.4)
    assert len(turn.stopped_at) == 1


@pytest.mark.asyncio
async def test_it_ignores_a_verdict_that_arrives_after_the_lead_spoke_again(turn: Turn) -> None:
    await turn.speak(0.4)
    # The VAD reports the pause, but before Smart Turn's verdict and Whisper's
    # transcript come back (a busy CPU), the lead is talking again.
    original = turn.strategy._turn_analyzer.analyze_end_of_turn

    async def slow_verdict() -> Any:
        await turn.speak(0.1)
        return await original()

    turn.strategy._turn_analyzer.analyze_end_of_turn = slow_verdict  # type: ignore[method-assign]
    speech_end = time.time()
    await turn.strategy.process_frame(VADUserStoppedSpeakingFrame(stop_secs=0.2, timestamp=speech_end + 0.2))
    await turn.strategy.process_frame(TranscriptionFrame("Hi, not selling.", "", "", finalized=True))
    await asyncio.sleep(MIN_SILENCE + 0.3)
    assert turn.stopped_at == []


def test_the_brain_answers_every_word_not_yet_answered_even_across_an_interrupted_turn() -> None:
    from voice.brain import _unanswered

    # The usual case: the latest turn.
    assert _unanswered(["where did you get my number", "im selling"], answered="where did you get my number") == (
        "im selling"
    )
    # A reply interrupted before it was answered: both turns reach the brain together.
    assert _unanswered(["where did you get my number", "put me on your do not call list"], answered="") == (
        "where did you get my number put me on your do not call list"
    )
    # Nothing new: nothing to answer.
    assert _unanswered(["hello"], answered="hello") == ""
    # A context that no longer holds what was answered (a test call restarted it): the latest turn.
    assert _unanswered(["yes"], answered="something else") == "yes"
