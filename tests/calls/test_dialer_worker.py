"""The dialer on a real Celery worker, with Redis as the broker, against the Twilio emulator.

A `celery worker` subprocess (prefork, 2 processes) runs the tasks on this
test's PostgreSQL database; the emulator plays Twilio and sends its signed
status callbacks to our webhooks on pytest-django's live server. The tests
send tasks the way beat and a redelivering broker would, then count, on the
emulator's side, how many calls Twilio was asked to place.

Skipped unless the database is PostgreSQL and REDIS_URL answers: SQLite cannot
be shared with the worker's processes, and the broker is the thing under test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from celery import Celery
from django.utils import timezone

from calls.models import Call, Campaign
from dialer import services as dialer
from emulator.persona import Persona
from emulator.server import EmulatorThread
from leads.models import Lead
from tests.calls.dialer_helpers import HoldingEmulator, Worker, noon_zone, our_call_id
from tests.factories import CampaignFactory, ConsentFactory, LeadFactory
from tests.worker_process import wait_until, worker_broker_url, worker_database_url

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "dialer-worker-token"
CALLER = "+14155550100"
CALLS_PER_SECOND = 5
# The broker gives an unacknowledged message of a dead worker to another after this long.
VISIBILITY_TIMEOUT_S = 3
RINGS = Persona(name="rings", steps=(), pickup="no-answer", ring_s=2.5)
BUSY = Persona(name="busy", steps=(), pickup="busy", ring_s=0.2)
NEVER = dt.datetime.max.replace(tzinfo=dt.UTC)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def broker_url(django_db_setup: None, django_db_blocker: Any) -> str:
    """Return REDIS_URL, or skip the module (before anything starts) when the worker cannot run here."""
    with django_db_blocker.unblock():
        return worker_broker_url()


@pytest.fixture(scope="module")
def emulator(broker_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HoldingEmulator]:
    server = HoldingEmulator(account_sid=ACCOUNT, auth_token=TOKEN, output_dir=tmp_path_factory.mktemp("emulator"))
    thread = EmulatorThread(server)
    thread.start()
    yield server
    server.hold_s = 0
    thread.stop()


@pytest.fixture(scope="module")
def queue() -> str:
    # A queue of its own, so this run neither takes nor leaves messages for any other worker on the same Redis.
    return f"dialer-test-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def worker(
    broker_url: str,
    django_db_blocker: Any,
    live_server: Any,
    emulator: HoldingEmulator,
    queue: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Worker]:
    with django_db_blocker.unblock():
        database = worker_database_url()
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": broker_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "False",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_BASE_URL": emulator.base_url,
        "TWILIO_FROM_NUMBER": CALLER,
        "TWILIO_CALLS_PER_SECOND": str(CALLS_PER_SECOND),
        "PUBLIC_BASE_URL": live_server.url,
        "LOG_LEVEL": "INFO",
        "LLM_BACKEND": "none",
        "VOICE_WARM_UP": "False",
        # No daphne serves these calls' media: the emulator only answers them.
        "DIALER_REQUIRE_MEDIA_WORKER": "False",
    }
    process = Worker(env, tmp_path_factory.mktemp("worker") / "worker.log")
    try:
        process.start()
        yield process
    finally:
        process.stop()
        with contextlib.suppress(redis.RedisError):
            broker = redis.Redis.from_url(broker_url)
            if keys := list(broker.scan_iter(f"*{queue}*")):  # the queue and kombu's bindings of it
                broker.delete(*keys)


@pytest.fixture(scope="module")
def producer(worker: Worker, queue: str) -> Iterator[Celery]:
    """A client of the broker, sending tasks as beat or a redelivery would."""
    app = Celery("dialer-test", broker=worker.env["CELERY_BROKER_URL"], set_as_current=False)
    app.conf.task_default_queue = queue
    yield app
    app.close()


@pytest.fixture(autouse=True)
def _queue_drained(worker: Worker, queue: str) -> None:
    # A tick left over from the test before must not dial this test's calls.
    broker = redis.Redis.from_url(worker.env["CELERY_BROKER_URL"])
    wait_until(lambda: broker.llen(queue) == 0, timeout=15, what="the queue to drain")
    time.sleep(0.3)  # and the last task taken from it to finish


@pytest.fixture(autouse=True)
def _webhooks_accept_the_emulator(settings: Any, live_server: Any) -> None:
    # The live server checks the emulator's signatures with these.
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.PUBLIC_BASE_URL = ACCOUNT, TOKEN, live_server.url


def _campaign(emulator: HoldingEmulator, *, leads: int, persona: Persona, **fields: Any) -> Campaign:
    values = {"status": Campaign.Status.ACTIVE, "max_concurrent_calls": 2, "retry_delay_minutes": 60, **fields}
    campaign = CampaignFactory.create(**values)
    for lead in LeadFactory.create_batch(leads, timezone=noon_zone()):
        ConsentFactory.create(lead=lead)
        emulator.assign(lead.phone, persona)
        campaign.leads.add(lead)
    return campaign


def _tick(producer: Celery) -> None:
    producer.send_task("calls.tasks.campaigns_dial_due")


def _results(worker: Worker, task_id: str) -> list[str]:
    """Return what each run of the task returned, from the worker's log."""
    return [
        line.rsplit(": ", 1)[-1].strip("'") for line in worker.log().splitlines() if f"[{task_id}] succeeded" in line
    ]


