"""Shared fixtures for the voice tests: our app served by daphne, for calls driven through the emulator."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "emulator-django-token"
START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            pytest.skip("the SQLite test database is in memory; another process cannot see it")
        return f"sqlite:///{name}"
    user = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def emulator_port() -> int:
    """A free port for the Twilio emulator, known before the app starts so the app's REST calls can reach it.

    Start the emulator with `emulator_in_thread(port=emulator_port)` in tests whose app calls Twilio's REST API.
    """
    return _free_port()


@pytest.fixture
def live_app(transactional_db: None, settings: Any, tmp_path: Path, emulator_port: int) -> Iterator[str]:
    """Serve the project with daphne on a free port, on the test database; yield its base URL."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.PUBLIC_BASE_URL = ACCOUNT, TOKEN, base
    settings.EMULATOR_OUTPUT_DIR = str(tmp_path / "emulator")
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DB_CONN_MAX_AGE": "0",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": base,
        "TWILIO_API_BASE_URL": f"http://127.0.0.1:{emulator_port}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "LOG_LEVEL": "WARNING",
        "LLM_BACKEND": "none",
    }
    log_path = tmp_path / "daphne.log"
    with log_path.open("wb") as log:
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "reautomation.asgi:application"]
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_listening(port, server, log_path)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_listening(port: int, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"daphne exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"daphne did not listen on {port} within {START_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")
