"""The ElevenLabs client module against a local server speaking ElevenLabs' stream wire format."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from integrations.elevenlabs.client import ElevenLabsError, ElevenLabsSpeech, is_configured
from tests.elevenlabs_replay import API_KEY, Reply, elevenlabs_replay_server, tone

pytestmark = pytest.mark.asyncio

TEXT = "Hi, this is Joe calling about your house."


async def _collect(speech: ElevenLabsSpeech, *, text: str = TEXT, sample_rate: int = 8000) -> bytes:
    return b"".join([chunk async for chunk in speech.stream(text=text, sample_rate=sample_rate)])


async def test_it_streams_raw_pcm_at_the_pipelines_rate(settings: Any) -> None:
    async with elevenlabs_replay_server(settings, Reply(audio_ms=400)) as server:
        speech = ElevenLabsSpeech.from_settings()
        stream = speech.stream(text=TEXT, sample_rate=8000)
        audio = b"".join([chunk async for chunk in stream])
        await speech.aclose()

    assert audio == tone(rate=8000, ms=400)
    [request] = server.requests
    assert request.method == "POST"
    assert request.path == f"/v1/text-to-speech/{settings.ELEVENLABS_VOICE_ID}/stream"
    assert request.query == {"output_format": ["pcm_8000"]}
    assert request.headers["xi-api-key"] == API_KEY
    assert request.body == {"text": TEXT, "model_id": "eleven_flash_v2_5"}
    assert (stream.accepted, stream.request_id, stream.character_cost) == (True, "Xq2Zt7yV0cN4bK9wLm3P", 21)


async def test_it_asks_for_16_khz_when_elevenlabs_has_no_pcm_at_the_pipelines_rate(settings: Any) -> None:
    async with elevenlabs_replay_server(settings) as server:
        speech = ElevenLabsSpeech.from_settings()
        stream = speech.stream(text=TEXT, sample_rate=44100)
        audio = b"".join([chunk async for chunk in stream])
        await speech.aclose()

    assert server.requests[0].query == {"output_format": ["pcm_16000"]}
    assert stream.sample_rate == 16000
    assert audio == tone(rate=16000, ms=400)


async def test_it_keeps_one_connection_for_a_calls_sentences(settings: Any) -> None:
    async with elevenlabs_replay_server(settings) as server:
        speech = ElevenLabsSpeech.from_settings()
        await _collect(speech, text="First sentence.")
        await _collect(speech, text="Second sentence.")
        await speech.aclose()

    assert [r.body["text"] for r in server.requests] == ["First sentence.", "Second sentence."]
    assert server.connections == 1


@pytest.mark.parametrize(
    ("status", "fixture", "code", "words"),
    [
        (401, "stream_401_invalid_api_key.json", "invalid_api_key", "refused the API key or its quota (HTTP 401"),
        (401, "stream_401_quota_exceeded.json", "quota_exceeded", "You have 0 credits remaining"),
        (429, "stream_429_too_many_concurrent_requests.json", "too_many_concurrent_requests", "rate limiting"),
        (500, "stream_500_internal_error.json", "internal_server_error", "ElevenLabs failed (HTTP 500"),
        (502, "stream_502_bad_gateway.html", None, "The server encountered a temporary error"),
    ],
)
async def test_it_raises_one_error_type_for_every_refusal(
    settings: Any, status: int, fixture: str, code: str | None, words: str
) -> None:
    async with elevenlabs_replay_server(settings, Reply("error", status=status, fixture=fixture)):
        speech = ElevenLabsSpeech.from_settings()
        stream = speech.stream(text=TEXT, sample_rate=8000)
        with pytest.raises(ElevenLabsError) as raised:
            async for _ in stream:
                pass
        await speech.aclose()

    assert (raised.value.status_code, raised.value.code) == (status, code)
    assert words in str(raised.value)
    # Refused requests are not billed.
    assert not stream.accepted


async def test_it_gives_up_on_a_server_that_sends_nothing(settings: Any) -> None:
    loop = asyncio.get_running_loop()
    async with elevenlabs_replay_server(settings, Reply("stall")):
        speech = ElevenLabsSpeech.from_settings()
        started = loop.time()
        with pytest.raises(ElevenLabsError, match=r"sent no audio for 0\.3 s"):
            await _collect(speech)
        waited = loop.time() - started
        await speech.aclose()

    assert settings.ELEVENLABS_TIMEOUT_S == 0.3
    # The deadline, not httpx's per-phase timeouts, decides; allow for a busy machine.
    assert 0.3 <= waited < 0.45


async def test_it_gives_up_on_audio_that_stalls_mid_sentence(settings: Any) -> None:
    async with elevenlabs_replay_server(settings, Reply("stall_mid_audio", audio_ms=200)):
        speech = ElevenLabsSpeech.from_settings()
        stream = speech.stream(text=TEXT, sample_rate=8000)
        received = bytearray()
        with pytest.raises(ElevenLabsError, match="sent no audio for"):
            async for chunk in stream:
                received += chunk
        await speech.aclose()

    assert bytes(received) == tone(rate=8000, ms=200)
    assert stream.accepted


async def test_it_raises_when_the_connection_drops_mid_sentence(settings: Any) -> None:
    async with elevenlabs_replay_server(settings, Reply("die_mid_audio", audio_ms=200)):
        speech = ElevenLabsSpeech.from_settings()
        with pytest.raises(ElevenLabsError, match="connection failed: RemoteProtocolError"):
            await _collect(speech)
        await speech.aclose()


async def test_it_rejects_a_200_without_audio(settings: Any) -> None:
    async with elevenlabs_replay_server(settings, Reply(audio_ms=0)):
        speech = ElevenLabsSpeech.from_settings()
        with pytest.raises(ElevenLabsError, match="200 with no audio"):
            await _collect(speech)
        await speech.aclose()


async def test_it_rejects_a_200_that_carries_json_instead_of_audio(settings: Any) -> None:
    async with elevenlabs_replay_server(
        settings, Reply("error", status=200, fixture="stream_401_invalid_api_key.json")
    ):
        speech = ElevenLabsSpeech.from_settings()
        stream = speech.stream(text=TEXT, sample_rate=8000)
        with pytest.raises(ElevenLabsError, match="200 with application/json instead of audio"):
            async for _ in stream:
                pass
        await speech.aclose()

    assert not stream.accepted


async def test_it_has_no_premium_voice_without_an_api_key(settings: Any) -> None:
    settings.ELEVENLABS_API_KEY = ""

    assert not is_configured()
    with pytest.raises(ElevenLabsError, match="ELEVENLABS_API_KEY is empty"):
        ElevenLabsSpeech.from_settings()
