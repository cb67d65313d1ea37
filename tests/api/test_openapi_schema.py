"""/api/openapi.json is a valid OpenAPI document that a strict parser (Swagger UI's among them) reads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

AUDIO = {"audio/wav": {"schema": {"type": "string", "format": "binary"}}}


def _object_without_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys without a word; Swagger UI's YAML parser
    # refuses the whole document ("duplicated mapping key") and the docs page stays blank.
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"repeated keys {repeated} in {keys}")
    return dict(pairs)


def _schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = json.loads(response.content, object_pairs_hook=_object_without_repeated_keys)
    return schema


def test_it_serves_a_schema_without_repeated_keys_that_validates_against_the_specification(client: Client) -> None:
    schema = _schema(client)

    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/leads/" in schema["paths"]


def test_it_documents_the_recording_as_whole_or_partial_audio(client: Client) -> None:
    responses = _schema(client)["paths"]["/api/v1/calls/{call_id}/recording"]["get"]["responses"]

    assert responses["200"]["content"] == AUDIO
    assert responses["206"]["content"] == AUDIO
    assert responses["206"]["description"].startswith("Partial Content")
    assert "Content-Range" in responses["206"]["headers"]
    assert "content" not in responses["416"]
    assert responses["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}


def test_it_documents_the_rate_limit_headers_on_every_answer_to_a_key(client: Client) -> None:
    schema = _schema(client)
    responses = schema["paths"]["/api/v1/leads/"]["get"]["responses"]

    assert set(schema["components"]["headers"]) == {
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "Retry-After",
    }
    assert responses["200"]["headers"]["X-RateLimit-Remaining"] == {
        "$ref": "#/components/headers/X-RateLimit-Remaining"
    }
    assert "Retry-After" in responses["429"]["headers"] and "Retry-After" not in responses["200"]["headers"]
    assert "headers" not in responses["401"]
