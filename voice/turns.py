"""When has the lead finished talking? Silero VAD, Smart Turn and the transcript, together.

The VAD calls a pause after 0.2 s of silence; Smart Turn v3 then judges from
the audio whether the turn is over. On phone-band (8 kHz mu-law) speech Smart
Turn is often wrong in both directions: it calls "Oh, hi." or "No thanks,"
complete and "Alright, bye." incomplete (p 0.01), and an "incomplete" verdict
means waiting out its silence limit before answering. Whisper's punctuation and
the last word are a second opinion we already have in hand when the decision is
made, so:

- a transcript that is plainly a fragment (a trailing comma or conjunction, a
  lone greeting) holds the turn open a little longer for the rest;
- a transcript that ends a sentence closes the turn even when Smart Turn hesitates;
- otherwise Smart Turn decides.
"""

from __future__ import annotations

import asyncio
import enum
import re
import time
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings
from pipecat.audio.turn.smart_turn.base_smart_turn import BaseSmartTurn, SmartTurnParams
from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3
from pipecat.audio.vad.silero import SileroOnnxModel, SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADAnalyzer, VADParams
from pipecat.frames.frames import BotStoppedSpeakingFrame, Frame, InputAudioRawFrame, VADUserStoppedSpeakingFrame
from pipecat.turns.types import ProcessFrameResult
from pipecat.turns.user_start import (
    BaseUserTurnStartStrategy,
    TranscriptionUserTurnStartStrategy,
    VADUserTurnStartStrategy,
)
from pipecat.turns.user_stop.turn_analyzer_user_turn_stop_strategy import TurnAnalyzerUserTurnStopStrategy

if TYPE_CHECKING:
    import onnxruntime

# Words after which nobody stops: the lead is still mid-sentence.
# fmt: off
_DANGLING = frozenset({
    "and", "but", "so", "or", "because", "cause", "if", "that", "the", "a", "an", "to", "of", "with",
    "my", "our", "for", "in", "on", "at", "um", "uh", "er", "like", "which", "who", "when", "than", "then",
})
# fmt: on
# Greetings and fillers people pause after ("Oh, hi." ... "we are thinking of
# selling"). "Yes" and "okay" are left out: alone they are whole answers.
_OPENERS = frozenset(["hi", "hello", "hey", "oh", "well", "um", "uh", "so", "hmm", "look"])
_WORD = re.compile(r"[a-z']+")
# About -40 dBFS: well above a phone line's hiss, well below a voice.
SPEECH_RMS = 330.0
# The VAD's start_secs (0.2 s) plus a margin.
SPEECH_RESUME_GRACE_SECS = 0.3


def _is_speech(pcm: bytes) -> bool:
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    return bool(samples.size) and float(np.sqrt(np.mean(samples * samples))) > SPEECH_RMS


class Verdict(enum.Enum):
    FRAGMENT = "fragment"
    COMPLETE = "complete"
    UNSURE = "unsure"


def text_verdict(text: str) -> Verdict:
    """Judge from a transcript alone whether the speaker has finished.

    Args:
        text: Whisper's transcript of everything the lead said this turn.

    Returns:
        FRAGMENT when the words plainly continue, COMPLETE when they end a
        sentence, UNSURE otherwise.
    """
    stripped = text.strip()
    words = _WORD.findall(stripped.lower())
    if not words:
        return Verdict.UNSURE
    if stripped.endswith((",", "...", "-", "\u2026")) or words[-1] in _DANGLING:
        return Verdict.FRAGMENT
    if len(words) <= 2 and all(w in _OPENERS for w in words) and not stripped.endswith("?"):
        return Verdict.FRAGMENT
    if stripped.endswith((".", "?", "!")):
        return Verdict.COMPLETE
    return Verdict.UNSURE


@cache
def smart_turn_session() -> onnxruntime.InferenceSession:
    """Return the process-wide Smart Turn v3 ONNX session (bundled in pipecat-ai).

    Pipecat's analyzer loads the model in every instance, i.e. once per call;
    ONNX Runtime sessions are safe to run from several threads at once.
    """
    analyzer = LocalSmartTurnAnalyzerV3(cpu_count=1)
    return analyzer._session


@cache
def silero_session() -> onnxruntime.InferenceSession:
    """Return the process-wide Silero VAD ONNX session (bundled in pipecat-ai)."""
    return SileroVADAnalyzer()._model.session


class _SileroOnSharedSession(SileroOnnxModel):
    """Silero's per-stream state (context, RNN state) over the shared session."""

    def __init__(self, session: onnxruntime.InferenceSession) -> None:
        # Skip SileroOnnxModel.__init__: it opens a new ONNX session.
        self.session = session
        self.reset_states()
        self.sample_rates = [8000, 16000]


class SharedSileroVADAnalyzer(SileroVADAnalyzer):
    """Silero VAD with per-call state on the process-wide model (Pipecat loads one per call)."""

    def __init__(self, *, params: VADParams | None = None) -> None:
        VADAnalyzer.__init__(self, params=params)
        self._model = _SileroOnSharedSession(silero_session())
        self._windows_since_reset = 0
        self._low_confidence_windows = 0


class SharedSmartTurnAnalyzer(LocalSmartTurnAnalyzerV3):
    """Smart Turn v3 with per-call state on the process-wide model."""

    def __init__(self, *, params: SmartTurnParams | None = None) -> None:
        # Skip LocalSmartTurnAnalyzerV3.__init__: it builds a new ONNX session.
        BaseSmartTurn.__init__(self, params=params)
        self._log_data = False
        self._session = smart_turn_session()


