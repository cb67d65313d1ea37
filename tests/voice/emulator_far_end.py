"""The app's side of an emulated call, for tests that run the emulator without our Django app.

FarEnd serves the voice webhook (TwiML from integrations.twilio.client), the
status and AMD callbacks (checking X-Twilio-Signature with the project's own
validator), and the media-stream websocket (the `websockets` package, so the
emulator's aiohttp client is checked against an independent implementation).
Each test gives it a behaviour: a coroutine that plays the agent on the socket.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import websockets
from aiohttp import web
from websockets.asyncio.server import ServerConnection

from emulator.audio import FRAME_BYTES, SILENCE_BYTE
from integrations.twilio.client import signature_valid, twiml_stream

STREAM_PARAMETERS = {"call_id": "42", "token": "opaque-token-42"}


@dataclass
class Received:
    """Everything the far end got from the emulator."""

    forms: dict[str, list[dict[str, str]]] = field(default_factory=lambda: {"voice": [], "status": [], "amd": []})
    bad_signatures: list[str] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    handshake_signature: str = ""
    close_code: int | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    amd: asyncio.Event = field(default_factory=asyncio.Event)

    def media(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["event"] == "media"]

    def payloads(self) -> list[bytes]:
        return [base64.b64decode(m["media"]["payload"]) for m in self.media()]


class Agent:
    """The socket as a test's behaviour sees it: send like our app, read like Twilio's peer."""

    def __init__(self, conn: ServerConnection, received: Received) -> None:
        self.conn, self.received = conn, received
        self.stream_sid = ""
        self._arrived = asyncio.Event()

    @property
    def media_count(self) -> int:
        return len(self.received.media())

    async def pump(self) -> None:
        try:
            async for raw in self.conn:
                message = json.loads(raw)
                self.received.messages.append(message)
                if message["event"] == "start":
                    self.stream_sid = message["streamSid"]
                self._arrived.set()
                self._arrived = asyncio.Event()
        finally:
            self.received.close_code = self.conn.close_code
            self.received.closed.set()

    async def until(self, predicate: Callable[[], bool], timeout: float = 20) -> None:
        """Wait until `predicate()` holds, re-checking after every message."""
        async with asyncio.timeout(timeout):
            while not predicate():
                if self.received.closed.is_set():
                    raise AssertionError(f"stream closed while waiting; last: {self.received.messages[-3:]}")
                await self._arrived.wait()

    async def send_audio(self, ulaw: bytes, *, chunk: int = FRAME_BYTES * 10) -> None:
        """Send agent audio as fast as the socket takes it (as Pipecat does), in media messages."""
        for i in range(0, len(ulaw), chunk):
            payload = base64.b64encode(ulaw[i : i + chunk]).decode()
            await self.conn.send(
                json.dumps({"event": "media", "streamSid": self.stream_sid, "media": {"payload": payload}})
            )

    async def send(self, event: str, **body: Any) -> None:
        await self.conn.send(json.dumps({"event": event, "streamSid": self.stream_sid, **body}))

    def lead_spoke_at(self, start: int = 0) -> int | None:
        """Return the index of the first inbound media frame from `start` on that is not line silence."""
        for i, payload in enumerate(self.received.payloads()[start:], start=start):
            if payload != bytes([SILENCE_BYTE]) * FRAME_BYTES:
                return i
        return None


Behaviour = Callable[[Agent], Awaitable[None]]


class FarEnd:
    """Webhooks and media-stream server on ephemeral ports, for one test."""

    def __init__(self, behaviour: Behaviour, public_host: str = "127.0.0.1") -> None:
        self.behaviour = behaviour
        self.received = Received()
        self.http_port = self.ws_port = 0
        self._runner: web.AppRunner | None = None
        self._ws_server: Any = None
        self.errors: list[BaseException] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"

    async def __aenter__(self) -> FarEnd:
        self._ws_server = await websockets.serve(self._stream, "127.0.0.1", 0)
        self.ws_port = self._ws_server.sockets[0].getsockname()[1]
        app = web.Application()
        for kind in ("voice", "status", "amd"):
            app.router.add_post(f"/{kind}", self._webhook(kind))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.http_port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._ws_server.close()
        await self._ws_server.wait_closed()
        assert self._runner is not None
        await self._runner.cleanup()
        if self.errors and exc is None:
            raise self.errors[0]

    def _webhook(self, kind: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            form = await request.post()
            params = {key: [str(v) for v in form.getall(key)] for key in form}
            url = f"http://127.0.0.1:{self.http_port}{request.path_qs}"
            if not signature_valid(url=url, params=params, signature=request.headers.get("X-Twilio-Signature", "")):
                self.received.bad_signatures.append(kind)
                return web.Response(status=403)
            self.received.forms[kind].append({key: str(form[key]) for key in form})
            if kind == "amd":
                self.received.amd.set()
            if kind == "voice":
                stream_url = f"ws://127.0.0.1:{self.ws_port}/stream"
                return web.Response(
                    text=twiml_stream(stream_url=stream_url, parameters=STREAM_PARAMETERS), content_type="text/xml"
                )
            return web.Response(status=204)

        return handler

    async def _stream(self, conn: ServerConnection) -> None:
        self.received.handshake_signature = conn.request.headers.get("X-Twilio-Signature", "") if conn.request else ""
        agent = Agent(conn, self.received)
        pump = asyncio.create_task(agent.pump())
        try:
            await agent.until(lambda: bool(agent.stream_sid), timeout=10)
            await self.behaviour(agent)
            await self.received.closed.wait()
        except BaseException as exc:  # surfaced by __aexit__: a failure here is the test's failure
            self.errors.append(exc)
            raise
        finally:
            pump.cancel()
