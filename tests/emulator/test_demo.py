"""The demo runner's clock and the database it hands to the app process."""

from __future__ import annotations

import datetime as dt

import pytest

from emulator.appserver import database_url
from emulator.demo import DEMO_ZONE, demo_clock, demo_results


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 11, 23), dt.date(2026, 11, 24)),  # Monday: tomorrow
        (dt.date(2026, 11, 24), dt.date(2026, 12, 1)),  # Tuesday: a week on, never "now"
        (dt.date(2026, 11, 28), dt.date(2026, 12, 1)),  # Saturday
    ],
)
def test_it_runs_the_demo_on_the_coming_tuesday_morning_in_san_francisco(today: dt.date, expected: dt.date) -> None:
    clock = demo_clock(today)
    assert (clock.date(), clock.time(), clock.tzinfo) == (expected, dt.time(10, 0), DEMO_ZONE)


@pytest.mark.django_db
def test_it_hands_the_app_process_the_database_this_process_uses() -> None:
    from django.db import connection

    url = database_url()
    if connection.vendor == "sqlite":
        assert url.startswith("sqlite:////") and url.endswith(str(connection.settings_dict["NAME"]).lstrip("."))
    else:
        assert url.startswith("postgres://") and url.endswith(f"/{connection.settings_dict['NAME']}")


@pytest.mark.django_db
def test_its_results_count_placed_calls_timed_turns_and_gate_refusals() -> None:
    from calls.models import Call, DialDecision
    from tests.factories import CallFactory, CampaignFactory, LeadFactory, TranscriptTurnFactory

    campaign = CampaignFactory()
    now = dt.datetime(2026, 3, 3, 18, tzinfo=dt.UTC)
    answered = CallFactory(campaign=campaign, dialed_at=now, answered_at=now, status=Call.Status.COMPLETED)
    CallFactory(campaign=campaign, dialed_at=now, status=Call.Status.NO_ANSWER)
    CallFactory(campaign=campaign)  # queued, never dialed: not in the results
    for index, latency in enumerate((500, None, 700)):
        TranscriptTurnFactory(call=answered, index=index, latency_ms=latency)
    DialDecision.objects.create(
        lead=LeadFactory(),
        campaign=campaign,
        stage="dial",
        allowed=False,
        reason=DialDecision.Reason.OUTSIDE_WINDOW,
        detail="-",
        decided_at=now,
    )

    results = demo_results(campaign=campaign)
    assert (results["calls"], results["reached"], results["no_answer"]) == (2, 1, 1)
    assert (results["latency_turns"], results["latency_p50_ms"], results["latency_p95_ms"]) == (2, 500, 700)
    assert results["refused_by_gate"] == 1
