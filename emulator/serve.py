"""`make serve` (`manage.py serve`): every process the app needs on this machine, started and stopped together.

The Procfile's topology on one machine: daphne (web), and Celery's worker and
beat when a broker is configured (REDIS_URL or CELERY_BROKER_URL). The embedded
default has no broker: Celery runs each task eagerly in the process that sends
it, so a worker could never receive one and beat would have nowhere to send its
ticks. There one process, `manage.py beat_inline` (beat_inline_run), stands in
for both: it runs CELERY_BEAT_SCHEDULE's tasks on their schedules, each inline,
and the dials a tick enqueues run inline after it, as in `make demo`. The tasks,
the schedule, the compliance gate, the Twilio client, the webhooks and the media
streams are production's; what the embedded default gives up is concurrency
(one task at a time) and the admin's *Periodic tasks* edits, which only beat's
database scheduler reads.

Without TWILIO_ACCOUNT_SID the calls go to the local Twilio emulator, run in
this supervising process on an account made up for the run, with the demo
leads' numbers answered by their personas.

Dev tooling: nothing in the product imports this module.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from celery.schedules import maybe_schedule
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import close_old_connections, connections

from calls.models import Campaign
from common.readiness import media_worker_ready_exists
from emulator.appserver import app_models_state
from emulator.demo import (
    DEMO_PASSWORD_DEFAULT,
    DEMO_SOURCE,
    DEMO_USERNAME,
    demo_admin_password,
    demo_admin_set,
    demo_personas,
)
from leads.models import Lead
from reautomation.security import url_passwords_mask

if TYPE_CHECKING:
    from emulator.server import EmulatorThread

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
ASGI_APP = "reautomation.asgi:application"
# A process gets this long to stop by itself after SIGTERM (a worker finishes the dial it is placing),
# then it is killed with everything it started.
STOP_TIMEOUT_S = 20.0
# Daphne listens at once but takes calls only once its speech models are warm.
READY_TIMEOUT_S = 180.0
READY_PROBE_S = 1.0
READY_PROBE_IDLE_S = 10.0


class ServeError(Exception):
    """A process could not start; the message says which and why."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    relay: threading.Thread


