"""Warm this daphne process's speech models before it takes calls, then keep telling the dialer it is ready.

The first call of a fresh process would otherwise wait seconds for its greeting
while Whisper, Piper, the VAD, Smart Turn and the brain load, and a lead who
hears silence hangs up. reautomation.asgi starts this once daphne serves.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings

from common import readiness
from voice.engines import warm_up

logger = logging.getLogger(__name__)

_start_lock = threading.Lock()
_thread: threading.Thread | None = None
_stop = threading.Event()


def start() -> threading.Thread:
    """Warm the models in a daemon thread (once per process), then mark the process ready and keep its heartbeat.

    With VOICE_WARM_UP off the process is ready at once and loads the models on its first call.

    Returns:
        The thread, already running.
    """
    global _thread, _stop
    with _start_lock:
        if _thread is None:
            readiness.PROCESS.loading()
            _stop = threading.Event()
            _thread = threading.Thread(target=_warm_then_beat, args=(_stop,), name="voice-warm-up", daemon=True)
            _thread.start()
        return _thread


def stop() -> None:
    """Stop the heartbeat: a process shutting down stops telling the dialer to send it calls."""
    _stop.set()


def _warm_then_beat(stop: threading.Event) -> None:
    if settings.VOICE_WARM_UP and not _warmed():
        return
    # The record first: whoever sees this process warm also finds the dialer able to dial.
    _beat()
    readiness.PROCESS.warm()
    while not stop.wait(settings.MEDIA_WORKER_BEAT_S):
        _beat()


def _warmed() -> bool:
    started = time.perf_counter()
    try:
        warm_up()
    except Exception as exc:
        # A process that cannot load its models must not be sent calls: it stays not ready (/healthz says
        # why, so the orchestrator can replace it), and streams already waiting go on at once.
        logger.exception("voice warm-up failed; this process stays not ready for calls")
        readiness.PROCESS.failed(f"{type(exc).__name__}: {exc}")
        return False
    logger.info("voice models warm", extra={"seconds": round(time.perf_counter() - started, 1)})
    return True


def _beat() -> None:
    try:
        readiness.media_worker_beat()
    except Exception:
        # The cache being down for a beat must not end the heartbeat; the next one may get through.
        logger.warning("could not record this media worker's heartbeat", exc_info=True)
