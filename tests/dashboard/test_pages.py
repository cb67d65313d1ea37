from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from calls.models import Call, Campaign, CampaignDayStats
from tests.dashboard.conftest import SVG, CampaignCalls, at, bars, chart
from tests.factories import (
    AppointmentFactory,
    CallFactory,
    CampaignFactory,
    ConsentFactory,
    DoNotCallFactory,
    LeadFactory,
    TranscriptTurnFactory,
    team_member,
)

PAGES = [
    ("dashboard:campaign_list", False),
    ("dashboard:campaign_detail", True),
    ("dashboard:call_detail", True),
    ("dashboard:lead_detail", True),
]


def page_url(name: str, needs_pk: bool, calls: CampaignCalls) -> str:
    pk = {
        "dashboard:campaign_detail": calls.campaign.pk,
        "dashboard:call_detail": calls.booked.pk,
        "dashboard:lead_detail": calls.booked.lead_id,
    }.get(name)
    return reverse(name, args=[pk]) if needs_pk else reverse(name)


@pytest.mark.parametrize(("name", "needs_pk"), PAGES)
def test_it_sends_anonymous_visitors_to_sign_in(
    client: Client, campaign_calls: CampaignCalls, name: str, needs_pk: bool
) -> None:
    url = page_url(name, needs_pk, campaign_calls)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(("name", "needs_pk"), PAGES)
def test_it_refuses_users_who_are_not_staff(
    client: Client, django_user_model: Any, campaign_calls: CampaignCalls, name: str, needs_pk: bool
) -> None:
    client.force_login(django_user_model.objects.create_user(username="lead", password="x"))
    assert client.get(page_url(name, needs_pk, campaign_calls)).status_code == 403


@pytest.mark.parametrize(("name", "needs_pk"), PAGES)
def test_it_answers_only_get(admin_client: Client, campaign_calls: CampaignCalls, name: str, needs_pk: bool) -> None:
    assert admin_client.post(page_url(name, needs_pk, campaign_calls)).status_code == 405


@pytest.mark.parametrize("name", ["dashboard:campaign_detail", "dashboard:call_detail", "dashboard:lead_detail"])
def test_it_answers_404_for_an_unknown_pk(admin_client: Client, db: None, name: str) -> None:
    assert admin_client.get(reverse(name, args=[999_999])).status_code == 404


def test_the_root_url_leads_to_the_campaign_list(admin_client: Client) -> None:
    response = admin_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:campaign_list")


# --- Campaign list ------------------------------------------------------------------------------


def cells(html: str, campaign: Campaign) -> dict[str, str]:
    row = re.search(rf'<tr data-campaign="{campaign.pk}">(.*?)</tr>', html, re.S)
    assert row is not None
    return dict(re.findall(r'data-col="([\w-]+)">([^<]*)<', row.group(1)))


