"""Per-turn voice latency: where the time between the lead's last word and our first audio went."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    LLMTextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.observers.base_observer import BaseObserver, FramePushed


def _ms(start: float, end: float | None) -> int | None:
    return None if end is None else max(0, round((end - start) * 1000))


@dataclass
class TurnLatency:
    """Wall-clock marks of one lead turn (time.time() seconds)."""

    speech_end: float
    vad_stop: float
    transcript: float | None = None
    lead_text: str = ""
    brain_text: float | None = None
    tts_audio: float | None = None
    media_out: float | None = None

    def breakdown(self) -> dict[str, int | None]:
        """Return each stage in ms from the end of the lead's speech."""
        return {
            "vad_stop_ms": _ms(self.speech_end, self.vad_stop),
            "stt_ms": _ms(self.speech_end, self.transcript),
            "brain_first_text_ms": _ms(self.speech_end, self.brain_text),
            "tts_first_audio_ms": _ms(self.speech_end, self.tts_audio),
            "latency_ms": _ms(self.speech_end, self.media_out),
        }


class LatencyObserver(BaseObserver):
    """Record, for each lead turn, when each stage first produced output."""

    def __init__(self) -> None:
        super().__init__(observe_every_push=False)
        self.turns: list[TurnLatency] = []

    @property
    def _open(self) -> TurnLatency | None:
        turn = self.turns[-1] if self.turns else None
        return turn if turn is not None and turn.media_out is None else None

    async def on_push_frame(self, data: FramePushed) -> None:
        frame, now = data.frame, time.time()
        if isinstance(frame, VADUserStoppedSpeakingFrame):
            # VAD only calls the turn over after stop_secs of silence; the
            # lead actually stopped talking that long before.
            self.turns.append(TurnLatency(speech_end=frame.timestamp - frame.stop_secs, vad_stop=frame.timestamp))
            return
        turn = self._open
        if turn is None:
            return
        if isinstance(frame, TranscriptionFrame):
            # A long pause splits one utterance into several transcripts; the
            # last one is what the brain answers.
            turn.transcript, turn.lead_text = now, frame.text
        elif isinstance(frame, LLMTextFrame) and turn.brain_text is None and turn.transcript is not None:
            turn.brain_text = now
        elif isinstance(frame, TTSAudioRawFrame) and turn.tts_audio is None and turn.brain_text is not None:
            turn.tts_audio = now

    def media_sent(self) -> None:
        """Mark the first media frame sent to Twilio after the turn's audio was ready."""
        turn = self._open
        if turn is not None and turn.tts_audio is not None:
            turn.media_out = time.time()

    def completed(self) -> list[TurnLatency]:
        return [t for t in self.turns if t.media_out is not None]

    async def breakdown_of(self, lead_text: str, *, timeout_s: float) -> dict[str, int | None] | None:
        """Wait until the reply to `lead_text` has left (first media out), then return its breakdown in ms.

        Returns None when no such turn completes within timeout_s (the reply
        was cut off, or TTS failed).
        """
        wanted = lead_text.strip()
        for _ in range(int(timeout_s / 0.05)):
            for turn in reversed(self.completed()):
                if turn.lead_text.strip() and turn.lead_text.strip() in wanted:
                    return turn.breakdown()
            await asyncio.sleep(0.05)
        return None


class SpeakingObserver(BaseObserver):
    """Count the bot's speaking spans, so the session can tell when a goodbye has been handed over."""

    def __init__(self) -> None:
        super().__init__(observe_every_push=False)
        self.speaking = False
        self.stopped_count = 0

    async def span_done(self, *, timeout_s: float) -> None:
        """Return once the bot's next speaking span has ended (or after timeout_s, in case speech never came).

        The farewell is pushed just before a call ends; this waits until it has
        all been handed to the transport.
        """
        seen = self.stopped_count
        for _ in range(int(timeout_s / 0.05)):
            await asyncio.sleep(0.05)
            if self.stopped_count > seen and not self.speaking:
                return

    async def span_ended_since(self, stopped_count: int, *, timeout_s: float) -> None:
        """Return once a speaking span has ended since `stopped_count` was read and the bot is quiet (or on timeout).

        For a filler said while the brain thought: a goodbye that follows must be
        a span of its own, since the hang-up waits for the first span to end after it.
        """
        for _ in range(int(timeout_s / 0.05)):
            if self.stopped_count > stopped_count and not self.speaking:
                return
            await asyncio.sleep(0.05)

    async def on_push_frame(self, data: FramePushed) -> None:
        if isinstance(data.frame, BotStartedSpeakingFrame):
            self.speaking = True
        elif isinstance(data.frame, BotStoppedSpeakingFrame) and self.speaking:
            self.speaking = False
            self.stopped_count += 1
