"""The dialer's services: picking due leads, claiming and placing calls, and the retry cadence.

Twilio is patched once, at the chokepoint the dialer calls (integrations.twilio.client.call_create);
tests/calls/test_dialer_worker.py runs the same code on a real worker against the Twilio emulator.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from unittest.mock import MagicMock, patch

import pytest
import requests
import time_machine
from django.core.cache import caches
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.services import lead_callback_schedule
from calls.models import Call, Campaign, DialDecision
from calls.services import (
    call_answered_by_apply,
    call_recording_save,
    call_status_apply,
    campaign_activate,
    campaign_pause,
)
from common.readiness import media_worker_beat, media_worker_ready_exists
from dialer import services as dialer
from dialer.services import DialResult
from integrations.twilio.client import OutboundCall, TwilioError
from leads.models import DoNotCall, Lead
from leads.services import dnc_add
from tests.factories import CallFactory, CampaignFactory, ConsentFactory, LeadFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("state_rules", "inside_the_window")]

Capture = Callable[..., Any]


@pytest.fixture
def twilio() -> Iterator[MagicMock]:
    with patch("dialer.services.call_create", autospec=True) as create:
        create.side_effect = lambda call: "CA" + uuid.uuid4().hex
        yield create


def _campaign(leads: int = 0, **fields: Any) -> Campaign:
    values = {"status": Campaign.Status.ACTIVE, "max_concurrent_calls": 2, "retry_delay_minutes": 60, **fields}
    campaign = CampaignFactory.create(**values)
    for lead in LeadFactory.create_batch(leads):
        ConsentFactory.create(lead=lead)
        campaign.leads.add(lead)
    return campaign


def _lead(campaign: Campaign, **fields: Any) -> Lead:
    lead = LeadFactory.create(**fields)
    ConsentFactory.create(lead=lead)
    campaign.leads.add(lead)
    return lead


def _dial_due(capture: Capture) -> list[int]:
    """Run one tick and return the ids it enqueued, without running the enqueued tasks."""
    with capture() as callbacks:
        enqueued = dialer.campaigns_dial_due()
    ids = [call_id for ids in enqueued.values() for call_id in ids]
    assert len(callbacks) == len(ids)  # one call_dial.delay per call, after the commit
    return ids


def _finish(call_id: int, status: str, answered_by: str = "") -> None:
    call_status_apply(call_id=call_id, status=Call.Status.RINGING, twilio_sid=f"CA{call_id:0>32}")
    if answered_by:
        call_status_apply(call_id=call_id, status=Call.Status.IN_PROGRESS)
        call_answered_by_apply(call_id=call_id, answered_by=answered_by)
    call_status_apply(call_id=call_id, status=status)


# --- Waiting for a media worker ----------------------------------------------------------------------


@pytest.fixture
def media_workers(settings: Any) -> None:
    """Make the dialer wait for a ready daphne process, recorded in a cache of this test's own."""
    settings.DIALER_REQUIRE_MEDIA_WORKER = True
    settings.CACHES = {
        **settings.CACHES,
        "media_workers": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test-dialer"},
    }
    caches["media_workers"].clear()


@pytest.mark.usefixtures("media_workers")
def test_it_skips_its_tick_while_no_media_worker_is_ready(
    django_capture_on_commit_callbacks: Capture, caplog: pytest.LogCaptureFixture
) -> None:
    campaign = _campaign(leads=2)

    assert _dial_due(django_capture_on_commit_callbacks) == []

    assert "no media worker is ready" in caplog.text
    # Nothing was queued or decided, so no lead is charged an attempt or kept waiting for a retry.
    assert not Call.objects.exists() and not DialDecision.objects.exists()
    assert list(campaign.leads.values_list("attempt_count", "next_attempt_at")) == [(0, None), (0, None)]
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.ACTIVE


@pytest.mark.usefixtures("media_workers")
def test_it_dials_while_a_media_worker_keeps_its_heartbeat(
    django_capture_on_commit_callbacks: Capture, settings: Any
) -> None:
    campaign = _campaign(leads=3, max_concurrent_calls=1)
    media_worker_beat()

    assert len(_dial_due(django_capture_on_commit_callbacks)) == 1
    assert Call.objects.filter(campaign=campaign, status=Call.Status.QUEUED).count() == 1

    # A worker that stops beating (it died) is counted on for three beats, then no longer.
    beat = dt.timedelta(seconds=settings.MEDIA_WORKER_BEAT_S)
    with time_machine.travel(timezone.now() + 3 * beat - dt.timedelta(seconds=1)):
        assert media_worker_ready_exists()
    with time_machine.travel(timezone.now() + 3 * beat + dt.timedelta(seconds=1)):
        assert not media_worker_ready_exists()
        assert _dial_due(django_capture_on_commit_callbacks) == []


