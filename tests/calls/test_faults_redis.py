"""Redis restarted in the middle of a campaign: the dialer keeps going, no lead is dialed twice, the monitor recovers.

Redis is the Celery broker, the cache (the dial rate limiter, the live
transcripts) and the channel layer. These tests run a redis-server of their own
(it is stopped and started again; the shared one is not touched), without
persistence, as a restarted cache node comes back: empty. The dialer runs in a
real `celery worker` process (tests/calls/test_dialer_worker.py's), against the
Twilio emulator, with status callbacks to pytest-django's live server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from celery import Celery
from django.core.cache import close_caches
from django.db import connection, connections

from calls.live import LiveCallFeed, live_call_card
from calls.models import Call, Campaign
from emulator.appserver import free_port
from emulator.persona import Persona
from emulator.server import EmulatorThread
from leads.models import Lead
from reautomation.celery import app as celery_app
from tests.calls.dialer_helpers import HoldingEmulator, Worker, noon_zone, our_call_id
from tests.calls.live_helpers import live_call, monitor, session_cookie
from tests.factories import CampaignFactory, ConsentFactory, LeadFactory
from tests.worker_process import wait_until, worker_database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "redis-faults-token"
CALLER = "+14155550100"
RINGS = Persona(name="rings", steps=(), pickup="no-answer", ring_s=1.0)
LEADS = 6
TICK_S = 0.5


class RedisServer:
    """A redis-server process on its own port, with nothing saved to disk: a restart starts it empty."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port, self.folder = port, folder
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._answers, timeout=30, what=f"redis-server on port {self.port}")

    def kill(self) -> None:
        """Take Redis away at once, as a crash or a restarted node does."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def _answers(self) -> bool:
        assert self.process is not None and self.process.poll() is None, "redis-server exited"
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server on PATH: the test restarts a Redis of its own")
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.kill()


@pytest.fixture
def on_own_redis(settings: Any, redis_server: RedisServer) -> Iterator[None]:
    """Point this process (the live server taking status callbacks) at the test's Redis, as REDIS_URL would."""
    # The project's Celery app reads its broker from the settings once, on first use: read now, before the
    # override, or every later test in this process would send to this test's Redis after it is gone.
    broker = celery_app.conf.broker_url
    settings.REDIS_URL = redis_server.url
    cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_server.url,
        "OPTIONS": settings.REDIS_CLIENT_OPTIONS,
    }
    settings.CACHES = {"default": cache, "media_workers": cache}
    host = {"address": redis_server.url, "socket_timeout": 30, **settings.REDIS_CLIENT_OPTIONS}
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [host]}}
    }
    yield
    close_caches()
    assert celery_app.conf.broker_url == broker


class Beat:
    """Send the dialer's tick every TICK_S from a thread, as celery beat does; a tick Redis cannot take is lost."""

    def __init__(self, broker_url: str, queue: str) -> None:
        self.app = Celery("faults-beat", broker=broker_url, set_as_current=False)
        self.app.conf.task_default_queue = queue
        self.app.conf.broker_connection_timeout = 1
        self.sent = self.lost = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="beat", daemon=True)

    def __enter__(self) -> Beat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.app.close()

    def _run(self) -> None:
        while not self._stop.wait(TICK_S):
            try:
                self.app.send_task("calls.tasks.campaigns_dial_due", retry=False)
                self.sent += 1
            except Exception:  # noqa: BLE001 - beat logs a failed send and ticks again; so does this.
                self.lost += 1


def _campaign(emulator: HoldingEmulator) -> Campaign:
    campaign = CampaignFactory.create(
        status=Campaign.Status.ACTIVE, max_concurrent_calls=3, max_attempts=1, retry_delay_minutes=60
    )
    for lead in LeadFactory.create_batch(LEADS, timezone=noon_zone()):
        ConsentFactory.create(lead=lead)
        emulator.assign(lead.phone, RINGS)
        campaign.leads.add(lead)
    return campaign


def _worker_env(redis_url: str, queue: str, emulator: HoldingEmulator, public_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "False",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_BASE_URL": emulator.base_url,
        "TWILIO_FROM_NUMBER": CALLER,
        "TWILIO_CALLS_PER_SECOND": "5",
        "PUBLIC_BASE_URL": public_url,
        "LOG_LEVEL": "INFO",
        "LLM_BACKEND": "none",
        "VOICE_WARM_UP": "False",
        # No daphne serves these calls' media: the emulator only rings.
        "DIALER_REQUIRE_MEDIA_WORKER": "False",
    }


