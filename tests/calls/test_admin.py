from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from billing.models import Component
from calls.admin import CappedPaginator
from calls.models import Call, Campaign
from tests.factories import (
    CallFactory,
    CampaignFactory,
    CostEntryFactory,
    LeadFactory,
    TranscriptTurnFactory,
)

pytestmark = pytest.mark.django_db


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _act(admin_client: Client, action: str, *campaigns: Campaign) -> Any:
    return admin_client.post(
        reverse("admin:calls_campaign_changelist"),
        {"action": action, "_selected_action": [c.pk for c in campaigns]},
    )


# --- Campaign ----------------------------------------------------------------------


def test_it_lists_campaigns_with_their_lead_and_call_counts(admin_client: Client) -> None:
    campaign = CampaignFactory.create(name="Spring sellers")
    campaign.leads.set(LeadFactory.create_batch(3))
    CallFactory.create_batch(2, campaign=campaign)
    CampaignFactory.create(name="Empty")

    response = admin_client.get(reverse("admin:calls_campaign_changelist"), {"o": "1"})

    assert response.status_code == 200
    counts = {c.name: (c.leads_total, c.calls_total) for c in response.context["cl"].result_list}
    assert counts == {"Spring sellers": (3, 2), "Empty": (0, 0)}


def test_it_searches_campaigns_by_business_name(admin_client: Client) -> None:
    wanted = CampaignFactory.create(business_name="Harbor Homes")
    CampaignFactory.create(business_name="Bayside Realty")
    response = admin_client.get(reverse("admin:calls_campaign_changelist"), {"q": "harbor"})
    assert list(response.context["cl"].result_list) == [wanted]


def test_it_shows_the_campaign_add_and_change_pages(admin_client: Client) -> None:
    campaign = CampaignFactory.create()
    campaign.leads.add(LeadFactory.create(first_name="Maria"))
    assert admin_client.get(reverse("admin:calls_campaign_add")).status_code == 200
    response = admin_client.get(reverse("admin:calls_campaign_change", args=[campaign.pk]))
    assert response.status_code == 200
    assert "Maria" in response.text


def test_it_adds_a_campaign_with_leads_as_a_draft(admin_client: Client) -> None:
    leads = LeadFactory.create_batch(2)
    data = {
        "name": "Fall buyers",
        "agent_name": "Alex",
        "business_name": "Bayside Realty",
        "callback_number": "+14155550100",
        "call_purpose": "to follow up on your home search",
        "script": "",
        "leads": [lead.pk for lead in leads],
        "countries": '["US"]',
        "window_start": "09:00",
        "window_end": "20:00",
        "max_concurrent_calls": "2",
        "max_attempts": "3",
        "retry_delay_minutes": "240",
        "max_call_minutes": "20",
        "require_consent": "on",
        "all_party_recording": "announce",
        "voicemail_action": "message",
        # A status in the form is ignored: it changes only through the actions.
        "status": Campaign.Status.ACTIVE,
    }
    response = admin_client.post(reverse("admin:calls_campaign_add"), data)
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.status == Campaign.Status.DRAFT
    assert set(campaign.leads.all()) == set(leads)
    assert campaign.require_consent


def _campaign_form(**answers: str) -> dict[str, Any]:
    return {
        "name": "Fall buyers",
        "agent_name": "Alex",
        "business_name": "Bayside Realty",
        "callback_number": "+14155550100",
        "call_purpose": "to follow up on your home search",
        "countries": '["US"]',
        "window_start": "09:00",
        "window_end": "20:00",
        "max_concurrent_calls": "2",
        "max_attempts": "3",
        "retry_delay_minutes": "240",
        "max_call_minutes": "20",
        "all_party_recording": "announce",
        "voicemail_action": "message",
        **{f"answer_{topic}": text for topic, text in answers.items()},
    }


def test_the_campaign_form_refuses_a_business_name_the_voice_cannot_say(admin_client: Client) -> None:
    data = {**_campaign_form(), "business_name": "Compass #1 Team"}
    response = admin_client.post(reverse("admin:calls_campaign_add"), data)

    assert response.status_code == 200
    assert not Campaign.objects.exists()
    errors = response.context["adminform"].form.errors
    assert "can't be read aloud: remove '#'" in errors["business_name"][0]


def test_a_campaign_saved_with_an_unspeakable_name_cannot_start(admin_client: Client) -> None:
    campaign = CampaignFactory.create(name="Old", business_name="Compass #1 Team")
    campaign.leads.add(LeadFactory.create())

    response = _act(admin_client, "activate", campaign)

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert "can't be read aloud" in _messages(response)[0]