# --- Picking due leads -------------------------------------------------------------------------------


def test_it_queues_no_more_calls_than_the_campaign_has_lines(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock
) -> None:
    campaign = _campaign(leads=5, max_concurrent_calls=2)

    first = _dial_due(django_capture_on_commit_callbacks)
    assert len(first) == 2
    assert Call.objects.filter(campaign=campaign, status=Call.Status.QUEUED).count() == 2
    # Until they are dialed, the queued calls hold the lines: the next tick adds none.
    assert sorted(_dial_due(django_capture_on_commit_callbacks)) == sorted(first)
    assert Call.objects.count() == 2

    for call_id in first:
        assert dialer.call_dial(call_id=call_id) == DialResult.PLACED
    assert _dial_due(django_capture_on_commit_callbacks) == []  # both lines busy
    _finish(first[0], Call.Status.COMPLETED, answered_by="human")

    second = _dial_due(django_capture_on_commit_callbacks)
    assert len(second) == 1
    assert twilio.call_count == 2


def test_it_sends_twilio_our_webhooks_and_caller_id(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock, settings: Any
) -> None:
    settings.PUBLIC_BASE_URL = "https://agent.example.com"
    settings.TWILIO_FROM_NUMBER = "+14155550100"
    twilio.side_effect, twilio.return_value = None, "CA" + "1" * 32
    campaign = _campaign()
    lead = _lead(campaign, phone="+14155550123")
    (call_id,) = _dial_due(django_capture_on_commit_callbacks)

    assert dialer.call_dial(call_id=call_id) == DialResult.PLACED

    twilio.assert_called_once_with(
        OutboundCall(
            to="+14155550123",
            from_="+14155550100",
            voice_url=f"https://agent.example.com/twilio/voice/?call={call_id}",
            status_callback_url=f"https://agent.example.com/twilio/status/?call={call_id}",
            amd_callback_url=f"https://agent.example.com/twilio/amd/?call={call_id}",
            time_limit_s=campaign.max_call_minutes * 60,
        )
    )
    call = Call.objects.get(pk=call_id)
    assert (call.status, call.twilio_sid, call.attempt) == (Call.Status.DIALING, "CA" + "1" * 32, 1)
    assert call.recording_mode == Call.RecordingMode.ANNOUNCE  # a California number
    assert call.dialed_at is not None
    lead.refresh_from_db()
    assert (lead.status, lead.attempt_count, lead.last_attempt_at) == (Lead.Status.IN_PROGRESS, 1, call.dialed_at)
    stages = list(DialDecision.objects.filter(call_id=call_id).order_by("pk").values_list("stage", "allowed"))
    assert stages == [("schedule", True), ("dial", True)]


def test_it_does_not_queue_for_a_paused_campaign_and_its_queued_calls_wait(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock
) -> None:
    campaign = _campaign(leads=3)
    queued = _dial_due(django_capture_on_commit_callbacks)
    campaign_pause(campaign=campaign, reason="broker on holiday")

    assert _dial_due(django_capture_on_commit_callbacks) == []
    assert [dialer.call_dial(call_id=i) for i in queued] == [DialResult.WAITING] * 2
    assert set(Call.objects.values_list("status", flat=True)) == {Call.Status.QUEUED}
    twilio.assert_not_called()


def test_it_completes_the_campaign_when_no_lead_is_left(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock
) -> None:
    campaign = _campaign(max_attempts=1)
    lead = _lead(campaign)
    (call_id,) = _dial_due(django_capture_on_commit_callbacks)
    dialer.call_dial(call_id=call_id)
    assert _dial_due(django_capture_on_commit_callbacks) == []
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.ACTIVE  # the call is still live

    _finish(call_id, Call.Status.NO_ANSWER)
    assert _dial_due(django_capture_on_commit_callbacks) == []

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.UNREACHABLE


def test_it_logs_a_refused_lead_once_until_its_window_opens(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock
) -> None:
    campaign = _campaign()
    # A Honolulu lead at 6:00 HST.
    lead = _lead(campaign, phone="+18085550123", state="HI", timezone="Pacific/Honolulu")
    assert _dial_due(django_capture_on_commit_callbacks) == []
    assert _dial_due(django_capture_on_commit_callbacks) == []

    (refusal,) = DialDecision.objects.filter(lead=lead)
    assert (refusal.reason, refusal.local_time) == (DialDecision.Reason.OUTSIDE_WINDOW, "2026-06-02 06:00 HST")
    assert refusal.retry_at == dt.datetime(2026, 6, 2, 19, 0, tzinfo=dt.UTC)  # 9:00 HST, the campaign's start

    with time_machine.travel(dt.datetime(2026, 6, 2, 19, 0, 1, tzinfo=dt.UTC)):
        assert len(_dial_due(django_capture_on_commit_callbacks)) == 1


