"""A local HTTP server that speaks ElevenLabs' text-to-speech stream wire format and records requests.

Plain asyncio rather than a framework, so a test decides every byte on the
wire: a 200 whose chunked PCM body ends cleanly, breaks off or stalls, an error
status with ElevenLabs' JSON body from tests/fixtures/elevenlabs/, or nothing
at all. It runs in the test's own event loop, so its clock (`loop.time()`) is
the one the test measures with.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from tests.conftest import FIXTURES

ELEVENLABS = FIXTURES / "elevenlabs"
HEADERS = json.loads((ELEVENLABS / "headers.json").read_text(encoding="utf-8"))
API_KEY = "sk_test_0123456789abcdef0123456789abcdef"
CHUNK_MS = 40

Behaviour = Literal["audio", "error", "stall", "die_mid_audio", "stall_mid_audio"]


@dataclass(frozen=True)
class Reply:
    """What the server does with one request.

    audio: 200 and `audio_ms` of PCM, then a clean end of the chunked body.
    error: `status` with the fixture file as the body (headers by its extension).
    stall: read the request, then send nothing, not even a status line.
    die_mid_audio: 200 and `audio_ms` of PCM, then the connection is cut.
    stall_mid_audio: 200 and `audio_ms` of PCM, then nothing more.
    """

    behaviour: Behaviour = "audio"
    audio_ms: int = 400
    status: int = 200
    fixture: str = ""


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class ElevenLabsReplay:
    """The server's script (`replies`, used in order, the last one repeating) and what it saw."""

    replies: list[Reply] = field(default_factory=lambda: [Reply()])
    requests: list[Received] = field(default_factory=list)
    connections: int = 0
    # Loop time at which the server stopped sending: the request's arrival for
    # "stall", the last audio byte for "stall_mid_audio" and "die_mid_audio".
    went_silent_at: float | None = None
    port: int = 0
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            # httpx keeps the connection alive between a call's sentences.
            while not reader.at_eof():
                received = await self._read_request(reader)
                reply = self.replies[min(len(self.requests), len(self.replies) - 1)]
                self.requests.append(received)
                if not await self._answer(writer, received, reply):
                    return

    async def _read_request(self, reader: asyncio.StreamReader) -> Received:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *header_lines = head.rstrip("\r\n").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in header_lines)}
        raw = await reader.readexactly(int(headers.get("content-length", "0")))
        url = urlsplit(target)
        return Received(
            method=method,
            path=url.path,
            query=parse_qs(url.query),
            headers=headers,
            body=json.loads(raw) if raw else {},
            at=asyncio.get_running_loop().time(),
        )

    async def _answer(self, writer: asyncio.StreamWriter, received: Received, reply: Reply) -> bool:
        """Send one reply; return whether the connection can take another request."""
        loop = asyncio.get_running_loop()
        if reply.behaviour == "stall":
            self.went_silent_at = loop.time()
            await self._closing.wait()
            return False
        if reply.behaviour == "error":
            body = (ELEVENLABS / reply.fixture).read_bytes()
            kind = "html_error" if reply.fixture.endswith(".html") else "error"
            head = {**HEADERS[kind], "content-length": str(len(body))}
            writer.write(_status_line(reply.status) + _header_block(head) + body)
            await writer.drain()
            return True
        rate = int(received.query["output_format"][0].removeprefix("pcm_"))
        writer.write(_status_line(200) + _header_block({**HEADERS["audio"], "transfer-encoding": "chunked"}))
        async for chunk in _chunks(tone(rate=rate, ms=reply.audio_ms), rate=rate):
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
        if reply.behaviour == "die_mid_audio":
            self.went_silent_at = loop.time()
            writer.transport.abort()
            return False
        if reply.behaviour == "stall_mid_audio":
            self.went_silent_at = loop.time()
            await self._closing.wait()
            return False
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    async def close(self) -> None:
        self._closing.set()
        for writer in self._writers:
            writer.transport.abort()


def tone(*, rate: int, ms: int) -> bytes:
    """Return `ms` of a 440 Hz tone as 16-bit little-endian mono PCM: recognisable in the pipeline's frames."""
    samples = rate * ms // 1000
    return struct.pack(f"<{samples}h", *(int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(samples)))


async def _chunks(audio: bytes, *, rate: int) -> AsyncIterator[bytes]:
    size = rate * 2 * CHUNK_MS // 1000
    for start in range(0, len(audio), size):
        yield audio[start : start + size]
        # Let the client read between chunks, as it would from a real stream.
        await asyncio.sleep(0)


def _status_line(status: int) -> bytes:
    reasons = {200: "OK", 401: "Unauthorized", 429: "Too Many Requests", 500: "Internal Server Error"}
    return f"HTTP/1.1 {status} {reasons.get(status, 'Error')}\r\n".encode()


def _header_block(headers: dict[str, str]) -> bytes:
    return "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode() + b"\r\n"


@contextlib.asynccontextmanager
async def elevenlabs_replay_server(settings: Any, *replies: Reply) -> AsyncIterator[ElevenLabsReplay]:
    """Run a replay server and point the project's ElevenLabs settings at it."""
    replay = ElevenLabsReplay(replies=list(replies) or [Reply()])
    server = await asyncio.start_server(replay.handle, "127.0.0.1", 0)
    replay.port = server.sockets[0].getsockname()[1]
    settings.ELEVENLABS_API_KEY = API_KEY
    settings.ELEVENLABS_BASE_URL = replay.base_url
    try:
        yield replay
    finally:
        await replay.close()
        server.close()
        await server.wait_closed()
