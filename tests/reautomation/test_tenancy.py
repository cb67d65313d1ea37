"""Each agent sees their own leads, calls, recordings and appointments, in every interface; managers and
superusers see the team's; staff without a role see nothing.

One team of two agents (Ann and Ben), a manager and a superuser. Every resource of Ben's is asked for, by id,
through the admin, the dashboard and the API, as each role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from agents.models import Appointment
from calls.models import Call, Campaign
from integrations.models import ApiKey
from integrations.scopes import SCOPE_PERMISSIONS
from integrations.services import api_key_create
from leads.models import Lead
from reautomation.roles import AGENTS
from tests.factories import (
    AppointmentFactory,
    BrokerFactory,
    CallFactory,
    CampaignFactory,
    ConsentFactory,
    CostEntryFactory,
    LeadFactory,
    LeadImportFactory,
    TranscriptTurnFactory,
    team_member,
)

pytestmark = pytest.mark.django_db


@dataclass
class Records:
    """One agent's records: a lead assigned to them, and a campaign of theirs with a lead, a call and more."""

    lead: Lead
    campaign: Campaign
    campaign_lead: Lead
    call: Call
    appointment: Appointment


@dataclass
class Team:
    ann: Any
    ben: Any
    manager: Any
    superuser: Any
    bare_staff: Any
    anns: Records
    bens: Records


def _records(owner: Any) -> Records:
    lead = LeadFactory(owner=owner, first_name=f"Own{owner.username}")
    campaign = CampaignFactory(owner=owner, name=f"Campaign of {owner.username}")
    campaign_lead = LeadFactory(first_name=f"Listed{owner.username}")
    campaign.leads.add(campaign_lead)
    call = CallFactory(lead=campaign_lead, campaign=campaign)
    call.recording.save("call.wav", ContentFile(b"RIFF" + bytes(64)), save=True)
    TranscriptTurnFactory(call=call, index=0, text=f"secret words of {owner.username}")
    CostEntryFactory(call=call)
    ConsentFactory(lead=lead)
    appointment = AppointmentFactory(lead=lead, broker=BrokerFactory(user=owner))
    return Records(lead=lead, campaign=campaign, campaign_lead=campaign_lead, call=call, appointment=appointment)


@pytest.fixture
def team() -> Team:
    ann, ben = team_member("ann", role=AGENTS), team_member("ben", role=AGENTS)
    return Team(
        ann=ann,
        ben=ben,
        manager=team_member("mia"),
        superuser=get_user_model().objects.create_superuser("root", password="pw-for-tests-only"),
        bare_staff=get_user_model().objects.create_user("sam", password="pw-for-tests-only", is_staff=True),
        anns=_records(ann),
        bens=_records(ben),
    )


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _admin_urls(r: Records) -> dict[str, str]:
    turn = r.call.turns.get()
    return {
        "lead": reverse("admin:leads_lead_change", args=[r.lead.pk]),
        "campaign lead": reverse("admin:leads_lead_change", args=[r.campaign_lead.pk]),
        "consent": reverse("admin:leads_consent_change", args=[r.lead.consents.get().pk]),
        "campaign": reverse("admin:calls_campaign_change", args=[r.campaign.pk]),
        "call": reverse("admin:calls_call_change", args=[r.call.pk]),
        "transcript turn": reverse("admin:calls_transcriptturn_change", args=[turn.pk]),
        "cost entry": reverse("admin:billing_costentry_change", args=[r.call.cost_entries.get().pk]),
        "appointment": reverse("admin:agents_appointment_change", args=[r.appointment.pk]),
    }


def _dashboard_urls(r: Records) -> dict[str, str]:
    return {
        "lead": reverse("dashboard:lead_detail", args=[r.lead.pk]),
        "campaign lead": reverse("dashboard:lead_detail", args=[r.campaign_lead.pk]),
        "campaign": reverse("dashboard:campaign_detail", args=[r.campaign.pk]),
        "call": reverse("dashboard:call_detail", args=[r.call.pk]),
        "recording": reverse("dashboard:call_recording", args=[r.call.pk]),
        "test call": reverse("dashboard:test_call", args=[r.campaign.pk]),
    }


def _api_urls(r: Records) -> dict[str, str]:
    return {
        "lead": f"/api/leads/{r.lead.pk}",
        "campaign lead": f"/api/leads/{r.campaign_lead.pk}",
        "campaign": f"/api/campaigns/{r.campaign.pk}",
        "campaign stats": f"/api/campaigns/{r.campaign.pk}/stats",
        "call": f"/api/calls/{r.call.pk}",
        "recording": f"/api/calls/{r.call.pk}/recording",
        "appointment": f"/api/appointments/{r.appointment.pk}",
    }