def test_it_refuses_a_number_in_a_country_the_campaign_does_not_call_until_the_campaign_names_it(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock, settings: Any
) -> None:
    noon_london = dt.datetime(2026, 6, 2, 11, 0, tzinfo=dt.UTC)
    with time_machine.travel(noon_london, tick=False):
        campaign = _campaign()
        lead = _lead(campaign, phone="+442079460958", state="", timezone="Europe/London", timezone_source="phone")
        assert _dial_due(django_capture_on_commit_callbacks) == []

    (refusal,) = DialDecision.objects.filter(lead=lead)
    assert (refusal.allowed, refusal.reason, refusal.stage) == (
        False,
        DialDecision.Reason.COUNTRY_NOT_ALLOWED,
        "schedule",
    )
    assert refusal.detail == "the number is in GB; the campaign calls only US"
    assert refusal.retry_at == noon_london + dt.timedelta(minutes=settings.DIALER_RECHECK_MINUTES)

    campaign.countries = ["US", "GB"]
    campaign.save()
    with time_machine.travel(refusal.retry_at, tick=False):
        (call_id,) = _dial_due(django_capture_on_commit_callbacks)
        assert dialer.call_dial(call_id=call_id) == DialResult.PLACED
    twilio.assert_called_once()
    assert Call.objects.get(pk=call_id).lead == lead


# --- Placing a call exactly once ---------------------------------------------------------------------


def test_it_places_one_call_however_often_the_task_is_delivered(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock
) -> None:
    _campaign(leads=1)
    (call_id,) = _dial_due(django_capture_on_commit_callbacks)

    results = [dialer.call_dial(call_id=call_id) for _ in range(3)]

    assert results == [DialResult.PLACED, DialResult.SKIPPED, DialResult.SKIPPED]
    twilio.assert_called_once()
    assert DialDecision.objects.filter(call_id=call_id, stage="dial").count() == 1