class Processes:
    """Child processes whose output is passed on line by line, each line led by its process's name."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.children: list[Child] = []
        self._write = write
        self._lock = threading.Lock()

    def say(self, name: str, text: str) -> None:
        with self._lock:
            self._write(f"{name:<6}| {text}")

    def start(self, name: str, command: list[str], env: Mapping[str, str]) -> Child:
        """Start `command` in a session of its own, so Ctrl-C reaches only us and we stop it in turn."""
        process = subprocess.Popen(
            command, cwd=ROOT, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        relay = threading.Thread(target=self._relay, args=(name, process), name=f"relay-{name}", daemon=True)
        relay.start()
        child = Child(name, process, relay)
        self.children.append(child)
        return child

    def _relay(self, name: str, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.say(name, line.decode(errors="replace").rstrip())

    def exited(self) -> Child | None:
        """Return a child that has exited, if any has."""
        return next((c for c in self.children if c.process.poll() is not None), None)

    def stop(self, children: list[Child]) -> None:
        """Ask each child to stop (SIGTERM), wait STOP_TIMEOUT_S, then kill its session."""
        for child in children:
            if child.process.poll() is None:
                child.process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for child in children:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say("serve", f"{child.name} did not stop within {STOP_TIMEOUT_S:.0f} s; killing it")
            # The whole session: a Celery worker's pool processes outlive a killed parent. There is
            # none left to kill (ProcessLookupError) once every process in it has ended.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()
            child.relay.join(timeout=5)


def serve_login() -> str:
    """Make sure someone can sign in, creating the demo admin when there is no superuser; return who and how.

    Raises:
        DemoError: there is no superuser, DEBUG is off and DEMO_ADMIN_PASSWORD is unset or refused.
    """
    superusers = list(
        get_user_model()
        .objects.filter(is_superuser=True, is_active=True)
        .order_by("pk")
        .values_list("username", flat=True)[:3]
    )
    if not superusers:
        password, shown = demo_admin_password()
        demo_admin_set(password=password)
        return f"{DEMO_USERNAME} / {shown} (created now: there was no superuser)"
    if DEMO_USERNAME in superusers:
        return (
            f"{DEMO_USERNAME} / the password seed_demo gave it: DEMO_ADMIN_PASSWORD if set, else "
            f"{DEMO_PASSWORD_DEFAULT} (`manage.py changepassword {DEMO_USERNAME}` sets another)"
        )
    return f"{', '.join(superusers)} (existing superusers; `manage.py changepassword NAME` sets a password)"


def serve(*, port: int, emulator_port: int, stop: threading.Event, say: Callable[[str], None]) -> None:
    """Run web, the dialer and, without Twilio credentials, the Twilio emulator until `stop` is set or one exits.

    Args:
        port: where daphne listens, on 127.0.0.1.
        emulator_port: where the emulator listens when there are no Twilio credentials.
        stop: set it (on Ctrl-C) to stop every process.
        say: where every line goes, the processes' output included.

    Raises:
        ServeError: the emulator's port is taken, or daphne exited or was not ready in time.
        DemoError: no one could sign in (see serve_login).
    """
    base = f"http://127.0.0.1:{port}"
    login = serve_login()
    no_campaigns = not Campaign.objects.exists()
    # Children write to a pipe, which Python would otherwise buffer for seconds.
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    processes = Processes(say)
    emulator = None
    try:
        if not settings.TWILIO_ACCOUNT_SID:
            emulator = _emulator_start(env, base=base, port=emulator_port)
        # This process only waits from here on; a connection held for hours would go stale.
        connections.close_all()
        web = processes.start(
            "web", [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), ASGI_APP], env
        )
        if emulator is not None:
            from emulator import audio

            processes.say("serve", "Loading the speech models of the emulated leads...")
            audio.warm_up()
        _web_wait_ready(web, port=port, stop=stop)
        if stop.is_set():
            return
        dialer = _dialer_start(processes, env)
        for line in _banner(base=base, login=login, emulator=emulator, dialer=dialer, children=processes.children):
            processes.say("serve", line)
        if no_campaigns:
            processes.say("serve", "No campaigns yet: `.venv/bin/python manage.py seed_demo` loads the demo's.")
        while not stop.wait(0.5):
            if (child := processes.exited()) is not None:
                processes.say("serve", f"{child.name} exited with {child.process.returncode}; stopping the others")
                break
    finally:
        processes.say("serve", "Stopping...")
        # The dialer first, so nothing new is dialed; then the emulator, which hangs up live calls and
        # tells web so through its status callbacks; web last.
        processes.stop([c for c in processes.children if c.name != "web"])
        if emulator is not None:
            emulator.stop()
        processes.stop([c for c in processes.children if c.name == "web"])


def _emulator_start(env: dict[str, str], *, base: str, port: int) -> EmulatorThread:
    # Imported here: beat_inline, which shares this module, has no use for aiohttp and the emulator.
    from emulator.server import EmulatorServer, EmulatorThread

    # An account of this run's own: the emulator checks the app's requests with it, and the app the
    # emulator's webhook signatures. It lives in the children's environment only.
    sid, token = "AC" + secrets.token_hex(16), secrets.token_urlsafe(24)
    emulator = EmulatorThread(EmulatorServer(port=port, account_sid=sid, auth_token=token))
    try:
        emulator.start()
    except OSError as exc:
        emulator.loop.call_soon_threadsafe(emulator.loop.stop)
        raise ServeError(
            f"The Twilio emulator cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); "
            "pass --emulator-port or set EMULATOR_PORT."
        ) from exc
    demo_leads = Lead.objects.filter(lead_import__source=DEMO_SOURCE).values_list("phone", flat=True)
    for phone, persona in demo_personas(phones=demo_leads).items():
        emulator.server.assign(phone, persona)
    env.update(TWILIO_ACCOUNT_SID=sid, TWILIO_AUTH_TOKEN=token, TWILIO_API_BASE_URL=emulator.server.base_url)
    # The emulator calls the webhooks here, unless a tunnel's URL was given.
    env.setdefault("PUBLIC_BASE_URL", base)
    return emulator


def _web_wait_ready(web: Child, *, port: int, stop: threading.Event) -> None:
    # Each /healthz answered 503 while the models load is three lines of log. So it is asked
    # every READY_PROBE_S once some media worker has recorded that it is ready (the record the
    # dialer waits for, silent to read; on a shared Redis it may be another machine's), and
    # otherwise only every READY_PROBE_IDLE_S, for a warm-up that failed and records nothing.
    deadline = time.monotonic() + READY_TIMEOUT_S
    probed = time.monotonic()
    while not stop.wait(0.2):
        now = time.monotonic()
        if web.process.poll() is not None:
            raise ServeError(f"daphne exited with {web.process.returncode} (its output is above).")
        if now > deadline:
            raise ServeError(f"daphne was not ready for calls within {READY_TIMEOUT_S:.0f} s.")
        if now - probed < (READY_PROBE_S if media_worker_ready_exists() else READY_PROBE_IDLE_S):
            continue
        probed = now
        state = app_models_state(port)
        if state == "warm":
            return
        if state.startswith("failed"):
            raise ServeError(f"daphne could not load its speech models ({state}).")


def _dialer_start(processes: Processes, env: Mapping[str, str]) -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        processes.start("beat", [sys.executable, str(ROOT / "manage.py"), "beat_inline"], env)
        return "beat's schedule, each task inline in `beat` (`manage.py beat_inline`: no broker, eager Celery)"
    celery = [sys.executable, "-m", "celery", "-A", "reautomation"]
    concurrency = env.get("CELERY_CONCURRENCY", "4")
    processes.start("worker", [*celery, "worker", "--loglevel", "INFO", "--concurrency", concurrency], env)
    processes.start("beat", [*celery, "beat", "--loglevel", "INFO"], env)
    return f"Celery worker and beat on the broker at {url_passwords_mask(settings.CELERY_BROKER_URL)}"


def _banner(*, base: str, login: str, emulator: EmulatorThread | None, dialer: str, children: list[Child]) -> list[str]:
    if emulator is not None:
        telephony = (
            f"the local Twilio emulator at {emulator.server.base_url} (TWILIO_ACCOUNT_SID is not set); "
            f"each call's audio and timeline in {emulator.server.output_dir}/<call sid>/"
        )
    else:
        telephony = f"Twilio at {settings.TWILIO_API_BASE_URL}, webhooks to {settings.PUBLIC_BASE_URL}"
        if not settings.PUBLIC_BASE_URL.startswith("https://"):
            telephony += " (Twilio needs a public https PUBLIC_BASE_URL: docs/operations.md)"
    return [
        "REAutomation is running; Ctrl-C stops every process.",
        f"  Dashboard  {base}/dashboard/",
        f"  Admin      {base}/admin/",
        f"  API docs   {base}/api/docs",
        f"  Login      {login}",
        f"  Telephony  {telephony}",
        f"  Dialer     {dialer}",
        "  Processes  " + ", ".join(f"{c.name} (pid {c.process.pid})" for c in children),
        "Activate a campaign in the admin (Campaigns, tick it, action 'Activate selected campaigns'): its due leads "
        f"are dialed within {settings.DIALER_TICK_S} s, inside their calling hours on the real clock.",
    ]


def beat_inline_run(*, stop: threading.Event) -> None:
    """Run CELERY_BEAT_SCHEDULE's tasks on their schedules, each inline in this process, until `stop` is set.

    What beat and a worker do together, for the embedded default's eager Celery: what a
    task enqueues (the dials of a tick) runs inline too. A task that fails is logged and
    runs again on its next turn, as under beat.
    """
    from reautomation.celery import app

    # As a worker does at start: import every app's tasks module, so the registry knows each task by name.
    app.loader.import_default_modules()
    entries = settings.CELERY_BEAT_SCHEDULE
    schedules = {name: maybe_schedule(entry["schedule"], app=app) for name, entry in entries.items()}
    last_run = dict.fromkeys(entries, app.now())
    logger.info("beat_inline started", extra={"tasks": len(entries), "dialer_tick_s": settings.DIALER_TICK_S})
    while not stop.is_set():
        waits = []
        for name, schedule in schedules.items():
            due, next_s = schedule.is_due(last_run[name])
            if due and not stop.is_set():
                last_run[name] = app.now()
                _task_run(name, entries[name], registry=app.tasks)
            waits.append(next_s)
        # Until the next entry is due; a stop (SIGTERM, Ctrl-C) ends the wait at once.
        stop.wait(max(0.0, min(waits, default=60.0)))


def _task_run(name: str, entry: Mapping[str, Any], *, registry: Mapping[str, Any]) -> None:
    # Like a worker between tasks: this process lives for days, and its connections must not.
    close_old_connections()
    try:
        # By the task's registered name, as a worker finds it: a name is not always its module's path.
        registry[entry["task"]].apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
    except Exception:
        logger.exception("periodic task failed", extra={"entry": name, "task": entry["task"]})
    finally:
        close_old_connections()