def _key(user: Any) -> str:
    held = [scope for scope, perms in SCOPE_PERMISSIONS.items() if user.has_perms(perms)]
    _, raw = api_key_create(name=f"CRM of {user.username}", scopes=held, created_by=user)
    return raw


@pytest.mark.parametrize("role", ["ann", "manager", "superuser"])
def test_each_role_reads_what_it_should_in_the_admin(team: Team, role: str) -> None:
    client = _client(getattr(team, role))
    for records, seen in ((team.anns, True), (team.bens, role != "ann")):
        for resource, url in _admin_urls(records).items():
            response = client.get(url)
            # The admin answers an object outside the user's queryset with a redirect to its index.
            assert (response.status_code == 200) is seen, (role, resource, response.status_code)


@pytest.mark.parametrize("role", ["ann", "manager", "superuser"])
def test_each_role_reads_what_it_should_on_the_dashboard(team: Team, role: str) -> None:
    client = _client(getattr(team, role))
    for records, seen in ((team.anns, True), (team.bens, role != "ann")):
        for resource, url in _dashboard_urls(records).items():
            assert client.get(url).status_code == (200 if seen else 404), (role, resource)


@pytest.mark.parametrize("role", ["ann", "manager"])
def test_each_roles_api_key_reads_what_it_should(team: Team, role: str) -> None:
    client, raw = Client(), _key(getattr(team, role))
    for records, seen in ((team.anns, True), (team.bens, role != "ann")):
        for resource, url in _api_urls(records).items():
            response = client.get(url, headers={"X-API-Key": raw})
            assert response.status_code == (200 if seen else 404), (role, resource, response.content[:200])


def test_an_agent_cannot_change_or_delete_another_agents_records_through_the_api(team: Team) -> None:
    client, headers = Client(), {"X-API-Key": _key(team.ann)}
    bens = team.bens
    lead_url = f"/api/leads/{bens.lead.pk}"
    assert client.patch(lead_url, {"notes": "x"}, content_type="application/json", headers=headers).status_code == 404
    assert client.delete(lead_url, headers=headers).status_code == 404
    cancel = client.post(f"/api/appointments/{bens.appointment.pk}/cancel", headers=headers)
    assert cancel.status_code == 404
    assert (
        client.post(
            f"/api/campaigns/{bens.campaign.pk}/pause",
            {"reason": "x"},
            content_type="application/json",
            headers=headers,
        ).status_code
        == 404
    )
    bens.lead.refresh_from_db()
    bens.appointment.refresh_from_db()
    assert bens.lead.notes == "" and bens.appointment.status == Appointment.Status.BOOKED


