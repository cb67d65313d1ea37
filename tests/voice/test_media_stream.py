"""The media-stream consumer and its Pipecat pipeline, with the test playing Twilio.

The audio is real: the lead's lines are synthesised with Piper and streamed as
20 ms mu-law frames, Whisper transcribes them, and Piper speaks the replies.
The brain is a scripted stand-in here (the brain has its own persona suite);
what is under test is the voice path around it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.files.storage import default_storage
from django.db import connections

from calls.models import Call, TranscriptTurn
from emulator import audio as emulator_audio
from reautomation.asgi import application
from tests.factories import CallFactory
from tests.twilio_replay import ACCOUNT, twilio_replay_server
from voice.consumers import (
    CLOSE_BAD_FRAME,
    CLOSE_BUSY,
    CLOSE_FORBIDDEN,
    CLOSE_IDLE,
    CLOSE_NO_START,
    CLOSE_TOO_LARGE,
    TwilioMediaStreamConsumer,
)
from voice.stream_tokens import stream_token_issue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest_asyncio.fixture(autouse=True)
async def _close_thread_connections() -> AsyncIterator[None]:
    yield
    # The ORM calls above ran in asgiref's worker thread; close its connection
    # so PostgreSQL can drop the test database at the end of the session.
    await sync_to_async(connections.close_all)()


CALL_SID = "CA5f8e2b1c9d0a4e3f8b7c6d5e4f3a2b1c"
STREAM_SID = "MZ0123456789abcdef0123456789abcdef"
FRAME_BYTES = 160  # 20 ms of 8 kHz mu-law


@dataclass
class Reply:
    text: str
    end_call: bool = False


@dataclass
class ScriptedConversation:
    """A stand-in brain that answers from a script and records what it heard."""

    replies: list[Reply]
    heard: list[str] = field(default_factory=list)
    closed: bool = False

    async def opening(self) -> Reply:
        return Reply("Hi, this is Alex, an AI assistant with Bayside Realty.")

    async def respond(self, text: str, *, hold: Any = None) -> Reply:
        self.heard.append(text)
        return self.replies.pop(0) if self.replies else Reply("Thanks, goodbye.", end_call=True)

    async def wrap_up(self) -> Reply:
        return Reply("I need to let you go now. Goodbye.", end_call=True)

    async def silence(self) -> Reply:
        return Reply("Are you still there?")

    async def close(self) -> None:
        self.closed = True

    async def finish(self) -> None:
        raise AssertionError("a phone call's analysis runs in a worker, not in its socket")

    @property
    def compute_s(self) -> float:
        return 0.0

    @property
    def score(self) -> int | None:
        return None


def _speech_ulaw(text: str) -> bytes:
    # The emulator's lead voice: Piper, resampled to 8 kHz with soxr, G.711 mu-law.
    return bytes(emulator_audio.synthesize(text).value)


class FakeTwilio:
    """Speaks the Media Streams protocol from Twilio's side of the socket."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.ws = communicator
        self.sequence = 1
        self.chunk = 0
        self.outbound: list[dict[str, Any]] = []

    async def send(self, event: dict[str, Any]) -> None:
        await self.ws.send_to(text_data=json.dumps({**event, "sequenceNumber": str(self.sequence)}))
        self.sequence += 1

    async def start(self, *, call_id: int, token: str) -> None:
        await self.ws.send_to(text_data=json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await self.send(
            {
                "event": "start",
                "streamSid": STREAM_SID,
                "start": {
                    "accountSid": ACCOUNT,
                    "streamSid": STREAM_SID,
                    "callSid": CALL_SID,
                    "tracks": ["inbound"],
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                    "customParameters": {"call_id": str(call_id), "token": token},
                },
            }
        )

    async def stream(self, ulaw: bytes) -> None:
        """Send audio in real time, 20 ms a frame, collecting what comes back meanwhile."""
        started = time.monotonic()
        for n, i in enumerate(range(0, len(ulaw), FRAME_BYTES), start=1):
            frame = ulaw[i : i + FRAME_BYTES].ljust(FRAME_BYTES, b"\xff")
            self.chunk += 1
            await self.send(
                {
                    "event": "media",
                    "streamSid": STREAM_SID,
                    "media": {
                        "track": "inbound",
                        "chunk": str(self.chunk),
                        "timestamp": str(self.chunk * 20),
                        "payload": base64.b64encode(frame).decode(),
                    },
                }
            )
            await self.drain()
            await asyncio.sleep(max(0.0, started + n * 0.02 - time.monotonic()))

    async def silence(self, seconds: float) -> None:
        await self.stream(b"\xff" * int(8000 * seconds))

    async def drain(self) -> None:
        while not await self.ws.receive_nothing(timeout=0.001):
            message = await self.ws.receive_output()
            if message["type"] == "websocket.close":
                self.outbound.append({"event": "__closed__", "code": message.get("code")})
                return
            self.outbound.append(json.loads(message["text"]))

    def events(self, name: str) -> list[dict[str, Any]]:
        return [m for m in self.outbound if m.get("event") == name]

    async def wait_for(self, name: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events(name)
            if found:
                return found[-1]
            await self.silence(0.2)
        raise AssertionError(f"no {name!r} message within {timeout}s; got {[m.get('event') for m in self.outbound]}")


def _consumer_with(conversation: ScriptedConversation) -> Any:
    async def factory(call_id: int) -> ScriptedConversation:
        return conversation

    class Consumer(TwilioMediaStreamConsumer):
        conversation_factory = staticmethod(factory)

    return Consumer.as_asgi()


async def test_it_closes_a_stream_with_a_bad_token_before_any_pipeline() -> None:
    call = await Call.objects.acreate(**await _call_fields())
    conversation = ScriptedConversation(replies=[])
    communicator = WebsocketCommunicator(_consumer_with(conversation), "/twilio/stream/")
    connected, _ = await communicator.connect()
    assert connected
    twilio = FakeTwilio(communicator)
    await twilio.start(call_id=call.pk, token=stream_token_issue(call_id=call.pk + 1))
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}
    assert conversation.heard == [] and not conversation.closed
    await communicator.disconnect()


async def test_it_routes_twilio_streams_without_an_origin_header() -> None:
    communicator = WebsocketCommunicator(application, "/twilio/stream/")
    connected, _ = await communicator.connect()
    assert connected
    await communicator.disconnect()


async def test_it_closes_a_stream_that_sends_no_start_in_time(settings: Any) -> None:
    settings.MEDIA_START_TIMEOUT_S = 0.2
    communicator = WebsocketCommunicator(TwilioMediaStreamConsumer.as_asgi(), "/twilio/stream/")
    assert (await communicator.connect())[0]
    # `connected` carries no token, so it does not count as a start.
    await communicator.send_to(text_data=json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    assert await _closed_with(communicator) == CLOSE_NO_START
    await communicator.disconnect()


@pytest.mark.parametrize(
    "frame",
    [{"text_data": "{not json"}, {"text_data": '["a", "list"]'}, {"bytes_data": b"\x00\x01\x02"}],
    ids=["not-json", "json-without-event", "binary"],
)
async def test_it_closes_a_stream_that_sends_something_twilio_never_sends(frame: dict[str, Any]) -> None:
    communicator = WebsocketCommunicator(TwilioMediaStreamConsumer.as_asgi(), "/twilio/stream/")
    assert (await communicator.connect())[0]
    await communicator.send_to(**frame)
    assert await _closed_with(communicator) == CLOSE_BAD_FRAME
    await communicator.disconnect()


async def test_it_closes_a_stream_that_sends_a_frame_over_the_size_cap(settings: Any) -> None:
    settings.MEDIA_FRAME_MAX_BYTES = 1024
    communicator = WebsocketCommunicator(TwilioMediaStreamConsumer.as_asgi(), "/twilio/stream/")
    assert (await communicator.connect())[0]
    await communicator.send_to(text_data=json.dumps({"event": "connected", "padding": "x" * 900}))
    assert await communicator.receive_nothing(timeout=0.1)  # under the cap: read as usual
    await communicator.send_to(text_data=json.dumps({"event": "connected", "padding": "x" * 1100}))
    assert await _closed_with(communicator) == CLOSE_TOO_LARGE
    await communicator.disconnect()


async def test_it_refuses_streams_past_the_cap_until_one_authenticates(settings: Any) -> None:
    settings.MEDIA_PENDING_SOCKETS_MAX = 2
    call = await Call.objects.acreate(**await _call_fields())
    conversation = ScriptedConversation(replies=[])
    first, second, third, fourth = (
        WebsocketCommunicator(_consumer_with(conversation), "/twilio/stream/") for _ in range(4)
    )
    accepted: list[WebsocketCommunicator] = []
    try:
        for communicator in (first, second):
            assert (await communicator.connect())[0]
            accepted.append(communicator)
        assert await third.connect() == (False, CLOSE_BUSY)
        # An authenticated stream no longer counts against the cap.
        twilio = FakeTwilio(first)
        await twilio.start(call_id=call.pk, token=stream_token_issue(call_id=call.pk))
        await twilio.wait_for("media", timeout=20)
        assert (await fourth.connect())[0]
        accepted.append(fourth)
    finally:
        for communicator in accepted:
            await communicator.disconnect()
    assert not TwilioMediaStreamConsumer.pending


async def test_it_closes_a_call_that_goes_quiet_and_finishes_it(settings: Any) -> None:
    settings.MEDIA_IDLE_TIMEOUT_S = 0.2
    call = await Call.objects.acreate(**await _call_fields())
    conversation = ScriptedConversation(replies=[])
    communicator = WebsocketCommunicator(_consumer_with(conversation), "/twilio/stream/")
    assert (await communicator.connect())[0]
    try:
        await FakeTwilio(communicator).start(call_id=call.pk, token=stream_token_issue(call_id=call.pk))
        # Twilio sends nothing more: the agent's greeting may go out, then the socket is closed.
        assert await _closed_with(communicator) == CLOSE_IDLE
    finally:
        await communicator.disconnect()
    assert conversation.closed


async def test_it_runs_a_call_end_to_end_and_hangs_up_after_the_goodbye_is_heard(settings: Any) -> None:
    settings.MEDIA_ROOT = default_storage.location
    call = await Call.objects.acreate(**await _call_fields())
    conversation = ScriptedConversation(
        replies=[Reply("Great. When would you like to sell?"), Reply("Thanks for your time. Goodbye.", end_call=True)]
    )
    sell_line = await asyncio.to_thread(_speech_ulaw, "I want to sell my house.")
    when_line = await asyncio.to_thread(_speech_ulaw, "Sometime in the spring.")

    with twilio_replay_server(settings) as rest:
        rest.responses.append((200, "rest_call_update_completed_200.json"))
        communicator = WebsocketCommunicator(_consumer_with(conversation), "/twilio/stream/")
        await communicator.connect()
        try:
            twilio = FakeTwilio(communicator)
            await twilio.start(call_id=call.pk, token=stream_token_issue(call_id=call.pk))
            await twilio.wait_for("media", timeout=20)  # the opening starts playing
            await twilio.silence(4.0)
            await twilio.stream(sell_line)
            await twilio.silence(3.0)
            await twilio.stream(when_line)
            mark = await twilio.wait_for("mark", timeout=30)
            # Twilio echoes the mark once everything before it has played.
            await twilio.send({"event": "mark", "streamSid": STREAM_SID, "mark": {"name": mark["mark"]["name"]}})
            await twilio.wait_for("__closed__", timeout=10)
        finally:
            # Always let the consumer finish, or its session outlives this test's event loop.
            await communicator.disconnect()

    # What Twilio received: 8 kHz mu-law in Twilio's own message shape.
    media = twilio.events("media")
    assert media and all(m["streamSid"] == STREAM_SID for m in media)
    assert all(len(base64.b64decode(m["media"]["payload"])) > 0 for m in media)
    # The goodbye was marked after its audio, and hang-up went through the REST API.
    assert twilio.outbound.index(mark) > twilio.outbound.index(media[-1])
    (hangup,) = rest.requests
    assert hangup["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL_SID}.json"
    assert hangup["form"] == {"Status": ["completed"]}

    # Whisper heard the lead's real speech.
    assert len(conversation.heard) == 2
    assert "sell" in conversation.heard[0].lower()
    assert "spring" in conversation.heard[1].lower()
    assert conversation.closed

    turns = [t async for t in TranscriptTurn.objects.filter(call=call).order_by("index")]
    assert [t.speaker for t in turns] == ["agent", "lead", "agent", "lead", "agent"]
    assert turns[2].text == "Great. When would you like to sell?"
    answered = turns[2]
    assert answered.latency_ms is not None and answered.stt_ms is not None
    assert answered.vad_stop_ms is not None
    assert answered.vad_stop_ms <= answered.stt_ms <= answered.brain_first_text_ms  # type: ignore[operator]
    assert answered.brain_first_text_ms <= answered.tts_first_audio_ms <= answered.latency_ms  # type: ignore[operator]

    saved = await Call.objects.aget(pk=call.pk)
    assert saved.outcome == Call.Outcome.NONE  # the agent hung up; the brain, not the socket, sets the outcome
    with saved.recording.open("rb") as fh, wave.open(BytesIO(fh.read())) as wav:
        assert (wav.getnchannels(), wav.getframerate()) == (2, 8000)
        assert wav.getnframes() > 8000 * 5


async def test_it_finishes_the_call_when_the_lead_hangs_up_mid_sentence(settings: Any) -> None:
    call = await Call.objects.acreate(**await _call_fields())
    conversation = ScriptedConversation(replies=[Reply("Sure, tell me more about the house and the neighbourhood.")])
    line = await asyncio.to_thread(_speech_ulaw, "I might want to sell.")
    communicator = WebsocketCommunicator(_consumer_with(conversation), "/twilio/stream/")
    await communicator.connect()
    try:
        twilio = FakeTwilio(communicator)
        await twilio.start(call_id=call.pk, token=stream_token_issue(call_id=call.pk))
        await twilio.wait_for("media", timeout=20)
        await twilio.silence(4.0)
        await twilio.stream(line)
        await twilio.silence(1.5)  # the reply has started playing
        stop = {"accountSid": ACCOUNT, "callSid": CALL_SID}
        await twilio.send({"event": "stop", "streamSid": STREAM_SID, "stop": stop})
    finally:
        await communicator.disconnect()

    assert conversation.closed
    saved = await Call.objects.aget(pk=call.pk)
    assert saved.outcome == Call.Outcome.HUNG_UP
    speakers = [t.speaker async for t in TranscriptTurn.objects.filter(call=call).order_by("index")]
    assert speakers[:2] == ["agent", "lead"]


async def _closed_with(communicator: WebsocketCommunicator) -> int:
    """Skip what the consumer sends until it closes the socket, and return the close code."""
    while (message := await communicator.receive_output(timeout=20))["type"] != "websocket.close":
        pass
    return int(message["code"])


async def _call_fields() -> dict[str, Any]:
    # Factories are sync; build the related rows in a thread.
    call = await asyncio.to_thread(CallFactory.build)
    lead, campaign = call.lead, call.campaign
    await lead.asave()
    await campaign.asave()
    return {"lead": lead, "campaign": campaign, "status": Call.Status.IN_PROGRESS}


@dataclass
class ThinkingConversation(ScriptedConversation):
    """A brain whose every answer takes long enough for a filler, said through `hold` before the reply."""

    filler: str = "Hmm, let me think."

    async def respond(self, text: str, *, hold: Any = None) -> Reply:
        assert hold is not None, "the voice layer gives the brain a way to hold the line"
        await hold(self.filler)
        return await super().respond(text)


async def test_a_filler_is_heard_while_the_brain_thinks_and_the_goodbye_after_it_before_the_hang_up(
    settings: Any,
) -> None:
    call = await Call.objects.acreate(**await _call_fields())
    # Under load the line can reach the brain in two pieces, the second joined to the turn being answered and
    # asked again: every answer is the same goodbye.
    conversation = ThinkingConversation(replies=[Reply("Thanks for your time. Goodbye.", end_call=True)] * 3)
    line = await asyncio.to_thread(_speech_ulaw, "Ask my husband, he handles all that stuff.")

    with twilio_replay_server(settings) as rest:
        rest.responses.append((200, "rest_call_update_completed_200.json"))
        communicator = WebsocketCommunicator(_consumer_with(conversation), "/twilio/stream/")
        await communicator.connect()
        try:
            twilio = FakeTwilio(communicator)
            await twilio.start(call_id=call.pk, token=stream_token_issue(call_id=call.pk))
            await twilio.wait_for("media", timeout=20)
            await twilio.silence(4.0)
            opening_media = len(twilio.events("media"))
            await twilio.stream(line)
            mark = await twilio.wait_for("mark", timeout=30)
            await twilio.send({"event": "mark", "streamSid": STREAM_SID, "mark": {"name": mark["mark"]["name"]}})
            await twilio.wait_for("__closed__", timeout=10)
        finally:
            await communicator.disconnect()

    media = twilio.events("media")
    # The goodbye is marked after all of its audio, the filler's before it: the lead heard both before the hang-up.
    assert twilio.outbound.index(mark) > twilio.outbound.index(media[-1])
    assert len(media) > opening_media
    assert len(rest.requests) == 1
    turns = [t async for t in TranscriptTurn.objects.filter(call=call).order_by("index")]
    assert [t.speaker for t in turns] == ["agent", "lead", "agent"]
    assert turns[2].text == "Hmm, let me think. Thanks for your time. Goodbye."
