"""Faults during a call: the app server killed, the database connection cut, the LLM host wedged.

Each test shows that nothing the call produced is lost. The whole-call tests run
the production topology as tests/voice/test_whole_call.py does (the Twilio
emulator dials through our webhooks into a daphne subprocess), but start daphne
themselves, so they can kill it, find its database connections or point it at a
broken LLM host. Cutting connections needs PostgreSQL's pg_terminate_backend.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from calls.models import Call, TranscriptTurn
from calls.reconcile import ReconcileResult, calls_open_reconcile
from calls.services import TurnRecord
from emulator import audio
from emulator.appserver import app_start, app_stop, database_url, free_port
from emulator.server import EmulatorThread, emulator_in_thread
from integrations.twilio.client import OutboundCall, call_create
from tests.factories import CallFactory, ConsentFactory
from tests.voice.settle import recorded_call_settled
from tests.worker_process import wait_until, worker_database_url
from voice.session import CallSession
from voice.transport import SocketBridge

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "faults-test-token"
CALLER = "+14155550100"
# Five lines, then "bye" and a hang-up: long enough to cut something off in the middle.
PERSONA = "interested_seller"
MAX_CALL_MINUTES = 10
# Generous: a whole call takes about a minute on an idle machine, and these run on loaded ones.
CALL_TIMEOUT_S = 240


@dataclass
class App:
    base_url: str
    process: subprocess.Popen[bytes]


@pytest.fixture
def app_server(
    transactional_db: None, settings: Any, tmp_path: Path, emulator_port: int
) -> Iterator[Callable[..., App]]:
    """Return a function that starts daphne on the test database (with extra environment) and stops it afterwards."""
    if connection.vendor == "sqlite" and ":memory:" in str(connection.settings_dict["NAME"]):
        pytest.skip("the SQLite test database is in memory; daphne in another process cannot see it")
    started: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> App:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.PUBLIC_BASE_URL = ACCOUNT, TOKEN, base
        settings.EMULATOR_OUTPUT_DIR = str(tmp_path / "emulator")
        settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{emulator_port}"
        process = app_start(
            env={
                "DATABASE_URL": database_url(),
                "DB_CONN_MAX_AGE": "0",
                "TWILIO_ACCOUNT_SID": ACCOUNT,
                "TWILIO_AUTH_TOKEN": TOKEN,
                "PUBLIC_BASE_URL": base,
                "TWILIO_API_BASE_URL": settings.TWILIO_API_BASE_URL,
                "MEDIA_ROOT": str(tmp_path / "media"),
                "LOG_LEVEL": "WARNING",
                # The post-call analysis runs in daphne, as in the embedded default.
                "CELERY_TASK_ALWAYS_EAGER": "True",
                "LLM_BACKEND": "none",
                **env,
            },
            port=port,
            log=tmp_path / "daphne.log",
        )
        started.append(process)
        return App(base_url=base, process=process)

    yield start
    for process in started:
        if process.poll() is None:
            app_stop(process)


def _every_lead_line_kept(transcript: list[tuple[str, str]], emulated: Any) -> None:
    """Assert that every line the emulated lead said is in the transcript, whole.

    A line of two sentences ("Probably in the next three or four months. We would like to know what it's worth
    first.") is one turn or two, as the pause between them falls against the agent's reply; either way no word of
    it may be missing. Speech-to-text may mishear a word ("this spring" as "a spring"), so words are counted.
    """
    lead_turns = [text for speaker, text in transcript if speaker == TranscriptTurn.Speaker.LEAD]
    said = [str(event.get("text", "")) for event in emulated.timeline.find("lead_line_start")]
    assert len(said) >= 2, transcript
    heard = set(_words(" ".join(lead_turns)))
    for line in said:
        words = _words(line)
        assert sum(word in heard for word in words) >= 0.6 * len(words), (line, transcript)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _dialed_call() -> Call:
    """Return a call as the dialer leaves it just before asking Twilio: claimed, dialed now."""
    call = CallFactory.create(
        status=Call.Status.DIALING,
        dialed_at=timezone.now(),
        lead__state="CA",
        lead__first_name="Dana",
        campaign__business_name="Bayside Realty",
        campaign__max_call_minutes=MAX_CALL_MINUTES,
    )
    ConsentFactory.create(lead=call.lead)
    return call


def _place(emulator: EmulatorThread, call: Call, app: App) -> str:
    """Have the emulator call the lead through our webhooks, and store the SID as the dialer does; return it."""
    emulator.server.assign(call.lead.phone, PERSONA)
    outbound = OutboundCall.to_our_webhooks(
        call_id=call.pk,
        to=call.lead.phone,
        from_=CALLER,
        base_url=app.base_url,
        time_limit_s=MAX_CALL_MINUTES * 60,
    )
    sid = call_create(outbound)
    Call.objects.filter(pk=call.pk, twilio_sid__isnull=True).update(twilio_sid=sid)
    return sid


def _turns(call_id: int) -> list[tuple[str, str]]:
    return list(TranscriptTurn.objects.filter(call_id=call_id).order_by("index").values_list("speaker", "text"))


def _lead_turns(call_id: int) -> int:
    return TranscriptTurn.objects.filter(call_id=call_id, speaker=TranscriptTurn.Speaker.LEAD).count()


@pytest.mark.slow
def test_a_call_whose_app_server_is_killed_keeps_its_transcript_and_is_settled_from_twilio(
    app_server: Callable[..., App], settings: Any, emulator_port: int
) -> None:
    audio.warm_up()
    app = app_server()
    call = _dialed_call()

    with emulator_in_thread(port=emulator_port) as emulator:
        sid = _place(emulator, call, app)
        # The brain saves the transcript after every turn; wait for two of the lead's.
        wait_until(lambda: _lead_turns(call.pk) >= 2, timeout=CALL_TIMEOUT_S, what="two lead turns saved")
        # No shutdown, no goodbye, no final save: the process is gone (an OOM kill, a crashed host).
        os.kill(app.process.pid, signal.SIGKILL)
        app.process.wait(timeout=30)
        kept = _turns(call.pk)
        # Twilio sees the media stream drop, finds no more TwiML and ends the call.
        emulated = emulator.run(emulator.server.wait_call(sid, timeout=120))

        # Twilio sent its final status callback; nobody was there to take it.
        [final] = [e for e in emulated.timeline.find("status_callback") if e["call_status"] == "completed"]
        assert emulated.status == "completed" and "error" in final, final
        call.refresh_from_db()
        assert call.status == Call.Status.IN_PROGRESS
        assert _turns(call.pk) == kept

        # The reconcile sweep (beat, every CALL_RECONCILE_INTERVAL_S) asks Twilio once the call is past its limit.
        later = timezone.now() + dt.timedelta(minutes=MAX_CALL_MINUTES, seconds=settings.CALL_RECONCILE_MARGIN_S + 60)
        assert calls_open_reconcile(now=later)[ReconcileResult.SETTLED] == 1

    call.refresh_from_db()
    assert (call.status, call.outcome) == (Call.Status.COMPLETED, Call.Outcome.FAILED)
    assert call.duration_seconds == emulated.duration_s and call.ended_at is not None
    assert "voice session was lost" in call.summary
    # Every turn saved before the kill is still there, in order (the live monitor's copy may add later ones).
    transcript = _turns(call.pk)
    assert transcript[: len(kept)] == kept, (kept, transcript)
    assert len([t for t in kept if t[0] == TranscriptTurn.Speaker.LEAD]) >= 2
    # The lead is retried like any failed call, not left "on a call" for good.
    call.lead.refresh_from_db()
    assert call.lead.next_attempt_at is not None


# --- The database connection cut ---------------------------------------------------------------------------


def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("cuts connections with PostgreSQL's pg_terminate_backend; SQLite has no connections to cut")


def _admin() -> psycopg.Connection[Any]:
    """Return a connection of our own to the test database, outside Django (it must survive the cuts)."""
    return psycopg.connect(worker_database_url(), autocommit=True)


def _others(admin: psycopg.Connection[Any], *, waiting: bool = False) -> list[int]:
    """Return the pids of the test database's backends other than this test's own (Django's and `admin`'s)."""
    mine = [admin.info.backend_pid]
    if connection.connection is not None:
        mine.append(connection.connection.info.backend_pid)
    rows = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> ALL(%s)"
        + (" AND wait_event_type = 'Lock'" if waiting else ""),
        [mine],
    ).fetchall()
    return [int(pid) for (pid,) in rows]


def _terminate(admin: psycopg.Connection[Any], pids: list[int]) -> None:
    for pid in pids:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def _cut_a_write_in_flight(
    admin: psycopg.Connection[Any], *, table: str, timeout: float, start: Callable[[], object] = lambda: None
) -> None:
    """Hold the next write to `table` on a lock (calling `start` once it is held), cut its connection, let go.

    A connection that died between two uses is caught by Django's health check;
    one cut under a running query is what a database restart or failover does.
    """
    with psycopg.connect(worker_database_url()) as locker:
        # EXCLUSIVE lets reads through (the test polls) and holds every write.
        locker.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        start()
        blocked = wait_until(lambda: _others(admin, waiting=True), timeout=timeout, what=f"a write to {table}")
        _terminate(admin, blocked)
        locker.rollback()


def test_the_end_of_call_save_survives_its_connection_cut_mid_write(caplog: pytest.LogCaptureFixture) -> None:
    _postgres_only()
    call = CallFactory.create()
    session = _session(call.pk)
    turns = [TurnRecord(speaker="agent", text="Hi, this is Ava."), TurnRecord(speaker="lead", text="Hi there.")]

    def persist() -> None:
        try:
            session._persist(turns, None, None)
        finally:
            connection.close()  # this thread's own connection

    with _admin() as admin, caplog.at_level(logging.WARNING, logger="voice.session"), ThreadPoolExecutor(1) as pool:
        saving: list[Future[None]] = []
        _cut_a_write_in_flight(
            admin, table="calls_transcriptturn", timeout=30, start=lambda: saving.append(pool.submit(persist))
        )
        saving[0].result(timeout=60)  # raises what the save raised

    assert _turns(call.pk) == [("agent", "Hi, this is Ava."), ("lead", "Hi there.")]
    assert "database connection lost" in caplog.text


@pytest.mark.slow
def test_a_call_goes_on_and_is_recorded_whole_when_its_database_connections_are_cut(
    app_server: Callable[..., App], emulator_port: int
) -> None:
    _postgres_only()
    audio.warm_up()
    # Production keeps connections open between requests: the cut finds them idle, mid-call.
    app = app_server(DB_CONN_MAX_AGE="60")
    call = _dialed_call()

    with _admin() as admin, emulator_in_thread(port=emulator_port) as emulator:
        sid = _place(emulator, call, app)
        wait_until(lambda: _lead_turns(call.pk) >= 1, timeout=CALL_TIMEOUT_S, what="the first lead turn saved")
        # Every connection daphne holds, idle between two uses.
        _terminate(admin, _others(admin))
        # And one write cut while it runs: the brain's save after the lead's next turn.
        _cut_a_write_in_flight(admin, table="calls_transcriptturn", timeout=CALL_TIMEOUT_S)
        emulated = emulator.run(emulator.server.wait_call(sid, timeout=CALL_TIMEOUT_S))

    call = recorded_call_settled(call.pk)
    transcript = _turns(call.pk)
    assert emulated.status == "completed" and call.status == Call.Status.COMPLETED, transcript
    assert call.outcome not in (Call.Outcome.NONE, Call.Outcome.FAILED), (call.outcome, transcript)
    # Every line the lead said, before and after the cuts, was heard and kept.
    _every_lead_line_kept(transcript, emulated)
    # The voice session's own timed transcript, recording and costs made it too.
    assert TranscriptTurn.objects.filter(call=call, latency_ms__isnull=False).exists(), transcript
    assert call.recording.name.endswith(".wav")
    assert call.duration_seconds == emulated.duration_s


# --- The LLM host down or wedged -----------------------------------------------------------------------------


class HungLLMHost:
    """An Ollama host that takes every connection and request and never answers, like one wedged on a busy GPU."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="hung-llm", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections.append(conn)  # held open, never read from or answered

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in [*self.connections, self._listener]:
            conn.close()


@pytest.mark.slow
def test_a_call_goes_on_from_templates_while_the_llm_never_answers(
    app_server: Callable[..., App], emulator_port: int
) -> None:
    audio.warm_up()
    llm = HungLLMHost()
    # Every use of the LLM is on: rephrasing each reply (bounded by its timeout), extraction, the summary.
    app = app_server(
        LLM_BACKEND="ollama",
        OLLAMA_HOST=llm.url,
        LLM_REPHRASE="True",
        LLM_REPHRASE_TIMEOUT_S="0.8",
        LLM_EXTRACT="True",
        LLM_TIMEOUT_S="3",
    )
    call = _dialed_call()
    try:
        with emulator_in_thread(port=emulator_port) as emulator:
            sid = _place(emulator, call, app)
            emulated = emulator.run(emulator.server.wait_call(sid, timeout=CALL_TIMEOUT_S))
        call = recorded_call_settled(call.pk, timeout_s=120)
    finally:
        asked = len(llm.connections)
        llm.close()

    transcript = _turns(call.pk)
    assert asked >= 1, "the LLM was never asked: the test proves nothing"
    assert emulated.status == "completed" and call.status == Call.Status.COMPLETED, transcript
    _every_lead_line_kept(transcript, emulated)
    # Every lead turn was answered, and the analysis fell back to its templates. The lead's "thank you, bye"
    # can come after the agent's goodbye, before the hang-up: that one needs no answer.
    last_agent = max(i for i, (speaker, _) in enumerate(transcript) if speaker == TranscriptTurn.Speaker.AGENT)
    before_the_end = transcript[: last_agent + 1]
    assert all(
        before_the_end[i + 1][0] == TranscriptTurn.Speaker.AGENT
        for i, (speaker, _) in enumerate(before_the_end)
        if speaker == TranscriptTurn.Speaker.LEAD
    ), transcript
    if last_agent < len(transcript) - 1:
        assert "goodbye" in transcript[last_agent][1].lower(), transcript
    assert call.outcome not in (Call.Outcome.NONE, Call.Outcome.FAILED) and call.summary, (call.outcome, call.summary)


async def _nothing(*_args: Any) -> None:
    return None


def _session(call_id: int) -> CallSession:
    async def no_brain(_call_id: int) -> Any:
        raise AssertionError("not built in this test")

    return CallSession(
        call_id=call_id,
        call_sid="CA" + "4" * 32,
        stream_sid="MZ" + "4" * 32,
        bridge=SocketBridge(send=_nothing, close=_nothing),
        conversation_factory=no_brain,
    )