def test_an_agent_cannot_pull_another_agents_lead_into_their_campaign(team: Team) -> None:
    """A campaign's owner sees its leads, so adding one would be a way round the rule."""
    client, headers = Client(), {"X-API-Key": _key(team.ann)}
    response = client.post(
        f"/api/campaigns/{team.anns.campaign.pk}/leads",
        {"lead_ids": [team.bens.lead.pk]},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 422
    assert not team.anns.campaign.leads.filter(pk=team.bens.lead.pk).exists()

    admin = _client(team.ann)
    form = admin.get(reverse("admin:calls_campaign_change", args=[team.anns.campaign.pk])).context["adminform"].form
    assert team.bens.lead not in form.fields["leads"].queryset
    assert team.anns.lead in form.fields["leads"].queryset


def test_an_agent_cannot_overwrite_another_agents_lead_by_external_id(team: Team) -> None:
    Lead.objects.filter(pk=team.bens.lead.pk).update(crm_id="crm-ben-1")
    client, headers = Client(), {"X-API-Key": _key(team.ann)}
    body = {"leads": [{"external_id": "crm-ben-1", "phone": "+14155550177", "first_name": "Mallory"}]}
    response = client.post("/api/leads/bulk-upsert", body, content_type="application/json", headers=headers)
    assert response.status_code == 200
    (row,) = response.json()["rows"]
    assert row["status"] == "rejected" and "another agent" in row["reason"]
    team.bens.lead.refresh_from_db()
    assert team.bens.lead.first_name != "Mallory"


def test_lists_hold_only_what_the_role_sees(team: Team) -> None:
    ann = _client(team.ann)
    listed = ann.get(reverse("admin:leads_lead_changelist")).context["cl"].result_list
    assert set(listed) == {team.anns.lead, team.anns.campaign_lead}
    campaigns = ann.get(reverse("dashboard:campaign_list")).content.decode()
    assert team.anns.campaign.name in campaigns and team.bens.campaign.name not in campaigns

    headers = {"X-API-Key": _key(team.ann)}
    api = Client()
    lead_ids = {row["id"] for row in api.get("/api/leads/", headers=headers).json()["items"]}
    assert lead_ids == {team.anns.lead.pk, team.anns.campaign_lead.pk}
    call_ids = {row["id"] for row in api.get("/api/calls/", headers=headers).json()["items"]}
    assert call_ids == {team.anns.call.pk}
    appointment_ids = {row["id"] for row in api.get("/api/appointments/", headers=headers).json()["items"]}
    assert appointment_ids == {team.anns.appointment.pk}
    metrics = api.get("/api/metrics", headers={"X-API-Key": _key(team.manager)}).json()
    assert sum(metrics["leads_by_status"].values()) == Lead.objects.count()


def test_an_appointment_booked_with_an_agent_is_theirs_even_for_a_lead_they_do_not_see(team: Team) -> None:
    stranger = LeadFactory()
    booked = AppointmentFactory(lead=stranger, broker=team.anns.appointment.broker)
    ann = _client(team.ann)
    assert ann.get(reverse("admin:agents_appointment_change", args=[booked.pk])).status_code == 200
    assert ann.get(reverse("admin:leads_lead_change", args=[stranger.pk])).status_code == 302


def test_staff_without_a_role_see_nothing(team: Team) -> None:
    client = _client(team.bare_staff)
    for url in [*_dashboard_urls(team.anns).values(), reverse("dashboard:campaign_list")]:
        assert client.get(url).status_code == 403, url
    assert client.get(reverse("admin:leads_lead_changelist")).status_code == 403


def test_a_key_bound_to_an_agent_sees_only_that_agents_records(team: Team) -> None:
    held = [scope for scope, perms in SCOPE_PERMISSIONS.items() if team.manager.has_perms(perms)]
    _, raw = api_key_create(name="Ann's CRM", scopes=held, created_by=team.manager, acts_for=team.ann)
    client, headers = Client(), {"X-API-Key": raw}
    assert client.get(f"/api/leads/{team.anns.lead.pk}", headers=headers).status_code == 200
    assert client.get(f"/api/leads/{team.bens.lead.pk}", headers=headers).status_code == 404


def test_only_a_manager_may_bind_a_key_to_another_agent(team: Team) -> None:
    ann = _client(team.ann)
    response = ann.post(
        reverse("admin:integrations_apikey_add"),
        {"name": "sneaky", "scopes": ["leads:read"], "acts_for": team.ben.pk, "rate_limit_per_minute": ""},
    )
    assert response.status_code == 200 and "Only a manager may bind a key" in response.content.decode()
    assert not ApiKey.objects.filter(name="sneaky").exists()


def test_what_an_agent_adds_is_theirs(team: Team) -> None:
    ann = _client(team.ann)
    response = ann.post(
        reverse("admin:leads_lead_add"),
        {
            "first_name": "New",
            "phone": "+14155550188",
            "status": Lead.Status.NEW,
            "intent": Lead.Intent.UNKNOWN,
            "consents-TOTAL_FORMS": "0",
            "consents-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Lead.objects.get(phone="+14155550188").owner == team.ann

    headers = {"X-API-Key": _key(team.ann)}
    created = Client().post("/api/leads/", {"phone": "+14155550189"}, content_type="application/json", headers=headers)
    assert created.status_code == 201
    assert Lead.objects.get(phone="+14155550189").owner == team.ann


def test_an_agent_reads_only_their_own_imports_and_reports(team: Team) -> None:
    anns = LeadImportFactory(created_by=team.ann, row_errors=[])
    bens = LeadImportFactory(created_by=team.ben, row_errors=[])
    ann = _client(team.ann)
    assert ann.get(reverse("admin:leads_leadimport_report", args=[anns.pk])).status_code == 200
    assert ann.get(reverse("admin:leads_leadimport_report", args=[bens.pk])).status_code == 404
    assert ann.get(reverse("admin:leads_leadimport_change", args=[bens.pk])).status_code == 302
    manager = _client(team.manager)
    assert manager.get(reverse("admin:leads_leadimport_report", args=[bens.pk])).status_code == 200
