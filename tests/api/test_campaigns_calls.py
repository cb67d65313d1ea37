"""Campaign, call and metrics endpoints."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import get_args

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from billing.models import Budget, Component
from calls.models import Call, Campaign
from integrations.services import api_key_create
from reautomation.api.calls_schemas import PauseKind
from tests.factories import (
    AppointmentFactory,
    BudgetFactory,
    CallFactory,
    CampaignFactory,
    CostEntryFactory,
    DoNotCallFactory,
    LeadFactory,
    TranscriptTurnFactory,
)

pytestmark = pytest.mark.django_db


def test_it_creates_a_draft_campaign_with_its_leads(api: Client) -> None:
    leads = LeadFactory.create_batch(2)
    response = api.post(
        "/api/campaigns/",
        {
            "name": "Spring",
            "business_name": "Bayside Realty",
            "callback_number": "(415) 555-0100",
            "window_start": "10:00",
            "window_end": "18:30",
            "lead_ids": [lead.pk for lead in leads],
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    campaign = Campaign.objects.get()
    assert (campaign.status, campaign.callback_number, campaign.window_end) == (
        "draft",
        "+14155550100",
        dt.time(18, 30),
    )
    assert set(campaign.leads.all()) == set(leads)
    assert response.json()["lead_count"] == 2
    assert response.json()["window_start"] == "10:00:00"


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"window_start": "18:00", "window_end": "09:00"}, ["body", "window_end"]),
        ({"callback_number": "12"}, ["body", "callback_number"]),
        ({"lead_ids": [999999]}, ["body", "lead_ids"]),
        ({"window_start": "10:00+02:00"}, ["body", "window_start"]),
    ],
)
def test_it_answers_422_for_an_invalid_campaign(api: Client, change: dict[str, object], loc: list[str]) -> None:
    payload = {"name": "x", "business_name": "y", "callback_number": "+14155550100", **change}
    response = api.post("/api/campaigns/", payload, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"][:2] == loc
    assert not Campaign.objects.exists()


def test_it_starts_and_pauses_a_campaign_and_answers_409_when_it_cannot(api: Client) -> None:
    campaign = CampaignFactory()
    empty = api.post(f"/api/campaigns/{campaign.pk}/start")
    assert empty.status_code == 409
    assert "has no leads" in empty.json()["error"]["message"]
    assert api.post(f"/api/campaigns/{campaign.pk}/pause", {}, content_type="application/json").status_code == 409

    added = api.post(
        f"/api/campaigns/{campaign.pk}/leads", {"lead_ids": [LeadFactory().pk]}, content_type="application/json"
    )
    assert added.json() == {"added": 1, "lead_count": 1}
    assert api.post(f"/api/campaigns/{campaign.pk}/start").json()["status"] == "active"
    paused = api.post(f"/api/campaigns/{campaign.pk}/pause", {"reason": "CRM sync"}, content_type="application/json")
    assert (paused.json()["status"], paused.json()["status_reason"]) == ("paused", "CRM sync")
    assert (paused.json()["pause_kind"], paused.json()["paused_until"]) == ("manual", None)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED


def test_it_says_what_paused_a_campaign_and_when_a_budget_pause_lifts(api: Client) -> None:
    until = timezone.now().replace(microsecond=0) + dt.timedelta(hours=5)
    campaign = CampaignFactory(
        status=Campaign.Status.PAUSED,
        status_reason="Daily budget spent",
        pause_kind=Campaign.PauseKind.DAILY_BUDGET,
        paused_until=until,
    )
    body = api.get(f"/api/campaigns/{campaign.pk}").json()
    assert (body["pause_kind"], dt.datetime.fromisoformat(body["paused_until"])) == ("daily_budget", until)
    # The API's list of kinds is the model's.
    assert set(get_args(PauseKind)) == set(Campaign.PauseKind.values)


def test_it_lists_campaigns_by_status(api: Client) -> None:
    active = CampaignFactory(status=Campaign.Status.ACTIVE)
    CampaignFactory()
    items = api.get("/api/campaigns/?status=active").json()["items"]
    assert [item["id"] for item in items] == [active.pk]


def test_it_reports_a_campaigns_stats_and_cost(api: Client) -> None:
    campaign = CampaignFactory()
    now = timezone.now()
    booked = CallFactory(
        campaign=campaign,
        dialed_at=now,
        answered_at=now,
        status="completed",
        outcome="appointment",
        duration_seconds=120,
    )
    CallFactory(campaign=campaign, dialed_at=now, status="no-answer")
    CallFactory(campaign=campaign)  # queued, not placed
    campaign.leads.add(booked.lead)
    AppointmentFactory(lead=booked.lead, call=booked)
    CostEntryFactory(call=booked, amount_usd=Decimal("0.030"))
    CostEntryFactory(call=booked, component=Component.STT, amount_usd=Decimal("0.002"))

    stats = api.get(f"/api/campaigns/{campaign.pk}/stats").json()
    assert stats["leads"] == 1
    assert stats["calls_by_status"] == {"completed": 1, "no-answer": 1, "queued": 1}
    assert stats["appointments"] == 1
    assert (stats["figures"]["calls"], stats["figures"]["booked"], stats["figures"]["no_answer"]) == (2, 1, 1)
    assert Decimal(stats["figures"]["cost_usd"]) == Decimal("0.032")
    assert Decimal(stats["cost"]["total_usd"]) == Decimal("0.032")
    assert Decimal(stats["cost"]["per_booked_usd"]) == Decimal("0.032")
    assert {k: Decimal(v) for k, v in stats["cost"]["by_component"].items()} == {
        "telephony": Decimal("0.03"),
        "stt": Decimal("0.002"),
    }


def test_campaign_stats_and_metrics_give_budget_use(api: Client) -> None:
    campaign = CampaignFactory()
    other = CampaignFactory()
    own = BudgetFactory(campaign=campaign, limit_usd=Decimal("1.00"))
    daily = BudgetFactory(scope=Budget.Scope.DAILY, campaign=None, limit_usd=Decimal("2.00"))
    BudgetFactory(campaign=other)  # another campaign's: not this one's business
    call = CallFactory(campaign=campaign, dialed_at=timezone.now())
    CostEntryFactory(call=call, amount_usd=Decimal("0.25"))

    budgets = {b["id"]: b for b in api.get(f"/api/campaigns/{campaign.pk}/stats").json()["budgets"]}
    assert set(budgets) == {own.pk, daily.pk}
    mine = budgets[own.pk]
    assert (mine["scope"], mine["campaign_id"], mine["period"], mine["period_end"]) == (
        "campaign",
        campaign.pk,
        "lifetime",
        None,
    )
    assert (Decimal(mine["spent_usd"]), Decimal(mine["left_usd"]), mine["percent"]) == (
        Decimal("0.25"),
        Decimal("0.75"),
        25,
    )
    shared = budgets[daily.pk]
    assert (shared["scope"], shared["campaign_id"], shared["period"]) == (
        "daily",
        None,
        f"{timezone.localdate():%Y-%m-%d}",
    )
    assert (Decimal(shared["spent_usd"]), shared["percent"]) == (Decimal("0.25"), 12)
    assert dt.datetime.fromisoformat(shared["period_end"]) > timezone.now()

    every = api.get("/api/metrics").json()["budgets"]
    assert len(every) == 3


def test_it_lists_calls_with_filters_and_their_cost(api: Client) -> None:
    campaign = CampaignFactory()
    call = CallFactory(campaign=campaign, status="completed", outcome="qualified")
    CallFactory(status="failed")
    CostEntryFactory(call=call, amount_usd=Decimal("0.028"))
    for query in (f"campaign_id={campaign.pk}", "status=completed", "outcome=qualified", f"lead_id={call.lead_id}"):
        items = api.get(f"/api/calls/?{query}").json()["items"]
        assert [item["id"] for item in items] == [call.pk], query
        assert Decimal(items[0]["cost_usd"]) == Decimal("0.028")
    assert api.get("/api/calls/?since=2100-01-01T00:00:00Z").json()["count"] == 0


def test_it_shows_a_call_with_transcript_recording_link_and_cost_lines(api: Client) -> None:
    call = CallFactory(summary="Wants to sell in spring")
    call.recording.save("call.wav", ContentFile(b"RIFF"), save=True)
    TranscriptTurnFactory(call=call, index=0, speaker="agent", text="Hi, this is Alex", latency_ms=None)
    TranscriptTurnFactory(call=call, index=1, speaker="lead", text="Hello")
    CostEntryFactory(call=call, amount_usd=Decimal("0.028"))

    body = api.get(f"/api/calls/{call.pk}").json()
    assert [(t["speaker"], t["text"]) for t in body["transcript"]] == [("agent", "Hi, this is Alex"), ("lead", "Hello")]
    assert body["recording_url"] == f"http://testserver/api/calls/{call.pk}/recording"
    assert Decimal(body["cost_usd"]) == Decimal("0.028")
    assert [(c["component"], Decimal(c["amount_usd"])) for c in body["costs"]] == [("telephony", Decimal("0.028"))]
    assert api.get("/api/calls/999999").json()["error"]["code"] == "not_found"


def test_it_serves_the_recording_to_a_key_with_calls_read(api: Client, client: Client) -> None:
    call = CallFactory()
    audio = b"RIFF" + bytes(range(200))
    call.recording.save("call.wav", ContentFile(audio), save=True)
    url = api.get(f"/api/calls/{call.pk}").json()["recording_url"].removeprefix("http://testserver")

    whole = api.get(url)
    assert (whole.status_code, whole["Content-Type"]) == (200, "audio/wav")
    assert b"".join(whole.streaming_content) == audio
    part = api.get(url, headers={"Range": "bytes=0-3"})
    assert (part.status_code, part["Content-Range"]) == (206, "bytes 0-3/204")
    assert b"".join(part.streaming_content) == b"RIFF"

    assert api.get(f"/api/calls/{CallFactory().pk}/recording").json()["error"]["code"] == "not_found"
    assert client.get(url).status_code == 401
    _, reader = api_key_create(name="leads only", scopes=["leads:read"])
    assert client.get(url, headers={"X-API-Key": reader}).status_code == 403


def test_a_call_without_our_own_file_links_twilios_recording(api: Client) -> None:
    call = CallFactory(recording_url="https://api.twilio.com/recordings/RE1")
    assert api.get(f"/api/calls/{call.pk}").json()["recording_url"] == "https://api.twilio.com/recordings/RE1"
    assert api.get(f"/api/calls/{CallFactory().pk}").json()["recording_url"] is None


def test_it_reports_account_metrics_for_a_period(api: Client) -> None:
    now = timezone.now()
    CallFactory(dialed_at=now, status=Call.Status.COMPLETED, answered_at=now)
    CallFactory(dialed_at=now - dt.timedelta(days=60))
    DoNotCallFactory()
    AppointmentFactory()
    body = api.get("/api/metrics").json()
    assert body["figures"]["calls"] == 1
    assert body["figures"]["reached"] == 1
    assert (body["dnc_added"], body["appointments_booked"]) == (1, 1)
    assert sum(body["leads_by_status"].values()) == 3
    wrong = api.get("/api/metrics?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z")
    assert wrong.status_code == 422
