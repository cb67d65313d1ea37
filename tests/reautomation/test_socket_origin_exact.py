"""Browser sockets open only from our own origins, matched on scheme, host and port; Twilio's stream needs none."""

from __future__ import annotations

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
from tests.factories import team_member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest_asyncio.fixture(autouse=True)
async def _ours(settings: Any) -> AsyncIterator[None]:
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    settings.CSRF_TRUSTED_ORIGINS = ["https://crm.example.com"]
    settings.DEBUG = False
    yield
    await sync_to_async(connections.close_all)()


def _staff_cookie() -> str:
    user = team_member("broker")
    client = Client()
    client.force_login(user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


async def _opens(origin: str | None, cookie: str) -> bool:
    headers = [(b"host", b"127.0.0.1:8000"), (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={cookie}".encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    communicator = WebsocketCommunicator(application, "/ws/live-calls/", headers=headers)
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    return bool(connected)


@pytest.mark.parametrize(
    "origin",
    ["http://127.0.0.1:8000", "HTTP://127.0.0.1:8000", "https://crm.example.com", "https://crm.example.com:443"],
)
async def test_it_opens_for_our_own_origins(origin: str) -> None:
    assert await _opens(origin, await sync_to_async(_staff_cookie)())


@pytest.mark.parametrize(
    "origin",
    [
        "https://127.0.0.1:8000",  # another scheme on our host and port
        "http://127.0.0.1:9000",  # another port on our host: another service, another origin
        "http://127.0.0.1",
        "http://crm.example.com",
        "https://evil.crm.example.com",
        "https://crm.example.com.evil.example",
        "null",
        None,
    ],
)
async def test_it_refuses_every_other_origin_even_with_a_staff_cookie(origin: str | None) -> None:
    assert not await _opens(origin, await sync_to_async(_staff_cookie)())


async def test_in_debug_the_loopback_names_share_the_public_urls_scheme_and_port(settings: Any) -> None:
    cookie = await sync_to_async(_staff_cookie)()
    assert not await _opens("http://localhost:8000", cookie)

    settings.DEBUG = True
    assert await _opens("http://localhost:8000", cookie)
    assert not await _opens("http://localhost:8001", cookie)


async def test_twilios_media_stream_opens_without_an_origin() -> None:
    communicator = WebsocketCommunicator(application, "/twilio/stream/", headers=[(b"host", b"127.0.0.1:8000")])
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    assert connected
