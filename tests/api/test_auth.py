"""API keys: hashed storage, the header check, scopes, revocation, expiry and the admin that shows a key once."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from integrations.models import ApiKey
from integrations.services import api_key_create

pytestmark = pytest.mark.django_db


def test_it_stores_only_a_salted_hash_of_the_key() -> None:
    api_key, raw = api_key_create(name="CRM", scopes=["leads:read"])
    _, prefix, secret = raw.split("_", 2)
    api_key.refresh_from_db()
    assert api_key.prefix == prefix
    assert secret not in (api_key.key_hash, api_key.salt, api_key.prefix)
    assert api_key.key_hash == hashlib.sha256(f"{api_key.salt}{secret}".encode()).hexdigest()
    assert len(secret) >= 40


def test_it_refuses_unknown_scopes() -> None:
    with pytest.raises(ValueError, match="nonsense:read"):
        api_key_create(name="CRM", scopes=["nonsense:read"])


@pytest.mark.parametrize("header", [None, "", "rea_deadbeef_wrong", "garbage", "rea_\x00\x00_x"])
def test_it_answers_401_without_a_valid_key(client: Client, header: str | None) -> None:
    api_key_create(name="CRM", scopes=["leads:read"])
    headers = {} if header is None else {"X-API-Key": header}
    response = client.get("/api/leads/", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_it_answers_401_for_a_revoked_or_expired_key(client: Client) -> None:
    revoked, revoked_raw = api_key_create(name="old", scopes=["leads:read"])
    ApiKey.objects.filter(pk=revoked.pk).update(is_active=False)
    _, expired_raw = api_key_create(
        name="expired", scopes=["leads:read"], expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    for raw in (revoked_raw, expired_raw):
        assert client.get("/api/leads/", headers={"X-API-Key": raw}).status_code == 401


def test_it_answers_403_when_the_key_lacks_the_scope(client: Client) -> None:
    _, raw = api_key_create(name="reader", scopes=["leads:read"])
    response = client.post(
        "/api/leads/", {"phone": "+14155550123"}, content_type="application/json", headers={"X-API-Key": raw}
    )
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "missing_scope",
        "message": "This API key lacks the leads:write scope.",
        "details": [],
    }
    assert client.get("/api/leads/", headers={"X-API-Key": raw}).status_code == 200


def test_it_records_when_a_key_was_last_used(client: Client) -> None:
    api_key, raw = api_key_create(name="CRM", scopes=["leads:read"])
    client.get("/api/leads/", headers={"X-API-Key": raw})
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_the_admin_shows_a_new_key_once_and_stores_its_hash(admin_client: Any) -> None:
    response = admin_client.post(
        "/admin/integrations/apikey/add/",
        {"name": "HubSpot", "scopes": ["leads:read", "leads:write"], "rate_limit_per_minute": "", "expires_at": ""},
    )
    assert response.status_code == 200
    api_key = ApiKey.objects.get()
    raw = response.context["raw_key"]
    assert raw.startswith(f"rea_{api_key.prefix}_")
    assert raw in response.content.decode()
    assert api_key.scopes == ["leads:read", "leads:write"]
    assert api_key.created_by is not None
    assert (
        raw.split("_", 2)[2]
        not in admin_client.get(f"/admin/integrations/apikey/{api_key.pk}/change/").content.decode()
    )
    assert Client().get("/api/leads/", headers={"X-API-Key": raw}).status_code == 200


def test_the_admin_revokes_keys(admin_client: Any) -> None:
    api_key, raw = api_key_create(name="CRM", scopes=["leads:read"])
    admin_client.post("/admin/integrations/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]})
    api_key.refresh_from_db()
    assert api_key.is_active is False
    assert Client().get("/api/leads/", headers={"X-API-Key": raw}).status_code == 401