def test_the_campaign_list_shows_each_campaigns_figures(admin_client: Client, campaign_calls: CampaignCalls) -> None:
    idle = CampaignFactory(name="Idle campaign")
    response = admin_client.get(reverse("dashboard:campaign_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["nav"] == "campaigns"
    assert cells(html, campaign_calls.campaign) == {
        "leads": "5",
        "placed": "4",
        "reached": "2",
        "qualified": "2",
        "booked": "1",
        "cost": "$0.06",
        "cost-per-booking": "$0.0600",
    }
    assert cells(html, idle) == {
        "leads": "0",
        "placed": "0",
        "reached": "0",
        "qualified": "0",
        "booked": "0",
        "cost": "$0.00",
        "cost-per-booking": "—",
    }
    assert reverse("dashboard:campaign_detail", args=[campaign_calls.campaign.pk]) in html


def test_the_campaign_list_runs_a_fixed_number_of_queries(
    admin_client: Client, campaign_calls: CampaignCalls, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        campaign = CampaignFactory()
        for lead in LeadFactory.create_batch(3):
            campaign.leads.add(lead)
            CallFactory(campaign=campaign, lead=lead, dialed_at=at(5), answered_at=at(5))
    # Session and user, then campaigns, call counts and costs: not one query per campaign.
    with django_assert_max_num_queries(6):
        response = admin_client.get(reverse("dashboard:campaign_list"))
    assert len(response.context["rows"]) == 6


def test_the_campaign_list_says_when_there_are_no_campaigns(admin_client: Client, db: None) -> None:
    response = admin_client.get(reverse("dashboard:campaign_list"))
    assert "No campaigns yet." in response.content.decode()


def test_the_campaign_list_escapes_campaign_names(admin_client: Client, db: None) -> None:
    CampaignFactory(name="<script>alert(1)</script>")
    html = admin_client.get(reverse("dashboard:campaign_list")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- Campaign detail ----------------------------------------------------------------------------


def test_the_campaign_page_shows_the_figures(admin_client: Client, campaign_calls: CampaignCalls) -> None:
    response = admin_client.get(reverse("dashboard:campaign_detail", args=[campaign_calls.campaign.pk]))
    assert response.status_code == 200
    dashboard = response.context["dashboard"]
    assert dashboard.funnel == [("Dialed", 4), ("Reached", 2), ("Qualified", 2), ("Booked", 1)]
    assert dashboard.cost.total_usd == Decimal("0.06")
    html = response.content.decode()
    assert "$0.0600" in html  # cost per booking
    assert "600 / 800 ms" in html  # latency p50 / p95 over the three agent turns 400, 600, 800
    assert 'data-slot="campaign-actions"' in html


def test_the_campaign_page_charts_the_calls(admin_client: Client, campaign_calls: CampaignCalls) -> None:
    html = admin_client.get(reverse("dashboard:campaign_detail", args=[campaign_calls.campaign.pk])).content.decode()
    # Placed calls by the day they were dialed; the queued call is not one.
    assert bars(chart(html, "calls-per-day")) == {"Mar 2": "2", "Mar 3": "1", "Mar 4": "1"}
    funnel = chart(html, "funnel")
    assert [(r.get("data-label"), r.get("data-value"), r.get("data-percent")) for r in funnel.iter(f"{SVG}rect")] == [
        ("Dialed", "4", "100"),
        ("Reached", "2", "50"),
        ("Qualified", "2", "50"),
        ("Booked", "1", "25"),
    ]
    # Reached calls only: the voicemail's score of 10 is not a lead's.
    scores = bars(chart(html, "score-distribution"))
    assert scores["70-79"] == "1"
    assert scores["80-89"] == "1"
    assert sum(int(v) for v in scores.values()) == 2
    # Mar 2: $0.0500 over one booking; no bar on days without a booking.
    assert bars(chart(html, "cost-per-booking")) == {"Mar 2": "0.05"}
    latency = chart(html, "latency")
    points = {(c.get("data-series"), c.get("data-label")): c.get("data-value") for c in latency.iter(f"{SVG}circle")}
    assert points == {("p50", "Mar 2"): "600", ("p95", "Mar 2"): "800"}
    for name in ("calls-per-day", "funnel", "score-distribution", "cost-per-booking", "latency"):
        svg = chart(html, name)
        assert svg.get("role") == "img"
        assert svg.get("aria-label")


def test_the_campaign_page_lists_its_calls_with_links(admin_client: Client, campaign_calls: CampaignCalls) -> None:
    response = admin_client.get(reverse("dashboard:campaign_detail", args=[campaign_calls.campaign.pk]))
    html = response.content.decode()
    assert response.context["page"].paginator.count == 5
    assert reverse("dashboard:call_detail", args=[campaign_calls.booked.pk]) in html
    assert reverse("dashboard:lead_detail", args=[campaign_calls.booked.lead_id]) in html
    assert campaign_calls.booked.lead.full_name in html


def test_the_campaign_page_pages_its_calls_50_at_a_time(admin_client: Client, db: None) -> None:
    campaign = CampaignFactory()
    for lead in LeadFactory.create_batch(55):
        CallFactory(campaign=campaign, lead=lead, dialed_at=at(2))
    url = reverse("dashboard:campaign_detail", args=[campaign.pk])
    first = admin_client.get(url)
    second = admin_client.get(url, {"page": 2})
    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 5
    assert "Page 2 of 2" in second.content.decode()
    assert admin_client.get(url, {"page": "nonsense"}).status_code == 200


def test_the_campaign_page_of_a_campaign_without_calls_says_so(admin_client: Client, db: None) -> None:
    campaign = CampaignFactory()
    html = admin_client.get(reverse("dashboard:campaign_detail", args=[campaign.pk])).content.decode()
    for name in ("calls-per-day", "funnel", "score-distribution", "cost-per-booking", "latency"):
        assert chart(html, name).get("data-empty") == "true"
    assert "No calls yet" in html


def test_the_campaign_charts_escape_the_campaign_name(admin_client: Client, campaign_calls: CampaignCalls) -> None:
    campaign_calls.campaign.name = '</svg><script>alert("x")</script>'
    campaign_calls.campaign.save()
    html = admin_client.get(reverse("dashboard:campaign_detail", args=[campaign_calls.campaign.pk])).content.decode()
    assert "<script>" not in html
    assert chart(html, "funnel").get("aria-label") == 'Outcome funnel, </svg><script>alert("x")</script>'


def test_the_campaign_series_does_not_need_the_rollup(admin_client: Client, campaign_calls: CampaignCalls) -> None:
    # No campaign_stats_rollup has run: the figures come from the calls themselves.
    assert not CampaignDayStats.objects.exists()
    response = admin_client.get(reverse("dashboard:campaign_detail", args=[campaign_calls.campaign.pk]))
    assert response.context["dashboard"].days.calls == [2, 1, 1]


# --- Call detail --------------------------------------------------------------------------------


def test_the_call_page_shows_the_transcript_with_latency(admin_client: Client, campaign_calls: CampaignCalls) -> None:
    call = campaign_calls.booked
    TranscriptTurnFactory(call=call, index=2, speaker="lead", text="We <b>might</b> sell", started_ms=6000)
    response = admin_client.get(reverse("dashboard:call_detail", args=[call.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert [t.index for t in response.context["turns"]] == [1, 2, 3]
    assert 'data-latency="400"' in html
    assert 'data-latency="600"' in html
    assert "VAD stop 200 · STT 100 · brain first text 200 · TTS first audio 380 ms" in html
    assert "We &lt;b&gt;might&lt;/b&gt; sell" in html
    assert "0:06.0" in html  # the lead's turn, 6 s into the call
    assert "400 / 600 ms" in html  # this call's p50 / p95
    assert "Selling in spring; booked a valuation." in html


def test_the_call_page_shows_the_cost_lines(admin_client: Client, campaign_calls: CampaignCalls) -> None:
    html = admin_client.get(reverse("dashboard:call_detail", args=[campaign_calls.booked.pk])).content.decode()
    assert 'data-component="telephony"' in html
    assert 'data-component="stt"' in html
    assert "$0.0280" in html
    assert "$0.0020" in html
    assert '<td class="num" data-total>$0.0300</td>' in html


def test_the_call_page_shows_the_extracted_slots(admin_client: Client, campaign_calls: CampaignCalls) -> None:
    call = campaign_calls.booked
    call.qualification = {
        "slots": {
            "intent": {"value": "sell", "evidence": "we're thinking about selling", "source": "nlu", "turn": 1},
            "address": {
                "value": {"address": "12 Oak St", "confirmed": True, "corrected": False},
                "evidence": "twelve oak street",
                "source": "nlu",
            },
        },
        "score": 85,
        "bucket": "hot",
        "objections": ["has_agent"],
    }
    call.save()
    html = admin_client.get(reverse("dashboard:call_detail", args=[call.pk])).content.decode()
    assert "we&#x27;re thinking about selling" in html
    assert "12 Oak St (confirmed)" in html
    assert "has_agent" in html
    assert ">hot<" in html


def test_the_call_page_plays_the_recording(admin_client: Client, campaign_calls: CampaignCalls) -> None:
    call = campaign_calls.booked
    call.recording.save("call.wav", ContentFile(b"RIFF"), save=True)
    html = admin_client.get(reverse("dashboard:call_detail", args=[call.pk])).content.decode()
    src = reverse("dashboard:call_recording", args=[call.pk])
    assert f'<audio controls preload="none" src="{src}"' in html
    assert "/media/" not in html


WAV = b"RIFF" + bytes(range(256)) * 4  # 1028 bytes


def test_the_recording_is_served_whole_and_by_byte_range_to_staff(
    admin_client: Client, campaign_calls: CampaignCalls
) -> None:
    call = campaign_calls.booked
    call.recording.save("call.wav", ContentFile(WAV), save=True)
    url = reverse("dashboard:call_recording", args=[call.pk])

    whole = admin_client.get(url)
    assert (whole.status_code, whole["Content-Type"], whole["Accept-Ranges"]) == (200, "audio/wav", "bytes")
    assert b"".join(whole.streaming_content) == WAV
    assert f'filename="call-{call.pk}.wav"' in whole["Content-Disposition"]

    # What an <audio> element sends to seek, and the suffix form.
    for header, start, end in (("bytes=4-99", 4, 99), ("bytes=1000-", 1000, 1027), ("bytes=-28", 1000, 1027)):
        part = admin_client.get(url, headers={"Range": header})
        assert part.status_code == 206, header
        assert part["Content-Range"] == f"bytes {start}-{end}/{len(WAV)}", header
        assert int(part["Content-Length"]) == end - start + 1, header
        assert b"".join(part.streaming_content) == WAV[start : end + 1], header

    refused = admin_client.get(url, headers={"Range": "bytes=5000-"})
    assert (refused.status_code, refused["Content-Range"]) == (416, f"bytes */{len(WAV)}")


def test_the_recording_is_for_staff_only_and_404s_when_there_is_none(
    client: Client, django_user_model: Any, campaign_calls: CampaignCalls
) -> None:
    call = campaign_calls.booked
    call.recording.save("call.wav", ContentFile(WAV), save=True)
    url = reverse("dashboard:call_recording", args=[call.pk])

    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client.force_login(django_user_model.objects.create_user("viewer", password="x", is_staff=False))
    assert client.get(url).status_code == 403

    client.force_login(team_member("broker"))
    assert client.get(url).status_code == 200
    assert client.get(reverse("dashboard:call_recording", args=[campaign_calls.no_answer.pk])).status_code == 404
    # Recordings are never public media files.
    client.logout()
    assert client.get(f"/media/{call.recording.name}").status_code == 404


def test_the_call_page_falls_back_to_twilios_recording_url(admin_client: Client, campaign_calls: CampaignCalls) -> None:
    call = campaign_calls.qualified
    Call.objects.filter(pk=call.pk).update(recording_url="https://api.twilio.com/rec/RE1.mp3")
    html = admin_client.get(reverse("dashboard:call_detail", args=[call.pk])).content.decode()
    assert 'src="https://api.twilio.com/rec/RE1.mp3"' in html


def test_the_call_page_says_when_there_is_no_recording(admin_client: Client, campaign_calls: CampaignCalls) -> None:
    html = admin_client.get(reverse("dashboard:call_detail", args=[campaign_calls.no_answer.pk])).content.decode()
    assert "<audio" not in html
    assert "No recording for this call." in html
    assert "No transcript for this call." in html
    assert "No cost recorded for this call." in html


# --- Lead detail --------------------------------------------------------------------------------


def test_the_lead_page_shows_the_lead_and_its_calls(admin_client: Client, campaign_calls: CampaignCalls) -> None:
    call = campaign_calls.booked
    lead = call.lead
    lead.score = 85
    lead.status = "appointment"
    lead.qualification = {
        "timeline": {"value": "spring", "evidence": "in the spring", "source": "nlu", "call_id": call.pk}
    }
    lead.save()
    ConsentFactory(lead=lead, source="open house sign-in")
    DoNotCallFactory(phone=lead.phone, reason="asked on a later call")
    AppointmentFactory(lead=lead, call=call, broker__name="Dana Whitaker")
    response = admin_client.get(reverse("dashboard:lead_detail", args=[lead.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert lead.phone in html
    assert "Appointment booked" in html
    assert "open house sign-in" in html
    assert "asked on a later call" in html
    assert "Dana Whitaker" in html
    assert "in the spring" in html
    assert reverse("dashboard:call_detail", args=[call.pk]) in html
    assert reverse("dashboard:campaign_detail", args=[campaign_calls.campaign.pk]) in html
    dashboard = response.context["dashboard"]
    assert dashboard.on_dnc
    assert dashboard.has_consent
    assert [c.pk for c in dashboard.calls] == [call.pk]


def test_the_lead_page_of_a_new_lead(admin_client: Client, db: None) -> None:
    lead = LeadFactory(first_name="<img src=x onerror=alert(1)>", last_name="")
    html = admin_client.get(reverse("dashboard:lead_detail", args=[lead.pk])).content.decode()
    assert "<img src=x" not in html
    assert "No calls yet." in html
    assert "No consent record on file." in html
    assert "No appointments." in html


def test_the_detail_pages_run_a_fixed_number_of_queries(
    admin_client: Client, campaign_calls: CampaignCalls, django_assert_max_num_queries: Any
) -> None:
    campaign = campaign_calls.campaign
    for lead in LeadFactory.create_batch(20):
        campaign.leads.add(lead)
        call = CallFactory(campaign=campaign, lead=lead, dialed_at=at(5), answered_at=at(5), score=50)
        TranscriptTurnFactory(call=call, index=1, speaker="agent", latency_ms=500)
        AppointmentFactory(lead=lead, call=call)
    # The figures, cost report, budgets and day series are a fixed set of aggregates; the calls one page.
    with django_assert_max_num_queries(24):
        admin_client.get(reverse("dashboard:campaign_detail", args=[campaign.pk]))
    # Session, user, call with lead/campaign/cost, then turns, cost lines, appointments, brokers.
    with django_assert_max_num_queries(8):
        admin_client.get(reverse("dashboard:call_detail", args=[call.pk]))
    with django_assert_max_num_queries(10):
        admin_client.get(reverse("dashboard:lead_detail", args=[lead.pk]))
