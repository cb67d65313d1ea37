"""Per-key rate limiting through the cache: 429 with Retry-After in the error format."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from integrations.services import api_key_create, api_rate_limit_take

pytestmark = pytest.mark.django_db


def test_it_answers_429_with_retry_after_past_the_keys_limit(client: Client) -> None:
    _, raw = api_key_create(name="CRM", scopes=["leads:read"], rate_limit_per_minute=3)
    statuses = [client.get("/api/leads/", headers={"X-API-Key": raw}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/leads/", headers={"X-API-Key": raw})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["error"]["code"] == "rate_limited"


def test_it_counts_each_key_on_its_own(client: Client) -> None:
    _, first = api_key_create(name="one", scopes=["leads:read"], rate_limit_per_minute=1)
    _, second = api_key_create(name="two", scopes=["leads:read"], rate_limit_per_minute=1)
    assert client.get("/api/leads/", headers={"X-API-Key": first}).status_code == 200
    assert client.get("/api/leads/", headers={"X-API-Key": first}).status_code == 429
    assert client.get("/api/leads/", headers={"X-API-Key": second}).status_code == 200


def test_it_uses_the_setting_for_keys_without_their_own_limit(client: Client, settings: Any) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    _, raw = api_key_create(name="CRM", scopes=["leads:read"])
    statuses = [client.get("/api/leads/", headers={"X-API-Key": raw}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_it_starts_a_new_window_each_minute() -> None:
    assert api_rate_limit_take(key_id=99, limit=1, now=120.0) == 0
    assert api_rate_limit_take(key_id=99, limit=1, now=150.0) == 30
    assert api_rate_limit_take(key_id=99, limit=1, now=180.0) == 0


def test_unauthenticated_requests_are_not_counted_against_a_key(client: Client) -> None:
    _, raw = api_key_create(name="CRM", scopes=["leads:read"], rate_limit_per_minute=1)
    for _ in range(3):
        client.get("/api/leads/", headers={"X-API-Key": raw + "x"})
    assert client.get("/api/leads/", headers={"X-API-Key": raw}).status_code == 200
