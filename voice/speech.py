"""Pipecat STT and TTS services on the process-wide local models.

Pipecat's own WhisperSTTService and PiperTTSService load their model in
__init__ (once per call) and Piper's tries a hub download when the voice is not
in its cache folder. These subclasses take the models from voice.engines
instead and keep everything else of the pinned pipecat-ai 1.14 behaviour.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.utils import timezone
from pipecat.frames.frames import (
    ErrorFrame,
    Frame,
    InterruptionFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.piper.tts import PiperTTSService
from pipecat.services.tts_service import TTSService
from pipecat.services.whisper.stt import WhisperSTTService
from pipecat.transcriptions.language import Language
from pipecat.utils.time import time_now_iso8601

from integrations.elevenlabs.client import ElevenLabsError, ElevenLabsSpeech, is_configured
from voice import engines

logger = logging.getLogger(__name__)


# Words leads say on these calls that Whisper tiny.en mishears without context ("selling" as "filling").
DOMAIN_VOCABULARY = "Selling, buying, listing, realtor, pre-approved, mortgage, escrow, condo, duplex, do not call."


def stt_prompt(names: Sequence[str] = ()) -> str:
    """Return the text Whisper is prompted with: the call's names, then the real-estate vocabulary.

    Args:
        names: the campaign's business, agent and broker names and the lead's own; blanks are skipped.

    Returns:
        A short text for `voice.engines.transcribe(prompt=...)`.
    """
    unique = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    return f"{', '.join(unique)}. {DOMAIN_VOCABULARY}" if unique else DOMAIN_VOCABULARY


# Whisper needs a moment of the line before a short word: "Yep." cut right where the voice starts comes back
# as nothing, "Yeah." as "Yeah. Yeah.", and half a second of quiet ahead of them fixes both. A segment
# normally starts with a second of the line before the speech (Pipecat keeps that much); one that starts
# right after the previous segment ended has less, and gets quiet put in front. The VAD fires this far into
# the words (its start_secs, 0.2 s, plus a margin), so that much of the buffer at its start is speech.
LEAD_IN_SECS = 0.5
_VAD_START_LAG_SECS = 0.3


def lead_in_padding(buffered_at_start: int, sample_rate: int) -> bytes:
    """Return the silence (16-bit PCM) that gives a segment LEAD_IN_SECS of the line before its words.

    Args:
        buffered_at_start: bytes of audio the segment's buffer held when the VAD said the lead started.
        sample_rate: the segment's sample rate.
    """
    wanted = int((LEAD_IN_SECS + _VAD_START_LAG_SECS) * sample_rate) * 2
    return bytes(max(0, wanted - buffered_at_start) // 2 * 2)


class LocalWhisperSTTService(WhisperSTTService):
    """faster-whisper on the shared model, with a configurable beam (Pipecat's is fixed at 5).

    Args:
        vocabulary: names said on this call (campaign business, agent, brokers, the lead), which
            Whisper is prompted with, beside the real-estate words, when WHISPER_PROMPT is on.
        **kwargs: Pipecat STTService options, passed on.
    """

    def __init__(self, *, vocabulary: Sequence[str] = (), **kwargs: Any) -> None:
        settings_ = WhisperSTTService.Settings(model=str(engines.whisper_model_dir()), language=Language.EN)
        super().__init__(settings=settings_, device="cpu", compute_type=settings.WHISPER_COMPUTE_TYPE, **kwargs)
        self._beam_size = settings.WHISPER_BEAM_SIZE
        self.prompt = stt_prompt(vocabulary) if settings.WHISPER_PROMPT else ""
        # Seconds Whisper spent on this call's speech, for the cost ledger (billing).
        self.compute_s = 0.0
        # Every text transcribed on this call, in order: the session finds the words no turn answered in it.
        self.transcripts: list[str] = []
        self._segment_in_flight: bytes | None = None
        self._buffered_at_start = 0

    def _load(self) -> None:
        self._model = engines.whisper_model()

    def unheard_segments(self) -> list[bytes]:
        """Return the lead's speech that was never transcribed, as 16-bit PCM segments in the order spoken.

        For after the pipeline has stopped (the lead hung up): the segment Whisper
        was working on, those queued behind it, and the speech still going on when
        the line went dead, which no pause ever ended.
        """
        segments = [self._segment_in_flight] if self._segment_in_flight else []
        while not self._segment_queue.empty():
            segment = self._segment_queue.get_nowait()
            if segment:
                segments.append(segment)
        if self._user_speaking and self._audio_buffer:
            lead_in = lead_in_padding(self._buffered_at_start, self.sample_rate)
            segments.append(lead_in + bytes(self._audio_buffer) + self._trailing_silence())
        self._segment_in_flight = None
        self._audio_buffer.clear()
        self._user_speaking = False
        return segments

    async def _handle_user_started_speaking(self, frame: VADUserStartedSpeakingFrame) -> None:
        self._buffered_at_start = len(self._audio_buffer)
        await super()._handle_user_started_speaking(frame)

    async def _handle_user_stopped_speaking(self, frame: VADUserStoppedSpeakingFrame) -> None:
        if self._audio_buffer:
            self._audio_buffer[:0] = lead_in_padding(self._buffered_at_start, self.sample_rate)
        await super()._handle_user_stopped_speaking(frame)

    async def transcribe_unheard(self) -> list[str]:
        """Transcribe `unheard_segments()` here, outside the pipeline; return the texts, which join `transcripts`."""
        texts = []
        for segment in self.unheard_segments():
            text = await self._transcribe(segment)
            if text:
                texts.append(text)
        return texts

    async def _transcribe(self, audio: bytes) -> str:
        samples = np.frombuffer(audio, dtype=np.int16).astype(np.float32) / 32768.0
        started = time.perf_counter()
        text = await asyncio.to_thread(engines.transcribe, samples, beam_size=self._beam_size, prompt=self.prompt)
        self.compute_s += time.perf_counter() - started
        if text:
            self.transcripts.append(text)
        return text

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame, None]:
        """Transcribe one VAD segment of 16-bit PCM.

        Args:
            audio: raw little-endian int16 mono PCM at the pipeline input rate.

        Returns:
            An async generator of one TranscriptionFrame, or nothing for silence.
        """
        model = self._model
        if model is None:
            yield ErrorFrame("Whisper model not available")
            return
        await self.start_processing_metrics()
        self._segment_in_flight = audio
        text = await self._transcribe(audio)
        self._segment_in_flight = None
        await self.stop_processing_metrics()
        if text:
            yield TranscriptionFrame(text, self._user_id, time_now_iso8601(), Language.EN)


class LocalPiperTTSService(PiperTTSService):
    """Piper on the shared, package-bundled voice."""

    def __init__(self, **kwargs: Any) -> None:
        # Skip PiperTTSService.__init__: it loads (or downloads) the voice per
        # instance. Its run_tts only needs self._voice.
        TTSService.__init__(
            self,
            push_start_frame=True,
            push_stop_frames=True,
            settings=PiperTTSService.Settings(model=None, voice=engines.piper_voice_path().stem, language=None),
            **kwargs,
        )
        self._voice = engines.piper_voice()
        # Seconds Piper spent on this call's sentences (a phrase-cache hit costs ~0), for the cost ledger.
        self.compute_s = 0.0

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame, None]:
        """Speak one sentence, from the process-wide phrase cache when it was said before.

        Args:
            text: one sentence from the TTS service's aggregator.
            context_id: Pipecat's id for this reply.

        Returns:
            An async generator of the sentence's audio frames at the output rate.
        """
        await self.start_tts_usage_metrics(text)
        started = time.perf_counter()
        try:
            pcm = await asyncio.to_thread(engines.speech_pcm, text.strip(), self.sample_rate)
        except Exception as exc:  # noqa: BLE001 - a Piper failure must not take the call down with it
            yield ErrorFrame(error=f"Piper could not say {text!r}: {exc}")
            return
        finally:
            self.compute_s += time.perf_counter() - started

        async def once() -> AsyncGenerator[bytes, None]:
            yield pcm

        async for frame in self._stream_audio_frames_from_iterator(
            once(), in_sample_rate=self.sample_rate, context_id=context_id
        ):
            await self.stop_ttfb_metrics()
            yield frame


class PremiumTTSService(LocalPiperTTSService):
    """ElevenLabs speech for premium calls, with Piper taking over for good at ElevenLabs' first failure.

    A standard call starts on Piper (`elevenlabs=False`) and moves to
    ElevenLabs with `upgrade()` when its lead's score crosses
    PREMIUM_SCORE_THRESHOLD mid-call; a call that has left ElevenLabs, for a
    failure or the budget, is never moved back.

    When ElevenLabs errors, times out or drops mid-sentence, Piper
    speaks that sentence at once and every later one, and the caller hears no
    gap over half a second. Waiting out ELEVENLABS_TIMEOUT_S and only then
    synthesizing the sentence with Piper would not fit in that half second
    (0.3 s plus 0.3 s to over 1 s for a sentence on a busy 2-core host), so
    when no speech is queued to play in front of a sentence, Piper prepares
    its first few words while ElevenLabs is asked for it; the spare is dropped
    once ElevenLabs has spoken the sentence. A sentence ElevenLabs cut off is repeated whole,
    because the plain stream endpoint does not say which words its audio covered.

    Billing reads `elevenlabs_characters` (text ElevenLabs accepted with a 200,
    which is what it bills), `elevenlabs_credits` (the sum of its
    `character-cost` headers, where sent), `piper_characters`, `fell_back_at`
    and `fallback_reason`; `upgraded_at` says when a call that started on
    Piper moved to ElevenLabs.

    Args:
        elevenlabs: speak with ElevenLabs from the first sentence; False starts on Piper until `upgrade()`.
        **kwargs: Pipecat TTSService options, passed on.
    """

    def __init__(self, *, elevenlabs: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Made on first use, inside the call's event loop, and kept for the call.
        self._speech: ElevenLabsSpeech | None = None
        self._on_elevenlabs = elevenlabs
        # Left ElevenLabs for a failure or the budget: Piper for the rest of the call.
        self._fallen_back = False
        # When the audio handed on so far will have played (time.monotonic()).
        self._playout_end = 0.0
        self.elevenlabs_characters = 0
        self.elevenlabs_credits = 0
        self.piper_characters = 0
        self.fell_back_at: datetime | None = None
        self.fallback_reason = ""
        self.upgraded_at: datetime | None = None

    @property
    def engine(self) -> str:
        """Return the engine that speaks the call's next sentence: "elevenlabs" or "piper"."""
        return "elevenlabs" if self._on_elevenlabs else "piper"

    @property
    def can_upgrade(self) -> bool:
        """Return whether `upgrade()` would move the call to ElevenLabs: it is on Piper and never fell back."""
        return not self._on_elevenlabs and not self._fallen_back

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if isinstance(frame, InterruptionFrame):
            # The queued speech is dropped, so none covers the next sentence's wait.
            self._playout_end = 0.0
        await super().process_frame(frame, direction)

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame, None]:
        """Speak one sentence with ElevenLabs, or with Piper once ElevenLabs has failed.

        Args:
            text: the sentence.
            context_id: Pipecat's audio context for it.

        Returns:
            An async generator of TTSAudioRawFrames (and Piper's ErrorFrame if Piper fails too).
        """
        async for frame in self._speak(text, context_id):
            if isinstance(frame, TTSAudioRawFrame):
                start = max(time.monotonic(), self._playout_end)
                self._playout_end = start + len(frame.audio) / (2 * frame.sample_rate * frame.num_channels)
            yield frame

    async def _speak(self, text: str, context_id: str) -> AsyncGenerator[Frame, None]:
        spare = None
        if self._on_elevenlabs:
            queued_s = self._playout_end - time.monotonic()
            spare = self._prepare_spare(text, context_id) if queued_s < SPARE_UNLESS_QUEUED_S else None
            failed = False
            try:
                async for frame in self._speak_elevenlabs(text, context_id):
                    yield frame
                return
            except ElevenLabsError as exc:
                failed = True
                self._fall_back(exc)
            finally:
                # ElevenLabs spoke the sentence, even if downgrade() was called meanwhile: the spare goes unused.
                if spare is not None and not failed:
                    spare.task.cancel()
        self.piper_characters += len(text)
        async for frame in self._speak_piper(text, context_id, spare):
            yield frame

    async def _speak_elevenlabs(self, text: str, context_id: str) -> AsyncGenerator[Frame, None]:
        if self._speech is None:
            self._speech = ElevenLabsSpeech.from_settings()
        audio = self._speech.stream(text=text, sample_rate=self.sample_rate)
        try:
            async for frame in self._stream_audio_frames_from_iterator(
                aiter(audio), in_sample_rate=audio.sample_rate, context_id=context_id
            ):
                await self.stop_ttfb_metrics()
                yield frame
        finally:
            # ElevenLabs bills what it accepted, even if the audio then broke off.
            if audio.accepted:
                self.elevenlabs_characters += len(text)
                self.elevenlabs_credits += audio.character_cost or 0

    async def _speak_piper(self, text: str, context_id: str, spare: _Spare | None) -> AsyncGenerator[Frame, None]:
        if spare is not None:
            for frame in await spare.task:
                yield frame
            text = spare.rest
        if text:
            async for frame in super().run_tts(text, context_id):
                yield frame

    def _prepare_spare(self, text: str, context_id: str) -> _Spare:
        lead_in, rest = _split_lead_in(text)

        async def synthesize() -> list[Frame]:
            # LocalPiperTTSService's own path, so the spare shares its phrase cache and Piper lock.
            return [frame async for frame in LocalPiperTTSService.run_tts(self, lead_in, context_id)]

        task = asyncio.create_task(synthesize())
        # A spare that is dropped is never awaited; don't let asyncio log its result as lost.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        return _Spare(lead_in=lead_in, rest=rest, task=task)

    def upgrade(self, *, reason: str) -> bool:
        """Speak the call's following sentences with ElevenLabs, unless it already left ElevenLabs for good.

        A sentence being spoken when this is called finishes with Piper.

        Args:
            reason: why, for the log.

        Returns:
            Whether ElevenLabs speaks the next sentence.
        """
        if self._fallen_back:
            logger.info("this call stays on Piper (%s) although %s", self.fallback_reason, reason)
            return False
        if not self._on_elevenlabs:
            self._on_elevenlabs = True
            self.upgraded_at = timezone.now()
            logger.info("this call continues with ElevenLabs: %s", reason)
        return True

    def downgrade(self, *, reason: str) -> None:
        """Speak the rest of the call with Piper, as after a failure; for a budget that no longer allows ElevenLabs.

        A call still on Piper (never upgraded) is left as it is, so it may be upgraded later.

        Args:
            reason: why, kept as `fallback_reason`.
        """
        if not self._on_elevenlabs:
            return
        self._on_elevenlabs = False
        self._fallen_back = True
        self.fell_back_at = timezone.now()
        self.fallback_reason = reason
        logger.info("this call continues with Piper: %s", reason)

    def _fall_back(self, exc: ElevenLabsError) -> None:
        self._on_elevenlabs = False
        self._fallen_back = True
        self.fell_back_at = timezone.now()
        self.fallback_reason = str(exc)
        logger.warning(
            "ElevenLabs failed, so this call continues with Piper: %s",
            exc,
            extra={"elevenlabs_status": exc.status_code, "elevenlabs_code": exc.code},
        )

    async def cleanup(self) -> None:
        await super().cleanup()
        if self._speech is not None:
            await self._speech.aclose()
            self._speech = None


