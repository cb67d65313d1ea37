"""A request body over REQUEST_MAX_BODY_BYTES answers 413 in the API's error format, never 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from leads.models import Lead

pytestmark = pytest.mark.django_db


def test_a_10_mb_json_body_gets_413(api: Client) -> None:
    body = json.dumps({"phone": "+14155550100", "notes": "x" * (10 * 1024 * 1024)})
    response = api.post("/api/leads/", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "error": {
            "code": "too_large",
            "message": "The request body is larger than the 1048576 bytes this API accepts.",
            "details": [],
        }
    }
    assert not Lead.objects.exists()


def test_the_body_limit_comes_from_settings(api: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64
    body = json.dumps({"phone": "+14155550100", "first_name": "A" * 80})
    response = api.post("/api/leads/", body, content_type="application/json")
    assert response.status_code == 413
    assert "64 bytes" in response.json()["error"]["message"]


def test_a_body_under_the_limit_still_works(api: Client) -> None:
    response = api.post("/api/leads/", {"phone": "+14155550100"}, content_type="application/json")
    assert response.status_code == 201
