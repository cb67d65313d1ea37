"""What paused a campaign, in the admin: shown on the list and the page, and a pause by hand is marked as one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from calls.models import Campaign
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

TOMORROW = dt.datetime(2026, 6, 3, 4, 0, tzinfo=dt.UTC)


def _act(admin_client: Client, action: str, *campaigns: Campaign) -> Any:
    return admin_client.post(
        reverse("admin:calls_campaign_changelist"),
        {"action": action, "_selected_action": [c.pk for c in campaigns]},
    )


def _paused_for_the_day(**fields: Any) -> Campaign:
    return CampaignFactory.create(
        status=Campaign.Status.PAUSED,
        status_reason="Daily budget for all campaigns (2026-06-02) spent: $5.01 of $5.00",
        pause_kind=Campaign.PauseKind.DAILY_BUDGET,
        paused_until=TOMORROW,
        **fields,
    )


def test_it_shows_what_paused_a_campaign_on_the_list_and_its_page(admin_client: Client) -> None:
    campaign = _paused_for_the_day(name="Spring sellers")

    listed = admin_client.get(reverse("admin:calls_campaign_changelist"), {"pause_kind": "daily_budget"})
    page = admin_client.get(reverse("admin:calls_campaign_change", args=[campaign.pk]))

    assert '<td class="field-pause_kind">Daily budget spent</td>' in listed.content.decode()
    assert "Spring sellers" in listed.content.decode()
    assert "Daily budget spent" in page.content.decode()


def test_the_pause_action_marks_a_pause_by_hand_and_holds_a_budget_paused_campaign(admin_client: Client) -> None:
    active = CampaignFactory.create(status=Campaign.Status.ACTIVE)
    budget_paused = _paused_for_the_day()

    _act(admin_client, "pause", active, budget_paused)

    for campaign in (active, budget_paused):
        campaign.refresh_from_db()
        assert (campaign.status, campaign.pause_kind, campaign.paused_until) == (
            Campaign.Status.PAUSED,
            Campaign.PauseKind.MANUAL,
            None,
        )
        assert campaign.status_reason == "Paused in the admin by admin"
