"""<Play> and <Say> in the emulator: files fetched, decoded and played in real time, and heard by a voicemail box.

Audio files come from a small local server; calls are placed with the
project's own Twilio client, and TwiML updates go through it too.
"""

from __future__ import annotations

import asyncio
import struct
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import web

from emulator import audio
from emulator.call import EmulatedCall
from emulator.persona import Persona, registry_load, step_from_dict
from emulator.server import EmulatorServer
from integrations.twilio.client import (
    OutboundCall,
    call_create,
    call_end,
    call_update_twiml,
    rest_client,
    twiml_play_then_hangup,
)
from tests.voice.emulator_far_end import Agent, FarEnd

pytestmark = pytest.mark.asyncio

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "emulator-test-token"
LEAD = "+14155550199"
CALLER = "+14155550100"
TONE_S = 0.4
MESSAGE = "Hi, this is Alex from Bayside Realty. Please call us back."


@pytest.fixture(autouse=True)
def _twilio_settings(settings: Any, tmp_path: Path) -> None:
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT, TOKEN
    settings.EMULATOR_OUTPUT_DIR = str(tmp_path / "emulator")
    audio.warm_up()


def wav_file(samples: bytes, *, tag: int, bits: int, rate: int, channels: int = 1) -> bytes:
    """Build a RIFF/WAVE file by hand: the `wave` module writes PCM only, not mu-law."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", len(body)) + body


def sine(rate: int, seconds: float = TONE_S, hz: float = 440.0) -> np.ndarray[Any, np.dtype[np.int16]]:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * hz * t) * 12000).astype(np.int16)


@asynccontextmanager
async def media_server(files: dict[str, tuple[str, bytes]]) -> AsyncIterator[str]:
    """Serve {path: (content type, body)} on a free port; yield the base URL."""

    async def serve(request: web.Request) -> web.Response:
        if request.path not in files:
            return web.Response(status=404, text="not found")
        content_type, body = files[request.path]
        return web.Response(body=body, content_type=content_type)

    app = web.Application()
    app.router.add_get("/{name}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def run_twiml(settings: Any, twiml: str, lead: Persona | None = None) -> EmulatedCall:
    """Place a call that runs `twiml` directly (no voice webhook) and wait for it to end."""
    async with EmulatorServer() as emulator:
        emulator.assign(LEAD, lead or Persona(name="listens", steps=(), ring_s=0.2, max_call_s=30))
        settings.TWILIO_API_BASE_URL = emulator.base_url
        client = rest_client()
        instance = await asyncio.to_thread(client.calls.create, to=LEAD, from_=CALLER, twiml=twiml)
        return await emulator.wait_call(str(instance.sid), timeout=30)


def loud_frames(track: bytes) -> int:
    return sum(audio.frame_rms(f) > audio.SPEECH_RMS for f in audio.frames(track))


def events(call: EmulatedCall, name: str) -> list[dict[str, Any]]:
    return call.timeline.find(name)


PCM16_STEREO_16K = wav_file(np.repeat(sine(16000), 2).astype("<i2").tobytes(), tag=1, bits=16, rate=16000, channels=2)
PCM8_8K = wav_file(((sine(8000).astype(np.int32) >> 8) + 128).astype(np.uint8).tobytes(), tag=1, bits=8, rate=8000)
MULAW_8K = wav_file(audio.ulaw_encode(sine(8000)), tag=7, bits=8, rate=8000)


@pytest.mark.parametrize("wav", [PCM16_STEREO_16K, PCM8_8K, MULAW_8K], ids=["pcm16-stereo-16k", "pcm8", "mulaw"])
async def test_it_plays_a_wav_file_to_the_lead_in_real_time(settings: Any, wav: bytes) -> None:
    async with media_server({"/tone.wav": ("audio/wav", wav)}) as base:
        call = await run_twiml(settings, f"<Response><Play>{base}/tone.wav</Play><Hangup/></Response>")

    [fetched] = events(call, "media_fetched")
    assert (fetched["http_status"], fetched["content_type"], fetched["bytes"]) == (200, "audio/wav", len(wav))
    [play], [ended] = events(call, "play"), events(call, "play_ended")
    frames = round(TONE_S * 1000 / audio.FRAME_MS)
    assert (play["duration_ms"], play["loop"], play["line_ms"]) == (frames * audio.FRAME_MS, 1, 0)
    assert (ended["played_ms"], ended["interrupted"]) == (frames * audio.FRAME_MS, False)
    # Real time: playing took as long as the audio lasts (less one 20 ms frame, sent at its start).
    assert ended["t_ms"] - play["t_ms"] >= frames * audio.FRAME_MS - 2 * audio.FRAME_MS
    assert frames - 2 <= loud_frames(bytes(call.agent_track)) <= frames
    assert len(call.lead_track) == len(call.agent_track) and not loud_frames(bytes(call.lead_track))
    assert [e["verb"] for e in events(call, "twiml_verb")] == ["Play", "Hangup"]
    assert call.status == "completed" and not events(call, "error")


async def test_it_logs_a_file_it_cannot_fetch_or_play_and_goes_on_to_say(settings: Any) -> None:
    files = {"/page.html": ("text/html", b"<html></html>"), "/song.wav": ("audio/wav", b"ID3 not a wav")}
    async with media_server(files) as base:
        twiml = (
            f"<Response><Play>{base}/missing.wav</Play><Play>{base}/page.html</Play>"
            f"<Play>{base}/song.wav</Play><Say>Goodbye for now.</Say></Response>"
        )
        call = await run_twiml(settings, twiml)

    assert [e.get("code") for e in events(call, "error")] == [11200, 13420, 13420]
    assert [e["http_status"] for e in events(call, "media_fetched")] == [404, 200, 200]
    assert events(call, "play") == []
    [say] = events(call, "say")
    assert say["text"] == "Goodbye for now." and say["duration_ms"] > 500
    assert loud_frames(bytes(call.agent_track)) > 10
    assert call.status == "completed"


async def test_it_stops_playing_when_the_call_is_ended_through_the_api(settings: Any) -> None:
    async with media_server({"/tone.wav": ("audio/wav", MULAW_8K)}) as base, EmulatorServer() as emulator:
        emulator.assign(LEAD, Persona(name="listens", steps=(), ring_s=0.2, max_call_s=30))
        settings.TWILIO_API_BASE_URL = emulator.base_url
        client = rest_client()
        twiml = f'<Response><Play loop="0">{base}/tone.wav</Play></Response>'
        instance = await asyncio.to_thread(client.calls.create, to=LEAD, from_=CALLER, twiml=twiml)
        call = emulator.calls[str(instance.sid)]
        await call.timeline.wait_for("play", timeout=10)
        await asyncio.sleep(0.6)
        await asyncio.to_thread(call_end, sid=call.sid)
        await emulator.wait_call(call.sid, timeout=10)

    [play], [ended] = events(call, "play"), events(call, "play_ended")
    assert play["loop"] == 1000
    assert ended["interrupted"] is True and 400 <= ended["played_ms"] <= 2000
    assert call.status == "completed"


async def test_it_records_on_a_voicemail_what_a_play_sent_by_update_plays_after_the_stream(settings: Any) -> None:
    builtin = registry_load().get("voicemail")
    greeting = step_from_dict({"say": "Please leave a message after the tone."})
    machine = replace(builtin, ring_s=0.2, steps=(greeting, *builtin.steps[1:]))
    message = audio.synthesize(MESSAGE).value
    wav = wav_file(message, tag=7, bits=8, rate=8000)

    async with media_server({"/message.wav": ("audio/x-wav", wav)}) as base:

        async def agent(agent: Agent) -> None:
            # Like our app on "machine": replace the stream with <Play> of the message, then <Hangup/>.
            await asyncio.wait_for(agent.received.amd.wait(), 20)
            sid = agent.received.forms["amd"][0]["CallSid"]
            twiml = twiml_play_then_hangup(url=f"{base}/message.wav")
            await asyncio.to_thread(call_update_twiml, sid=sid, twiml=twiml)

        async with EmulatorServer() as emulator, FarEnd(agent) as far:
            emulator.assign(LEAD, machine)
            settings.TWILIO_API_BASE_URL = emulator.base_url
            outbound = OutboundCall(
                to=LEAD,
                from_=CALLER,
                voice_url=far.url("/voice"),
                status_callback_url=far.url("/status"),
                amd_callback_url=far.url("/amd"),
            )
            sid = await asyncio.to_thread(call_create, outbound)
            call = await emulator.wait_call(sid, timeout=60)

    assert far.received.messages[-1]["event"] == "stop"
    assert events(call, "stream_ending")[0]["reason"] == "redirect"
    assert [e["verb"] for e in events(call, "twiml_verb")] == ["Connect", "Play", "Hangup"]
    [play], [recorded] = events(call, "play"), events(call, "voicemail_recorded")
    # The machine started recording at its beep, on the stream, and kept recording through the <Play>.
    assert recorded["line_ms"] <= play["line_ms"]
    assert recorded["line_ms"] + recorded["duration_ms"] >= play["line_ms"] + play["duration_ms"] - audio.FRAME_MS
    assert "call us back" in recorded["text"].lower()
    with wave.open(str(call.output_dir / "voicemail.wav")) as saved:
        assert (saved.getframerate(), saved.getnframes()) == (8000, recorded["duration_ms"] * 8)
    assert events(call, "recording_stopped") == []  # the persona's script ended with the stream
    assert call.status == "completed"


def test_a_persona_says_a_line_the_same_way_on_every_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whole-call tests hang on what Whisper hears; Piper's generator noise made that differ from run to run.
    line = "Tuesday at ten in the morning works for me."
    first = audio.synthesize(line).value
    monkeypatch.setattr(audio, "_line_cache", {})
    again = audio.synthesize(line)

    assert again.ms > 0, "the second take came from the cache, not from Piper"
    assert again.value == first
