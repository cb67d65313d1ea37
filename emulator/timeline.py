"""What happened on an emulated call, in order, with millisecond offsets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

Event = dict[str, Any]


class Timeline:
    """Events of one call; `t_ms` counts from the REST request that created the call.

    Events on the media stream also carry `stream_ms`, the stream's own clock
    (the `timestamp` of the media frame being sent at that moment).
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._t0 = self._loop.time()
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def now_ms(self) -> int:
        """Return milliseconds since the call was created."""
        return round((self._loop.time() - self._t0) * 1000)

    def add(self, event: str, **fields: Any) -> Event:
        """Append an event and wake whoever waits for one."""
        record: Event = {"t_ms": self.now_ms(), "event": event, **fields}
        self.events.append(record)
        self._changed.set()
        self._changed = asyncio.Event()
        return record

    def find(self, event: str) -> list[Event]:
        """Return every event with this name, oldest first."""
        return [e for e in self.events if e["event"] == event]

    async def wait_for(self, event: str, *, timeout: float, where: Callable[[Event], bool] = lambda e: True) -> Event:
        """Return the first event with this name (and matching `where`), waiting for it if need be.

        Raises:
            TimeoutError: when no such event arrives in time.
        """
        deadline = self._loop.time() + timeout
        while True:
            for record in self.events:
                if record["event"] == event and where(record):
                    return record
            remaining = deadline - self._loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no {event!r} event within {timeout} s; last events: {self.events[-5:]}")
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue
