"""Lead endpoints: CRUD, filters and pagination, and bulk upsert by external id."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from leads import csv_import
from leads.models import Consent, Lead
from tests.factories import CampaignFactory, DoNotCallFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_it_creates_a_lead_in_e164_with_its_external_id(api: Client) -> None:
    response = api.post(
        "/api/leads/",
        {"phone": "(415) 555-0123", "external_id": "hs-1", "first_name": "Ana", "state": "california"},
        content_type="application/json",
    )
    assert response.status_code == 201
    lead = Lead.objects.get()
    assert (lead.phone, lead.crm_id, lead.state, lead.timezone) == ("+14155550123", "hs-1", "CA", "America/Los_Angeles")
    assert response.json()["external_id"] == "hs-1"
    assert response.json()["id"] == lead.pk


def test_it_marks_a_new_lead_on_the_dnc_list_do_not_call(api: Client) -> None:
    DoNotCallFactory(phone="+14155550123")
    response = api.post("/api/leads/", {"phone": "+14155550123"}, content_type="application/json")
    assert response.status_code == 201
    assert Lead.objects.get().status == Lead.Status.DO_NOT_CALL


def test_it_answers_422_for_an_invalid_phone_and_409_for_a_taken_one(api: Client) -> None:
    bad = api.post("/api/leads/", {"phone": "555"}, content_type="application/json")
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["loc"] == ["body", "phone"]
    LeadFactory(phone="+14155550123")
    taken = api.post("/api/leads/", {"phone": "415-555-0123"}, content_type="application/json")
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "conflict"
    assert Lead.objects.count() == 1


def test_it_lists_leads_with_filters_and_pagination(api: Client) -> None:
    campaign = CampaignFactory()
    in_campaign = LeadFactory(status=Lead.Status.QUALIFIED, crm_id="c-1")
    campaign.leads.add(in_campaign)
    LeadFactory.create_batch(3)
    Lead.objects.exclude(pk=in_campaign.pk).update(updated_at=timezone.now() - dt.timedelta(days=3))

    page = api.get("/api/leads/?limit=2&offset=1").json()
    assert (page["count"], page["limit"], page["offset"], len(page["items"])) == (4, 2, 1, 2)
    for query in (
        "status=qualified",
        f"campaign_id={campaign.pk}",
        "external_id=c-1",
        f"phone={in_campaign.phone[2:]}",
        f"updated_since={(timezone.now() - dt.timedelta(days=1)).isoformat().replace('+', '%2B')}",
    ):
        items = api.get(f"/api/leads/?{query}").json()["items"]
        assert [item["id"] for item in items] == [in_campaign.pk], query


def test_it_gets_updates_and_deletes_a_lead(api: Client) -> None:
    lead = LeadFactory(first_name="Ana", city="Oakland")
    assert api.get(f"/api/leads/{lead.pk}").json()["first_name"] == "Ana"

    response = api.patch(
        f"/api/leads/{lead.pk}", {"first_name": "Anna", "external_id": "x-9"}, content_type="application/json"
    )
    assert response.status_code == 200
    lead.refresh_from_db()
    assert (lead.first_name, lead.crm_id, lead.city) == ("Anna", "x-9", "Oakland")

    assert api.delete(f"/api/leads/{lead.pk}").status_code == 204
    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert api.get(f"/api/leads/{lead.pk}").status_code == 404


def test_bulk_upsert_keeps_good_rows_and_reports_each_bad_one(api: Client) -> None:
    existing = LeadFactory(crm_id="crm-1", first_name="Old", city="Oakland")
    LeadFactory(phone="+14155550199")
    DoNotCallFactory(phone="+14155550188")
    rows = [
        {"external_id": "crm-1", "first_name": "New"},  # update: only the name changes
        {"external_id": "crm-2", "phone": "(415) 555-0123", "email": "not-an-email", "intent": "seller"},
        {"external_id": "crm-3", "phone": "555"},  # invalid phone
        {"external_id": "crm-2", "phone": "+14155550124"},  # repeats row 1
        {"external_id": "crm-4", "phone": "+14155550199"},  # another lead's number
        {"external_id": "crm-5", "phone": "+14155550188"},  # on the do-not-call list
        {"external_id": "", "phone": "+14155550125"},
        {"external_id": "crm-6"},  # new lead without a phone
        {
            "external_id": "crm-7",
            "phone": "+14155550126",
            "consent": {"source": "web form", "text": "Yes, call me", "given_at": "2026-01-05"},
        },
    ]
    response = api.post("/api/leads/bulk-upsert", {"leads": rows}, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], body["rejected"]) == (2, 1, 6)
    by_index = {row["index"]: row for row in body["rows"]}
    assert by_index[0]["status"] == "updated" and by_index[0]["lead_id"] == existing.pk
    assert by_index[1]["status"] == "created"
    assert by_index[1]["warnings"] == ["email 'not-an-email' is not valid and was left blank"]
    assert by_index[2]["reason"].startswith("invalid phone:")
    assert by_index[3]["reason"] == "external_id 'crm-2' repeats row 1"
    assert by_index[4]["reason"].startswith("+14155550199 is already lead #")
    assert by_index[5]["reason"] == "+14155550188 is on the do-not-call list"
    assert by_index[6]["reason"] == "external_id is missing"
    assert by_index[7]["reason"] == "invalid phone: phone number is missing"

    existing.refresh_from_db()
    assert (existing.first_name, existing.city) == ("New", "Oakland")
    created = Lead.objects.get(crm_id="crm-2")
    assert (created.phone, created.email, created.intent, created.source) == ("+14155550123", "", "sell", "api")
    assert Consent.objects.get(lead__crm_id="crm-7").source == "web form"
    assert not Lead.objects.filter(crm_id__in=["crm-3", "crm-4", "crm-5", "crm-6"]).exists()


def test_bulk_upsert_rejects_a_row_as_the_csv_import_does(api: Client) -> None:
    # The same validation as a CSV row, so a file and the API agree on what is bad.
    problem = csv_import.validate_row(2, {"phone": "+1 999 555 0100"}, {})
    assert isinstance(problem, csv_import.RowProblem)
    body = api.post(
        "/api/leads/bulk-upsert",
        {"leads": [{"external_id": "a", "phone": "+1 999 555 0100"}]},
        content_type="application/json",
    ).json()
    assert body["rows"][0]["reason"] == problem.reason


def test_bulk_upsert_updates_a_lead_on_the_dnc_list_and_keeps_it_do_not_call(api: Client) -> None:
    lead = LeadFactory(crm_id="crm-1", phone="+14155550123")
    DoNotCallFactory(phone="+14155550123")
    body = api.post(
        "/api/leads/bulk-upsert",
        {"leads": [{"external_id": "crm-1", "city": "Fresno"}]},
        content_type="application/json",
    ).json()
    assert body["updated"] == 1
    lead.refresh_from_db()
    assert (lead.city, lead.status) == ("Fresno", Lead.Status.DO_NOT_CALL)


def test_bulk_upsert_answers_422_for_an_empty_or_oversized_batch(api: Client) -> None:
    assert api.post("/api/leads/bulk-upsert", {"leads": []}, content_type="application/json").status_code == 422
    rows = [{"external_id": str(i), "phone": "+14155550123"} for i in range(1001)]
    assert api.post("/api/leads/bulk-upsert", {"leads": rows}, content_type="application/json").status_code == 422


def test_the_api_stores_the_spoken_name(api: Client) -> None:
    response = api.post(
        "/api/leads/",
        {"phone": "(415) 555-0123", "first_name": "Sam (cell)", "last_name": "[Unknown]"},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert (response.json()["first_name"], response.json()["last_name"]) == ("Sam", "")
