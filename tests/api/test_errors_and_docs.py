"""One error format for every error, and the OpenAPI docs."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _error(response: object) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return dict(body["error"])


def test_a_body_that_fails_validation_answers_422_with_each_field(api: Client) -> None:
    response = api.post("/api/leads/", {"first_name": 5}, content_type="application/json")
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_error"
    locs = [detail["loc"] for detail in error["details"]]  # type: ignore[attr-defined]
    assert ["body", "phone"] in locs and ["body", "first_name"] in locs


def test_malformed_json_answers_400(api: Client) -> None:
    response = api.post("/api/leads/", "{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert _error(response)["code"] in ("bad_request", "validation_error")


def test_an_unknown_id_answers_404(api: Client) -> None:
    response = api.get("/api/leads/999999")
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_an_unknown_url_and_a_wrong_method_answer_in_the_same_format(api: Client) -> None:
    missing = api.get("/api/nothing-here")
    assert missing.status_code == 404
    assert _error(missing)["code"] == "not_found"
    wrong = api.put("/api/leads/")
    assert wrong.status_code == 405
    assert _error(wrong)["code"] == "method_not_allowed"
    assert "GET" in wrong["Allow"]


def test_a_path_without_its_slash_answers_404_and_names_the_right_one(api: Client) -> None:
    # Not APPEND_SLASH's redirect: a POST would lose its body (and raise in DEBUG).
    response = api.post("/api/leads", {"phone": "+14155550123"}, content_type="application/json")
    assert response.status_code == 404
    assert _error(response)["message"] == "Not found; did you mean /api/leads/ ?"


def test_a_bad_query_parameter_answers_422(api: Client) -> None:
    response = api.get("/api/leads/?limit=100000&updated_since=yesterday")
    assert response.status_code == 422
    assert {tuple(d["loc"]) for d in _error(response)["details"]} == {  # type: ignore[attr-defined]
        ("query", "limit"),
        ("query", "updated_since"),
    }


def test_it_serves_the_docs_and_the_schema_with_the_key_scheme(client: Client) -> None:
    assert client.get("/api/docs").status_code == 200
    schema = client.get("/api/openapi.json").json()
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    assert "/api/v1/leads/bulk-upsert" in schema["paths"]
    assert "429" in schema["paths"]["/api/v1/leads/"]["get"]["responses"]
