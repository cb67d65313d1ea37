"""Pipecat STT and TTS services on the process-wide local models.

Pipecat's own WhisperSTTService and PiperTTSService load their model in
__init__ (once per call) and Piper's tries a hub download when the voice is not
in its cache folder. These subclasses take the models from voice.engines
instead and keep everything else of the pinned pipecat-ai 1.14 behaviour.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import numpy as np
from django.conf import settings
from pipecat.frames.frames import ErrorFrame, Frame, TranscriptionFrame
from pipecat.services.piper.tts import PiperTTSService
from pipecat.services.tts_service import TTSService
from pipecat.services.whisper.stt import WhisperSTTService
from pipecat.transcriptions.language import Language
from pipecat.utils.time import time_now_iso8601

from voice import engines


class LocalWhisperSTTService(WhisperSTTService):
    """faster-whisper on the shared model, with a configurable beam (Pipecat's is fixed at 5)."""

    def __init__(self, **kwargs: Any) -> None:
        settings_ = WhisperSTTService.Settings(model=str(engines.whisper_model_dir()), language=Language.EN)
        super().__init__(settings=settings_, device="cpu", compute_type=settings.WHISPER_COMPUTE_TYPE, **kwargs)
        self._beam_size = settings.WHISPER_BEAM_SIZE

    def _load(self) -> None:
        self._model = engines.whisper_model()

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
        samples = np.frombuffer(audio, dtype=np.int16).astype(np.float32) / 32768.0
        text = await asyncio.to_thread(engines.transcribe, samples, beam_size=self._beam_size)
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