def test_it_keeps_each_campaign_within_its_concurrent_calls(
    emulator: HoldingEmulator, worker: Worker, producer: Celery
) -> None:
    campaign = _campaign(emulator, leads=5, persona=RINGS, max_concurrent_calls=2, max_attempts=1)
    since = timezone.now()

    _tick(producer)
    wait_until(lambda: Call.objects.filter(twilio_sid__isnull=False).count() == 2, timeout=15, what="two calls placed")
    for _ in range(3):  # more ticks while both lines ring: nothing new
        _tick(producer)
        time.sleep(0.2)
    assert Call.objects.count() == 2

    deadline = time.monotonic() + 40
    while Call.objects.filter(status=Call.Status.NO_ANSWER).count() < 5:  # beat's job, every half second
        assert time.monotonic() < deadline, "timed out waiting for every lead to be called once"
        _tick(producer)
        time.sleep(0.5)

    placed = sorted((c for c in list(emulator.calls.values()) if c.created >= since), key=lambda c: c.created)
    assert len(placed) == 5
    assert {our_call_id(c) for c in placed} == set(Call.objects.values_list("pk", flat=True))
    # Never more than two of the campaign's calls live at once, on Twilio's side.
    for call in placed:
        assert len([c for c in placed if c.created <= call.created < (c.ended or NEVER)]) <= 2
    # The account-wide rate: each dial starts in a slot of its own, 1/rate apart. The claim is
    # timed a little after its slot begins, so allow 50 ms of scheduling jitter on a busy machine.
    dialed = sorted(t for t in Call.objects.values_list("dialed_at", flat=True) if t is not None)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(dialed)]
    assert min(gaps) >= 1 / CALLS_PER_SECOND - 0.05
    _tick(producer)
    wait_until(
        lambda: Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.COMPLETED, timeout=10, what="done"
    )
    assert set(Lead.objects.values_list("status", flat=True)) == {Lead.Status.UNREACHABLE}


def test_it_places_one_call_however_often_the_dial_task_is_delivered(
    emulator: HoldingEmulator, worker: Worker, producer: Celery
) -> None:
    campaign = _campaign(emulator, leads=1, persona=RINGS)
    call = dialer.call_queue(campaign=campaign, lead=campaign.leads.get(), now=timezone.now())
    assert call is not None
    twice, once = str(uuid.uuid4()), str(uuid.uuid4())

    # The same message twice (a redelivery) and a duplicate with an id of its own.
    for task_id in (twice, twice, once):
        producer.send_task("calls.tasks.call_dial", args=[call.pk], task_id=task_id)

    wait_until(lambda: len(_results(worker, twice)) == 2 and _results(worker, once), timeout=15, what="three runs")
    assert sorted(_results(worker, twice) + _results(worker, once)) == ["placed", "skipped", "skipped"]
    wait_until(lambda: Call.objects.get(pk=call.pk).status == Call.Status.NO_ANSWER, timeout=15, what="the call to end")
    assert len(emulator.placed_for(call.pk)) == 1


def test_it_caps_concurrent_dials_of_a_campaign_when_workers_race_to_claim(
    emulator: HoldingEmulator, worker: Worker, producer: Celery
) -> None:
    # Three calls queued at once (say, left over from a pause) for one line; both pool processes take one.
    campaign = _campaign(emulator, leads=3, persona=RINGS, max_concurrent_calls=1)
    calls = [dialer.call_queue(campaign=campaign, lead=lead, now=timezone.now()) for lead in campaign.leads.all()]
    task_ids = {str(uuid.uuid4()): call.pk for call in calls if call is not None}
    for task_id, call_id in task_ids.items():
        producer.send_task("calls.tasks.call_dial", args=[call_id], task_id=task_id)

    wait_until(lambda: all(_results(worker, t) for t in task_ids), timeout=15, what="every dial task")

    assert sorted(_results(worker, t)[0] for t in task_ids) == ["placed", "waiting", "waiting"]
    assert sum(len(emulator.placed_for(c)) for c in task_ids.values()) == 1
    assert Call.objects.filter(status=Call.Status.QUEUED).count() == 2


