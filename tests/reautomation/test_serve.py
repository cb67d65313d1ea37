"""`manage.py serve` (`make serve`): a campaign activated while it runs is dialed through the local Twilio emulator.

The real command in a subprocess, on this test's database: daphne, the dialer
(beat_inline on the embedded default, or a Celery worker and beat when a broker
is configured) and the emulator it runs when no Twilio credentials are set.
The test only activates a campaign, as the admin's action does, and waits for
the emulator's status callbacks to settle each lead's call. Ctrl-C (SIGINT)
then stops every process serve started.
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
from typing import Any

import pytest
import redis

from calls.models import Call, Campaign
from calls.services import campaign_activate
from tests.calls.dialer_helpers import noon_zone
from tests.factories import CampaignFactory, ConsentFactory, LeadFactory
from tests.worker_process import redis_broker_url, wait_until
from voice.emulator.appserver import ROOT, database_url, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

# Without a broker in the environment, the settings make Celery eager.
BROKER_VARIABLES = ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER")


@dataclass
class Serve:
    """A running `manage.py serve`, with everything it has printed."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

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


@pytest.fixture(params=["embedded", "broker"])
def topology(request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment that picks the topology: none for the embedded default, a broker for worker and beat."""
    if request.param == "embedded":
        return {}
    # A queue of this test's own, so no other worker on the same Redis takes its tasks.
    return {"REDIS_URL": redis_broker_url(), "CELERY_TASK_DEFAULT_QUEUE": f"serve-test-{uuid.uuid4().hex}"}


@pytest.fixture
def serve(topology: dict[str, str], tmp_path: Path) -> Iterator[Serve]:
    """Start `manage.py serve` on this test's database; SIGINT it (Ctrl-C) at the end if the test has not."""
    env = {key: value for key, value in os.environ.items() if key not in BROKER_VARIABLES}
    env.pop("TWILIO_ACCOUNT_SID", None)
    env.update(
        topology,
        DATABASE_URL=database_url(),
        DB_CONN_MAX_AGE="0",
        DEBUG="True",
        # Its own var/: the media-worker record the dialer waits for, the emulator's call folders.
        VAR_DIR=str(tmp_path / "var"),
        DIALER_TICK_S="1",
        # Busy lines: the emulator answers no call, so neither side needs its speech models.
        EMULATOR_DEFAULT_PERSONA="busy",
        VOICE_WARM_UP="False",
        LLM_BACKEND="none",
        CELERY_CONCURRENCY="1",
    )
    command = [sys.executable, "manage.py", "serve", "--port", str(free_port()), "--emulator-port", str(free_port())]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    running = Serve(process)
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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_it_dials_an_activated_campaign_through_the_emulator_and_ctrl_c_stops_it_all(
    serve: Serve, topology: dict[str, str]
) -> None:
    campaign = CampaignFactory.create(max_concurrent_calls=2)
    for lead in LeadFactory.create_batch(3, timezone=noon_zone()):
        ConsentFactory.create(lead=lead)
        campaign.leads.add(lead)
    wait_until(
        lambda: "Ctrl-C stops every process" in serve.output() or serve.process.poll() is not None,
        timeout=150,
        what="serve to say it is running",
    )
    assert serve.process.poll() is None, serve.output()[-5000:]
    output = serve.output()
    for url in ("/dashboard/", "/admin/", "/api/docs"):
        assert url in output
    assert re.search(r"Login +admin / reautomation-demo", output), output[-3000:]
    assert "the local Twilio emulator" in output
    assert ("Celery worker and beat" if topology else "manage.py beat_inline") in output
    assert set(serve.pids()) == ({"web", "worker", "beat"} if topology else {"web", "beat"})

    campaign_activate(campaign=campaign)

    def busy_calls() -> int:
        return Call.objects.filter(campaign=campaign, status=Call.Status.BUSY).count()

    wait_until(lambda: busy_calls() == 3 or serve.process.poll() is not None, timeout=90, what="three calls")
    assert busy_calls() == 3, serve.output()[-5000:]
    # Placed through the emulator: it gave each call its SID, and its signed status callback, checked
    # against the account serve made up for the run, settled it.
    calls = Call.objects.filter(campaign=campaign)
    assert all(call.twilio_sid and call.twilio_sid.startswith("CA") for call in calls)
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.ACTIVE  # retries to come

    pids = serve.pids()
    serve.process.send_signal(signal.SIGINT)
    assert serve.process.wait(timeout=60) == 0, serve.output()[-3000:]
    assert pids and not [name for name, pid in pids.items() if _alive(pid)]


def test_it_creates_the_demo_admin_only_when_there_is_no_superuser(settings: Any) -> None:
    from django.contrib.auth import get_user_model

    from reautomation.serve import serve_login

    settings.DEBUG = True
    assert serve_login().startswith("admin / reautomation-demo")
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("Chosen-By-The-Broker-7")
    admin.save()

    assert "changepassword admin" in serve_login()
    admin.refresh_from_db()
    assert admin.check_password("Chosen-By-The-Broker-7")
