"""Money comes as a decimal string with 2 to 4 decimals; unit prices keep their 6, and minutes have 2."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import Budget, Component, PriceItem
from common.api_types import decimal_text
from tests.factories import BudgetFactory, CallFactory, CampaignFactory, CostEntryFactory

pytestmark = pytest.mark.django_db

MONEY = re.compile(r"^-?[0-9]+\.[0-9]{2,4}$")


def _money_fields(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (path, value) for every *_usd field in an answer, however deep."""
    if isinstance(value, dict):
        for key, item in value.items():
            if (key.endswith("_usd") or path.endswith("by_component")) and not isinstance(item, dict | list):
                yield f"{path}.{key}", item
            else:
                yield from _money_fields(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _money_fields(item, f"{path}[{index}]")


@pytest.fixture
def campaign_with_costs(db: Any) -> Any:
    campaign = CampaignFactory()
    BudgetFactory(campaign=campaign, limit_usd=Decimal("25.00"))
    BudgetFactory(scope=Budget.Scope.MONTHLY, campaign=None, limit_usd=Decimal("300.00"))
    now = timezone.now()
    for seconds in (61, 62, 100):  # a third of the total over 223/60 minutes: digits without end
        call = CallFactory(
            campaign=campaign, dialed_at=now, answered_at=now, status="completed", duration_seconds=seconds
        )
        campaign.leads.add(call.lead)
        CostEntryFactory(call=call, amount_usd=Decimal("0.028467"))
        CostEntryFactory(
            call=call,
            component=Component.STT,
            quantity=Decimal("12.300"),
            unit=PriceItem.Unit.CPU_SECOND,
            unit_price=Decimal("0.000010"),
            amount_usd=Decimal("0.000123"),
        )
    return campaign


def test_every_money_field_of_stats_metrics_and_calls_has_2_to_4_decimals(
    api: Client, campaign_with_costs: Any
) -> None:
    call = campaign_with_costs.calls.order_by("pk").first()
    answers = {
        "stats": api.get(f"/api/v1/campaigns/{campaign_with_costs.pk}/stats").json(),
        "metrics": api.get("/api/v1/metrics").json(),
        "calls": api.get("/api/v1/calls/").json(),
        "call": api.get(f"/api/v1/calls/{call.pk}").json(),
    }

    for name, body in answers.items():
        fields = list(_money_fields(body))
        assert fields, name
        for path, value in fields:
            assert value is None or MONEY.match(value), f"{name}{path} = {value!r}"

    cost = answers["stats"]["cost"]
    assert cost["total_usd"] == "0.0858"  # 3 x 0.028590
    assert cost["per_call_usd"] == "0.0286"
    assert cost["minutes"] == "3.72"  # 223 s
    assert cost["per_minute_usd"] == "0.0231"
    assert cost["by_component"] == {"telephony": "0.0854", "stt": "0.0004"}
    assert answers["stats"]["budgets"][0]["limit_usd"] == "25.00"


def test_a_cost_line_keeps_its_unit_price_to_six_decimals(api: Client, campaign_with_costs: Any) -> None:
    call = campaign_with_costs.calls.order_by("pk").first()

    lines = api.get(f"/api/v1/calls/{call.pk}").json()["costs"]

    assert sorted((line["component"], line["unit_price"], line["amount_usd"]) for line in lines) == [
        ("stt", "0.00001", "0.0001"),
        ("telephony", "0.014", "0.0285"),
    ]


def test_the_schema_gives_each_money_field_its_pattern(client: Client) -> None:
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]

    for name in ("CostOut", "CallFigures", "BudgetUseOut", "CallOut", "CostLineOut"):
        for field, spec in schemas[name]["properties"].items():
            if field.endswith("_usd"):
                options = spec.get("anyOf", [spec])
                assert options[0]["pattern"] == MONEY.pattern, f"{name}.{field}"
    assert schemas["CostOut"]["properties"]["by_component"]["additionalProperties"]["pattern"] == MONEY.pattern


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        ("0", 4, "0.00"),
        ("12.5", 4, "12.50"),
        ("0.01425", 4, "0.0143"),
        ("0.0285", 4, "0.0285"),
        ("-0.00001", 4, "0.00"),
        ("-3.2", 4, "-3.20"),
        ("1E+2", 4, "100.00"),
        ("0.000010", 6, "0.00001"),
        ("3.716666666666666666666666667", 2, "3.72"),
    ],
)
def test_decimal_text_rounds_half_up_and_keeps_two_to_n_decimals(value: str, places: int, text: str) -> None:
    assert decimal_text(Decimal(value), places=places) == text
