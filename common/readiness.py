"""Whether this process is ready for media streams, and whether any daphne process is.

A daphne process loads and warms its speech models in a background thread
(voice.warmup) while it already listens, so health probes get an answer. Until
the models are warm, /healthz answers 503, media streams that arrive wait here,
and the process tells the dialer nothing. Once warm it keeps a heartbeat in the
"media_workers" cache, which every process can read (the dialer runs in Celery,
often on another machine), and the dialer places calls only while one is fresh.

This module sits below both voice (which writes) and calls (which reads), so
neither imports the other for it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading

from django.conf import settings
from django.core.cache import caches

# One key for all processes: the dialer only asks whether any media worker is up.
MEDIA_WORKER_KEY = "media-worker-ready"
# A process is counted on for this many heartbeats, so one late beat does not stop the dialer.
BEATS_TO_EXPIRE = 3


class ModelsReadiness:
    """This process's speech models: not served here, loading, warm, or failed to load."""

    def __init__(self) -> None:
        self._serving = False
        self._warm = threading.Event()
        # Set once loading has ended either way, so streams stop waiting on a process that cannot warm.
        self._settled = threading.Event()
        self._failure = ""

    def loading(self) -> None:
        """Mark this process as a media worker whose models are loading."""
        self._serving = True

    def warm(self) -> None:
        """Mark the models loaded and warmed."""
        self._serving = True
        self._warm.set()
        self._settled.set()

    def failed(self, reason: str) -> None:
        """Mark the warm-up failed, with a reason for /healthz."""
        self._serving = True
        self._failure = reason
        self._settled.set()

    def state(self) -> str | None:
        """Return "loading", "warm" or "failed: <reason>"; None where this process serves no media streams."""
        if not self._serving:
            return None
        if self._warm.is_set():
            return "warm"
        return f"failed: {self._failure}" if self._settled.is_set() else "loading"

    async def wait(self, *, timeout_s: float) -> bool:
        """Wait, without blocking the event loop, until loading has ended or `timeout_s` passed.

        Args:
            timeout_s: the longest to wait.

        Returns:
            Whether the models are warm; True where this process does not warm
            them (they load on first use).
        """
        if not self._serving or self._warm.is_set():
            return True
        await asyncio.to_thread(self._settled.wait, timeout_s)
        return self._warm.is_set()


# The process-wide state; tests put a fresh one in its place.
PROCESS = ModelsReadiness()


def _worker_name() -> str:
    # Which process beat last, for whoever reads the record by hand.
    return f"{socket.gethostname()}:{os.getpid()}"


def media_worker_beat() -> None:
    """Record that a media worker is ready, for BEATS_TO_EXPIRE heartbeats (every MEDIA_WORKER_BEAT_S)."""
    timeout = BEATS_TO_EXPIRE * settings.MEDIA_WORKER_BEAT_S
    caches["media_workers"].set(MEDIA_WORKER_KEY, _worker_name(), timeout=timeout)


def media_worker_ready_exists() -> bool:
    """Return whether some media worker has recorded recently enough that it is ready for calls."""
    return caches["media_workers"].get(MEDIA_WORKER_KEY) is not None