class TranscriptAwareTurnStop(TurnAnalyzerUserTurnStopStrategy):
    """End the lead's turn on Smart Turn's verdict, overruled by a clear transcript.

    Args:
        fragment_hold_secs: how much longer to wait for more speech after a
            transcript that is plainly unfinished.
        min_silence_secs: the shortest silence, from the end of the lead's
            speech, that ends a turn. The VAD reports a pause after 0.2 s so
            Whisper can start early, but people pause 0.3-0.5 s between
            sentences ("Oh, hi. [0.3 s] Yes, we're thinking of selling.");
            answering the first half talks over the second.
        max_hold_secs: the longest any hold lasts, from the end of speech,
            however much line noise sounds like more speech.
    """

    def __init__(
        self, *, fragment_hold_secs: float, min_silence_secs: float, max_hold_secs: float, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._max_hold_secs = max_hold_secs
        self._fragment_hold_secs = fragment_hold_secs
        self._min_silence_secs = min_silence_secs
        self._speech_end = 0.0
        self._held = False
        self._hold_deadline = 0.0

    async def _handle_vad_user_stopped_speaking(self, frame: VADUserStoppedSpeakingFrame) -> None:
        # The VAD reports the stop `stop_secs` after the last word.
        self._speech_end = frame.timestamp - frame.stop_secs
        await super()._handle_vad_user_stopped_speaking(frame)
        if self._vad_user_speaking:
            # The lead went on while Smart Turn was deciding (its verdict comes
            # from a worker thread, late on a busy CPU): that verdict is stale.
            await self._discard_pending_end_of_turn()

    async def _maybe_trigger_user_turn_stopped(self) -> None:
        if self._held or self._vad_user_speaking:
            return
        if self._vad_stopped and self._transcript_finalized and self._text:
            verdict = text_verdict(self._text)
            if verdict is Verdict.FRAGMENT:
                await self._hold_until(time.time() + self._fragment_hold_secs)
                return
            if verdict is Verdict.COMPLETE:
                self._turn_complete = True
            quiet_until = self._speech_end + self._min_silence_secs
            if self._turn_complete and time.time() < quiet_until:
                await self._hold_until(quiet_until)
                return
        await super()._maybe_trigger_user_turn_stopped()

    async def _handle_input_audio(self, frame: InputAudioRawFrame) -> None:
        # The VAD only reports that the lead is talking again after 0.2 s of
        # speech; a hold that ran out in that gap would answer half a sentence.
        if self._held and _is_speech(frame.audio):
            latest = self._speech_end + self._max_hold_secs
            self._hold_deadline = min(max(self._hold_deadline, time.time() + SPEECH_RESUME_GRACE_SECS), latest)
        await super()._handle_input_audio(frame)

    async def _hold_until(self, deadline: float) -> None:
        # The base class cancels _timeout_task when the VAD hears the lead
        # again, which is exactly when a hold must be dropped.
        self._held = True
        self._hold_deadline = deadline
        self._turn_complete = False
        if self._timeout_task:
            await self.task_manager.cancel_task(self._timeout_task)
        self._timeout_task = self.task_manager.create_task(self._release_hold(), f"{self}::hold")

    async def _release_hold(self) -> None:
        try:
            while (left := self._hold_deadline - time.time()) > 0:
                await asyncio.sleep(left)
        except asyncio.CancelledError:
            return
        finally:
            self._timeout_task = None
        self._turn_complete = True
        await self.trigger_user_turn_stopped()

    async def _reset(self) -> None:
        self._held = False
        await super()._reset()

    async def _discard_pending_end_of_turn(self) -> None:
        self._held = False
        await super()._discard_pending_end_of_turn()


def turn_stop_strategy() -> TranscriptAwareTurnStop:
    """Return a call's turn-end strategy, configured from settings."""
    analyzer = SharedSmartTurnAnalyzer(params=SmartTurnParams(stop_secs=settings.TURN_MAX_PAUSE_SECS))
    return TranscriptAwareTurnStop(
        turn_analyzer=analyzer,
        fragment_hold_secs=settings.TURN_FRAGMENT_HOLD_SECS,
        min_silence_secs=settings.TURN_MIN_SILENCE_SECS,
        max_hold_secs=settings.TURN_MAX_PAUSE_SECS,
    )


# The opening carries the AI disclosure and how to opt out, so nothing the lead
# says may cut it off. Muting the lead until it ends (Pipecat's
# MuteUntilFirstBotComplete) would also throw away what they said, a "stop
# calling me" included. Instead the lead is heard from the first moment, their
# turn is answered as usual, and only the interruption of the opening is withheld:
# the answer is spoken right after the opening.
class _OpeningKeptVADStart(VADUserTurnStartStrategy):
    def __init__(self) -> None:
        super().__init__(enable_interruptions=False)

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        if isinstance(frame, BotStoppedSpeakingFrame):
            self._enable_interruptions = True
        return await super().process_frame(frame)


class _OpeningKeptTranscriptionStart(TranscriptionUserTurnStartStrategy):
    def __init__(self) -> None:
        super().__init__(enable_interruptions=False)

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        if isinstance(frame, BotStoppedSpeakingFrame):
            self._enable_interruptions = True
        return await super().process_frame(frame)


def turn_start_strategies() -> list[BaseUserTurnStartStrategy]:
    """Return a call's turn-start strategies: Pipecat's defaults, except that nothing interrupts the opening."""
    return [_OpeningKeptVADStart(), _OpeningKeptTranscriptionStart()]
