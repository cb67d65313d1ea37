"""The gate and the national registry, and a revoked consent stopping every campaign at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents.services import lead_opt_out
from calls.compliance import dial_check
from calls.models import Call, Campaign, DialDecision
from calls.selectors import campaign_due_leads_list
from integrations.models import ApiKey
from integrations.services import api_key_create
from leads.models import Consent, DoNotCall, Lead
from leads.services import consent_revoke, dnc_add
from tests.factories import CallFactory, CampaignFactory, ConsentFactory, DoNotCallFactory, LeadFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("state_rules")]

Reason = DialDecision.Reason
NOW = dt.datetime(2026, 6, 2, 16, 0, tzinfo=dt.UTC)  # Tuesday, 12:00 in New York


def _campaign(**fields: Any) -> Campaign:
    values = {"status": Campaign.Status.ACTIVE, "window_start": dt.time(7), "window_end": dt.time(22), **fields}
    return CampaignFactory.create(**values)


def _lead(phone: str, *, consent: bool = True) -> Lead:
    lead = LeadFactory.create(phone=phone, state="NY", timezone="America/New_York")
    if consent:
        ConsentFactory.create(lead=lead, given_at=NOW - dt.timedelta(days=30))
    return lead


# --- The national registry ------------------------------------------------------------------------------


def test_it_refuses_a_registry_number_without_consent() -> None:
    lead = _lead("+12125550120", consent=False)
    DoNotCallFactory.create(phone=lead.phone, source=DoNotCall.Source.REGISTRY)

    # Even a campaign that does not ask for consent: the registry is what refuses.
    decision = dial_check(lead=lead, campaign=_campaign(require_consent=False), now=NOW)

    assert (decision.allowed, decision.reason) == (False, Reason.DNC_REGISTRY)
    assert decision.detail == "the number is on the national do-not-call registry and the lead has no active consent"


def test_it_dials_a_registry_number_whose_lead_has_an_active_consent() -> None:
    lead = _lead("+12125550121")
    DoNotCallFactory.create(phone=lead.phone, source=DoNotCall.Source.REGISTRY)
    assert dial_check(lead=lead, campaign=_campaign(), now=NOW).allowed
    # A revoked consent, or one given only later, is no consent.
    lead.consents.update(revoked_at=NOW - dt.timedelta(days=1))
    assert dial_check(lead=lead, campaign=_campaign(), now=NOW).reason == Reason.DNC_REGISTRY
    ConsentFactory.create(lead=lead, given_at=NOW + dt.timedelta(days=1))
    assert dial_check(lead=lead, campaign=_campaign(), now=NOW).reason == Reason.DNC_REGISTRY


@pytest.mark.parametrize(
    "source", [DoNotCall.Source.LEAD_REQUEST, DoNotCall.Source.API, DoNotCall.Source.ADMIN, DoNotCall.Source.IMPORT]
)
def test_it_never_lets_consent_override_our_own_do_not_call_list(source: str) -> None:
    lead = _lead("+12125550122")
    DoNotCallFactory.create(phone=lead.phone, source=source)
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.NEW  # written straight to the table

    decision = dial_check(lead=lead, campaign=_campaign(), now=NOW)

    assert (decision.allowed, decision.reason) == (False, Reason.DO_NOT_CALL)
    assert decision.detail.startswith("the number is on the do-not-call list (")


def test_it_turns_a_registry_entry_into_the_leads_own_request_when_they_opt_out() -> None:
    lead = _lead("+12125550123")
    DoNotCallFactory.create(phone=lead.phone, source=DoNotCall.Source.REGISTRY, reason="registry file 212.txt")
    assert dial_check(lead=lead, campaign=_campaign(), now=NOW).allowed

    lead_opt_out(phone=lead.phone, reason="asked on a call")

    entry = DoNotCall.objects.get(phone=lead.phone)
    assert (entry.source, entry.reason) == (DoNotCall.Source.LEAD_REQUEST, "asked on a call")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.DO_NOT_CALL
    assert not lead.consents.filter(revoked_at__isnull=True).exists()
    # A consent given afterwards does not undo the request either.
    ConsentFactory.create(lead=lead, given_at=NOW - dt.timedelta(hours=1))
    assert dial_check(lead=lead, campaign=_campaign(), now=NOW).reason == Reason.DO_NOT_CALL


def test_it_leaves_a_leads_own_request_alone_when_the_registry_lists_the_number_too() -> None:
    lead = _lead("+12125550124")
    dnc_add(phone=lead.phone, reason="asked", source=DoNotCall.Source.LEAD_REQUEST)
    dnc_add(phone=lead.phone, reason="registry", source=DoNotCall.Source.REGISTRY)
    assert DoNotCall.objects.get(phone=lead.phone).source == DoNotCall.Source.LEAD_REQUEST


def test_it_does_not_mark_leads_do_not_call_for_a_registry_entry() -> None:
    lead = _lead("+12125550125")
    lead.next_attempt_at = NOW
    lead.save()
    dnc_add(phone=lead.phone, source=DoNotCall.Source.REGISTRY)
    lead.refresh_from_db()
    assert (lead.status, lead.next_attempt_at) == (Lead.Status.NEW, NOW)


# --- Revoking consent, through every channel ------------------------------------------------------------


def _in_two_campaigns(phone: str) -> tuple[Lead, Campaign, Campaign, Call]:
    """A lead in two campaigns, with a retry due and a call queued in the second one."""
    lead = _lead(phone)
    first, second = _campaign(), _campaign()
    first.leads.add(lead)
    second.leads.add(lead)
    Lead.objects.filter(pk=lead.pk).update(next_attempt_at=NOW, status=Lead.Status.CONTACTED)
    queued = CallFactory.create(lead=lead, campaign=second, status=Call.Status.QUEUED)
    assert dial_check(lead=Lead.objects.get(pk=lead.pk), campaign=first, now=NOW).reason == Reason.ON_ANOTHER_CALL
    return Lead.objects.get(pk=lead.pk), first, second, queued


def _assert_stopped_everywhere(lead: Lead, campaigns: tuple[Campaign, ...], queued: Call) -> None:
    lead.refresh_from_db()
    assert (lead.status, lead.next_attempt_at) == (Lead.Status.DO_NOT_CALL, None)
    queued.refresh_from_db()
    assert queued.status == Call.Status.CANCELED
    assert queued.dial_error.startswith("canceled: ")
    for campaign in campaigns:
        assert campaign_due_leads_list(campaign=campaign, now=NOW, limit=10) == []
        assert dial_check(lead=lead, campaign=campaign, now=NOW).reason == Reason.DO_NOT_CALL


def test_an_opt_out_on_a_call_stops_every_campaign() -> None:
    lead, first, second, queued = _in_two_campaigns("+12125550130")
    lead_opt_out(phone=lead.phone, reason=f"asked on a call in {first}")
    _assert_stopped_everywhere(lead, (first, second), queued)
    assert not Consent.objects.filter(lead=lead, revoked_at__isnull=True).exists()


def test_a_do_not_call_request_through_the_rest_api_stops_every_campaign() -> None:
    lead, first, second, queued = _in_two_campaigns("+12125550131")
    _, raw = api_key_create(name="CRM", scopes=[ApiKey.Scope.DNC_WRITE])
    api = Client(headers={"X-API-Key": raw})

    response = api.post("/api/dnc/", {"phone": lead.phone, "reason": "asked by email"}, content_type="application/json")

    assert response.status_code == 201
    _assert_stopped_everywhere(lead, (first, second), queued)


def test_revoking_consent_in_the_lead_admin_stops_every_campaign(admin_client: Client) -> None:
    lead, first, second, queued = _in_two_campaigns("+12125550132")

    response = admin_client.post(
        reverse("admin:leads_lead_changelist"), {"action": "revoke_consent", "_selected_action": [lead.pk]}
    )

    assert response.status_code == 302
    _assert_stopped_everywhere(lead, (first, second), queued)
    assert DoNotCall.objects.get(phone=lead.phone).source == DoNotCall.Source.LEAD_REQUEST
    assert not Consent.objects.filter(lead=lead, revoked_at__isnull=True).exists()


def test_revoking_one_consent_record_in_the_admin_stops_every_campaign(admin_client: Client) -> None:
    lead, first, second, queued = _in_two_campaigns("+12125550133")
    consent = lead.consents.get()
    other = ConsentFactory.create(lead=lead, source="open house", given_at=NOW - dt.timedelta(days=3))
    data = {
        "lead": lead.pk,
        "source": consent.source,
        "text": consent.text,
        "given_at_0": "2026-05-03",
        "given_at_1": "16:00:00",
        "revoked_at_0": "2026-06-02",
        "revoked_at_1": "15:00:00",
    }

    response = admin_client.post(reverse("admin:leads_consent_change", args=[consent.pk]), data)

    assert response.status_code == 302
    _assert_stopped_everywhere(lead, (first, second), queued)
    other.refresh_from_db()
    assert other.revoked_at is not None


def test_the_consent_admin_action_revokes_and_stops_every_campaign(admin_client: Client) -> None:
    lead, first, second, queued = _in_two_campaigns("+12125550134")
    response = admin_client.post(
        reverse("admin:leads_consent_changelist"),
        {"action": "revoke", "_selected_action": list(lead.consents.values_list("pk", flat=True))},
    )
    assert response.status_code == 302
    _assert_stopped_everywhere(lead, (first, second), queued)


def test_a_revocation_leaves_a_call_already_being_dialed_alone() -> None:
    lead, first, _second, queued = _in_two_campaigns("+12125550135")
    live = CallFactory.create(lead=lead, campaign=first, status=Call.Status.IN_PROGRESS, dialed_at=NOW)

    consent_revoke(lead=lead, reason="said stop by text")

    live.refresh_from_db()
    assert live.status == Call.Status.IN_PROGRESS  # the lead is on it; the agent ends it
    queued.refresh_from_db()
    assert queued.status == Call.Status.CANCELED
    entry = DoNotCall.objects.get(phone=lead.phone)
    assert (entry.source, entry.reason) == (DoNotCall.Source.LEAD_REQUEST, "said stop by text")
