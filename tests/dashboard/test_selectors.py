from __future__ import annotations

from decimal import Decimal

from calls.models import Call
from common.access import Viewer
from dashboard.selectors import (
    campaign_day_series_get,
    campaign_score_buckets,
    campaign_summary_list,
)
from dashboard.templatetags.dashboard import mmss, ms_mmss, percent_of, quantity, usd
from leads.qualification import qualification_slot_rows
from tests.dashboard.conftest import CampaignCalls, agent_turn, at, cost
from tests.factories import CallFactory, CampaignFactory, LeadFactory


def test_the_day_series_has_every_day_between_the_first_and_last_dial(db: None) -> None:
    campaign = CampaignFactory()
    first = CallFactory(campaign=campaign, dialed_at=at(2), answered_at=at(2), outcome=Call.Outcome.APPOINTMENT)
    CallFactory(campaign=campaign, dialed_at=at(5))
    cost(first, "0.0400")
    agent_turn(first, 1, 700)
    series = campaign_day_series_get(campaign=campaign)
    assert [d.day for d in series.days] == [2, 3, 4, 5]
    assert series.calls == [1, 0, 0, 1]
    assert series.reached == [1, 0, 0, 0]
    assert series.booked == [1, 0, 0, 0]
    assert series.cost_usd == [Decimal("0.04"), 0, 0, 0]
    assert series.cost_per_booking_usd == [Decimal("0.04"), None, None, None]
    assert series.latency_p50_ms == [700, None, None, None]


def test_the_day_series_keeps_the_last_30_days(db: None) -> None:
    campaign = CampaignFactory()
    for day in (1, 31):
        CallFactory(campaign=campaign, dialed_at=at(day))
    series = campaign_day_series_get(campaign=campaign)
    assert len(series.days) == 30
    assert (series.days[0].day, series.days[-1].day) == (2, 31)
    assert sum(series.calls) == 1


def test_the_day_series_of_a_campaign_that_never_dialed_is_empty(db: None) -> None:
    campaign = CampaignFactory()
    CallFactory(campaign=campaign)  # queued, never dialed
    assert campaign_day_series_get(campaign=campaign).days == []


def test_scores_fall_in_buckets_of_ten_with_100_in_the_last(db: None) -> None:
    campaign = CampaignFactory()
    for score in (0, 9, 10, 99, 100):
        CallFactory(campaign=campaign, dialed_at=at(2), answered_at=at(2), score=score)
    # Not counted: a machine, an unanswered call, a call without a score.
    CallFactory(campaign=campaign, dialed_at=at(2), answered_at=at(2), answered_by=Call.AnsweredBy.MACHINE, score=50)
    CallFactory(campaign=campaign, dialed_at=at(2), score=50)
    CallFactory(campaign=campaign, dialed_at=at(2), answered_at=at(2))
    assert campaign_score_buckets(campaign=campaign) == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]


def test_the_campaign_summary_counts_only_placed_calls(campaign_calls: CampaignCalls) -> None:
    other = CampaignFactory()
    other.leads.add(LeadFactory())
    rows = {row.campaign.pk: row for row in campaign_summary_list(viewer=Viewer.everyone())}
    row = rows[campaign_calls.campaign.pk]
    assert (row.leads, row.placed, row.reached, row.qualified, row.booked) == (5, 4, 2, 2, 1)
    assert row.cost_usd == Decimal("0.06")
    assert row.cost_per_booking_usd == Decimal("0.06")
    assert (rows[other.pk].leads, rows[other.pk].placed, rows[other.pk].cost_per_booking_usd) == (1, 0, None)


def test_slot_rows_read_call_and_lead_qualifications() -> None:
    call_q = {
        "slots": {"price": {"value": 850000, "evidence": "eight fifty", "source": "llm"}},
        "score": 80,
        "bucket": "hot",
    }
    lead_q = {"has_agent": {"value": False, "evidence": "no agent yet", "source": "nlu", "call_id": 3}}
    assert [(r.name, r.value, r.evidence, r.source) for r in qualification_slot_rows(qualification=call_q)] == [
        ("Price", "850000", "eight fifty", "llm")
    ]
    assert [(r.name, r.value) for r in qualification_slot_rows(qualification=lead_q)] == [("Has an agent", "no")]
    assert qualification_slot_rows(qualification={}) == []


def test_the_template_filters_format_figures() -> None:
    assert usd(Decimal("0.01234")) == "$0.0123"
    assert usd(None) == "—"
    assert usd(Decimal("2.5"), 2) == "$2.50"
    assert mmss(125) == "2:05"
    assert quantity(Decimal("2.000"), "minute") == "2 minutes"
    assert quantity(Decimal("1.000"), "minute") == "1 minute"
    assert quantity(Decimal("3.250"), "cpu_second") == "3.25 CPU seconds"
    assert quantity(Decimal("1234"), "character") == "1,234 characters"
    assert quantity(Decimal("0.500"), "mb_month") == "0.5 MB-months"
    assert mmss(None) == "—"
    assert ms_mmss(65_400) == "1:05.4"
    assert percent_of(1, 3) == "33%"
    assert percent_of(1, 0) == "—"
