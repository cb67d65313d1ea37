"""The browser test call's socket, with the test playing the dashboard page.

The audio path is the real one (Silero VAD, the turn strategy, Whisper, the
agents brain in its dry-run mode, Piper); the test sends Piper-spoken PCM the
way static/dashboard/test_call.js sends the microphone. The real-browser test
(tests/browser/) drives the page itself with a fake microphone.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import connections
from django.urls import path

from agents.models import Appointment
from calls.models import Call, Campaign
from tests.factories import BrokerFactory, CampaignFactory, team_member
from voice.consumers import (
    CLOSE_BAD_FRAME,
    CLOSE_BUSY,
    CLOSE_FORBIDDEN,
    CLOSE_IDLE,
    CLOSE_NOT_FOUND,
    CLOSE_TOO_LARGE,
    BrowserTestCallConsumer,
)
from voice.engines import speech_pcm, warm_up
from voice.serializers import BROWSER_RATE

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

CHUNK = BROWSER_RATE * 2 // 50  # 20 ms of 16-bit mono, as the page's worklet sends


@pytest_asyncio.fixture(autouse=True)
async def _close_thread_connections() -> AsyncIterator[None]:
    yield
    await sync_to_async(connections.close_all)()


def _app() -> Any:
    return URLRouter([path("ws/test-call/<int:campaign_id>/", BrowserTestCallConsumer.as_asgi())])


async def _communicator(campaign_id: int, user: Any) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(_app(), f"/ws/test-call/{campaign_id}/")
    communicator.scope["user"] = user
    return communicator


async def _staff(**fields: Any) -> Any:
    return await sync_to_async(team_member)(fields.pop("username", "broker"), **fields)


async def _started_call() -> WebsocketCommunicator:
    campaign = await sync_to_async(CampaignFactory)()
    await sync_to_async(BrokerFactory)()
    communicator = await _communicator(campaign.pk, await _staff())
    assert (await communicator.connect())[0]
    return communicator


class FakePage:
    """Speaks the test-call protocol from the page's side, collecting what comes back."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.ws = communicator
        self.audio_bytes = 0
        self.messages: list[dict[str, Any]] = []
        self.closed: int | None = None

    async def drain(self) -> None:
        while self.closed is None and not await self.ws.receive_nothing(timeout=0.001):
            self._collect(await self.ws.receive_output())

    def _collect(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.close":
            self.closed = message.get("code")
        elif message.get("bytes") is not None:
            self.audio_bytes += len(message["bytes"])
        else:
            self.messages.append(json.loads(message["text"]))

    async def collect(self) -> None:
        """Wait for the next message from the server and collect it."""
        self._collect(await self.ws.receive_output(timeout=20))

    async def send_pcm(self, pcm: bytes) -> None:
        """Send audio in real time, 20 ms a message, collecting replies meanwhile."""
        started = time.monotonic()
        for n, i in enumerate(range(0, len(pcm), CHUNK), start=1):
            await self.ws.send_to(bytes_data=pcm[i : i + CHUNK].ljust(CHUNK, b"\0"))
            await self.drain()
            await asyncio.sleep(max(0.0, started + n * 0.02 - time.monotonic()))

    async def silence(self, seconds: float) -> None:
        await self.send_pcm(b"\0" * int(BROWSER_RATE * 2 * seconds))

    async def quiet_for(self, seconds: float) -> None:
        """Send silence until no audio has come back for `seconds`."""
        while True:
            before = self.audio_bytes
            await self.silence(seconds)
            if self.audio_bytes == before:
                return

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    async def wait_for(self, predicate: Any, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            await self.silence(0.2)
        raise AssertionError(f"no {what} within {timeout}s; got {self.messages}")


async def test_it_refuses_anonymous_and_non_staff_users() -> None:
    campaign = await sync_to_async(CampaignFactory)()
    model = get_user_model()
    for user in (None, await model.objects.acreate(username="lead-viewer", is_staff=False)):
        communicator = WebsocketCommunicator(_app(), f"/ws/test-call/{campaign.pk}/")
        if user is not None:
            communicator.scope["user"] = user
        connected, code = await communicator.connect()
        assert not connected and code == CLOSE_FORBIDDEN


async def test_it_refuses_an_unknown_campaign() -> None:
    communicator = await _communicator(999_999, await _staff())
    connected, code = await communicator.connect()
    assert not connected and code == CLOSE_NOT_FOUND


async def test_a_test_call_past_the_limit_is_refused_with_the_reason(settings: Any) -> None:
    settings.TEST_CALL_MAX_CONCURRENT = 1
    campaign = await sync_to_async(CampaignFactory)()
    await sync_to_async(BrokerFactory)()
    user = await _staff()
    first = await _communicator(campaign.pk, user)
    assert (await first.connect())[0]
    page = FakePage(first)
    try:
        await page.wait_for(lambda: page.of_type("status"), "the first call's start", timeout=30)

        # The second is accepted only to be told why, then closed with 4429.
        second = await _communicator(campaign.pk, user)
        assert (await second.connect())[0]
        refusal = await second.receive_json_from(timeout=5)
        assert refusal["type"] == "error" and "1 test calls are already running" in refusal["message"]
        closed = await second.receive_output(timeout=5)
        assert (closed["type"], closed["code"]) == ("websocket.close", CLOSE_BUSY)

        await first.send_to(text_data=json.dumps({"type": "hangup"}))
        await page.wait_for(lambda: page.of_type("ended"), "the first call's end", timeout=30)
    finally:
        await first.disconnect()
    deadline = time.monotonic() + 30
    while BrowserTestCallConsumer.running and time.monotonic() < deadline:
        await asyncio.sleep(0.05)

    # Once it has ended, the next one starts.
    third = await _communicator(campaign.pk, user)
    assert (await third.connect())[0]
    page = FakePage(third)
    try:
        await page.wait_for(lambda: page.of_type("status"), "the third call's start", timeout=30)
        assert not page.of_type("error")
        await third.send_to(text_data=json.dumps({"type": "hangup"}))
        await page.wait_for(lambda: page.of_type("ended"), "the third call's end", timeout=30)
    finally:
        await third.disconnect()


async def test_a_test_call_that_goes_quiet_is_closed_and_ended(settings: Any) -> None:
    settings.MEDIA_IDLE_TIMEOUT_S = 0.2
    communicator = await _started_call()
    page = FakePage(communicator)
    try:
        # The page sends no microphone audio: the status and greeting may arrive, then the close.
        while page.closed is None:
            await page.collect()
        assert page.closed == CLOSE_IDLE
    finally:
        await communicator.disconnect()
    assert not BrowserTestCallConsumer.running


@pytest.mark.parametrize(
    ("frame", "code"),
    [({"text_data": "{not json"}, CLOSE_BAD_FRAME), ({"bytes_data": b"\0" * 2048}, CLOSE_TOO_LARGE)],
    ids=["text-not-json", "over-size-cap"],
)
async def test_a_test_call_sent_junk_is_closed(settings: Any, frame: dict[str, Any], code: int) -> None:
    settings.MEDIA_FRAME_MAX_BYTES = 1024
    communicator = await _started_call()
    page = FakePage(communicator)
    try:
        await page.send_pcm(b"\0" * CHUNK)  # a real audio frame, under the cap, goes through
        await communicator.send_to(**frame)
        while page.closed is None:
            await page.collect()
        assert page.closed == code
        assert not page.of_type("warning")
    finally:
        await communicator.disconnect()


@pytest.mark.slow
async def test_a_broker_talks_to_the_campaigns_agent_and_nothing_is_stored() -> None:
    # The dashboard's server warms its models before it takes a call (voice.warmup); so does this test, or the
    # first call here would wait on them.
    await asyncio.to_thread(warm_up)
    campaign: Campaign = await sync_to_async(CampaignFactory)(agent_name="Jordan", business_name="Harbor Homes")
    await sync_to_async(BrokerFactory)()
    sell_line = await asyncio.to_thread(speech_pcm, "I want to sell my house.", BROWSER_RATE)
    communicator = await _communicator(campaign.pk, await _staff(first_name="Dana"))
    connected, _ = await communicator.connect()
    assert connected
    page = FakePage(communicator)
    try:
        # The campaign's own persona opens, in words and in audio.
        await page.wait_for(lambda: page.of_type("transcript"), "opening transcript", timeout=30)
        opening = page.of_type("transcript")[0]
        assert opening["speaker"] == "agent"
        assert "Jordan" in opening["text"] and "Harbor Homes" in opening["text"]
        await page.wait_for(lambda: page.audio_bytes > BROWSER_RATE, "opening audio", timeout=20)
        await page.quiet_for(1.5)  # the opening has all arrived
        # The opening plays out in real time (the server sends ahead of playback)
        # and the lead is muted until it ends; wait as long as it lasts.
        await page.silence(page.audio_bytes / (BROWSER_RATE * 2) / 2 + 1.0)

        # A broken frame is reported back and the call goes on.
        await communicator.send_to(bytes_data=b"\x01\x02\x03")
        await page.send_pcm(sell_line)
        await page.wait_for(lambda: len(page.of_type("transcript")) >= 3, "the agent's answer to the lead", timeout=30)
        lead, reply = page.of_type("transcript")[1:3]
        assert lead["speaker"] == "lead" and "sell" in lead["text"].lower()
        assert reply["speaker"] == "agent" and reply["text"]
        await page.wait_for(lambda: page.of_type("latency"), "the reply's latency", timeout=15)
        assert page.of_type("latency")[0]["latency_ms"] > 0
        warnings = page.of_type("warning")
        assert len(warnings) == 1 and "3 bytes" in warnings[0]["message"]

        await communicator.send_to(text_data=json.dumps({"type": "hangup"}))
        await page.wait_for(lambda: page.of_type("ended"), "the end of the call", timeout=30)
    finally:
        await communicator.disconnect()
    ended = page.of_type("ended")[0]
    assert ended["reason"] == "hung up"
    # The brain's verdict comes with the words the page shows for it.
    assert (ended["outcome"], ended["outcome_label"]) == ("hung_up", "Hung up")
    # The dry run kept nothing: no call record, no appointment.
    assert await Call.objects.acount() == 0
    assert await Appointment.objects.acount() == 0
