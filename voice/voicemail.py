"""The voicemail message as a file Twilio can <Play>: Piper speech as 8 kHz WAV, served at calls.voicemail's URL.

The audio is cached per text: it is rendered when the task is about to hand
Twilio the URL (calls.signals.voicemail_leaving), so Twilio's fetch (and any
repeat of it) is a cache hit.
"""

from __future__ import annotations

import hashlib
import io
import wave

import numpy as np
import soxr
from django.core.cache import cache

from voice import engines

CACHE_TIMEOUT_S = 24 * 60 * 60
RATE = 8000  # what the phone line carries; Twilio would resample anything else itself


def voicemail_wav(*, text: str) -> bytes:
    """Return `text` spoken by the Piper voice as 8 kHz mono 16-bit WAV, synthesized once per text.

    Args:
        text: the whole message; must have words in it.

    Returns:
        A complete WAV file (RIFF header and PCM data).
    """
    if not text.strip():
        raise ValueError("a voicemail message must have words in it")
    key = "voicemail-wav:" + hashlib.sha256(f"{engines.piper_voice_path()}\n{text}".encode()).hexdigest()
    wav = cache.get(key)
    if not isinstance(wav, bytes):
        wav = _render(text)
        cache.set(key, wav, CACHE_TIMEOUT_S)
    return wav


def on_voicemail_leaving(sender: object, *, text: str, **kwargs: object) -> None:
    """Receive calls.signals.voicemail_leaving (connected in voice.apps): render the message now."""
    voicemail_wav(text=text)


def _render(text: str) -> bytes:
    voice = engines.piper_voice()
    chunks = list(voice.synthesize(text))
    pcm = np.concatenate([chunk.audio_int16_array for chunk in chunks])
    line = np.asarray(soxr.resample(pcm, chunks[0].sample_rate, RATE, quality="HQ"), dtype=np.int16)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(line.astype("<i2").tobytes())
    return out.getvalue()
