"""Settling calls whose final status callback never came, from what the Twilio emulator says about them.

The emulator plays Twilio: its calls run TwiML given at creation and post no
status callbacks (none were asked for), as if our app had been down when Twilio
sent them. Nothing is patched.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from billing.models import Component, CostEntry
from calls import reconcile, tasks
from calls.live import live_key
from calls.models import Call, Campaign, TranscriptTurn
from calls.reconcile import ReconcileResult
from emulator.persona import Persona
from emulator.server import EmulatorThread, emulator_in_thread
from integrations.twilio.client import rest_client
from tests.factories import CallFactory, CampaignFactory, LeadFactory, TranscriptTurnFactory

pytestmark = pytest.mark.django_db

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "reconcile-test-token"
LEAD = "+14155550177"
CALLER = "+14155550100"
PAUSE_A_MINUTE = '<Response><Pause length="60"/></Response>'


@pytest.fixture
def emulator(settings: Any, tmp_path: Path) -> Iterator[EmulatorThread]:
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT, TOKEN
    settings.EMULATOR_OUTPUT_DIR = str(tmp_path / "emulator")
    settings.CALL_RECONCILE_MARGIN_S = 300
    with emulator_in_thread() as thread:
        thread.server.assign(LEAD, Persona(name="picks_up", steps=(), ring_s=0.1))
        settings.TWILIO_API_BASE_URL = thread.server.base_url
        yield thread


def _twilio_call(emulator: EmulatorThread, *, time_limit_s: int = 14400) -> str:
    """Place a call on the emulator that pauses for a minute unless its time limit ends it; return its SID."""
    created = rest_client().calls.create(to=LEAD, from_=CALLER, twiml=PAUSE_A_MINUTE, time_limit=time_limit_s)
    sid = str(created.sid)
    emulator.run(emulator.server.calls[sid].timeline.wait_for("twiml_verb", timeout=10), timeout=15)
    return sid


def _live_call(*, sid: str, dialed_minutes_ago: float, max_call_minutes: int = 20) -> Call:
    campaign = CampaignFactory.create(
        status=Campaign.Status.ACTIVE, max_call_minutes=max_call_minutes, retry_delay_minutes=60
    )
    dialed = timezone.now() - dt.timedelta(minutes=dialed_minutes_ago)
    return CallFactory.create(
        campaign=campaign,
        lead=LeadFactory.create(status="in_progress", attempt_count=1),
        twilio_sid=sid,
        status=Call.Status.IN_PROGRESS,
        dialed_at=dialed,
        started_at=dialed,
        answered_at=dialed + dt.timedelta(seconds=5),
    )


def _as_it_was(call: Call) -> tuple[Any, ...]:
    call.refresh_from_db()
    lead = call.lead
    lead.refresh_from_db()
    return (call.status, call.ended_at, call.duration_seconds, call.outcome, lead.next_attempt_at, lead.status)


def test_it_settles_a_call_twilio_ended_and_keeps_its_transcript_so_far(emulator: EmulatorThread) -> None:
    sid = _twilio_call(emulator, time_limit_s=1)  # Twilio ends it at its time limit; no callback reaches us
    ended = emulator.run(emulator.server.wait_call(sid, timeout=15), timeout=20)
    call = _live_call(sid=sid, dialed_minutes_ago=20 + 5 + 1)
    turns = [
        {"index": 0, "speaker": "agent", "text": "Hi, this is Alex, an AI assistant.", "latency_ms": None},
        {"index": 1, "speaker": "lead", "text": "Oh, hello.", "latency_ms": None},
        {"index": 2, "speaker": "agent", "text": "Are you thinking of selling?", "latency_ms": 640},
    ]
    cache.set(live_key(call.pk), {"card": {"call_id": call.pk}, "turns": turns})

    assert reconcile.calls_open_reconcile() == {"settled": 1, "live": 0, "error": 0}

    assert ended.timeline.find("time_limit")  # the emulator hung up at TimeLimit, as Twilio does
    call.refresh_from_db()
    assert (call.status, call.duration_seconds) == (Call.Status.COMPLETED, ended.duration_s)
    assert ended.ended is not None and call.ended_at == ended.ended.replace(microsecond=0)  # Twilio's whole seconds
    # A conversation cut short on our side: failed, so the lead is called again after the campaign's delay.
    assert call.outcome == Call.Outcome.FAILED
    assert "session was lost" in call.summary
    assert call.lead.next_attempt_at == call.ended_at + dt.timedelta(minutes=60)
    telephony = CostEntry.objects.get(call=call, component=Component.TELEPHONY)
    assert telephony.quantity == Decimal(math.ceil(ended.duration_s / 60))
    saved = list(TranscriptTurn.objects.filter(call=call).values_list("index", "speaker", "text", "latency_ms"))
    assert saved == [(t["index"], t["speaker"], t["text"], t["latency_ms"]) for t in turns]
    assert cache.get(live_key(call.pk)) is None


def test_it_keeps_a_transcript_the_session_saved(emulator: EmulatorThread) -> None:
    sid = _twilio_call(emulator, time_limit_s=1)
    emulator.run(emulator.server.wait_call(sid, timeout=15), timeout=20)
    call = _live_call(sid=sid, dialed_minutes_ago=30)
    TranscriptTurnFactory.create(call=call, index=0, speaker="agent", text="Hi, this is Alex.")
    TranscriptTurnFactory.create(call=call, index=1, speaker="lead", text="Not interested, bye.")
    cache.set(live_key(call.pk), {"card": {}, "turns": [{"index": 0, "speaker": "agent", "text": "Hi"}]})

    assert reconcile.calls_open_reconcile()[ReconcileResult.SETTLED] == 1

    assert list(call.turns.values_list("text", flat=True)) == ["Hi, this is Alex.", "Not interested, bye."]


def test_it_leaves_a_call_twilio_says_is_still_in_progress(emulator: EmulatorThread) -> None:
    sid = _twilio_call(emulator)
    assert emulator.server.calls[sid].status == "in-progress"
    call = _live_call(sid=sid, dialed_minutes_ago=26)
    before = _as_it_was(call)

    assert reconcile.calls_open_reconcile() == {"settled": 0, "live": 1, "error": 0}

    assert _as_it_was(call) == before


def test_it_does_not_ask_twilio_about_a_call_within_its_campaigns_limit(emulator: EmulatorThread) -> None:
    # Each would be asked about (and settled) if it were past its limit.
    sids = [_twilio_call(emulator, time_limit_s=1) for _ in range(2)]
    for sid in sids:
        emulator.run(emulator.server.wait_call(sid, timeout=15), timeout=20)
    young = _live_call(sid=sids[0], dialed_minutes_ago=2)
    long_campaign = _live_call(sid=sids[1], dialed_minutes_ago=26, max_call_minutes=60)
    before = [_as_it_was(young), _as_it_was(long_campaign)]

    assert reconcile.calls_open_reconcile() == {"settled": 0, "live": 0, "error": 0}

    assert [_as_it_was(young), _as_it_was(long_campaign)] == before


def test_it_leaves_a_call_for_the_next_sweep_when_twilio_errors(
    emulator: EmulatorThread, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    unknown = _live_call(sid="CA" + "0" * 32, dialed_minutes_ago=30)  # the emulator answers 404 (20404)
    before = _as_it_was(unknown)
    cache.set(live_key(unknown.pk), {"card": {}, "turns": [{"index": 0, "speaker": "agent", "text": "Hi"}]})

    assert reconcile.calls_open_reconcile() == {"settled": 0, "live": 0, "error": 1}
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # Twilio unreachable
    assert reconcile.calls_open_reconcile() == {"settled": 0, "live": 0, "error": 1}

    assert _as_it_was(unknown) == before
    assert not unknown.turns.exists() and cache.get(live_key(unknown.pk)) is not None
    errors = [r.__dict__["error"] for r in caplog.records if r.getMessage() == "could not reconcile a call with Twilio"]
    assert "code 20404" in errors[0] and "could not reach Twilio" in errors[1]


def test_its_task_settles_and_beat_runs_it(emulator: EmulatorThread) -> None:
    from reautomation.celery import app

    sid = _twilio_call(emulator, time_limit_s=1)
    emulator.run(emulator.server.wait_call(sid, timeout=15), timeout=20)
    call = _live_call(sid=sid, dialed_minutes_ago=30)

    assert tasks.calls_open_reconcile() == 1
    assert tasks.calls_open_reconcile() == 0  # settled once: the call is no longer live

    call.refresh_from_db()
    assert call.status == Call.Status.COMPLETED
    (entry,) = [e for e in app.conf.beat_schedule.values() if e["task"] == "calls.tasks.calls_open_reconcile"]
    assert entry["schedule"] == 300.0
