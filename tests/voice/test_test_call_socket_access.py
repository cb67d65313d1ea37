"""The test call's socket: a broker holds at most TEST_CALL_MAX_PER_USER calls, each ending once their access does.

The call itself is a stand-in that runs until stopped: what is tested is who may hold the socket, not
the audio path (tests/voice/test_browser_call.py runs the real one).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client

from reautomation.asgi import application
from reautomation.roles import AGENTS, MANAGERS
from tests.factories import CampaignFactory, team_member
from voice import consumers
from voice.consumers import CLOSE_BUSY, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, BrowserTestCallConsumer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


class IdleTestCall:
    """Stands in for voice.browser_call.BrowserTestCall: holds its place until stopped, with no models."""

    def __init__(self, *, campaign_id: int, caller_name: str, bridge: Any, conversation_factory: Any) -> None:
        self.campaign_id, self.bridge = campaign_id, bridge
        self.stopped = asyncio.Event()

    async def run(self) -> None:
        await self.stopped.wait()

    async def stop(self, reason: str = "hung up") -> None:
        self.stopped.set()


@pytest_asyncio.fixture(autouse=True)
async def _setup(settings: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    monkeypatch.setattr(consumers, "BrowserTestCall", IdleTestCall)
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    settings.TEST_CALL_MAX_CONCURRENT = 5
    settings.TEST_CALL_MAX_PER_USER = 1
    yield
    await sync_to_async(connections.close_all)()


def _signed_in(username: str, role: str = MANAGERS) -> tuple[Any, str]:
    user = team_member(username, password="pw-12345", role=role)
    client = Client()
    client.force_login(user)
    return user, client.cookies[django_settings.SESSION_COOKIE_NAME].value


def _socket(campaign_id: int, cookie: str) -> WebsocketCommunicator:
    headers = [
        (b"origin", b"http://127.0.0.1:8000"),
        (b"host", b"127.0.0.1:8000"),
        (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={cookie}".encode()),
    ]
    return WebsocketCommunicator(application, f"/ws/test-call/{campaign_id}/", headers=headers)


async def _test_call(campaign_id: int, cookie: str) -> WebsocketCommunicator:
    communicator = _socket(campaign_id, cookie)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _ended(tasks: set[asyncio.Task[None]]) -> None:
    if tasks:
        await asyncio.wait(tasks, timeout=5)
    assert all(task.done() for task in tasks)


async def _calls_ended() -> None:
    await _ended(set(BrowserTestCallConsumer.running))
    assert not BrowserTestCallConsumer.running


async def test_a_broker_gets_one_test_call_at_a_time_and_others_still_get_theirs() -> None:
    campaign = await sync_to_async(CampaignFactory)()
    dana_user, dana = await sync_to_async(_signed_in)("dana")
    _, marcus = await sync_to_async(_signed_in)("marcus")
    first = await _test_call(campaign.pk, dana)
    opened = [first]
    try:
        second = await _test_call(campaign.pk, dana)
        opened.append(second)
        refusal = await second.receive_json_from(timeout=5)
        assert refusal == {
            "type": "error",
            "message": "You already have 1 test call(s) running; end it before starting another.",
        }
        closed = await second.receive_output(timeout=5)
        assert (closed["type"], closed["code"]) == ("websocket.close", CLOSE_BUSY)

        others = await _test_call(campaign.pk, marcus)
        opened.append(others)
        assert await others.receive_nothing(timeout=0.1)  # not refused
        assert len(BrowserTestCallConsumer.running) == 2

        # Once Dana hangs up, her next call starts.
        danas_call = set(BrowserTestCallConsumer.running_by_user[dana_user.pk])
        await first.send_to(text_data=json.dumps({"type": "hangup"}))
        await _ended(danas_call)
        again = await _test_call(campaign.pk, dana)
        opened.append(again)
        assert await again.receive_nothing(timeout=0.1)
    finally:
        for communicator in opened:
            await communicator.disconnect()
    await _calls_ended()


async def test_a_test_call_ends_once_its_broker_loses_staff(settings: Any) -> None:
    settings.SOCKET_AUTH_RECHECK_S = 0.05
    campaign = await sync_to_async(CampaignFactory)()
    user, cookie = await sync_to_async(_signed_in)("dana")
    communicator = await _test_call(campaign.pk, cookie)
    try:
        user.is_staff = False
        await user.asave()

        closed = await communicator.receive_output(timeout=5)
        assert (closed["type"], closed["code"]) == ("websocket.close", CLOSE_FORBIDDEN)
    finally:
        await communicator.disconnect()
    await _calls_ended()


async def test_an_agent_cannot_test_call_another_agents_campaign() -> None:
    ann, cookie = await sync_to_async(_signed_in)("ann", AGENTS)
    ben = await sync_to_async(team_member)("ben", role=AGENTS)
    bens = await sync_to_async(CampaignFactory)(owner=ben)
    connected, code = await _socket(bens.pk, cookie).connect()
    assert not connected and code == CLOSE_NOT_FOUND
    anns = await sync_to_async(CampaignFactory)(owner=ann)
    opened = await _test_call(anns.pk, cookie)
    await opened.disconnect()
    await _calls_ended()
