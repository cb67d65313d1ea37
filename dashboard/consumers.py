"""The live call monitor's websocket: /ws/live-calls/ (staff only, same-origin)."""

from __future__ import annotations

import asyncio
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from calls.live import LIVE_GROUP
from common.access import Viewer, dashboard_user
from common.sockets import socket_user_watch
from dashboard.selectors import live_call_seen, live_calls_snapshot

CLOSE_FORBIDDEN = 4403


class LiveCallsConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # channels is untyped
    """Send a viewer the calls in progress, then every call's events as they happen (calls.live)."""

    auth_watch: asyncio.Task[None] | None = None
    revoked = False
    viewer: Viewer
    # Whether the viewer may follow each call seen so far: every event is for one of a few calls in progress.
    seen: dict[int, bool]

    async def connect(self) -> None:
        user = self.scope.get("user")
        # The same rule as the monitor's page (dashboard.views.live_monitor).
        if not dashboard_user(user) or not await database_sync_to_async(user.has_perm)("calls.view_call"):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.viewer = await database_sync_to_async(Viewer.of)(user)
        self.seen = {}
        # Join before reading the snapshot, so no event falls between the two;
        # the page drops a turn it already has (by its index).
        await self.channel_layer.group_add(LIVE_GROUP, self.channel_name)
        await self.accept()
        # Calls keep flowing to an open monitor, so stop once its viewer signs out or loses staff.
        self.auth_watch = socket_user_watch(scope=self.scope, revoked=self._revoked)
        calls = await database_sync_to_async(live_calls_snapshot)(viewer=self.viewer)
        await self.send_json({"event": "snapshot", "calls": calls})

    async def disconnect(self, code: int) -> None:
        if self.auth_watch is not None:
            self.auth_watch.cancel()
        await self.channel_layer.group_discard(LIVE_GROUP, self.channel_name)

    async def _revoked(self) -> None:
        # No call event may reach a viewer who has lost access, not even one already queued for them.
        self.revoked = True
        await self.channel_layer.group_discard(LIVE_GROUP, self.channel_name)
        await self.close(code=CLOSE_FORBIDDEN)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The monitor only listens; say so rather than ignore a client silently.
        await self.send_json({"event": "error", "message": "The live monitor takes no messages."})

    async def live_event(self, message: dict[str, Any]) -> None:
        payload = message["payload"]
        if self.revoked:
            return
        call_id = payload.get("call_id")
        if call_id not in self.seen:
            # Awaited here, so this call's later events wait behind the check and keep their order.
            self.seen[call_id] = await database_sync_to_async(live_call_seen)(viewer=self.viewer, call_id=call_id)
        if self.seen[call_id]:
            await self.send_json(payload)
        if payload.get("event") == "call.ended":
            self.seen.pop(call_id, None)
