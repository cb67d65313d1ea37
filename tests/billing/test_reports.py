"""Cost reports: per call, per minute, per qualified lead and per booked appointment; per day; the cost benchmark."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from benchmarks.cost import cost_figures
from billing.models import Component
from billing.selectors import campaign_cost_by_day, cost_report
from calls.models import Call, Campaign
from tests.factories import BudgetFactory, CallFactory, CampaignFactory, CostEntryFactory

pytestmark = pytest.mark.django_db

DAY = dt.datetime(2026, 6, 2, 16, 0, tzinfo=dt.UTC)


def _call(campaign: Campaign, cost: str, seconds: int, outcome: str = "", **fields: object) -> Call:
    call = CallFactory.create(
        campaign=campaign,
        dialed_at=fields.pop("dialed_at", DAY),
        status=Call.Status.COMPLETED,
        duration_seconds=seconds,
        outcome=outcome,
        **fields,
    )
    telephony, compute = Decimal(cost) * Decimal("0.8"), Decimal(cost) * Decimal("0.2")
    CostEntryFactory.create(call=call, amount_usd=telephony)
    CostEntryFactory.create(call=call, component=Component.STT, amount_usd=compute)
    return call


@pytest.fixture
def campaign() -> Campaign:
    campaign = CampaignFactory.create()
    _call(campaign, "0.030", 120, Call.Outcome.QUALIFIED)
    _call(campaign, "0.060", 240, Call.Outcome.APPOINTMENT)
    _call(campaign, "0.015", 60, Call.Outcome.NOT_INTERESTED, dialed_at=DAY - dt.timedelta(days=1))
    _call(campaign, "0.150", 300, Call.Outcome.QUALIFIED, voice_tier=Call.VoiceTier.PREMIUM)
    # Nobody answered: no cost, but the call counts towards what a booking costs.
    CallFactory.create(campaign=campaign, dialed_at=DAY, status=Call.Status.NO_ANSWER, outcome=Call.Outcome.NO_ANSWER)
    return campaign


def test_it_reports_cost_per_call_minute_qualified_lead_and_booking(campaign: Campaign) -> None:
    report = cost_report(calls=Call.objects.filter(campaign=campaign))

    assert (report.calls, report.total_usd, report.minutes) == (4, Decimal("0.255"), Decimal(12))
    assert report.per_call_usd == Decimal("0.06375")
    assert (report.per_call_p50_usd, report.per_call_p95_usd) == (Decimal("0.030"), Decimal("0.150"))
    assert report.per_minute_usd == Decimal("0.02125")
    # Qualified includes the lead who also booked; each divides the cost of every call.
    assert (report.qualified, report.per_qualified_usd) == (3, Decimal("0.085"))
    assert (report.booked, report.per_booked_usd) == (1, Decimal("0.255"))
    assert report.by_component == {"telephony": Decimal("0.204"), "stt": Decimal("0.051")}


def test_it_reports_nothing_per_outcome_when_no_call_ended_that_way() -> None:
    report = cost_report(calls=Call.objects.none())
    assert (report.calls, report.total_usd, report.per_call_usd, report.per_minute_usd) == (0, 0, None, None)
    assert (report.per_qualified_usd, report.per_booked_usd, report.per_call_p50_usd) == (None, None, None)


def test_it_sums_a_campaigns_cost_per_day(campaign: Campaign) -> None:
    assert campaign_cost_by_day(campaign_id=campaign.pk) == [
        (dt.date(2026, 6, 2), 3, Decimal("0.240")),
        (dt.date(2026, 6, 1), 1, Decimal("0.015")),
    ]


def test_it_computes_the_benchmark_figures_with_the_embedded_tier_apart(campaign: Campaign) -> None:
    BudgetFactory.create(campaign=campaign, limit_usd=Decimal("1.00"))

    figures = cost_figures(campaign=campaign)

    assert (figures["calls_placed"], figures["calls_with_cost"], figures["minutes"]) == (5, 4, 12.0)
    assert figures["per_call_usd"] == {"mean": 0.06375, "p50": 0.03, "p95": 0.15}
    # Standard-voice calls only: $0.105 over 7 minutes; per call $0.015/min each.
    assert figures["per_minute_usd"] == {
        "all_tiers": 0.02125,
        "embedded": 0.015,
        "embedded_p50": 0.015,
        "embedded_p95": 0.015,
        "embedded_calls": 3,
    }
    assert (figures["per_qualified_usd"], figures["per_booked_usd"]) == (0.085, 0.255)
    assert figures["budgets"] == [
        {"budget": f'Campaign budget of campaign "{campaign}"', "spent_usd": 0.255, "limit_usd": 1.0}
    ]
