"""The live call monitor's feed: what each running call publishes, and keeps for a viewer who arrives mid-call.

A call's session (voice.session.CallSession) runs in whichever daphne process
took its media stream; the monitor's viewers (dashboard.consumers.LiveCallsConsumer)
may be in another. So every event goes through the channel layer's group
LIVE_GROUP (Redis in production), and each call's transcript so far is kept
in the cache (Redis too) for viewers who open the page mid-call. Publishing
never raises: a monitor problem must not disturb a call.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.layers import get_channel_layer
from django.core.cache import cache
from django.urls import reverse

from calls.models import Call

logger = logging.getLogger(__name__)

LIVE_GROUP = "live_calls"
# A call's live transcript outlives any call (the longest is capped far below this).
LIVE_TTL_S = 3 * 3600


def live_key(call_id: int) -> str:
    return f"live-call:{call_id}"


def live_turns_get(*, call_id: int) -> list[dict[str, Any]]:
    """Return the transcript turns a call's session has published so far (sync; [] when none are cached)."""
    state = cache.get(live_key(call_id))
    return list(state.get("turns", [])) if isinstance(state, dict) else []


def live_state_clear(*, call_id: int) -> None:
    """Drop what a call's session published, for a call that ended without its session saying so."""
    cache.delete(live_key(call_id))


def outcome_label(outcome: str) -> str:
    """Return the words a page shows for a brain's outcome code ("hung_up" -> "Hung up")."""
    try:
        return str(Call.Outcome(outcome).label) if outcome else ""
    except ValueError:  # a scripted test brain may report codes the model doesn't know
        return outcome.replace("_", " ")


def live_call_card(*, call_id: int) -> dict[str, Any]:
    """Return what the monitor shows about a call besides its transcript (sync: reads the database)."""
    call = Call.objects.select_related("lead", "campaign").get(pk=call_id)
    return {
        "call_id": call.pk,
        "lead": call.lead.full_name or "Unnamed lead",
        "lead_url": reverse("dashboard:lead_detail", args=[call.lead_id]),
        "campaign": call.campaign.name,
        "call_url": reverse("dashboard:call_detail", args=[call.pk]),
        "voice_tier": call.voice_tier,
        "started_at": (call.answered_at or call.started_at or call.queued_at).isoformat(),
    }


class LiveCallFeed:
    """One call's events for the monitor, published in order by a single background task.

    Args:
        call_id: the call being monitored.
    """

    def __init__(self, *, call_id: int) -> None:
        self.call_id = call_id
        self._state: dict[str, Any] = {"card": {"call_id": call_id}, "turns": []}
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self, card: dict[str, Any]) -> None:
        self._state = {"card": card, "turns": []}
        self._put({"event": "call.started", "call_id": self.call_id, "card": card})
        self._task = asyncio.get_running_loop().create_task(self._publish_all())

    def turn(self, *, speaker: str, text: str) -> int | None:
        """Publish one line of the transcript; return its index (None for an empty line, which is not shown)."""
        if not text or self._task is None:
            return None
        # The index lets a viewer who got this turn in its snapshot as well drop the duplicate.
        index = len(self._state["turns"])
        turn = {"index": index, "speaker": speaker, "text": text, "latency_ms": None}
        self._state["turns"].append(turn)
        self._put({"event": "call.turn", "call_id": self.call_id, "turn": turn})
        return index

    def latency(self, *, index: int, latency_ms: int) -> None:
        """Publish how long the agent took to start the reply at `index` (known once its first audio left)."""
        self._state["turns"][index]["latency_ms"] = latency_ms
        self._put({"event": "call.latency", "call_id": self.call_id, "index": index, "latency_ms": latency_ms})

    async def flush(self) -> None:
        """Wait until everything queued so far is published (tests, and a clean end)."""
        while not self._queue.empty() and self._task is not None and not self._task.done():
            await asyncio.sleep(0.01)

    async def end(self, *, outcome: str = "") -> None:
        """Publish the end of the call and wait (briefly) for the feed to drain."""
        if self._task is None:
            return
        ended = {"event": "call.ended", "call_id": self.call_id, "outcome": outcome}
        self._put({**ended, "outcome_label": outcome_label(outcome)})
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(self._task, timeout=5)
        except (TimeoutError, asyncio.CancelledError):
            self._task.cancel()

    def _put(self, event: dict[str, Any]) -> None:
        self._queue.put_nowait(event)

    async def _publish_all(self) -> None:
        layer = get_channel_layer()
        while (event := await self._queue.get()) is not None:
            try:
                if event["event"] == "call.ended":
                    await cache.adelete(live_key(self.call_id))
                else:
                    await cache.aset(live_key(self.call_id), self._state, timeout=LIVE_TTL_S)
                if layer is not None:
                    await layer.group_send(LIVE_GROUP, {"type": "live.event", "payload": event})
            except Exception:  # noqa: BLE001 - the monitor must never disturb the call.
                logger.warning("live monitor publish failed", extra={"call": self.call_id, "event": event["event"]})
