"""A daphne process warms its models before it takes calls, and a call that arrives sooner waits for them.

tests/voice/test_whole_call.py checks the same on a real daphne process (its live app reports ready).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import caches
from django.db import connections

from calls.models import Call
from common import readiness
from common.readiness import media_worker_ready_exists
from tests.voice.test_media_stream import STREAM_SID, FakeTwilio, ScriptedConversation, _call_fields
from voice import warmup
from voice.consumers import TwilioMediaStreamConsumer
from voice.stream_tokens import stream_token_issue


class ObservedReadiness(readiness.ModelsReadiness):
    """This process's readiness, telling the test when a stream has begun to wait on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = asyncio.Event()

    async def wait(self, *, timeout_s: float) -> bool:
        self.waiting.set()
        return await super().wait(timeout_s=timeout_s)


@pytest.fixture
def process(monkeypatch: Any, settings: Any) -> ObservedReadiness:
    """A fresh readiness for this process, not yet warming, with a media-worker record of this test's own."""
    fresh = ObservedReadiness()
    monkeypatch.setattr(readiness, "PROCESS", fresh)
    monkeypatch.setattr(warmup, "_thread", None)
    settings.CACHES = {
        **settings.CACHES,
        "media_workers": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test-warm-start"},
    }
    caches["media_workers"].clear()
    settings.VOICE_WARM_UP = True
    return fresh


def test_importing_the_asgi_app_warms_nothing() -> None:
    importlib.import_module("reautomation.asgi")

    # Only daphne's reactor starting does; this process serves no media streams.
    assert readiness.PROCESS.state() is None
    assert warmup._thread is None


def test_it_reports_ready_and_tells_the_dialer_only_once_the_models_are_warm(
    process: ObservedReadiness, monkeypatch: Any
) -> None:
    loading, release = threading.Event(), threading.Event()

    def warm_up() -> None:
        loading.set()
        release.wait(timeout=30)

    monkeypatch.setattr(warmup, "warm_up", warm_up)

    thread = warmup.start()
    try:
        assert loading.wait(timeout=30)
        assert process.state() == "loading" and not media_worker_ready_exists()
        assert warmup.start() is thread  # once per process
        release.set()
        assert asyncio.run(process.wait(timeout_s=30))
        assert process.state() == "warm" and media_worker_ready_exists()
    finally:
        warmup.stop()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_a_failed_warm_up_leaves_the_process_not_ready_and_says_why(
    process: ObservedReadiness, monkeypatch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def warm_up() -> None:
        raise FileNotFoundError("no Piper voice at /nowhere.onnx")

    monkeypatch.setattr(warmup, "warm_up", warm_up)

    warmup.start().join(timeout=30)

    assert process.state() == "failed: FileNotFoundError: no Piper voice at /nowhere.onnx"
    assert not media_worker_ready_exists()
    assert [r.levelname for r in caplog.records if "warm-up failed" in r.getMessage()] == ["ERROR"]
    # A stream arriving now goes on at once instead of waiting MEDIA_READY_WAIT_S for models that will not come.
    assert asyncio.run(process.wait(timeout_s=3600)) is False


@pytest_asyncio.fixture
async def _close_thread_connections() -> AsyncIterator[None]:
    yield
    # The ORM calls ran in asgiref's worker thread; close its connection so PostgreSQL can drop the test database.
    await sync_to_async(connections.close_all)()


async def _first_media(communicator: WebsocketCommunicator, timeout: float) -> dict[str, Any]:
    while True:
        message = json.loads(await communicator.receive_from(timeout=timeout))
        if message.get("event") == "media":
            return dict(message)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("_close_thread_connections")
async def test_a_stream_that_starts_while_the_models_load_waits_for_them_and_is_then_greeted(
    process: ObservedReadiness,
) -> None:
    process.loading()
    call = await Call.objects.acreate(**await _call_fields())
    built: list[int] = []

    async def conversation_for(call_id: int) -> ScriptedConversation:
        built.append(call_id)
        return ScriptedConversation(replies=[])

    class Consumer(TwilioMediaStreamConsumer):
        conversation_factory = staticmethod(conversation_for)

    communicator = WebsocketCommunicator(Consumer.as_asgi(), "/twilio/stream/")
    await communicator.connect()
    try:
        await FakeTwilio(communicator).start(call_id=call.pk, token=stream_token_issue(call_id=call.pk))
        await asyncio.wait_for(process.waiting.wait(), timeout=30)
        assert built == []  # held, not refused: no call session yet

        process.warm()

        greeting = await _first_media(communicator, timeout=30)
        assert built == [call.pk]
        assert greeting["streamSid"] == STREAM_SID
    finally:
        await communicator.disconnect()
