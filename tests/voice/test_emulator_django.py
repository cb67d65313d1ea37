"""A call through the emulator against our real Django webhooks, served by daphne over HTTP.

The app runs in its own process on a free port, on this test's database (a
file on SQLite, the test database on PostgreSQL), so every status callback,
the voice webhook and the AMD callback travel as signed HTTP requests exactly
as Twilio's would.
"""

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

from calls.models import Call
from integrations.twilio.client import OutboundCall, call_create
from tests.factories import CallFactory
from voice.emulator import audio
from voice.emulator.persona import Persona, step_from_dict
from voice.emulator.server import emulator_in_thread
from voice.stream_tokens import stream_token_call_id

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "emulator-django-token"
CALLER = "+14155550100"
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
def live_app(transactional_db: None, settings: Any, tmp_path: Path) -> Iterator[str]:
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


@pytest.mark.django_db(transaction=True)
def test_it_drives_a_call_through_our_webhooks_and_database(live_app: str, settings: Any) -> None:
    audio.warm_up()
    call = CallFactory()
    # A lead who answers, says nothing for a moment and hangs up: this test is about
    # the call's lifecycle in our app, not the conversation (the media pipeline is tested on its own).
    lead = Persona(
        name="brief",
        steps=(step_from_dict({"silence": 1.5}), step_from_dict({"hang_up": True})),
        ring_s=0.3,
        amd_after_s=0.5,
    )
    with emulator_in_thread() as emulator:
        emulator.server.assign(call.lead.phone, lead)
        settings.TWILIO_API_BASE_URL = emulator.server.base_url
        sid = call_create(
            OutboundCall.to_our_webhooks(call_id=call.pk, to=call.lead.phone, from_=CALLER, base_url=live_app)
        )
        emulated = emulator.server.calls[sid]
        emulator.run(emulated.timeline.wait_for("webhook_fetched", timeout=30))
        call.refresh_from_db()
        assert (call.status, call.twilio_sid) == (Call.Status.IN_PROGRESS, sid)
        assert call.started_at is not None and call.answered_at is not None and call.ended_at is None
        emulator.run(emulator.server.wait_call(sid, timeout=60))

    call.refresh_from_db()
    assert (call.status, call.twilio_sid, call.answered_by) == (Call.Status.COMPLETED, sid, Call.AnsweredBy.HUMAN)
    assert call.duration_seconds == emulated.duration_s and call.ended_at is not None
    timeline = emulated.timeline
    # Every signed request was accepted by our views (a bad signature would be 403).
    callbacks = timeline.find("status_callback")
    assert [(e["call_status"], e["http_status"]) for e in callbacks] == [
        ("initiated", 204),
        ("ringing", 204),
        ("in-progress", 204),
        ("completed", 204),
    ]
    assert [e["http_status"] for e in timeline.find("webhook_fetched")] == [200]
    assert [e["http_status"] for e in timeline.find("amd_callback")] == [204]
    # The TwiML was parsed into our websocket URL with the call's signed token.
    [stream] = timeline.find("twiml_stream")
    assert stream["url"] == live_app.replace("http://", "ws://") + "/twilio/stream/"
    assert stream["parameters"]["call_id"] == str(call.pk)
    assert stream_token_call_id(token=stream["parameters"]["token"]) == call.pk
