"""A query parameter an operation does not take is refused by name, not ignored, on every operation."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _list_paths(client: Client) -> list[str]:
    # Every paginated list the schema documents, so a list added later is covered without a new line here.
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    return sorted(
        path
        for path, operations in paths.items()
        if "{" not in path and any(p["name"] == "limit" for p in operations.get("get", {}).get("parameters", []))
    )


def test_every_list_refuses_a_search_it_does_not_have(api: Client) -> None:
    paths = _list_paths(api)
    assert {"/api/v1/leads/", "/api/v1/calls/", "/api/v1/brokers/", "/api/v1/webhooks/"} <= set(paths)

    for path in paths:
        response = api.get(f"{path}?q=ana&limit=5")

        assert response.status_code == 422, path
        error = response.json()["error"]
        assert error["code"] == "unknown_parameter", path
        assert error["message"] == "Unknown query parameter: q.", path
        assert [(d["loc"], d["type"]) for d in error["details"]] == [(["query", "q"], "unknown_parameter")], path


def test_it_names_every_unknown_parameter_and_what_the_operation_takes(api: Client) -> None:
    response = api.get("/api/v1/leads/?stauts=new&q=ana&status=new")

    error = response.json()["error"]
    assert error["message"] == "Unknown query parameters: q, stauts."
    assert [d["loc"] for d in error["details"]] == [["query", "q"], ["query", "stauts"]]
    assert error["details"][1]["message"] == (
        "stauts is not a parameter of this operation; it takes: "
        "campaign_id, external_id, limit, offset, phone, status, updated_since"
    )


def test_the_known_parameters_still_work(api: Client) -> None:
    LeadFactory.create_batch(3)

    response = api.get("/api/v1/leads/?limit=2&offset=1&status=new")

    assert response.status_code == 200
    assert (response.json()["count"], len(response.json()["items"])) == (3, 2)


def test_an_operation_that_takes_no_query_parameters_refuses_any(api: Client) -> None:
    lead = LeadFactory()

    response = api.get(f"/api/v1/leads/{lead.pk}?fields=phone")

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["message"].endswith("it takes: none")


def test_the_unversioned_alias_refuses_them_too(api: Client) -> None:
    assert api.get("/api/leads/?q=ana").json()["error"]["code"] == "unknown_parameter"


def test_the_key_is_checked_first(client: Client) -> None:
    assert client.get("/api/v1/leads/?q=ana").status_code == 401
