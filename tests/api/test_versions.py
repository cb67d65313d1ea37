"""/api/v1/ serves the API; /api/ stays an alias of it, and the schema lists each operation once."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from leads.models import Lead
from tests.factories import CallFactory, LeadFactory

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}


def test_v1_and_the_unversioned_alias_answer_the_same(api: Client) -> None:
    lead = LeadFactory(first_name="Ana")

    for path in ("/leads/", f"/leads/{lead.pk}", "/campaigns/", "/appointments/", "/dnc/check?phone=4155550123"):
        versioned, alias = api.get(f"/api/v1{path}"), api.get(f"/api{path}")

        assert versioned.status_code == alias.status_code == 200, path
        assert versioned.json() == alias.json(), path


def test_the_alias_takes_writes_too(api: Client) -> None:
    created = api.post("/api/leads/", {"phone": "+14155550123"}, content_type="application/json")
    lead_id = created.json()["id"]

    assert created.status_code == 201
    assert api.patch(f"/api/leads/{lead_id}", {"city": "Fresno"}, content_type="application/json").status_code == 200
    assert api.delete(f"/api/v1/leads/{lead_id}").status_code == 204
    assert not Lead.objects.exists()


def test_the_schema_lists_each_operation_once_under_v1(client: Client) -> None:
    versioned = client.get("/api/v1/openapi.json").json()
    alias = client.get("/api/openapi.json").json()

    assert versioned == alias
    paths = versioned["paths"]
    assert all(path.startswith("/api/v1/") for path in paths)
    operation_ids = [op["operationId"] for item in paths.values() for method, op in item.items() if method in METHODS]
    assert len(operation_ids) == len(set(operation_ids))
    assert "/api/v1/brokers/{broker_id}/slots" in paths
    assert "/api/v1/webhooks/{endpoint_id}" in paths


def test_the_docs_are_served_at_both_and_read_the_v1_schema(client: Client) -> None:
    for path in ("/api/v1/docs", "/api/docs"):
        response = client.get(path)

        assert response.status_code == 200, path
        assert b"/api/v1/openapi.json" in response.content, path


def test_an_unknown_path_is_a_json_404_under_both(api: Client) -> None:
    for path in ("/api/v1/nope/", "/api/nope/", "/api/v2/leads/", "/api/v1/v1/leads/"):
        response = api.get(path)

        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found", path
    assert api.get("/api/v1/leads").json()["error"]["message"] == "Not found; did you mean /api/v1/leads/ ?"


def test_a_recording_link_keeps_the_path_the_call_was_read_by(api: Client) -> None:
    call = CallFactory()
    call.recording.save("call.wav", ContentFile(b"RIFF"), save=True)

    versioned = api.get(f"/api/v1/calls/{call.pk}").json()["recording_url"]
    alias = api.get(f"/api/calls/{call.pk}").json()["recording_url"]

    assert versioned == f"http://testserver/api/v1/calls/{call.pk}/recording"
    assert alias == f"http://testserver/api/calls/{call.pk}/recording"
    assert api.get(versioned).status_code == 200
