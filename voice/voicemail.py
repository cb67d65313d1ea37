"""The voicemail message as a file Twilio can <Play>: Piper speech as 8 kHz WAV behind a signed, per-call URL.

The URL carries a signed token naming the call, so the file is served only for
calls we placed and only for a while, whatever Twilio does or does not sign on
a media fetch. The audio is cached per text: the task renders it before it
hands Twilio the URL, so Twilio's fetch (and any repeat of it) is a cache hit.
"""

from __future__ import annotations

import hashlib
import io
import wave

import numpy as np
import soxr
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.urls import reverse

from voice import engines

_SALT = "reautomation.voice.voicemail"
# Twilio fetches the file a second or two after the REST update; a quarter of an
# hour also covers a retried fetch and a slow queue, and nothing much longer.
TOKEN_MAX_AGE_S = 15 * 60
CACHE_TIMEOUT_S = 24 * 60 * 60
RATE = 8000  # what the phone line carries; Twilio would resample anything else itself


def voicemail_token_issue(*, call_id: int) -> str:
    """Return a signed, timestamped token for one call's voicemail audio URL."""
    return signing.TimestampSigner(salt=_SALT).sign(str(call_id))


def voicemail_token_call_id(*, token: str) -> int | None:
    """Return the call id a valid, fresh token was issued for, or None."""
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=TOKEN_MAX_AGE_S)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


def voicemail_url(*, call_id: int) -> str:
    """Return the public URL, with a fresh token, that Twilio fetches the call's message from."""
    token = voicemail_token_issue(call_id=call_id)
    path = reverse("twilio:voicemail_audio", kwargs={"call_id": call_id, "token": token})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


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
