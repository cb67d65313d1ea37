"""Voicemail on a live call a machine answered: the message, its audio, and the Twilio request that leaves it.

The message is Piper speech as 8 kHz WAV, served at calls.voicemail's URL. The
audio is cached per text: it is rendered just before Twilio is handed the URL,
so Twilio's fetch (and any repeat of it) is a cache hit.
"""

from __future__ import annotations

import hashlib
import io
import wave

import numpy as np
import soxr
from django.core.cache import cache

from agents import prompts
from calls.models import Call, Campaign
from calls.selectors import call_get
from calls.voicemail import voicemail_url
from integrations.twilio.client import call_end, call_update_twiml, twiml_play_then_hangup
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


def call_voicemail_message(*, call_id: int) -> str | None:
    """Return the message this call leaves on an answering machine, from its campaign and lead, or None."""
    call = call_get(call_id=call_id)
    if call is None:
        return None
    campaign = call.campaign
    return prompts.voicemail_message(
        agent_name=campaign.agent_name,
        business_name=campaign.business_name,
        call_purpose=campaign.call_purpose,
        callback_number=campaign.callback_number,
        first_name=call.lead.first_name,
    )


def call_machine_handle(*, call_id: int, action: str) -> None:
    """Leave the voicemail message on a live call, or end it, as calls.services.call_machine_answered() decided.

    Leaving the message replaces the call's TwiML with <Play> of our rendered
    message and <Hangup/>; Twilio stops the media stream, and the agent's
    session ends as if the lead had hung up.

    Raises:
        TwilioError: when Twilio refuses the request (the call already ended) or cannot be reached.
        ValueError: for an action that is not a Campaign.VoicemailAction.
    """
    sid = Call.objects.values_list("twilio_sid", flat=True).get(pk=call_id) or ""
    if action == Campaign.VoicemailAction.HANG_UP:
        call_end(sid=sid)
        summary = "An answering machine picked up. The campaign hangs up on machines, so no message was left."
    elif action == Campaign.VoicemailAction.LEAVE_MESSAGE:
        text = call_voicemail_message(call_id=call_id) or ""
        # Rendered before Twilio is handed the URL, so its fetch a moment later is a cache hit.
        voicemail_wav(text=text)
        call_update_twiml(sid=sid, twiml=twiml_play_then_hangup(url=voicemail_url(call_id=call_id)))
        summary = f"An answering machine picked up. Left this message: {text}"
    else:
        raise ValueError(f"unknown voicemail action {action!r}")
    Call.objects.filter(pk=call_id).update(summary=summary)


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