def test_it_activates_a_campaign_with_leads(admin_client: Client) -> None:
    campaign = CampaignFactory.create(status=Campaign.Status.PAUSED, status_reason="Paused for the holidays")
    campaign.leads.add(LeadFactory.create())
    response = _act(admin_client, "activate", campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE
    assert campaign.status_reason == ""
    assert _messages(response) == ["1 campaign activated."]


def test_it_refuses_to_activate_a_campaign_without_leads(admin_client: Client) -> None:
    empty = CampaignFactory.create(name="Empty")
    ready = CampaignFactory.create(name="Ready")
    ready.leads.add(LeadFactory.create())

    response = _act(admin_client, "activate", empty, ready)

    empty.refresh_from_db()
    ready.refresh_from_db()
    assert empty.status == Campaign.Status.DRAFT
    assert ready.status == Campaign.Status.ACTIVE
    assert _messages(response) == [
        'Campaign "Empty" has no leads; add leads before activating it.',
        "1 campaign activated.",
    ]
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error", "success"]


def test_it_refuses_to_activate_a_completed_campaign(admin_client: Client) -> None:
    campaign = CampaignFactory.create(status=Campaign.Status.COMPLETED)
    campaign.leads.add(LeadFactory.create())
    response = _act(admin_client, "activate", campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    assert "cannot be activated again" in _messages(response)[0]


def test_it_pauses_an_active_campaign_with_a_reason(admin_client: Client) -> None:
    campaign = CampaignFactory.create(status=Campaign.Status.ACTIVE)
    _act(admin_client, "pause", campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert campaign.status_reason == "Paused in the admin by admin"


def test_it_refuses_to_pause_a_draft_campaign(admin_client: Client) -> None:
    campaign = CampaignFactory.create(name="Draft one")
    response = _act(admin_client, "pause", campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert _messages(response) == ['Campaign "Draft one" is draft; only an active campaign can be paused.']


def test_it_completes_a_campaign_and_cancels_its_undialed_calls(admin_client: Client) -> None:
    campaign = CampaignFactory.create(status=Campaign.Status.ACTIVE)
    queued = CallFactory.create(campaign=campaign, status=Call.Status.QUEUED)
    ringing = CallFactory.create(campaign=campaign, status=Call.Status.RINGING)
    elsewhere = CallFactory.create(status=Call.Status.QUEUED)

    _act(admin_client, "complete", campaign)

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    statuses = dict(Call.objects.values_list("pk", "status"))
    assert statuses == {
        queued.pk: Call.Status.CANCELED,
        ringing.pk: Call.Status.RINGING,
        elsewhere.pk: Call.Status.QUEUED,
    }
    assert Call.objects.get(pk=queued.pk).ended_at is not None


def test_it_autocompletes_campaigns_for_a_budget(admin_client: Client) -> None:
    wanted = CampaignFactory.create(name="Spring sellers")
    CampaignFactory.create(name="Fall buyers")
    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "billing", "model_name": "budget", "field_name": "campaign", "term": "spring"},
    )
    assert [r["id"] for r in response.json()["results"]] == [str(wanted.pk)]


# --- Call ------------------------------------------------------------------------------


def test_it_lists_calls_with_their_total_cost(admin_client: Client) -> None:
    call = CallFactory.create(duration_seconds=125)
    CostEntryFactory.create(call=call, component=Component.TELEPHONY, amount_usd=Decimal("0.0280"))
    CostEntryFactory.create(call=call, component=Component.LLM, amount_usd=Decimal("0.0012"))
    free = CallFactory.create()

    response = admin_client.get(reverse("admin:calls_call_changelist"))

    assert response.status_code == 200
    totals = {c.pk: c.cost_total for c in response.context["cl"].result_list}
    assert totals == {call.pk: Decimal("0.0292"), free.pk: Decimal(0)}
    assert "2:05" in response.text
    assert "0.0292" in response.text


def test_it_searches_calls_by_lead_phone_and_twilio_sid(admin_client: Client) -> None:
    call = CallFactory.create(lead__phone="+14155550134", twilio_sid="CA0123456789abcdef")
    CallFactory.create(lead__phone="+14155550135", twilio_sid="CAffff")
    url = reverse("admin:calls_call_changelist")
    assert list(admin_client.get(url, {"q": "5550134"}).context["cl"].result_list) == [call]
    assert list(admin_client.get(url, {"q": "CA0123456789abcdef"}).context["cl"].result_list) == [call]


def test_it_filters_calls_by_recording_and_outcome(admin_client: Client) -> None:
    recorded = CallFactory.create(recording_url="https://api.twilio.com/rec/RE1", outcome=Call.Outcome.QUALIFIED)
    silent = CallFactory.create(outcome=Call.Outcome.NO_ANSWER)
    url = reverse("admin:calls_call_changelist")
    assert list(admin_client.get(url, {"recording": "yes"}).context["cl"].result_list) == [recorded]
    assert list(admin_client.get(url, {"recording": "no"}).context["cl"].result_list) == [silent]
    assert list(admin_client.get(url, {"outcome__exact": "qualified"}).context["cl"].result_list) == [recorded]


def test_it_shows_a_call_with_its_transcript_and_costs(admin_client: Client) -> None:
    call = CallFactory.create()
    TranscriptTurnFactory.create(call=call, index=0, text="Hi, this is Alex from Bayside Realty")
    CostEntryFactory.create(call=call, amount_usd=Decimal("0.028"))
    response = admin_client.get(reverse("admin:calls_call_change", args=[call.pk]))
    assert response.status_code == 200
    assert "Hi, this is Alex from Bayside Realty" in response.text
    assert "0.028" in response.text


def test_it_saves_a_reviewers_correction_of_a_call(admin_client: Client) -> None:
    call = CallFactory.create(status=Call.Status.COMPLETED, outcome=Call.Outcome.CALLBACK)
    TranscriptTurnFactory.create(call=call)
    data = {
        "outcome": Call.Outcome.QUALIFIED,
        "score": "80",
        "summary": "Selling in spring",
        "turns-TOTAL_FORMS": "0",
        "turns-INITIAL_FORMS": "0",
        "cost_entries-TOTAL_FORMS": "0",
        "cost_entries-INITIAL_FORMS": "0",
        # Written by the dialer and Twilio: ignored here.
        "status": Call.Status.QUEUED,
    }
    response = admin_client.post(reverse("admin:calls_call_change", args=[call.pk]), data)
    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.outcome, call.score, call.summary, call.status) == (
        Call.Outcome.QUALIFIED,
        80,
        "Selling in spring",
        Call.Status.COMPLETED,
    )
    assert call.turns.count() == 1


def test_it_does_not_add_calls_by_hand(admin_client: Client) -> None:
    # The dialer creates calls after its consent and calling-hours checks.
    assert admin_client.get(reverse("admin:calls_call_add")).status_code == 403


# --- Transcript turns -------------------------------------------------------------------


def test_it_lists_transcript_turns_without_counting_past_the_cap(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CappedPaginator, "CAP", 3)
    TranscriptTurnFactory.create_batch(5, call=CallFactory.create(), text="we're thinking about selling")

    response = admin_client.get(reverse("admin:calls_transcriptturn_changelist"))

    assert response.status_code == 200
    cl = response.context["cl"]
    assert cl.result_count == 3
    assert cl.full_result_count is None
    assert "thinking about selling" in response.text


def test_it_finds_transcript_turns_by_call_id(admin_client: Client) -> None:
    wanted = TranscriptTurnFactory.create(call=CallFactory.create())
    TranscriptTurnFactory.create(call=CallFactory.create())
    url = reverse("admin:calls_transcriptturn_changelist")
    assert list(admin_client.get(url, {"q": str(wanted.call_id)}).context["cl"].result_list) == [wanted]
    assert list(admin_client.get(url, {"q": "selling"}).context["cl"].result_list) == []


def test_it_shows_a_transcript_turn_read_only(admin_client: Client) -> None:
    turn = TranscriptTurnFactory.create(text="call me after five")
    response = admin_client.get(reverse("admin:calls_transcriptturn_change", args=[turn.pk]))
    assert response.status_code == 200
    assert "call me after five" in response.text
    assert 'name="text"' not in response.text
    assert admin_client.get(reverse("admin:calls_transcriptturn_add")).status_code == 403


def test_the_call_page_plays_the_recording_through_the_staff_only_view(admin_client: Client) -> None:
    call = CallFactory.create()
    call.recording.save("call.wav", ContentFile(b"RIFF"), save=True)

    html = admin_client.get(reverse("admin:calls_call_change", args=[call.pk])).text

    src = reverse("dashboard:call_recording", args=[call.pk])
    assert f'<audio controls preload="none" src="{src}"></audio>' in html
    assert "/media/" not in html


def test_a_campaign_keeps_its_own_answers_and_leaves_the_rest_to_the_defaults(admin_client: Client) -> None:
    data = _campaign_form(ask_cost="  Talking with {business_name} is always free.  ", ask_rates="")

    response = admin_client.post(reverse("admin:calls_campaign_add"), data)

    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.answers == {"ask_cost": "Talking with {business_name} is always free."}
    page = admin_client.get(reverse("admin:calls_campaign_change", args=[campaign.pk])).text
    assert "Talking with {business_name} is always free." in page
    assert "I can&#x27;t quote interest rates" in page, "the default is shown where the campaign has none"


def test_a_campaign_answer_too_long_to_say_is_refused(admin_client: Client) -> None:
    response = admin_client.post(reverse("admin:calls_campaign_add"), _campaign_form(ask_scam="word " * 100))

    assert response.status_code == 200
    assert "at most 400 characters" in response.text
    assert not Campaign.objects.exists()
