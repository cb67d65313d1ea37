"""The live monitor's socket closes once its viewer signs out, loses staff, is deactivated or changes password."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from importlib import import_module
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client

from dashboard.consumers import CLOSE_FORBIDDEN
from reautomation.asgi import application
from tests.factories import team_member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest_asyncio.fixture(autouse=True)
async def _quick_recheck(settings: Any) -> AsyncIterator[None]:
    settings.SOCKET_AUTH_RECHECK_S = 0.05
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    yield
    await sync_to_async(connections.close_all)()


def _signed_in() -> tuple[Any, str]:
    user = team_member("broker", password="pw-12345")
    client = Client()
    client.force_login(user)
    return user, client.cookies[django_settings.SESSION_COOKIE_NAME].value


async def _monitor(cookie: str) -> WebsocketCommunicator:
    headers = [
        (b"origin", b"http://127.0.0.1:8000"),
        (b"host", b"127.0.0.1:8000"),
        (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={cookie}".encode()),
    ]
    communicator = WebsocketCommunicator(application, "/ws/live-calls/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["event"] == "snapshot"
    return communicator


def _demote(user: Any, session_key: str) -> None:
    user.is_staff = False
    user.save()


def _deactivate(user: Any, session_key: str) -> None:
    user.is_active = False
    user.save()


def _change_password(user: Any, session_key: str) -> None:
    user.set_password("a-new-pw-98765")
    user.save()


def _sign_out(user: Any, session_key: str) -> None:
    import_module(django_settings.SESSION_ENGINE).SessionStore(session_key).delete()


@pytest.mark.parametrize("revoke", [_demote, _deactivate, _change_password, _sign_out])
async def test_the_monitor_closes_once_access_ends(revoke: Callable[[Any, str], None]) -> None:
    user, cookie = await sync_to_async(_signed_in)()
    communicator = await _monitor(cookie)
    try:
        await sync_to_async(revoke)(user, cookie)

        closed = await communicator.receive_output(timeout=5)
        assert (closed["type"], closed.get("code")) == ("websocket.close", CLOSE_FORBIDDEN)
    finally:
        await communicator.disconnect()


async def test_the_monitor_stays_open_while_access_lasts() -> None:
    _, cookie = await sync_to_async(_signed_in)()
    communicator = await _monitor(cookie)
    try:
        # Ten rechecks' worth of time, and nothing comes: no close.
        assert await communicator.receive_nothing(timeout=0.5)
    finally:
        await communicator.disconnect()
