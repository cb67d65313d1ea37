"""Refused leads carry a reason code for programs beside the sentence, and name a duplicate only to who sees it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from integrations.models import ApiKey
from integrations.services import api_key_create
from leads.models import Lead
from reautomation.roles import AGENTS
from tests.factories import DoNotCallFactory, LeadFactory, team_member

pytestmark = pytest.mark.django_db


def _upsert(client: Client, rows: list[dict[str, Any]], **headers: str) -> dict[str, Any]:
    response = client.post("/api/v1/leads/bulk-upsert", {"leads": rows}, content_type="application/json", **headers)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _agent_client(username: str) -> tuple[Any, Client]:
    agent = team_member(username, role=AGENTS)
    _, raw = api_key_create(name=f"CRM of {username}", scopes=["leads:read", "leads:write"], created_by=agent)
    return agent, Client(headers={"X-API-Key": raw})


def test_each_rejected_row_has_a_reason_code_beside_its_reason(api: Client) -> None:
    taken = LeadFactory(phone="+14155550199", crm_id="crm-taken")
    DoNotCallFactory(phone="+14155550188")
    rows = [
        {"external_id": "crm-1", "phone": "(415) 555-0123"},
        {"external_id": "crm-2", "phone": "555"},
        {"external_id": "crm-3", "phone": "+44 20 7946 0958"},
        {"external_id": "crm-1", "phone": "+14155550124"},
        {"external_id": "crm-4", "phone": "+14155550199"},
        {"external_id": "crm-5", "phone": "+14155550188"},
        {"external_id": "", "phone": "+14155550125"},
        {"external_id": "x" * 101, "phone": "+14155550126"},
    ]

    body = _upsert(api, rows)

    codes = [(row["status"], row["reason_code"]) for row in body["rows"]]
    assert codes == [
        ("created", None),
        ("rejected", "invalid_phone"),
        ("rejected", "phone_not_allowed"),
        ("rejected", "repeated_in_request"),
        ("rejected", "duplicate"),
        ("rejected", "on_dnc"),
        ("rejected", "missing_external_id"),
        ("rejected", "external_id_too_long"),
    ]
    assert body["rows"][0]["reason"] == ""
    assert body["rows"][4]["reason"] == f"+14155550199 is already lead #{taken.pk}"
    assert body["rows"][4]["lead_id"] == taken.pk
    assert body["rows"][5]["reason"] == "+14155550188 is on the do-not-call list"
    assert body["rows"][5]["lead_id"] is None


def test_rows_without_an_external_id_are_rejected_one_by_one_and_the_rest_go_in(api: Client) -> None:
    rows = [
        {"phone": "+14155550123", "first_name": "No id"},
        {"external_id": "crm-1", "phone": "+14155550124", "first_name": "Ana"},
        {"external_id": None, "phone": "+14155550125"},
    ]

    body = _upsert(api, rows)

    assert (body["created"], body["updated"], body["rejected"]) == (1, 0, 2)
    assert [row["reason_code"] for row in body["rows"]] == ["missing_external_id", None, "missing_external_id"]
    assert [row["external_id"] for row in body["rows"]] == ["", "crm-1", ""]
    assert body["rows"][0]["reason"] == "external_id is missing"
    assert list(Lead.objects.values_list("crm_id", "first_name")) == [("crm-1", "Ana")]


def test_a_duplicate_of_another_agents_lead_is_refused_without_naming_it() -> None:
    ben = team_member("ben", role=AGENTS)
    LeadFactory(owner=ben, phone="+14155550199", crm_id="crm-ben")
    ann, client = _agent_client("ann")
    anns = LeadFactory(owner=ann, phone="+14155550177")

    body = _upsert(
        client,
        [
            {"external_id": "crm-ann-1", "phone": "+14155550199"},
            {"external_id": "crm-ann-2", "phone": "+14155550177"},
            {"external_id": "crm-ben", "phone": "+14155550166"},
        ],
    )

    theirs, mine, their_id = body["rows"]
    assert (theirs["reason_code"], theirs["lead_id"]) == ("duplicate", None)
    assert theirs["reason"] == "+14155550199 is already a lead of another agent"
    assert "#" not in theirs["reason"]
    assert (mine["reason_code"], mine["lead_id"]) == ("duplicate", anns.pk)
    assert (their_id["reason_code"], their_id["lead_id"]) == ("duplicate", None)
    assert "another agent" in their_id["reason"]


def test_creating_a_lead_names_the_visible_duplicate_in_the_409(api: Client) -> None:
    taken = LeadFactory(phone="+14155550123", crm_id="hs-1")

    by_phone = api.post("/api/v1/leads/", {"phone": "415-555-0123"}, content_type="application/json")
    by_id = api.post(
        "/api/v1/leads/", {"phone": "+14155550124", "external_id": "hs-1"}, content_type="application/json"
    )

    assert by_phone.status_code == 409
    assert by_phone.json()["error"]["code"] == "conflict"
    assert by_phone.json()["error"]["details"] == [
        {
            "loc": ["body", "phone"],
            "message": f"phone '+14155550123' is already lead #{taken.pk}",
            "type": "duplicate",
            "lead_id": taken.pk,
        }
    ]
    assert by_id.status_code == 409
    (detail,) = by_id.json()["error"]["details"]
    assert (detail["loc"], detail["type"], detail["lead_id"]) == (["body", "external_id"], "duplicate", taken.pk)
    assert Lead.objects.count() == 1


def test_creating_a_lead_an_agent_cannot_see_gets_a_409_without_its_id() -> None:
    ben = team_member("ben", role=AGENTS)
    LeadFactory(owner=ben, phone="+14155550123")
    _, client = _agent_client("ann")

    response = client.post("/api/v1/leads/", {"phone": "+14155550123"}, content_type="application/json")

    assert response.status_code == 409
    (detail,) = response.json()["error"]["details"]
    assert (detail["type"], detail["lead_id"]) == ("duplicate", None)
    assert detail["message"] == "phone '+14155550123' is already a lead of another agent"
    assert "#" not in response.content.decode()


def test_updating_a_lead_onto_another_leads_number_is_a_duplicate_too(api: Client) -> None:
    other = LeadFactory(phone="+14155550123")
    lead = LeadFactory()

    response = api.patch(f"/api/v1/leads/{lead.pk}", {"phone": "+14155550123"}, content_type="application/json")

    assert response.status_code == 409
    assert response.json()["error"]["details"][0]["lead_id"] == other.pk


def test_creating_a_lead_with_a_bad_phone_or_email_gives_the_code_of_each(api: Client) -> None:
    phone = api.post("/api/v1/leads/", {"phone": "555"}, content_type="application/json")
    abroad = api.post("/api/v1/leads/", {"phone": "+44 20 7946 0958"}, content_type="application/json")
    email = api.post("/api/v1/leads/", {"phone": "+14155550123", "email": "nope"}, content_type="application/json")

    assert phone.status_code == abroad.status_code == email.status_code == 422
    assert phone.json()["error"]["details"][0]["type"] == "invalid_phone"
    assert abroad.json()["error"]["details"][0]["type"] == "phone_not_allowed"
    (detail,) = email.json()["error"]["details"]
    assert (detail["loc"], detail["type"]) == (["body", "email"], "invalid_email")
    assert email.json()["error"]["code"] == "validation_error"
    assert not Lead.objects.exists()


def test_the_reason_codes_are_listed_in_the_schema(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()

    codes = schema["components"]["schemas"]["RejectCode"]["enum"]

    assert {"invalid_phone", "duplicate", "on_dnc", "missing_external_id", "invalid_email"} <= set(codes)


def test_a_key_made_from_code_sees_every_duplicate(db: Any) -> None:
    # A key with no creator binds nothing but its scopes, so it may be told which lead a number is.
    ben = team_member("ben", role=AGENTS)
    bens = LeadFactory(owner=ben, phone="+14155550123")
    _, raw = api_key_create(name="system", scopes=[ApiKey.Scope.LEADS_WRITE])
    client = Client(headers={"X-API-Key": raw})

    body = _upsert(client, [{"external_id": "x", "phone": "+14155550123"}])

    assert body["rows"][0]["lead_id"] == bens.pk
