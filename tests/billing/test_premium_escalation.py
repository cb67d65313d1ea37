"""A running standard call moves to the premium voice mid-call only while its budgets can pay for the rest of it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from billing.models import Component
from billing.services import call_voice_tier_escalate
from calls.models import Call
from tests.factories import BudgetFactory, CallFactory, CostEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _expected_costs(settings: Any) -> None:
    # A premium call is then expected to cost $0.05 + 1,500 characters at $0.00018 = $0.32.
    settings.BILLING_EXPECTED_CALL_COST_USD = "0.05"


def _running_call(*, budget_usd: str, per_call_usd: str = "1.00") -> Call:
    call = CallFactory.create(status=Call.Status.IN_PROGRESS, dialed_at=timezone.now())
    BudgetFactory.create(
        campaign=call.campaign, limit_usd=Decimal(budget_usd), per_call_limit_usd=Decimal(per_call_usd)
    )
    return call


def test_it_moves_a_call_the_budget_can_pay_for_to_the_premium_tier() -> None:
    call = _running_call(budget_usd="1.00")

    assert call_voice_tier_escalate(call_id=call.pk)

    call.refresh_from_db()
    assert call.voice_tier == Call.VoiceTier.PREMIUM


def test_it_counts_only_the_rest_of_the_call_against_the_budget() -> None:
    # $0.30 spent of $0.50: the $0.02 the premium call is still expected to cost fits in the $0.20 left.
    call = _running_call(budget_usd="0.50")
    CostEntryFactory.create(call=call, component=Component.TELEPHONY, amount_usd=Decimal("0.30"))

    assert call_voice_tier_escalate(call_id=call.pk)


def test_it_keeps_a_call_standard_when_other_open_calls_hold_the_budget() -> None:
    call = _running_call(budget_usd="0.50")
    # Another call of the campaign, still open, is held at a premium call's $0.32: $0.18 is left for this one.
    CallFactory.create(campaign=call.campaign, status=Call.Status.IN_PROGRESS, dialed_at=timezone.now())

    assert not call_voice_tier_escalate(call_id=call.pk)

    call.refresh_from_db()
    assert call.voice_tier == Call.VoiceTier.STANDARD


def test_it_leaves_a_premium_call_premium() -> None:
    call = _running_call(budget_usd="0.01")
    Call.objects.filter(pk=call.pk).update(voice_tier=Call.VoiceTier.PREMIUM)

    assert call_voice_tier_escalate(call_id=call.pk)
