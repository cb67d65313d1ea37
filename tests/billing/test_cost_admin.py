"""Cost in the admin: on each call, summed per campaign and per day, and each budget's use with a progress bar."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import Budget, Component
from calls.models import Call
from tests.factories import BudgetFactory, CallFactory, CampaignFactory, CostEntryFactory

pytestmark = pytest.mark.django_db


def _priced_call(campaign: object, amount: str, **fields: object) -> Call:
    call = CallFactory.create(
        campaign=campaign, dialed_at=timezone.now(), status=Call.Status.COMPLETED, duration_seconds=90, **fields
    )
    CostEntryFactory.create(call=call, amount_usd=Decimal(amount))
    CostEntryFactory.create(call=call, component=Component.STT, amount_usd=Decimal("0.0005"))
    return call


def test_it_shows_each_budgets_use_in_its_period_with_a_progress_bar(admin_client: Client) -> None:
    campaign = CampaignFactory.create(name="Spring sellers")
    BudgetFactory.create(campaign=campaign, limit_usd=Decimal("0.10"))
    BudgetFactory.create(scope=Budget.Scope.DAILY, campaign=None, limit_usd=Decimal("5.00"))
    _priced_call(campaign, "0.0265")

    response = admin_client.get(reverse("admin:billing_budget_changelist"))

    assert response.status_code == 200
    assert '<progress value="0.0270" max="0.10"' in response.text
    assert "27% &nbsp; $0.03 of $0.10, $0.07 left" in response.text
    assert f"{timezone.localdate():%Y-%m-%d}" in response.text  # the daily budget's period
    assert "lifetime" in response.text


def test_it_shows_a_campaigns_cost_per_call_minute_outcome_day_and_budget(admin_client: Client) -> None:
    campaign = CampaignFactory.create()
    BudgetFactory.create(campaign=campaign, limit_usd=Decimal("2.00"))
    _priced_call(campaign, "0.0195", outcome=Call.Outcome.APPOINTMENT)
    _priced_call(campaign, "0.0095", outcome=Call.Outcome.NOT_INTERESTED)

    response = admin_client.get(reverse("admin:calls_campaign_change", args=[campaign.pk]))

    assert response.status_code == 200
    page = response.text
    assert "<td>Total</td><td>$0.0300</td>" in page
    assert "<td>Per call (mean / p50 / p95)</td><td>$0.0150 / $0.0100 / $0.0200</td>" in page
    assert "<td>Per minute of talk</td><td>$0.0100</td>" in page
    assert "<td>Per booked appointment (1)</td><td>$0.0300</td>" in page
    assert f"<td>{timezone.localdate():%Y-%m-%d}</td><td>2 calls</td><td>$0.0300</td>" in page
    assert "<td>Speech-to-text</td><td>$0.0010</td>" in page
    assert "$0.03 of $2.00" in page


def test_it_lists_campaigns_with_their_cost(admin_client: Client) -> None:
    campaign = CampaignFactory.create()
    _priced_call(campaign, "1.2345")
    _priced_call(campaign, "0.5000")

    response = admin_client.get(reverse("admin:calls_campaign_changelist"))

    assert response.status_code == 200
    assert '<td class="field-cost">1.74</td>' in response.text


def test_it_shows_a_calls_cost_and_voice_tier(admin_client: Client) -> None:
    call = _priced_call(CampaignFactory.create(), "0.0280", voice_tier=Call.VoiceTier.PREMIUM)

    response = admin_client.get(reverse("admin:calls_call_change", args=[call.pk]))

    assert response.status_code == 200
    assert "0.0285" in response.text  # the total, kept up to date while the call runs
    assert "Premium (ElevenLabs)" in response.text