# With this much speech still queued to play, Piper can start a sentence from
# scratch after ElevenLabs' timeout without a gap over half a second, so no
# spare is made: spares cost ~0.1 s of CPU each and are usually thrown away.
# That leaves spares for the first sentence of each reply.
SPARE_UNLESS_QUEUED_S = 1.0
# Piper needs ~0.1 s for three words on an idle 2-core host and up to ~0.4 s
# when other calls keep both cores busy (a long sentence: 0.3 s and over 1 s),
# so the spare is ready by the time ELEVENLABS_TIMEOUT_S runs out. The rest of
# the sentence is synthesized while those words play.
LEAD_IN_WORDS = 3


@dataclass
class _Spare:
    """Piper's frames for a sentence's opening words, made while ElevenLabs is asked for the sentence."""

    lead_in: str
    rest: str
    task: asyncio.Task[list[Frame]]


def _split_lead_in(text: str) -> tuple[str, str]:
    """Split off the opening words, up to the first clause break or LEAD_IN_WORDS words."""
    words = text.split()
    lead_in: list[str] = []
    for word in words[:LEAD_IN_WORDS]:
        lead_in.append(word)
        if word.endswith((",", ";", ":", ".", "?", "!")):
            break
    return " ".join(lead_in), " ".join(words[len(lead_in) :])


# Call.VoiceTier.PREMIUM; a string here so this module needs no models.
PREMIUM_TIER = "premium"


def tts_service_for(*, tier: str, **kwargs: Any) -> TTSService:
    """Return the text-to-speech service for a call's voice tier.

    Args:
        tier: the call's `voice_tier` ("standard" or "premium").
        **kwargs: Pipecat TTSService options, passed on.

    Returns:
        When ELEVENLABS_API_KEY is set, PremiumTTSService: on ElevenLabs for a premium call, on Piper
        for a standard one (so the session can upgrade it mid-call). Else LocalPiperTTSService.
    """
    if is_configured():
        return PremiumTTSService(elevenlabs=tier == PREMIUM_TIER, **kwargs)
    if tier == PREMIUM_TIER:
        logger.warning("Premium voice asked for but ELEVENLABS_API_KEY is empty; the call speaks with Piper")
    return LocalPiperTTSService(**kwargs)
