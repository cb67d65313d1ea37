"""The premium voice: ElevenLabs through Pipecat, the mid-call upgrade and the fall back to Piper.

ElevenLabs is a local server replaying its stream wire format
(tests/elevenlabs_replay.py); Piper is the real bundled voice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from unittest.mock import patch

import pytest
from pipecat.frames.frames import DataFrame, Frame, TTSAudioRawFrame, TTSSpeakFrame
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.pipeline.worker import PipelineParams
from pipecat.processors.frame_processor import FrameDirection
from pipecat.tests.utils import run_test

from calls.models import Call
from tests.elevenlabs_replay import API_KEY, Reply, elevenlabs_replay_server, tone
from voice.speech import LocalPiperTTSService, PremiumTTSService, tts_service_for

pytestmark = pytest.mark.asyncio

# Twilio's rate, as in voice/bot.py: ElevenLabs is asked for exactly this, so its bytes reach the frames unchanged.
OUT_RATE = 8000
FIRST = "Hi, this is Joe from Acme Homes."
SECOND = "Is now a good time?"
# Sentences no other test speaks: Piper's phrase cache must not have them ready.
UNCACHED = "Hi, this is Joe again, calling about the house on Maple Street."
UNCACHED_TOO = "Thanks for taking my call about your place on Birch Avenue today."


class AudioClock(BaseObserver):
    """Note the loop time and bytes of every audio frame the service pushes."""

    def __init__(self, service: PremiumTTSService) -> None:
        super().__init__()
        self.service = service
        self.frames: list[tuple[float, bytes]] = []

    async def on_push_frame(self, data: FramePushed) -> None:
        if data.source is self.service and isinstance(data.frame, TTSAudioRawFrame):
            self.frames.append((asyncio.get_running_loop().time(), data.frame.audio))

    @property
    def audio(self) -> bytes:
        return b"".join(audio for _, audio in self.frames)

    def first_frame_after(self, prefix: bytes) -> float:
        """Return when the first frame past `prefix` bytes of audio (ElevenLabs') was pushed."""
        offset = 0
        for at, audio in self.frames:
            if offset >= len(prefix):
                return at
            offset += len(audio)
        raise AssertionError("no audio after the prefix")


class UpgradeFrame(DataFrame):
    """Where, between two sentences, the session's cost meter upgrades the call."""


class UpgradedMidCall(PremiumTTSService):
    """Calls upgrade() when an UpgradeFrame reaches it: after the sentences in front of it were spoken."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.upgraded: list[bool] = []

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if isinstance(frame, UpgradeFrame):
            self.upgraded.append(self.upgrade(reason="the lead scored 80"))
        await super().process_frame(frame, direction)


async def _speak(service: PremiumTTSService, *texts: str | Frame) -> AudioClock:
    clock = AudioClock(service)
    await run_test(
        service,
        frames_to_send=[TTSSpeakFrame(text) if isinstance(text, str) else text for text in texts],
        pipeline_params=PipelineParams(audio_out_sample_rate=OUT_RATE),
        observers=[clock],
    )
    return clock


async def test_it_speaks_a_premium_call_with_elevenlabs(settings: Any) -> None:
    async with elevenlabs_replay_server(settings, Reply(audio_ms=600)) as server:
        service = tts_service_for(tier=Call.VoiceTier.PREMIUM)
        assert isinstance(service, PremiumTTSService)
        clock = await _speak(service, FIRST)

    assert clock.audio == tone(rate=OUT_RATE, ms=600)
    [request] = server.requests
    assert request.method == "POST"
    assert request.path == f"/v1/text-to-speech/{settings.ELEVENLABS_VOICE_ID}/stream"
    assert request.query == {"output_format": ["pcm_8000"]}
    assert request.headers["xi-api-key"] == API_KEY
    assert request.body == {"text": FIRST, "model_id": settings.ELEVENLABS_MODEL_ID}
    assert (service.engine, service.fell_back_at, service.fallback_reason) == ("elevenlabs", None, "")
    assert (service.elevenlabs_characters, service.elevenlabs_credits, service.piper_characters) == (len(FIRST), 21, 0)


@pytest.mark.parametrize(
    ("status", "fixture"),
    [
        (401, "stream_401_invalid_api_key.json"),
        (401, "stream_401_quota_exceeded.json"),
        (429, "stream_429_too_many_concurrent_requests.json"),
        (500, "stream_500_internal_error.json"),
    ],
)
async def test_it_falls_back_to_piper_for_the_rest_of_the_call_when_elevenlabs_refuses(
    settings: Any, caplog: pytest.LogCaptureFixture, status: int, fixture: str
) -> None:
    async with elevenlabs_replay_server(settings, Reply("error", status=status, fixture=fixture), Reply()) as server:
        service = tts_service_for(tier=Call.VoiceTier.PREMIUM)
        assert isinstance(service, PremiumTTSService)
        with caplog.at_level(logging.WARNING, logger="voice.speech"):
            clock = await _speak(service, FIRST, SECOND)

    # Both sentences were spoken, by Piper: about a second each at 8 kHz.
    assert len(clock.audio) > OUT_RATE * 2 * 1.5
    # The second sentence never went to ElevenLabs, although it would have answered.
    assert [r.body["text"] for r in server.requests] == [FIRST]
    assert service.engine == "piper"
    assert service.fell_back_at is not None
    assert f"HTTP {status}" in service.fallback_reason
    assert (service.elevenlabs_characters, service.piper_characters) == (0, len(FIRST) + len(SECOND))
    [warning] = [r for r in caplog.records if r.name == "voice.speech"]
    assert "continues with Piper" in warning.getMessage()


async def test_it_starts_piper_within_half_a_second_when_elevenlabs_sends_nothing(settings: Any) -> None:
    async with elevenlabs_replay_server(settings, Reply("stall")) as server:
        service = tts_service_for(tier=Call.VoiceTier.PREMIUM)
        assert isinstance(service, PremiumTTSService)
        clock = await _speak(service, UNCACHED, SECOND)

    assert server.went_silent_at is not None and clock.frames
    # Issue #6: no silence longer than half a second. The silence starts when
    # the request reached ElevenLabs and ends with Piper's first audio frame.
    silence = clock.frames[0][0] - server.went_silent_at
    assert silence < 0.5, f"{silence:.3f} s of silence before Piper spoke"
    assert len(server.requests) == 1
    assert "sent no audio for 0.3 s" in service.fallback_reason
    # Nothing came from ElevenLabs, so nothing is billed at its rate.
    assert (service.elevenlabs_characters, service.piper_characters) == (0, len(UNCACHED) + len(SECOND))


async def test_it_starts_piper_within_half_a_second_when_elevenlabs_stalls_mid_sentence(settings: Any) -> None:
    async with elevenlabs_replay_server(settings, Reply("stall_mid_audio", audio_ms=200)) as server:
        service = tts_service_for(tier=Call.VoiceTier.PREMIUM)
        assert isinstance(service, PremiumTTSService)
        clock = await _speak(service, UNCACHED_TOO, SECOND)

    elevenlabs_audio = tone(rate=OUT_RATE, ms=200)
    assert clock.audio.startswith(elevenlabs_audio)
    assert server.went_silent_at is not None
    silence = clock.first_frame_after(elevenlabs_audio) - server.went_silent_at
    assert silence < 0.5, f"{silence:.3f} s of silence before Piper spoke"
    assert len(server.requests) == 1
    # ElevenLabs accepted (and bills) the first sentence; Piper then said it whole, and the next.
    assert (service.elevenlabs_characters, service.piper_characters) == (
        len(UNCACHED_TOO),
        len(UNCACHED_TOO) + len(SECOND),
    )


async def test_it_falls_back_when_the_connection_drops_mid_sentence(settings: Any) -> None:
    async with elevenlabs_replay_server(settings, Reply("die_mid_audio", audio_ms=200), Reply()) as server:
        service = tts_service_for(tier=Call.VoiceTier.PREMIUM)
        assert isinstance(service, PremiumTTSService)
        clock = await _speak(service, FIRST, SECOND)

    elevenlabs_audio = tone(rate=OUT_RATE, ms=200)
    assert clock.audio.startswith(elevenlabs_audio)
    assert len(clock.audio) > len(elevenlabs_audio) + OUT_RATE * 2 * 1.5
    assert len(server.requests) == 1
    assert service.engine == "piper"
    assert "RemoteProtocolError" in service.fallback_reason


async def test_it_speaks_a_premium_call_with_piper_when_no_api_key_is_set(settings: Any) -> None:
    settings.ELEVENLABS_API_KEY = ""

    service = tts_service_for(tier=Call.VoiceTier.PREMIUM)

    assert type(service) is LocalPiperTTSService


async def test_it_speaks_a_standard_call_with_piper_ready_for_an_upgrade_when_an_api_key_is_set(
    settings: Any,
) -> None:
    settings.ELEVENLABS_API_KEY = API_KEY

    service = tts_service_for(tier=Call.VoiceTier.STANDARD)

    assert type(service) is PremiumTTSService
    assert (service.engine, service.can_upgrade) == ("piper", True)
    settings.ELEVENLABS_API_KEY = ""
    assert type(tts_service_for(tier=Call.VoiceTier.STANDARD)) is LocalPiperTTSService


async def test_it_speaks_the_sentences_after_an_upgrade_with_elevenlabs(settings: Any) -> None:
    async with elevenlabs_replay_server(settings, Reply(audio_ms=600)) as server:
        service = UpgradedMidCall(elevenlabs=False)
        clock = await _speak(service, FIRST, UpgradeFrame(), SECOND)

    # Piper said the first sentence (about a second at 8 kHz), ElevenLabs the second.
    elevenlabs_audio = tone(rate=OUT_RATE, ms=600)
    assert clock.audio.endswith(elevenlabs_audio) and len(clock.audio) > len(elevenlabs_audio) + OUT_RATE * 2 * 0.5
    assert [r.body["text"] for r in server.requests] == [SECOND]
    assert service.upgraded == [True]
    assert (service.engine, service.can_upgrade, service.fell_back_at) == ("elevenlabs", False, None)
    assert service.upgraded_at is not None
    assert (service.elevenlabs_characters, service.elevenlabs_credits, service.piper_characters) == (
        len(SECOND),
        21,
        len(FIRST),
    )


async def test_it_refuses_an_upgrade_after_elevenlabs_failed(settings: Any) -> None:
    error = Reply("error", status=500, fixture="stream_500_internal_error.json")
    async with elevenlabs_replay_server(settings, error, Reply()) as server:
        service = UpgradedMidCall()
        await _speak(service, FIRST, UpgradeFrame(), SECOND)

    assert service.upgraded == [False]
    assert [r.body["text"] for r in server.requests] == [FIRST]
    assert (service.engine, service.can_upgrade, service.upgraded_at) == ("piper", False, None)
    assert "HTTP 500" in service.fallback_reason
    assert (service.elevenlabs_characters, service.piper_characters) == (0, len(FIRST) + len(SECOND))


async def test_it_refuses_an_upgrade_after_a_downgrade_for_the_budget(settings: Any) -> None:
    async with elevenlabs_replay_server(settings) as server:
        service = PremiumTTSService()
        service.downgrade(reason="the budget no longer allows ElevenLabs")
        assert not service.upgrade(reason="the lead scored 80")
        await _speak(service, FIRST)

    assert server.requests == []
    assert (service.engine, service.upgraded_at) == ("piper", None)
    assert service.fallback_reason == "the budget no longer allows ElevenLabs"


async def test_it_leaves_a_call_that_never_spoke_elevenlabs_free_to_upgrade_after_a_downgrade() -> None:
    service = PremiumTTSService(elevenlabs=False)

    service.downgrade(reason="the budget no longer allows ElevenLabs")

    assert (service.fell_back_at, service.fallback_reason, service.can_upgrade) == (None, "", True)
    assert service.upgrade(reason="the lead scored 80")
    assert service.engine == "elevenlabs"


async def test_it_falls_back_to_piper_at_once_when_elevenlabs_stalls_after_an_upgrade(settings: Any) -> None:
    async with elevenlabs_replay_server(settings, Reply("stall"), Reply()) as server:
        service = PremiumTTSService(elevenlabs=False)
        assert service.upgrade(reason="the lead scored 80")
        with patch.object(
            PremiumTTSService, "_prepare_spare", autospec=True, side_effect=PremiumTTSService._prepare_spare
        ) as prepare_spare:
            clock = await _speak(service, UNCACHED, SECOND)

    # As on a call dialed premium: Piper prepared the sentence's first words while ElevenLabs was asked,
    # said it once ElevenLabs had sent nothing for ELEVENLABS_TIMEOUT_S, and said the next one too.
    assert [call.args[1] for call in prepare_spare.call_args_list] == [UNCACHED]
    assert len(clock.audio) > OUT_RATE * 2 * 1.5
    assert [r.body["text"] for r in server.requests] == [UNCACHED]
    assert (service.engine, service.can_upgrade) == ("piper", False)
    assert "sent no audio for 0.3 s" in service.fallback_reason
    assert (service.elevenlabs_characters, service.piper_characters) == (0, len(UNCACHED) + len(SECOND))


async def test_it_closes_its_elevenlabs_connection_when_the_pipeline_ends(settings: Any) -> None:
    async with elevenlabs_replay_server(settings):
        service = tts_service_for(tier=Call.VoiceTier.PREMIUM)
        assert isinstance(service, PremiumTTSService)
        await _speak(service, FIRST)

    assert service._speech is None


async def test_it_prepares_piper_only_for_sentences_with_nothing_queued_in_front(settings: Any) -> None:
    async with elevenlabs_replay_server(settings, Reply(audio_ms=1500)):
        service = tts_service_for(tier=Call.VoiceTier.PREMIUM)
        assert isinstance(service, PremiumTTSService)
        with patch.object(
            PremiumTTSService, "_prepare_spare", autospec=True, side_effect=PremiumTTSService._prepare_spare
        ) as prepare_spare:
            clock = await _speak(service, FIRST, SECOND)

    # The second sentence had a second and a half of the first in front of it.
    assert [call.args[1] for call in prepare_spare.call_args_list] == [FIRST]
    # The spare was thrown away: every byte is ElevenLabs'.
    assert clock.audio == tone(rate=OUT_RATE, ms=1500) * 2


async def test_it_builds_a_premium_calls_pipeline_around_elevenlabs(settings: Any) -> None:
    from voice.bot import build_pipeline
    from voice.transport import SocketBridge

    settings.ELEVENLABS_API_KEY = API_KEY

    async def nothing() -> None:
        return None

    async def send(_message: str) -> None:
        return None

    class Brain:
        async def opening(self) -> Any: ...
        async def respond(self, text: str, *, hold: Any = None) -> Any: ...
        async def finish(self) -> None: ...

    def build(tier: str) -> Any:
        return build_pipeline(
            bridge=SocketBridge(send=send, close=nothing),
            stream_sid="MZ1",
            conversation=Brain(),
            on_end_call=nothing,
            on_turn=lambda _t: None,
            voice_tier=tier,
        ).tts

    assert build(Call.VoiceTier.PREMIUM).engine == "elevenlabs"
    # A standard call starts on Piper, and its cost meter may upgrade it.
    assert build(Call.VoiceTier.STANDARD).engine == "piper"