def test_the_dialer_goes_on_after_redis_restarts_and_dials_each_lead_once(
    settings: Any, live_server: Any, redis_server: RedisServer, on_own_redis: None, tmp_path: Path
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): the worker's processes must share the test database")
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.PUBLIC_BASE_URL = ACCOUNT, TOKEN, live_server.url
    emulator = HoldingEmulator(account_sid=ACCOUNT, auth_token=TOKEN, output_dir=tmp_path / "emulator")
    thread = EmulatorThread(emulator)
    thread.start()
    queue = f"redis-faults-{uuid.uuid4().hex}"
    worker = Worker(_worker_env(redis_server.url, queue, emulator, live_server.url), tmp_path / "worker.log")
    campaign = _campaign(emulator)
    try:
        worker.start()
        # Twilio holds its answer to each create: both pool processes are stuck mid-dial, their
        # messages unacknowledged, and the third line's message waits in Redis for a free process.
        emulator.hold_s = 120.0
        with Beat(redis_server.url, queue) as beat:
            wait_until(
                lambda: len(emulator.calls) == 2 and Call.objects.filter(status=Call.Status.QUEUED).exists(),
                timeout=60,
                what="two dials in flight and a third call queued",
            )
            redis_server.kill()
            # The worker notices: its broker connection is gone (and so are the cache and the rate limiter).
            wait_until(lambda: "Trying to re-establish" in worker.log(), timeout=60, what="the worker to lose Redis")
            lost_before = beat.lost
            wait_until(lambda: beat.lost > lost_before, timeout=30, what="a tick lost while Redis is down")
            # It comes back empty: the queued message and the unacknowledged ones are gone.
            redis_server.start()
            emulator.hold_s = 0

            # Every lead called once; the campaign then completes on its own, with no one to tell it to.
            wait_until(
                lambda: Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.COMPLETED,
                timeout=120,
                what="the campaign to finish after the restart",
            )
        placed = list(emulator.calls.values())
        calls = list(Call.objects.filter(campaign=campaign))
    finally:
        worker.stop()
        emulator.hold_s = 0
        thread.stop()

    assert "Connected to redis" in worker.log().split("Trying to re-establish", 1)[1], "the worker never reconnected"
    # On Twilio's side: one call per lead, one per Call row, nothing dialed twice.
    assert sorted(Counter(c.request.to for c in placed).values()) == [1] * LEADS
    assert sorted(our_call_id(c) for c in placed) == sorted(c.pk for c in calls)
    assert {(c.status, c.attempt) for c in calls} == {(Call.Status.NO_ANSWER, 1)}
    assert set(campaign.leads.values_list("attempt_count", "status")) == {(1, Lead.Status.UNREACHABLE)}


@pytest.mark.asyncio
async def test_the_live_monitor_recovers_after_redis_restarts(redis_server: RedisServer, on_own_redis: None) -> None:
    call = await sync_to_async(live_call)()
    cookie = await sync_to_async(session_cookie)(is_staff=True)
    feed = LiveCallFeed(call_id=call.pk)
    feed.start(await sync_to_async(live_call_card)(call_id=call.pk))
    feed.turn(speaker="agent", text="Hi Riley, this is Alex.")
    await feed.flush()
    viewer = await monitor(cookie)
    assert (await viewer.connect())[0]
    assert len((await viewer.receive_json_from(timeout=10))["calls"][0]["turns"]) == 1

    await sync_to_async(redis_server.kill)()
    # The call goes on: publishing fails quietly (calls.live), the session never sees an error.
    assert feed.turn(speaker="lead", text="Who is this?") == 1
    await feed.flush()
    # The viewer's socket is dropped (daphne closes it when the consumer fails); the page then reconnects.
    with pytest.raises(redis.ConnectionError):
        await viewer.receive_output(timeout=10)

    await sync_to_async(redis_server.start)()
    feed.turn(speaker="agent", text="Alex, from Bayside Realty.")
    await feed.flush()
    # The page's reconnect: the snapshot has the whole call so far, the turn said while Redis was down included,
    # and events flow again (the viewer joined the group on the new Redis).
    page = await monitor(cookie)
    assert (await page.connect())[0]
    [live] = (await page.receive_json_from(timeout=10))["calls"]
    said = ["Hi Riley, this is Alex.", "Who is this?", "Alex, from Bayside Realty."]
    assert [t["text"] for t in live["turns"]] == said
    feed.turn(speaker="lead", text="Oh, hi.")
    assert (await page.receive_json_from(timeout=10))["turn"]["text"] == "Oh, hi."
    await feed.end(outcome="")
    await page.disconnect()
    await sync_to_async(connections.close_all)()
