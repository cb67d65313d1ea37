"""Budgets that hold: spending per campaign, day and month, the dialer's budget check, pausing, the per-call limit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from unittest.mock import MagicMock, patch

import pytest
import time_machine
from django.utils import timezone

from billing.models import Budget
from billing.selectors import budget_use_get, call_expected_cost, call_voice_tier_choose
from billing.services import CallUsage, call_costs_update
from calls.models import Call, Campaign, DialDecision
from dialer import services as dialer
from dialer.services import DialResult
from leads.models import Lead
from tests.factories import BudgetFactory, CallFactory, CampaignFactory, ConsentFactory, CostEntryFactory, LeadFactory

pytestmark = pytest.mark.django_db

NOON_NY = dt.datetime(2026, 6, 2, 16, 0, tzinfo=dt.UTC)  # 12:00 EDT, 9:00 PDT
Capture = Callable[..., Any]


@pytest.fixture(autouse=True)
def _inside_the_window(settings: Any) -> Iterator[None]:
    settings.TWILIO_CALLS_PER_SECOND = 1000
    settings.BILLING_EXPECTED_CALL_COST_USD = "0.05"
    with time_machine.travel(NOON_NY, tick=True):
        yield


@pytest.fixture
def twilio() -> Iterator[MagicMock]:
    with patch("dialer.services.call_create", autospec=True) as create:
        create.side_effect = lambda call: "CA" + uuid.uuid4().hex
        yield create


def _campaign(**fields: Any) -> Campaign:
    return CampaignFactory.create(status=Campaign.Status.ACTIVE, max_concurrent_calls=3, **fields)


def _lead(campaign: Campaign, **fields: Any) -> Lead:
    lead = LeadFactory.create(**fields)
    ConsentFactory.create(lead=lead)
    campaign.leads.add(lead)
    return lead


def _spend(campaign: Campaign, amount: str, *, dialed_at: dt.datetime = NOON_NY, **fields: Any) -> Call:
    call = CallFactory.create(campaign=campaign, dialed_at=dialed_at, status=Call.Status.COMPLETED, **fields)
    CostEntryFactory.create(call=call, amount_usd=Decimal(amount))
    return call


# --- what is spent ----------------------------------------------------------------------------------------------


def test_it_sums_spending_per_campaign_day_and_month() -> None:
    spring, autumn = CampaignFactory.create(), CampaignFactory.create()
    _spend(spring, "0.030")
    _spend(spring, "0.020", dialed_at=NOON_NY - dt.timedelta(days=1))
    _spend(spring, "0.100", dialed_at=dt.datetime(2026, 5, 31, 12, 0, tzinfo=dt.UTC))
    _spend(autumn, "0.007")

    def spent(**fields: Any) -> Decimal:
        return budget_use_get(budget=BudgetFactory.create(**fields), now=NOON_NY).spent_usd

    assert spent(campaign=spring) == Decimal("0.150")
    assert spent(scope=Budget.Scope.DAILY, campaign=spring) == Decimal("0.030")
    assert spent(scope=Budget.Scope.DAILY, campaign=None) == Decimal("0.037")
    assert spent(scope=Budget.Scope.MONTHLY, campaign=None) == Decimal("0.057")
    use = budget_use_get(budget=BudgetFactory.create(campaign=spring, limit_usd=Decimal("0.20")), now=NOON_NY)
    assert (use.left_usd, use.percent) == (Decimal("0.050"), 75)


def test_it_expects_a_call_to_cost_the_campaigns_recent_average_once_it_has_enough_calls() -> None:
    campaign = CampaignFactory.create()
    today = NOON_NY.date()
    assert call_expected_cost(campaign_id=campaign.pk, on=today) == Decimal("0.05")
    for amount in ("0.02", "0.03", "0.04", "0.03", "0.03"):
        _spend(campaign, amount)
    assert call_expected_cost(campaign_id=campaign.pk, on=today) == Decimal("0.03")
    # A call is wrapped up at its per-call limit, so it is not expected to cost more.
    BudgetFactory.create(campaign=campaign, per_call_limit_usd=Decimal("0.025"))
    assert call_expected_cost(campaign_id=campaign.pk, on=today) == Decimal("0.025")


# --- the dialer ---------------------------------------------------------------------------------------------------


def test_it_refuses_a_dial_whose_expected_cost_exceeds_what_is_left(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    campaign = _campaign()
    BudgetFactory.create(campaign=campaign, limit_usd=Decimal("0.12"))
    _spend(campaign, "0.03")
    live = CallFactory.create(campaign=campaign, status=Call.Status.IN_PROGRESS, dialed_at=NOON_NY)
    CostEntryFactory.create(call=live, amount_usd=Decimal("0.01"))
    lead = _lead(campaign)

    with django_capture_on_commit_callbacks():
        assert dialer.campaigns_dial_due() == {campaign.pk: []}

    decision = DialDecision.objects.get(lead=lead)
    assert (decision.allowed, decision.reason, decision.stage) == (False, "over_budget", "schedule")
    assert decision.detail == (
        f'Campaign budget of campaign "{campaign}": $0.08 left of $0.12, $0.04 of it held for 1 open call(s); '
        "a call is expected to cost $0.0500"
    )
    # Only the live call stands in the way: the lead is looked at again soon, and the campaign runs on.
    assert decision.retry_at == decision.decided_at + dt.timedelta(minutes=2)
    assert not Call.objects.filter(lead=lead).exists()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE


def test_it_checks_the_budget_again_just_before_dialing(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock
) -> None:
    campaign = _campaign()
    budget = BudgetFactory.create(campaign=campaign, limit_usd=Decimal("1.00"))
    lead = _lead(campaign)
    with django_capture_on_commit_callbacks():
        (call_id,) = dialer.campaigns_dial_due()[campaign.pk]
    # Another campaign's calls spent the account's day while this call waited.
    Budget.objects.filter(pk=budget.pk).update(scope=Budget.Scope.DAILY, campaign=None, limit_usd=Decimal("0.10"))
    _spend(CampaignFactory.create(), "0.07")

    assert dialer.call_dial(call_id=call_id) == DialResult.REFUSED

    twilio.assert_not_called()
    decision = DialDecision.objects.get(call_id=call_id, stage=DialDecision.Stage.DIAL)
    assert (decision.allowed, decision.reason) == (False, "over_budget")
    assert decision.detail.startswith("Daily budget for all campaigns (2026-06-02): $0.03 left of $0.10")
    assert Call.objects.get(pk=call_id).status == Call.Status.CANCELED
    assert Lead.objects.get(pk=lead.pk).attempt_count == 0


def test_it_pauses_a_campaign_whose_budget_cannot_pay_for_another_call(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    campaign = _campaign()
    BudgetFactory.create(campaign=campaign, limit_usd=Decimal("0.10"))
    _spend(campaign, "0.07")
    _lead(campaign)

    with django_capture_on_commit_callbacks():
        assert dialer.campaigns_dial_due() == {campaign.pk: []}

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert campaign.status_reason == (
        f'Campaign budget of campaign "{campaign}" spent: $0.07 of $0.10; '
        "the $0.03 left is less than a call's expected $0.0500"
    )
    assert not DialDecision.objects.exists()


def test_it_pauses_the_campaign_when_a_running_call_spends_its_budget() -> None:
    campaign = _campaign()
    BudgetFactory.create(scope=Budget.Scope.MONTHLY, campaign=None, limit_usd=Decimal("0.05"))
    call = CallFactory.create(campaign=campaign, status=Call.Status.IN_PROGRESS, dialed_at=NOON_NY)

    meter = call_costs_update(call_id=call.pk, usage=CallUsage(call_seconds=200.0))

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert campaign.status_reason == "Monthly budget for all campaigns (2026-06) spent: $0.06 of $0.05"
    # The call itself goes on (it is under its per-call limit), but no longer in the premium voice.
    assert (meter.cost_usd, meter.over_limit, meter.premium_allowed) == (Decimal("0.056"), False, False)


# --- the per-call limit -------------------------------------------------------------------------------------------


def test_it_reports_a_running_call_past_the_lowest_per_call_limit() -> None:
    campaign = _campaign()
    BudgetFactory.create(campaign=campaign, per_call_limit_usd=Decimal("0.10"))
    BudgetFactory.create(scope=Budget.Scope.DAILY, campaign=None, per_call_limit_usd=Decimal("0.05"))
    call = CallFactory.create(campaign=campaign, status=Call.Status.IN_PROGRESS, dialed_at=NOON_NY)

    early = call_costs_update(call_id=call.pk, usage=CallUsage(call_seconds=150.0))
    late = call_costs_update(call_id=call.pk, usage=CallUsage(call_seconds=250.0))

    assert (early.cost_usd, early.limit_usd, early.over_limit) == (Decimal("0.042"), Decimal("0.05"), False)
    # Past 80% of the limit the premium voice gives way to Piper.
    assert early.premium_allowed is False
    assert (late.cost_usd, late.over_limit) == (Decimal("0.070"), True)


# --- premium voice ---------------------------------------------------------------------------------------------------


def test_it_dials_a_high_scoring_lead_with_the_premium_voice_while_the_budget_allows(
    django_capture_on_commit_callbacks: Capture, twilio: MagicMock, settings: Any
) -> None:
    settings.ELEVENLABS_API_KEY, settings.PREMIUM_SCORE_THRESHOLD = "test-key", 70
    campaign = _campaign()
    BudgetFactory.create(campaign=campaign, limit_usd=Decimal("10.00"), per_call_limit_usd=Decimal("0.50"))
    hot, cold, unscored = _lead(campaign, score=82), _lead(campaign, score=40), _lead(campaign)
    with django_capture_on_commit_callbacks():
        for call_id in dialer.campaigns_dial_due()[campaign.pk]:
            assert dialer.call_dial(call_id=call_id) == DialResult.PLACED

    tiers = dict(Call.objects.values_list("lead_id", "voice_tier"))
    assert tiers == {hot.pk: "premium", cold.pk: "standard", unscored.pk: "standard"}


def test_it_keeps_the_standard_voice_when_a_premium_call_would_not_fit_the_budget(settings: Any) -> None:
    settings.ELEVENLABS_API_KEY, settings.PREMIUM_SCORE_THRESHOLD = "test-key", 70
    campaign = _campaign()
    lead = _lead(campaign, score=90)
    now = timezone.now()
    assert call_voice_tier_choose(lead=lead, campaign=campaign, now=now) == "premium"

    # A premium call is expected to cost $0.05 plus 1500 characters of ElevenLabs ($0.27): $0.32.
    budget = BudgetFactory.create(campaign=campaign, limit_usd=Decimal("0.30"), per_call_limit_usd=Decimal("1.00"))
    assert call_voice_tier_choose(lead=lead, campaign=campaign, now=now) == "standard"
    Budget.objects.filter(pk=budget.pk).update(limit_usd=Decimal("0.40"))
    assert call_voice_tier_choose(lead=lead, campaign=campaign, now=now) == "premium"

    settings.ELEVENLABS_API_KEY = ""
    assert call_voice_tier_choose(lead=lead, campaign=campaign, now=now) == "standard"
