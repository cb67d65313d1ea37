"""Per-key rate limiting through the cache: 429 with Retry-After in the error format."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
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
    assert api_rate_limit_take(key_id=99, limit=1, now=120.0).retry_after == 0
    assert api_rate_limit_take(key_id=99, limit=1, now=150.0).retry_after == 30
    assert api_rate_limit_take(key_id=99, limit=1, now=180.0).retry_after == 0


def test_unauthenticated_requests_are_not_counted_against_a_key(client: Client) -> None:
    _, raw = api_key_create(name="CRM", scopes=["leads:read"], rate_limit_per_minute=1)
    for _ in range(3):
        client.get("/api/leads/", headers={"X-API-Key": raw + "x"})
    assert client.get("/api/leads/", headers={"X-API-Key": raw}).status_code == 200


def test_every_answer_to_a_known_key_tells_its_limit_remaining_and_reset(client: Client) -> None:
    _, raw = api_key_create(name="CRM", scopes=["leads:read"], rate_limit_per_minute=3)
    headers = {"X-API-Key": raw}

    with time_machine.travel(dt.datetime(2026, 11, 20, 15, 0, 20, tzinfo=dt.UTC), tick=False):
        answers = [
            client.get("/api/v1/leads/", headers=headers),
            client.get("/api/v1/leads/999", headers=headers),  # a 404 counts and tells too
            client.get("/api/v1/calls/", headers=headers),  # and so does a 403 for a missing scope
            client.get("/api/leads/", headers=headers),  # the alias shares the count
        ]

    reset = str(int(dt.datetime(2026, 11, 20, 15, 1, tzinfo=dt.UTC).timestamp()))
    assert [a.status_code for a in answers] == [200, 404, 403, 429]
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a["X-RateLimit-Limit"] for a in answers} == {"3"}
    assert {a["X-RateLimit-Reset"] for a in answers} == {reset}
    assert answers[3]["Retry-After"] == "40"


def test_a_request_without_a_valid_key_gets_no_rate_limit_headers(client: Client) -> None:
    response = client.get("/api/v1/leads/", headers={"X-API-Key": "rea_00000000_nope"})

    assert response.status_code == 401
    assert not response.has_header("X-RateLimit-Limit")


def test_the_setting_gives_the_limit_of_keys_without_their_own(client: Client, settings: Any) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 7
    _, raw = api_key_create(name="CRM", scopes=["leads:read"])

    response = client.get("/api/v1/leads/", headers={"X-API-Key": raw})

    assert (response["X-RateLimit-Limit"], response["X-RateLimit-Remaining"]) == ("7", "6")
