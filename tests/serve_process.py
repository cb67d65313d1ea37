"""`manage.py serve` (`make serve`) in a subprocess on the test database, for tests that use the product as it runs.

It starts daphne, the dialer (beat_inline on the embedded default, or a Celery worker and beat when a
broker is configured) and the local Twilio emulator. `serve_running` stops it with Ctrl-C (SIGINT) and
kills whatever a failed test left behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis

from emulator.appserver import ROOT, database_url, free_port
from tests.worker_process import redis_broker_url, wait_until

# Without a broker in the environment, the settings make Celery eager.
BROKER_VARIABLES = ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER")


@dataclass
class Serve:
    """A running `manage.py serve`, with everything it has printed."""

    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return "\n".join(self.lines)

    def pids(self) -> dict[str, int]:
        """Return the processes serve said it started, by name ({} before it has said)."""
        line = next((line for line in self.lines if "Processes" in line), "")
        return {name: int(pid) for name, pid in re.findall(r"(\w+) \(pid (\d+)\)", line)}

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    def wait_ready(self) -> None:
        """Wait until serve says it runs; fail with its output if it exits first."""
        wait_until(
            lambda: "Ctrl-C stops every process" in self.output() or self.process.poll() is not None,
            timeout=150,
            what="serve to say it is running",
        )
        assert self.process.poll() is None, self.output()[-5000:]


def broker_topology() -> dict[str, str]:
    """The environment for a Celery worker and beat, on a queue of the caller's own."""
    # No other worker on the same Redis takes this queue's tasks.
    return {"REDIS_URL": redis_broker_url(), "CELERY_TASK_DEFAULT_QUEUE": f"serve-test-{uuid.uuid4().hex}"}


@contextlib.contextmanager
def serve_running(topology: dict[str, str], var_dir: Path, **env_vars: str) -> Iterator[Serve]:
    """Start `manage.py serve` on the test database; SIGINT it (Ctrl-C) at the end if the caller has not."""
    env = {key: value for key, value in os.environ.items() if key not in BROKER_VARIABLES}
    env.pop("TWILIO_ACCOUNT_SID", None)
    env.update(
        topology,
        DATABASE_URL=database_url(),
        DB_CONN_MAX_AGE="0",
        DEBUG="True",
        # Its own var/: the media-worker record the dialer waits for, the emulator's call folders.
        VAR_DIR=str(var_dir),
        DIALER_TICK_S="1",
        # Busy lines: the emulator answers no call, so neither side needs its speech models.
        EMULATOR_DEFAULT_PERSONA="busy",
        VOICE_WARM_UP="False",
        LLM_BACKEND="none",
        CELERY_CONCURRENCY="1",
    )
    env.update(env_vars)
    port = free_port()
    command = [sys.executable, "manage.py", "serve", "--port", str(port), "--emulator-port", str(free_port())]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    running = Serve(process, port)
    reader = threading.Thread(target=running.read, daemon=True)
    reader.start()
    try:
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        # Whatever a failed test left running: no daphne or worker may outlive it.
        for pid in running.pids().values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        reader.join(timeout=10)
        if queue := topology.get("CELERY_TASK_DEFAULT_QUEUE"):
            broker = redis.Redis.from_url(topology["REDIS_URL"])
            if keys := list(broker.scan_iter(f"*{queue}*")):  # the queue and kombu's bindings of it
                broker.delete(*keys)
