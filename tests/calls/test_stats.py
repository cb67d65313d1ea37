"""Per-campaign, per-day rollups written by the campaign_stats_rollup task."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db.models import F, Value

from calls.models import Call, CampaignDayStats, DialDecision, TranscriptTurn
from calls.stats import _percentile, calls_figures, latency_figures
from dialer.tasks import campaign_stats_rollup
from tests.factories import CallFactory, CampaignFactory, CostEntryFactory, LeadFactory, TranscriptTurnFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 2)
NOON = dt.datetime(2026, 6, 2, 12, 0, tzinfo=dt.UTC)


def _call(campaign: Any, *, minutes: int = 0, **fields: Any) -> Call:
    at = NOON + dt.timedelta(minutes=minutes)
    return CallFactory.create(campaign=campaign, dialed_at=at, ended_at=at, **fields)


def test_it_rolls_up_a_campaigns_day_from_its_calls(settings: Any) -> None:
    settings.TIME_ZONE = "UTC"
    campaign = CampaignFactory.create()
    answered = {"status": Call.Status.COMPLETED, "answered_at": NOON, "answered_by": Call.AnsweredBy.HUMAN}
    hot = _call(
        campaign, **answered, qualification={"bucket": "hot"}, outcome=Call.Outcome.APPOINTMENT, duration_seconds=180
    )
    _call(campaign, **answered, qualification={"bucket": "warm"}, outcome=Call.Outcome.QUALIFIED, duration_seconds=120)
    _call(campaign, **answered, qualification={"bucket": "cold"}, outcome=Call.Outcome.OPTED_OUT, duration_seconds=30)
    _call(
        campaign,
        status=Call.Status.COMPLETED,
        answered_at=NOON,
        answered_by=Call.AnsweredBy.MACHINE,
        outcome=Call.Outcome.VOICEMAIL,
    )
    _call(campaign, status=Call.Status.BUSY)
    _call(campaign, status=Call.Status.NO_ANSWER)
    _call(campaign, status=Call.Status.FAILED)
    CallFactory.create(campaign=campaign, status=Call.Status.QUEUED)  # never dialed: not counted
    _call(campaign, minutes=24 * 60, status=Call.Status.BUSY)  # the next day
    for latency in (400, 500, 600, 700, 2000):
        TranscriptTurnFactory.create(call=hot, latency_ms=latency, speaker="agent")
    CostEntryFactory.create(call=hot, amount_usd=Decimal("0.042"))
    lead = LeadFactory.create()
    for reason in (DialDecision.Reason.OUTSIDE_WINDOW, DialDecision.Reason.NO_CONSENT):
        DialDecision.objects.create(
            lead=lead, campaign=campaign, stage="schedule", allowed=False, reason=reason, detail="-", decided_at=NOON
        )

    assert campaign_stats_rollup(day=DAY.isoformat()) == 1
    assert campaign_stats_rollup(day=DAY.isoformat()) == 1  # rewritten, not added to

    stats = CampaignDayStats.objects.get(campaign=campaign, day=DAY)
    counts = ("calls", "reached", "voicemail", "no_answer", "failed", "hot", "warm", "cold", "booked", "opted_out")
    assert {name: getattr(stats, name) for name in counts} == {
        "calls": 7, "reached": 3, "voicemail": 1, "no_answer": 2, "failed": 1,
        "hot": 1, "warm": 1, "cold": 1, "booked": 1, "opted_out": 1,
    }  # fmt: skip
    assert (stats.refused_by_gate, stats.talk_seconds) == (2, 330)
    assert (stats.latency_turns, stats.latency_avg_ms, stats.latency_p50_ms, stats.latency_p95_ms) == (
        5,
        840,
        600,
        2000,
    )
    assert stats.cost_usd == Decimal("0.0420")
    assert CampaignDayStats.objects.count() == 1


def test_it_rolls_up_today_and_yesterday_by_default(settings: Any) -> None:
    settings.TIME_ZONE = "UTC"
    campaign = CampaignFactory.create()
    _call(campaign, status=Call.Status.BUSY)
    _call(campaign, minutes=-24 * 60, status=Call.Status.BUSY)
    with time_machine.travel(NOON + dt.timedelta(hours=1)):
        assert campaign_stats_rollup() == 2
    assert sorted(CampaignDayStats.objects.values_list("day", "calls")) == [(DAY - dt.timedelta(days=1), 1), (DAY, 1)]


def test_latency_percentiles_are_the_nearest_rank_on_either_database() -> None:
    # PostgreSQL ranks with percentile_disc, SQLite in Python: both must give the value that
    # _percentile gives, for every count of turns (where p * n is whole and where it is not).
    rng = random.Random(7)
    calls = []
    expected = {}
    for n in (1, 2, 3, 19, 20, 21, 40, 99, 100, 101):
        call = CallFactory.create()
        values = [rng.randint(200, 900) for _ in range(n - n // 2)]
        values += values[: n // 2]  # most values twice: ties
        TranscriptTurn.objects.bulk_create(
            TranscriptTurn(call=call, index=i, speaker=TranscriptTurn.Speaker.AGENT, text="ok", latency_ms=ms)
            for i, ms in enumerate(values)
        )
        TranscriptTurnFactory.create(call=call, index=n, speaker="lead", latency_ms=None)
        ordered = sorted(values)
        expected[call.pk] = {
            "turns": n,
            "avg_ms": round(sum(values) / n),
            "p50_ms": _percentile(ordered, 50),
            "p95_ms": _percentile(ordered, 95),
        }
        calls.append(call)

    assert latency_figures(TranscriptTurn.objects.all(), by=F("call_id")) == expected
    assert latency_figures(TranscriptTurn.objects.none(), by=Value(0)) == {}
    whole = calls_figures(Call.objects.filter(pk__in=[c.pk for c in calls]))
    every = sorted(t.latency_ms for t in TranscriptTurn.objects.exclude(latency_ms=None))
    assert (whole["latency_turns"], whole["latency_p50_ms"], whole["latency_p95_ms"]) == (
        len(every),
        _percentile(every, 50),
        _percentile(every, 95),
    )
