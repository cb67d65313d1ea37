"""The dialer's test harness: a `celery worker` subprocess, and an emulator that can hold its answer to a create."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web
from django.utils import timezone

from emulator.call import EmulatedCall
from emulator.server import EmulatorServer
from tests.worker_process import wait_until

ROOT = Path(__file__).resolve().parents[2]


class HoldingEmulator(EmulatorServer):
    """The emulator, able to hold its answer to a create: the call is placed, the dialer not yet told."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hold_s = 0.0
        self.created = threading.Event()

    async def _create(self, request: web.Request) -> web.Response:
        response = await super()._create(request)
        self.created.set()
        # Held until the test sets hold_s back to 0 (from its own thread), at most hold_s seconds.
        deadline = time.monotonic() + self.hold_s
        while self.hold_s and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return response

    def placed_for(self, call_id: int) -> list[EmulatedCall]:
        """Return the calls Twilio was asked to place for our Call `call_id`."""
        return [c for c in list(self.calls.values()) if our_call_id(c) == call_id]


def our_call_id(call: EmulatedCall) -> int:
    return int(parse_qs(urlsplit(call.request.url).query)["call"][0])


class Worker:
    """A `celery worker` subprocess: prefork with 2 processes, on its own queue."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env, self.log_path = env, log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log_from = 0

    def start(self) -> None:
        command = [
            sys.executable, "-m", "celery", "-A", "reautomation", "worker", "--pool=prefork", "--concurrency=2",
            "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO",
            f"--hostname=dialer-test-{uuid.uuid4().hex[:8]}@%h",
        ]  # fmt: skip
        self._log_from = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            # A session of its own, so kill() can take the pool processes down with it.
            process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.process = process
        wait_until(lambda: " ready." in self.log() or process.poll() is not None, timeout=60, what="the worker")
        assert process.poll() is None, f"the worker exited:\n{self.log()[-3000:]}"

    def log(self) -> str:
        """Return what this worker process has logged since it started."""
        with self.log_path.open("rb") as log:
            log.seek(self._log_from)
            return log.read().decode(errors="replace")

    def pool_pids(self) -> list[int]:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def kill(self) -> None:
        """SIGKILL the whole worker, its pool processes included: no warm shutdown, nothing acknowledged."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


def noon_zone() -> str:
    """Return a zone where it is now about noon, so the calling window is open whenever the test runs.

    The worker runs on the real clock, which cannot be frozen from here.
    """
    offset = 12 - timezone.now().hour  # from -11 to +12 hours
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # POSIX signs
