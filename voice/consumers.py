"""The Twilio Media Streams endpoint: /twilio/stream/.

The consumer only speaks the protocol (connected, start, media, dtmf, mark,
stop) and hands audio to a CallSession, whose pipeline runs as its own task so
this consumer's message loop keeps flowing (pipecat#1919).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, ClassVar

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from common import readiness
from common.access import Viewer, dashboard_user
from common.sockets import socket_user_watch
from voice.brain import Conversation
from voice.browser_call import BrowserTestCall, TestConversationFactory, conversation_for_test_call
from voice.serializers import BadAudioFrame, audio_frame_check
from voice.session import CallSession, ConversationFactory
from voice.stream_tokens import stream_token_call_id
from voice.transport import SocketBridge

logger = logging.getLogger(__name__)

# Close codes in the 4000-4999 range are ours to define.
CLOSE_BAD_FRAME = 4400
CLOSE_NO_START = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_IDLE = 4408
CLOSE_TOO_LARGE = 4413
CLOSE_BUSY = 4429
SAVE_TIMEOUT_S = 30.0


async def conversation_for_call(call_id: int) -> Conversation:
    """Build the agent brain for a call (imported late: agents is heavier than the socket layer)."""
    from agents.brain import conversation_for_call as build

    return await build(call_id=call_id)


class MediaSocketConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # channels is untyped
    """A socket that carries a call's audio, closed when its peer misbehaves.

    Each open socket costs the daphne process memory and a place in its event
    loop, so a peer that never authenticates, goes quiet or sends oversized
    frames is closed rather than held (MEDIA_START_TIMEOUT_S,
    MEDIA_IDLE_TIMEOUT_S, MEDIA_FRAME_MAX_BYTES). Subclasses call `_watch`
    once accepted, set `authenticated` once the peer has proved who it is,
    and call `_live` once the call runs.
    """

    socket_name = "media socket"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.watchdog: asyncio.Task[None] | None = None
        self.closed_for: str | None = None
        self.authenticated = asyncio.Event()
        self.live = asyncio.Event()
        self.last_frame_at = 0.0

    async def websocket_receive(self, message: dict[str, Any]) -> None:
        if self.closed_for is not None:
            return  # frames still in flight after we closed
        self.last_frame_at = asyncio.get_running_loop().time()
        text = message.get("text")
        size = len(text.encode()) if text is not None else len(message.get("bytes") or b"")
        if size > settings.MEDIA_FRAME_MAX_BYTES:
            await self._close_for(CLOSE_TOO_LARGE, f"a {size}-byte frame, over MEDIA_FRAME_MAX_BYTES")
            return
        await super().websocket_receive(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
        await super().websocket_disconnect(message)

    def _watch(self) -> None:
        self.watchdog = asyncio.get_running_loop().create_task(self._watchdog())

    def _live(self) -> None:
        # Frames queue, unread, while the call starts (it may wait for the models to warm), so the
        # quiet clock starts now rather than at the last frame read.
        self.last_frame_at = asyncio.get_running_loop().time()
        self.live.set()

    async def _close_for(self, code: int, reason: str) -> None:
        self.closed_for = reason
        logger.warning("%s closed: %s", self.socket_name, reason, extra={"code": code})
        await self.close(code=code)

    async def _watchdog(self) -> None:
        try:
            await asyncio.wait_for(self.authenticated.wait(), timeout=settings.MEDIA_START_TIMEOUT_S)
        except TimeoutError:
            await self._close_for(CLOSE_NO_START, "no authenticated start within MEDIA_START_TIMEOUT_S")
            return
        await self.live.wait()
        loop = asyncio.get_running_loop()
        idle_s = settings.MEDIA_IDLE_TIMEOUT_S
        while (quiet := loop.time() - self.last_frame_at) < idle_s:
            await asyncio.sleep(idle_s - quiet)
        await self._close_for(CLOSE_IDLE, f"no frame for {idle_s:g} s (MEDIA_IDLE_TIMEOUT_S)")


class TwilioMediaStreamConsumer(MediaSocketConsumer):
    """One Twilio media stream, authenticated by the per-call token from the voice webhook."""

    conversation_factory: ConversationFactory = staticmethod(conversation_for_call)
    # The stream is point to point and receives nothing through the channel
    # layer; an alias that names no layer keeps Channels from holding a Redis
    # subscription open for every call.
    channel_layer_alias = "no-layer:twilio-media-stream"
    socket_name = "media stream"
    # The streams in this process that have not yet sent an authenticated `start`
    # (MEDIA_PENDING_SOCKETS_MAX caps them): anyone can open one.
    pending: ClassVar[set[TwilioMediaStreamConsumer]] = set()

    async def connect(self) -> None:
        self.session: CallSession | None = None
        self.session_task: asyncio.Task[None] | None = None
        if len(self.pending) >= settings.MEDIA_PENDING_SOCKETS_MAX:
            logger.warning("media stream refused: %d streams await their start", len(self.pending))
            await self.close(code=CLOSE_BUSY)
            return
        # Twilio sends `start` (with our token) only after the handshake, so
        # accept first and authenticate on `start`.
        self.pending.add(self)
        await self.accept()
        self._watch()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Twilio sends only JSON text, so anything else is not Twilio.
        message = _parse(text_data)
        if message is None:
            sample = (text_data or repr(bytes_data))[:80]
            await self._close_for(CLOSE_BAD_FRAME, f"not a Media Streams message: {sample!r}")
            return
        event = message["event"]
        if event == "start":
            await self._start(message)
        elif event in ("media", "dtmf"):
            if self.session is not None and text_data is not None:
                self.session.bridge.feed(text_data)
        elif event == "mark":
            if self.session is not None:
                self.session.on_mark(str((message.get("mark") or {}).get("name", "")))
        elif event == "stop":
            await self._end()
        elif event != "connected":
            logger.info("unknown media-stream event ignored", extra={"event": event})

    async def disconnect(self, code: int) -> None:
        self.pending.discard(self)
        await self._end()

    async def _start(self, message: dict[str, Any]) -> None:
        if self.session is not None:
            return  # Twilio sends one start per stream; ignore a replay.
        start = message.get("start") or {}
        params = start.get("customParameters") or {}
        call_id = stream_token_call_id(token=str(params.get("token", "")))
        if call_id is None or str(call_id) != str(params.get("call_id", "")):
            logger.warning("media stream refused: bad or missing token", extra={"call_id": params.get("call_id")})
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.pending.discard(self)
        self.authenticated.set()
        # A stream that arrives while this process warms up waits for it rather than being refused, so the
        # call is still greeted; Twilio's media frames queue meanwhile.
        if not await readiness.PROCESS.wait(timeout_s=settings.MEDIA_READY_WAIT_S):
            logger.error("media stream starting on a process whose models are not warm", extra={"call": call_id})
        bridge = SocketBridge(send=self._send, close=self.close)
        self.session = CallSession(
            call_id=call_id,
            call_sid=str(start.get("callSid", "")),
            stream_sid=str(message.get("streamSid") or start.get("streamSid", "")),
            bridge=bridge,
            conversation_factory=type(self).conversation_factory,
        )
        self.session_task = asyncio.get_running_loop().create_task(self.session.run())
        self._live()
        logger.info("media stream started", extra={"call": call_id, "call_sid": start.get("callSid")})

    async def _send(self, data: str | bytes) -> None:
        await self.send(text_data=data) if isinstance(data, str) else await self.send(bytes_data=data)

    async def _end(self) -> None:
        if self.session is None or self.session_task is None:
            return
        session, task = self.session, self.session_task
        self.session_task = None
        await session.stop()
        # Wait for the transcript and recording to be saved before letting go.
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=SAVE_TIMEOUT_S)
        except TimeoutError:
            logger.error("call did not finish saving in time", extra={"call": session.call_id})


class BrowserTestCallConsumer(MediaSocketConsumer):
    """A broker's test call from the dashboard: /ws/test-call/<campaign_id>/ (staff only, same-origin).

    Binary messages are the microphone (voice.serializers); text messages are
    JSON commands ({"type": "hangup"}). A malformed audio frame or an unknown
    command is dropped with a warning sent back to the page, and the call goes
    on; text that is not JSON closes the socket, as it is no page of ours.
    """

    conversation_factory: TestConversationFactory = staticmethod(conversation_for_test_call)
    channel_layer_alias = "no-layer:browser-test-call"
    socket_name = "browser test call"
    # The test calls running in this process (TEST_CALL_MAX_CONCURRENT caps them), and each broker's
    # (TEST_CALL_MAX_PER_USER caps those).
    running: ClassVar[set[asyncio.Task[None]]] = set()
    running_by_user: ClassVar[dict[int, set[asyncio.Task[None]]]] = {}

    async def connect(self) -> None:
        self.call: BrowserTestCall | None = None
        self.call_task: asyncio.Task[None] | None = None
        self.auth_watch: asyncio.Task[None] | None = None
        self.bad_frames = 0
        user = self.scope.get("user")
        campaign_id = int(self.scope["url_route"]["kwargs"]["campaign_id"])
        # The same rule as the test-call page (dashboard.views.test_call).
        if not dashboard_user(user) or not await database_sync_to_async(user.has_perm)("calls.view_campaign"):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if not await database_sync_to_async(_campaign_seen)(campaign_id, user):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        # Accepted before any refusal so that the page gets the reason and the close code (a refused
        # handshake reaches a browser as a bare 1006).
        await self.accept()
        if await self._refused_busy(user.pk, campaign_id):
            return
        if not await readiness.PROCESS.wait(timeout_s=settings.MEDIA_READY_WAIT_S):
            logger.error("test call starting on a process whose models are not warm", extra={"campaign": campaign_id})
        # Again: other test calls may have started while this one waited for the models.
        if await self._refused_busy(user.pk, campaign_id):
            return
        bridge = SocketBridge(send=self._send, close=self.close)
        self.call = BrowserTestCall(
            campaign_id=campaign_id,
            caller_name=str(getattr(user, "first_name", "") or ""),
            bridge=bridge,
            conversation_factory=type(self).conversation_factory,
        )
        self.call_task = asyncio.get_running_loop().create_task(self.call.run())
        self.running.add(self.call_task)
        self.call_task.add_done_callback(self.running.discard)
        mine = self.running_by_user.setdefault(user.pk, set())
        mine.add(self.call_task)
        self.call_task.add_done_callback(mine.discard)
        # The call runs for minutes; it ends once the broker signs out or loses staff.
        self.auth_watch = socket_user_watch(scope=self.scope, revoked=self._revoked)
        # The broker was authenticated by the handshake, so only the quiet clock applies.
        self.authenticated.set()
        self._live()
        self._watch()
        logger.info("browser test call started", extra={"campaign": campaign_id, "user": getattr(user, "pk", None)})

    def _busy(self, user_pk: int) -> str | None:
        """Return why one more test call for this user cannot start now, or None when it can."""
        if len(self.running) >= settings.TEST_CALL_MAX_CONCURRENT:
            return f"{len(self.running)} test calls are already running on this server; try again in a minute."
        mine = self.running_by_user.get(user_pk, set())
        if len(mine) >= settings.TEST_CALL_MAX_PER_USER:
            return f"You already have {len(mine)} test call(s) running; end it before starting another."
        return None

    async def _refused_busy(self, user_pk: int, campaign_id: int) -> bool:
        busy = self._busy(user_pk)
        if busy is None:
            return False
        await self.send(text_data=json.dumps({"type": "error", "message": busy}))
        await self.close(code=CLOSE_BUSY)
        logger.info("browser test call refused: %s", busy, extra={"campaign": campaign_id, "user": user_pk})
        return True

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.call is None:
            return
        if bytes_data is not None:
            try:
                audio_frame_check(bytes_data)
            except BadAudioFrame as exc:
                await self._bad_frame(str(exc))
                return
            self.call.bridge.feed(bytes_data)
            return
        try:
            command = json.loads(text_data or "")
        except ValueError:
            await self._close_for(CLOSE_BAD_FRAME, f"not JSON: {str(text_data)[:60]!r}")
            return
        if not isinstance(command, dict) or command.get("type") != "hangup":
            sample = str(text_data)[:60]
            await self._bad_frame(f"unknown message {sample!r}: send audio as binary, or {{'type': 'hangup'}}")
            return
        await self._end(reason="hung up")

    async def disconnect(self, code: int) -> None:
        if self.auth_watch is not None:
            self.auth_watch.cancel()
        await self._end(reason="page closed")

    async def _revoked(self) -> None:
        # As for an idle socket: the disconnect that follows the close ends the call.
        await self._close_for(CLOSE_FORBIDDEN, "its user signed out or lost staff access")

    async def _bad_frame(self, problem: str) -> None:
        self.bad_frames += 1
        logger.warning("malformed test-call message dropped", extra={"problem": problem, "bad_frames": self.bad_frames})
        # Say it once per ten, so a broken client does not flood the page.
        if self.bad_frames % 10 == 1:
            await self.send(text_data=json.dumps({"type": "warning", "message": f"Dropped a message: {problem}"}))

    async def _send(self, data: str | bytes) -> None:
        await self.send(text_data=data) if isinstance(data, str) else await self.send(bytes_data=data)

    async def _end(self, *, reason: str) -> None:
        if self.call is None or self.call_task is None:
            return
        call, task = self.call, self.call_task
        self.call_task = None
        await call.stop(reason=reason)
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=SAVE_TIMEOUT_S)
        except TimeoutError:
            logger.error("test call did not end in time", extra={"campaign": call.campaign_id})


def _campaign_seen(campaign_id: int, user: Any) -> bool:
    # The same lookup as the test-call page (dashboard.views.test_call), imported late like the brain.
    from agents.selectors import campaign_for_test_call_get
    from calls.models import Campaign

    try:
        campaign_for_test_call_get(viewer=Viewer.of(user), campaign_id=campaign_id)
    except Campaign.DoesNotExist:
        return False
    return True


def _parse(text_data: str | None) -> dict[str, Any] | None:
    if not text_data:
        return None
    try:
        message = json.loads(text_data)
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("event"), str):
        return None
    return message
