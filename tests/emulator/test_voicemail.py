"""An answering machine picks up: our app under daphne (the `live_app` fixture) against the emulator's voicemail.

The whole path is real: async AMD reports the machine after its beep, our AMD
webhook claims the call and its task updates the live call through the REST
API; the emulator stops the media stream (our session ends as on a hang-up)
and either plays the message it fetches from our signed WAV URL, recorded by
the machine, or ends the call.
"""

from __future__ import annotations

import re
import time
import wave
from dataclasses import replace
from difflib import SequenceMatcher
from typing import Any

import numpy as np
import pytest

from calls.models import Call, Campaign
from emulator import audio
from emulator.call import EmulatedCall
from emulator.persona import registry_load, step_from_dict
from emulator.server import emulator_in_thread
from integrations.twilio.client import OutboundCall, call_create
from tests.factories import CallFactory

CALLER = "+14155550100"
# The built-in voicemail persona (greeting, beep, record, hang up) with a short greeting, to keep the calls brief.
_BUILTIN = registry_load().get("voicemail")
MACHINE = replace(
    _BUILTIN, ring_s=0.3, steps=(step_from_dict({"say": "Please leave a message after the tone."}), *_BUILTIN.steps[1:])
)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def dial(live_app: str, emulator_port: int, settings: Any, call: Call) -> EmulatedCall:
    """Place the call through the emulator and wait for it to end and for our session to save its record."""
    with emulator_in_thread(port=emulator_port) as emulator:
        emulator.server.assign(call.lead.phone, MACHINE)
        settings.TWILIO_API_BASE_URL = emulator.server.base_url
        outbound = OutboundCall.to_our_webhooks(call_id=call.pk, to=call.lead.phone, from_=CALLER, base_url=live_app)
        sid = call_create(outbound)
        emulated = emulator.run(emulator.server.wait_call(sid, timeout=90))
    deadline = time.monotonic() + 30
    while not Call.objects.get(pk=call.pk).recording and time.monotonic() < deadline:
        time.sleep(0.2)
    call.refresh_from_db()
    return emulated


@pytest.mark.django_db(transaction=True)
def test_it_leaves_the_compliant_message_after_the_beep(live_app: str, emulator_port: int, settings: Any) -> None:
    audio.warm_up()
    # A fixed name: the factory's random one changes the audio, and with it what Whisper hears.
    call = CallFactory(lead__first_name="Maria", campaign__voicemail_action=Campaign.VoicemailAction.LEAVE_MESSAGE)

    emulated = dial(live_app, emulator_port, settings, call)

    timeline = emulated.timeline
    [amd] = timeline.find("amd_callback")
    assert (amd["http_status"], emulated.answered_by) == (204, "machine_end_beep")
    [update] = timeline.find("rest_update")
    # amd_callback is logged when our answer came back; the update may come before that (eager Celery).
    assert update["twiml"] is True and update["t_ms"] >= amd["t_ms"] - amd["ms"]
    assert timeline.find("stream_ending")[0]["reason"] == "redirect"
    assert [e["verb"] for e in timeline.find("twiml_verb")] == ["Connect", "Play", "Hangup"]
    [fetched], [play], [ended] = timeline.find("media_fetched"), timeline.find("play"), timeline.find("play_ended")
    assert fetched["url"].startswith(f"{live_app}/twilio/voicemail/{call.pk}/") and fetched["url"].endswith(".wav")
    assert (fetched["http_status"], fetched["content_type"]) == (200, "audio/wav")
    assert 10_000 < play["duration_ms"] < 20_000 and ended["interrupted"] is False
    # The machine recorded from its beep on, through our message.
    [recorded] = timeline.find("voicemail_recorded")
    assert recorded["line_ms"] <= play["line_ms"]
    with wave.open(str(emulated.output_dir / "voicemail.wav")) as saved:
        pcm = np.frombuffer(saved.readframes(saved.getnframes()), dtype="<i2")
    start = (play["line_ms"] - recorded["line_ms"]) * 8
    message = pcm[start : start + play["duration_ms"] * 8]
    assert message.size > 8000 * 10 and np.sqrt(np.mean(message.astype(np.float64) ** 2)) > 500

    assert (call.status, call.answered_by, call.outcome) == ("completed", "machine", "voicemail")
    said = call.summary.removeprefix("An answering machine picked up. Left this message: ")
    assert said.startswith("Hi") and "Maria, this is Alex, an AI assistant calling for Bayside Realty." in said, said
    assert "say stop" in said and call.duration_seconds == emulated.duration_s
    # The box kept the message whole and intelligible. What went before it (our opening, cut by the
    # redirect) depends on timing, so only the message is transcribed; Whisper tiny on 8 kHz audio
    # mishears a spoken "AI" ("aye", "ais") from one CPU to the next, so the words are compared as a
    # whole rather than one by one.
    heard = words(audio.transcribe(audio.ulaw_encode(message)).value)
    assert SequenceMatcher(None, words(said), heard).ratio() > 0.8, heard
    assert "assistant" in heard and "back" in heard and "list" in heard, heard


@pytest.mark.django_db(transaction=True)
def test_it_hangs_up_on_the_machine_when_the_campaign_says_so(live_app: str, emulator_port: int, settings: Any) -> None:
    audio.warm_up()
    call = CallFactory(campaign__voicemail_action=Campaign.VoicemailAction.HANG_UP)

    emulated = dial(live_app, emulator_port, settings, call)

    timeline = emulated.timeline
    [amd], [update] = timeline.find("amd_callback"), timeline.find("rest_update")
    assert amd["http_status"] == 204 and update["status"] == "completed"
    assert update["t_ms"] - (amd["t_ms"] - amd["ms"]) < 3000
    assert timeline.find("stream_ending")[0]["reason"] == "api"
    assert timeline.find("play") == [] and timeline.find("media_fetched") == []
    assert [e["verb"] for e in timeline.find("twiml_verb")] == ["Connect"]

    assert (call.status, call.answered_by, call.outcome) == ("completed", "machine", "voicemail")
    assert call.summary == "An answering machine picked up. The campaign hangs up on machines, so no message was left."