def test_it_retries_a_busy_lead_after_the_delay_up_to_max_attempts(
    emulator: HoldingEmulator, worker: Worker, producer: Celery
) -> None:
    campaign = _campaign(emulator, leads=1, persona=BUSY, max_attempts=2, retry_delay_minutes=30)
    lead = campaign.leads.get()

    _tick(producer)
    first = wait_until(lambda: Call.objects.filter(lead=lead, status=Call.Status.BUSY).first(), timeout=15, what="busy")
    lead.refresh_from_db()
    assert lead.next_attempt_at == first.ended_at + dt.timedelta(minutes=30)
    _tick(producer)
    time.sleep(1)
    assert Call.objects.filter(lead=lead).count() == 1  # not before the delay

    # The worker runs on the real clock: let the 30 minutes pass by moving the lead's next attempt.
    Lead.objects.filter(pk=lead.pk).update(next_attempt_at=timezone.now())
    _tick(producer)
    second = wait_until(
        lambda: Call.objects.filter(lead=lead, attempt=2, status=Call.Status.BUSY).first(), timeout=15, what="retry"
    )
    lead.refresh_from_db()
    assert (lead.status, lead.next_attempt_at, lead.attempt_count) == (Lead.Status.UNREACHABLE, None, 2)
    _tick(producer)
    wait_until(
        lambda: Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.COMPLETED, timeout=15, what="done"
    )
    assert [len(emulator.placed_for(c.pk)) for c in (first, second)] == [1, 1]


def test_it_does_not_dial_again_when_a_pool_process_dies_mid_dial(
    emulator: HoldingEmulator, worker: Worker, producer: Celery
) -> None:
    campaign = _campaign(emulator, leads=1, persona=RINGS)
    call = dialer.call_queue(campaign=campaign, lead=campaign.leads.get(), now=timezone.now())
    assert call is not None
    task_id = str(uuid.uuid4())
    emulator.hold_s, emulator.created = 30.0, threading.Event()

    producer.send_task("calls.tasks.call_dial", args=[call.pk], task_id=task_id)
    # Twilio has placed the call, and the process that asked is still waiting for the answer: kill it.
    assert emulator.created.wait(15)
    for pid in worker.pool_pids():
        os.kill(pid, signal.SIGKILL)
    emulator.hold_s = 0

    # reject_on_worker_lost puts the message back; the redelivery finds the call claimed.
    wait_until(lambda: _results(worker, task_id) == ["skipped"], timeout=30, what="the redelivered task")
    assert "WorkerLostError" in worker.log()
    wait_until(lambda: Call.objects.get(pk=call.pk).status == Call.Status.NO_ANSWER, timeout=15, what="the call to end")
    (placed,) = emulator.placed_for(call.pk)
    # The dialer never saved the SID; Twilio's callbacks did.
    assert Call.objects.get(pk=call.pk).twilio_sid == placed.sid


def test_it_does_not_dial_again_when_the_whole_worker_is_killed_mid_dial(
    emulator: HoldingEmulator, worker: Worker, producer: Celery
) -> None:
    # Last in the module: it kills the worker and starts another in its place.
    campaign = _campaign(emulator, leads=1, persona=RINGS)
    call = dialer.call_queue(campaign=campaign, lead=campaign.leads.get(), now=timezone.now())
    assert call is not None
    task_id = str(uuid.uuid4())
    emulator.hold_s, emulator.created = 30.0, threading.Event()

    producer.send_task("calls.tasks.call_dial", args=[call.pk], task_id=task_id)
    assert emulator.created.wait(15)
    worker.kill()
    emulator.hold_s = 0
    time.sleep(VISIBILITY_TIMEOUT_S)
    # The message was never acknowledged: once it is older than the visibility
    # timeout, the next worker to start takes it back from the broker.
    worker.start()

    wait_until(lambda: _results(worker, task_id) == ["skipped"], timeout=30, what="the redelivered task")
    assert len(emulator.placed_for(call.pk)) == 1
