"""Serve our app under daphne in a child process, for calls placed through the emulator.

The demo and the voice benchmark run the real topology: the emulator (Twilio's
side) in one process, the app (webhooks and media streams) in daphne in
another, on one database. `python -m emulator.appserver --clock ISO ...`
runs daphne on a shifted wall clock, so the demo can show a campaign inside
calling hours whatever the hour it is started; the dialer's process shifts by
the same amount, so every timestamp agrees.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 120


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url() -> str:
    """Return a URL for the database this process uses, so a child process opens the same one."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(str(db['NAME'])).resolve()}"
    user = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def app_start(
    *, env: dict[str, str], port: int, log: Path, clock: dt.datetime | None = None
) -> subprocess.Popen[bytes]:
    """Start daphne on 127.0.0.1:`port` with `env` added to ours; return once it is ready for calls.

    Args:
        env: settings for the app (DATABASE_URL, TWILIO_*, PUBLIC_BASE_URL...).
        port: where to listen.
        log: file for daphne's output, quoted when it fails to start.
        clock: run the app as if the wall clock had read this at start-up.

    Raises:
        RuntimeError: daphne exited, or was not ready (listening, models warm) within START_TIMEOUT_S.
    """
    command = [sys.executable, "-m", "emulator.appserver"]
    if clock is not None:
        command += ["--clock", clock.isoformat()]
    command += ["-b", "127.0.0.1", "-p", str(port), "reautomation.asgi:application"]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"daphne exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        state = app_models_state(port)
        if state == "warm":
            return server
        if state.startswith("failed"):
            server.kill()
            raise RuntimeError(f"daphne could not warm its models ({state}):\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"daphne was not ready on {port} within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


def app_models_state(port: int) -> str:
    """Return what the app's /healthz says of its models ("loading", "warm", "failed: ..."), "" if it has no answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        # 503 while the models load, or while some other service is down: the body still says which.
        body = json.loads(exc.read() or b"{}")
    except (OSError, ValueError):
        return ""
    return str(body.get("checks", {}).get("models", {}).get("detail", ""))


def app_stop(server: subprocess.Popen[bytes]) -> None:
    """Stop daphne, killing it if it does not exit within 15 s."""
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def main(argv: list[str]) -> None:
    """Run daphne's command line, first moving the wall clock when `--clock ISO` leads the arguments."""
    if argv[:1] == ["--clock"]:
        import time_machine

        time_machine.travel(dt.datetime.fromisoformat(argv[1]), tick=True).start()
        argv = argv[2:]
    from daphne.cli import CommandLineInterface  # type: ignore[import-untyped]

    CommandLineInterface().run(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