def test_it_never_stores_the_same_attempt_twice() -> None:
    call = CallFactory.create(attempt=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        CallFactory.create(lead=call.lead, campaign=call.campaign, attempt=1)


def test_it_leaves_a_queued_call_waiting_while_every_line_is_busy(twilio: MagicMock) -> None:
    campaign = _campaign(max_concurrent_calls=1)
    CallFactory.create(campaign=campaign, status=Call.Status.RINGING)
    waiting = CallFactory.create(campaign=campaign, lead=_lead(campaign))

    assert dialer.call_dial(call_id=waiting.pk) == DialResult.WAITING
    assert Call.objects.get(pk=waiting.pk).status == Call.Status.QUEUED
    twilio.assert_not_called()


def test_it_checks_the_gate_again_just_before_dialing(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock
) -> None:
    campaign = _campaign()
    lead = _lead(campaign)
    (call_id,) = _dial_due(django_capture_on_commit_callbacks)
    # Written to the table without dnc_add, so only the gate can notice it.
    DoNotCall.objects.create(phone=lead.phone, reason="opted out by text message")

    assert dialer.call_dial(call_id=call_id) == DialResult.REFUSED

    twilio.assert_not_called()
    call = Call.objects.get(pk=call_id)
    assert (call.status, call.dialed_at, call.dial_error) == (
        Call.Status.CANCELED,
        None,
        "the number is on the do-not-call list (Added in the admin)",
    )
    refusal = DialDecision.objects.get(call_id=call_id, stage="dial")
    assert (refusal.allowed, refusal.reason) == (False, DialDecision.Reason.DO_NOT_CALL)
    assert Lead.objects.get(pk=lead.pk).attempt_count == 0


def test_it_cancels_a_queued_call_as_soon_as_the_number_goes_on_the_list(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock
) -> None:
    campaign = _campaign()
    lead = _lead(campaign)
    (call_id,) = _dial_due(django_capture_on_commit_callbacks)
    dnc_add(phone=lead.phone, reason="opted out by text message")

    assert Call.objects.get(pk=call_id).status == Call.Status.CANCELED
    assert dialer.call_dial(call_id=call_id) == DialResult.SKIPPED
    twilio.assert_not_called()


def test_it_calls_a_lead_whose_queued_call_missed_its_window_when_the_window_opens_again(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock
) -> None:
    campaign = _campaign()
    lead = _lead(campaign)  # San Francisco
    (call_id,) = _dial_due(django_capture_on_commit_callbacks)
    campaign_pause(campaign=campaign, reason="lunch")
    campaign_activate(campaign=campaign)

    # The worker only gets to the call at 21:30 in San Francisco: too late.
    with time_machine.travel(dt.datetime(2026, 6, 3, 4, 30, tzinfo=dt.UTC)):
        assert dialer.call_dial(call_id=call_id) == DialResult.REFUSED
        assert _dial_due(django_capture_on_commit_callbacks) == []
    # The next morning at 9:00 (the campaign's start) the lead gets its call.
    with time_machine.travel(dt.datetime(2026, 6, 3, 16, 0, 1, tzinfo=dt.UTC)):
        (retry_id,) = _dial_due(django_capture_on_commit_callbacks)
        assert dialer.call_dial(call_id=retry_id) == DialResult.PLACED
    assert twilio.call_count == 1
    assert list(Call.objects.filter(lead=lead).order_by("attempt").values_list("status", flat=True)) == [
        Call.Status.CANCELED,
        Call.Status.DIALING,
    ]


def test_it_dials_in_process_when_celery_runs_eagerly(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # How `make demo` runs without a broker: call_dial.delay() runs at once, after the commit.
    from reautomation.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    campaign = _campaign(leads=3, max_concurrent_calls=2)

    with django_capture_on_commit_callbacks(execute=True):
        dialer.campaigns_dial_due()

    assert twilio.call_count == 2
    assert Call.objects.filter(campaign=campaign, status=Call.Status.DIALING).count() == 2


def test_it_warns_when_workers_would_not_share_the_rate_limit(settings: Any) -> None:
    from reautomation.checks import dialer_rate_cache_check

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [w.id for w in dialer_rate_cache_check(None)] == ["reautomation.W002"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://"}}
    assert dialer_rate_cache_check(None) == []


def test_it_fails_the_attempt_when_twilio_refuses_and_retries_after_the_delay(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock
) -> None:
    campaign = _campaign(leads=1)
    twilio.side_effect = TwilioError("Twilio refused the call to +1628...: Invalid 'To' Phone Number (code 21211)")
    (call_id,) = _dial_due(django_capture_on_commit_callbacks)

    assert dialer.call_dial(call_id=call_id) == DialResult.FAILED

    call = Call.objects.select_related("lead").get(pk=call_id)
    assert (call.status, call.outcome) == (Call.Status.FAILED, Call.Outcome.FAILED)
    assert call.dial_error.endswith("(code 21211)")
    assert call.lead.next_attempt_at == call.ended_at + dt.timedelta(minutes=campaign.retry_delay_minutes)
    assert _dial_due(django_capture_on_commit_callbacks) == []  # no retry storm


def test_it_never_redials_when_twilio_may_have_placed_the_call(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock, settings: Any
) -> None:
    _campaign(leads=1)
    twilio.side_effect = requests.exceptions.ReadTimeout("read timed out")
    (call_id,) = _dial_due(django_capture_on_commit_callbacks)

    assert dialer.call_dial(call_id=call_id) == DialResult.UNKNOWN
    assert Call.objects.get(pk=call_id).status == Call.Status.DIALING
    assert dialer.call_dial(call_id=call_id) == DialResult.SKIPPED
    assert _dial_due(django_capture_on_commit_callbacks) == []

    # No callback ever came: after the claim timeout the sweep fails it and the lead is retried later.
    later = timezone.now() + dt.timedelta(seconds=settings.DIALER_CLAIM_TIMEOUT_S + 1)
    assert dialer.calls_stale_claims_fail(now=later) == 1
    call = Call.objects.select_related("lead").get(pk=call_id)
    assert (call.status, call.dial_error) == (Call.Status.FAILED, "the worker dialing it was lost")
    assert call.lead.next_attempt_at is not None
    assert twilio.call_count == 1


def test_it_spaces_dials_by_the_account_rate_across_workers(settings: Any) -> None:
    settings.TWILIO_CALLS_PER_SECOND = 2
    # A second of its own in the far future: slots live a minute in the cache, which may be a shared Redis.
    second = float(random.randrange(3_000_000_000, 4_000_000_000))
    now = second + 0.2
    starts = [dialer.dial_rate_slot_reserve(now=now) for _ in range(3)]
    assert starts == [second + 0.5, second + 1.0, second + 1.5]
    # Every slot in the look-ahead taken: the dial waits for a later tick instead.
    for _ in range(int(dialer.RATE_LOOKAHEAD_S * 2) - 3):
        dialer.dial_rate_slot_reserve(now=now)
    assert dialer.dial_rate_slot_reserve(now=now) is None


# --- Outcomes: the retry cadence ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "answered_by", "outcome"),
    [
        (Call.Status.BUSY, "", Call.Outcome.NO_ANSWER),
        (Call.Status.NO_ANSWER, "", Call.Outcome.NO_ANSWER),
        (Call.Status.COMPLETED, "machine_end_beep", Call.Outcome.VOICEMAIL),
    ],
)
def test_it_calls_back_after_the_retry_delay_up_to_max_attempts(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock, status: str, answered_by: str, outcome: str
) -> None:
    campaign = _campaign(max_attempts=2, retry_delay_minutes=90)
    lead = _lead(campaign)
    (first,) = _dial_due(django_capture_on_commit_callbacks)
    dialer.call_dial(call_id=first)
    _finish(first, status, answered_by)

    call = Call.objects.get(pk=first)
    assert call.outcome == outcome
    lead.refresh_from_db()
    assert lead.next_attempt_at == call.ended_at + dt.timedelta(minutes=90)
    assert lead.status == Lead.Status.IN_PROGRESS
    assert _dial_due(django_capture_on_commit_callbacks) == []  # not before the delay

    with time_machine.travel(lead.next_attempt_at + dt.timedelta(seconds=1)):
        (second,) = _dial_due(django_capture_on_commit_callbacks)
        assert dialer.call_dial(call_id=second) == DialResult.PLACED
        _finish(second, status, answered_by)

    assert Call.objects.get(pk=second).attempt == 2
    lead.refresh_from_db()
    assert (lead.status, lead.next_attempt_at, lead.attempt_count) == (Lead.Status.UNREACHABLE, None, 2)


def test_it_does_not_call_back_after_a_conversation_unless_the_lead_asked(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock
) -> None:
    campaign = _campaign()
    talked, asked = _lead(campaign), _lead(campaign)
    first, second = _dial_due(django_capture_on_commit_callbacks)
    for call_id in (first, second):
        dialer.call_dial(call_id=call_id)
    callback_at = timezone.now() + dt.timedelta(days=1)
    call_ids = dict(Call.objects.values_list("lead_id", "pk"))
    lead_callback_schedule(lead_id=asked.pk, at=callback_at)
    Call.objects.filter(pk=call_ids[asked.pk]).update(outcome=Call.Outcome.CALLBACK)
    _finish(call_ids[talked.pk], Call.Status.COMPLETED, answered_by="human")
    _finish(call_ids[asked.pk], Call.Status.COMPLETED, answered_by="human")

    assert Lead.objects.get(pk=talked.pk).next_attempt_at is None
    assert Lead.objects.get(pk=asked.pk).next_attempt_at == callback_at


def test_it_retries_a_voicemail_reported_after_the_call_ended(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock
) -> None:
    campaign = _campaign()
    lead = _lead(campaign)
    (call_id,) = _dial_due(django_capture_on_commit_callbacks)
    dialer.call_dial(call_id=call_id)
    _finish(call_id, Call.Status.COMPLETED)
    assert Lead.objects.get(pk=lead.pk).next_attempt_at is None

    call_answered_by_apply(call_id=call_id, answered_by="machine_end_silence")

    assert Lead.objects.get(pk=lead.pk).next_attempt_at is not None


def test_it_drops_the_recording_of_a_call_that_may_not_be_recorded() -> None:
    call = CallFactory.create(recording_mode=Call.RecordingMode.OFF)
    call_recording_save(call_id=call.pk, wav=b"RIFF....WAVE")
    call.refresh_from_db()
    assert not call.recording


def test_it_registers_the_dialer_and_rollup_with_beat() -> None:
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from reautomation.celery import app

    # What `celery beat` does with the settings' schedule when it starts
    # (DatabaseScheduler.update_from_dict, without its connection handling).
    for name, entry in app.conf.beat_schedule.items():
        DatabaseScheduler.Entry.from_entry(name, app=app, **entry)

    tasks = dict(PeriodicTask.objects.values_list("task", "interval__every"))
    assert tasks["calls.tasks.campaigns_dial_due"] == 10
    assert tasks["calls.tasks.campaign_stats_rollup"] == 600
    assert {"calls.tasks.campaigns_dial_due", "calls.tasks.call_dial"} <= set(app.tasks)
