from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import Budget, Component, PriceItem
from tests.factories import BudgetFactory, CallFactory, CampaignFactory, CostEntryFactory, PriceItemFactory

pytestmark = pytest.mark.django_db


# --- PriceItem ---------------------------------------------------------------------


def test_it_lists_and_filters_prices_by_component(admin_client: Client) -> None:
    telephony = PriceItemFactory.create(component=Component.TELEPHONY, notes="Twilio US outbound voice")
    PriceItemFactory.create(component=Component.LLM, unit=PriceItem.Unit.CPU_SECOND, unit_price=Decimal("0.00001"))
    url = reverse("admin:billing_priceitem_changelist")
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "Twilio US outbound voice" in response.text
    assert list(admin_client.get(url, {"component__exact": "telephony"}).context["cl"].result_list) == [telephony]


def test_it_shows_the_price_add_and_change_pages(admin_client: Client) -> None:
    price = PriceItemFactory.create()
    assert admin_client.get(reverse("admin:billing_priceitem_add")).status_code == 200
    assert admin_client.get(reverse("admin:billing_priceitem_change", args=[price.pk])).status_code == 200


def test_it_adds_a_price(admin_client: Client) -> None:
    data = {
        "component": Component.TTS_PREMIUM,
        "unit": PriceItem.Unit.CHARACTER,
        "unit_price": "0.000180",
        "effective_from": "2026-01-01",
        "notes": "ElevenLabs overage",
    }
    response = admin_client.post(reverse("admin:billing_priceitem_add"), data)
    assert response.status_code == 302
    assert PriceItem.objects.get().unit_price == Decimal("0.000180")


# --- Budget ---------------------------------------------------------------------------


def test_it_lists_and_filters_budgets_by_scope(admin_client: Client) -> None:
    per_campaign = BudgetFactory.create(campaign__name="Spring sellers")
    BudgetFactory.create(scope=Budget.Scope.DAILY, campaign=None)
    url = reverse("admin:billing_budget_changelist")
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "Spring sellers" in response.text
    assert list(admin_client.get(url, {"scope__exact": "campaign"}).context["cl"].result_list) == [per_campaign]
    assert list(admin_client.get(url, {"q": "spring"}).context["cl"].result_list) == [per_campaign]


def test_it_shows_the_budget_add_and_change_pages(admin_client: Client) -> None:
    budget = BudgetFactory.create()
    assert admin_client.get(reverse("admin:billing_budget_add")).status_code == 200
    response = admin_client.get(reverse("admin:billing_budget_change", args=[budget.pk]))
    assert response.status_code == 200
    # The campaign is picked with an autocomplete widget, not a select of every campaign.
    assert "admin-autocomplete" in response.text


def test_it_adds_a_campaign_budget(admin_client: Client) -> None:
    campaign = CampaignFactory.create()
    data = {
        "scope": Budget.Scope.CAMPAIGN,
        "campaign": campaign.pk,
        "limit_usd": "50.00",
        "per_call_limit_usd": "0.1000",
        "is_active": "on",
    }
    response = admin_client.post(reverse("admin:billing_budget_add"), data)
    assert response.status_code == 302
    budget = Budget.objects.get()
    assert (budget.campaign, budget.limit_usd) == (campaign, Decimal("50.00"))


# --- CostEntry --------------------------------------------------------------------------


def test_it_lists_cost_entries_and_finds_them_by_call_id(admin_client: Client) -> None:
    wanted = CostEntryFactory.create(call=CallFactory.create(), amount_usd=Decimal("0.028"))
    CostEntryFactory.create(call=CallFactory.create())
    url = reverse("admin:billing_costentry_changelist")
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].full_result_count is None
    assert list(admin_client.get(url, {"q": str(wanted.call_id)}).context["cl"].result_list) == [wanted]
    assert list(admin_client.get(url, {"q": "telephony"}).context["cl"].result_list) == []
    assert list(admin_client.get(url, {"component__exact": "llm"}).context["cl"].result_list) == []


def test_it_shows_a_cost_entry_read_only(admin_client: Client) -> None:
    entry = CostEntryFactory.create(amount_usd=Decimal("0.028"))
    response = admin_client.get(reverse("admin:billing_costentry_change", args=[entry.pk]))
    assert response.status_code == 200
    assert "0.028" in response.text
    assert 'name="amount_usd"' not in response.text
    # The ledger is written by metering, never by hand.
    assert admin_client.get(reverse("admin:billing_costentry_add")).status_code == 403
