"""Admin for the state rules table, the dial audit log, campaign consent and the daily stats."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from calls.models import DialDecision, StateRule
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _decision(allowed: bool, reason: str, **fields: Any) -> DialDecision:
    values = {
        "lead": LeadFactory.create(),
        "campaign": CampaignFactory.create(),
        "stage": DialDecision.Stage.SCHEDULE,
        "detail": "because",
        "decided_at": dt.datetime(2026, 6, 2, 15, tzinfo=dt.UTC),
        **fields,
    }
    return DialDecision.objects.create(allowed=allowed, reason=reason, **values)


def _no_inlines() -> dict[str, str]:
    # The management forms of the rule's weekday and holiday inlines, with no rows.
    return {f"{prefix}-{name}": "0" for prefix in ("days", "holidays") for name in ("TOTAL_FORMS", "INITIAL_FORMS")}


def test_it_adds_a_state_rule_in_the_admin(admin_client: Client) -> None:
    data = {
        **_no_inlines(),
        "state": "ga",
        "window_start": "09:00",
        "window_end": "20:00",
        "max_calls_per_24h": "2",
        "notes": "house policy",
    }
    response = admin_client.post(reverse("admin:calls_staterule_add"), data)
    assert response.status_code == 302
    rule = StateRule.objects.get(state="GA")
    assert (rule.window_start, rule.window_end, rule.max_calls_per_24h, rule.all_party_consent) == (
        dt.time(9),
        dt.time(20),
        2,
        False,
    )


def test_it_refuses_a_state_rule_whose_window_ends_before_it_starts(admin_client: Client) -> None:
    data = {**_no_inlines(), "state": "GA", "window_start": "20:00", "window_end": "09:00"}
    response = admin_client.post(reverse("admin:calls_staterule_add"), data)
    assert response.status_code == 200
    assert not StateRule.objects.filter(state="GA").exists()


def test_it_lists_the_audit_log_read_only_and_filters_refusals(admin_client: Client) -> None:
    allowed = _decision(True, DialDecision.Reason.ALLOWED)
    refused = _decision(False, DialDecision.Reason.DO_NOT_CALL)
    url = reverse("admin:calls_dialdecision_changelist")

    assert list(admin_client.get(url, {"allowed": "no"}).context["cl"].result_list) == [refused]
    assert list(admin_client.get(url, {"reason": "allowed"}).context["cl"].result_list) == [allowed]
    change = admin_client.get(reverse("admin:calls_dialdecision_change", args=[refused.pk]))
    assert change.status_code == 200 and "Save" not in change.text
    assert admin_client.get(reverse("admin:calls_dialdecision_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:calls_dialdecision_delete", args=[refused.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert DialDecision.objects.count() == 2


def test_it_finds_a_leads_decisions_by_exact_phone(admin_client: Client) -> None:
    wanted = _decision(False, DialDecision.Reason.NO_CONSENT, lead=LeadFactory.create(phone="+14155550177"))
    _decision(True, DialDecision.Reason.ALLOWED)
    response = admin_client.get(reverse("admin:calls_dialdecision_changelist"), {"q": "+14155550177"})
    assert list(response.context["cl"].result_list) == [wanted]


def test_it_warns_when_a_campaign_dials_without_consent(admin_client: Client) -> None:
    campaign = CampaignFactory.create(require_consent=False, name="Open house list")

    response = admin_client.get(reverse("admin:calls_campaign_change", args=[campaign.pk]))

    assert response.status_code == 200
    (warning,) = _messages(response)
    assert warning.startswith('Campaign "Open house list" dials leads without a consent record on file.')
    changelist = admin_client.get(reverse("admin:calls_campaign_changelist"), {"require_consent__exact": "0"})
    assert list(changelist.context["cl"].result_list) == [campaign]


def test_it_says_nothing_about_consent_when_the_campaign_requires_it(admin_client: Client) -> None:
    campaign = CampaignFactory.create()
    response = admin_client.get(reverse("admin:calls_campaign_change", args=[campaign.pk]))
    assert _messages(response) == []


def test_it_shows_the_daily_stats(admin_client: Client) -> None:
    assert admin_client.get(reverse("admin:calls_campaigndaystats_changelist")).status_code == 200
