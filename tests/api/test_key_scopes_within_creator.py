"""An API key never does more than the user who made it: not when it is made or edited, nor later."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from integrations.models import ApiKey
from integrations.scopes import SCOPE_PERMISSIONS, ScopesNotHeld
from integrations.services import api_key_create, api_key_update
from tests.factories import CallFactory

pytestmark = pytest.mark.django_db


def _staff(*perms: str, username: str = "broker") -> Any:
    user = get_user_model().objects.create_user(username=username, password="pw-for-tests-only", is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _add_key(client: Client, scopes: list[str]) -> Any:
    return client.post(
        "/admin/integrations/apikey/add/",
        {"name": "CRM", "scopes": scopes, "rate_limit_per_minute": "", "expires_at": ""},
    )


def test_every_scope_maps_to_permissions_that_exist() -> None:
    assert set(SCOPE_PERMISSIONS) == set(ApiKey.Scope.values)
    for perms in SCOPE_PERMISSIONS.values():
        for perm in perms:
            app_label, codename = perm.split(".")
            assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists(), perm


def test_it_refuses_scopes_the_creator_lacks_in_the_admin_form() -> None:
    client = _client(_staff("integrations.add_apikey"))
    response = _add_key(client, ["calls:read", "leads:write"])
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["scopes"]
    assert "calls:read (needs calls.view_call" in errors[0]
    assert "leads:write (needs leads.view_lead, leads.add_lead" in errors[0]
    assert not ApiKey.objects.exists()


def test_it_creates_a_key_with_scopes_the_creator_holds() -> None:
    user = _staff("integrations.add_apikey", "leads.view_lead")
    response = _add_key(_client(user), ["leads:read"])
    assert response.status_code == 200
    api_key = ApiKey.objects.get()
    assert api_key.scopes == ["leads:read"]
    assert api_key.created_by == user
    assert Client().get("/api/leads/", headers={"X-API-Key": response.context["raw_key"]}).status_code == 200


def test_a_superuser_may_grant_every_scope(admin_client: Any) -> None:
    response = _add_key(admin_client, ApiKey.Scope.values)
    assert response.status_code == 200
    assert ApiKey.objects.get().scopes == sorted(ApiKey.Scope.values)


def test_it_refuses_editing_in_a_scope_the_editor_lacks() -> None:
    user = _staff("integrations.add_apikey", "integrations.change_apikey", "leads.view_lead")
    api_key, _ = api_key_create(name="CRM", scopes=["leads:read"], created_by=user)
    response = _client(user).post(
        f"/admin/integrations/apikey/{api_key.pk}/change/",
        {
            "name": "CRM",
            "scopes": ["leads:read", "dnc:write"],
            "rate_limit_per_minute": "",
            "expires_at": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "dnc:write (needs leads.add_donotcall)" in response.context["adminform"].form.errors["scopes"][0]
    api_key.refresh_from_db()
    assert api_key.scopes == ["leads:read"]


def test_the_services_refuse_scopes_the_user_lacks() -> None:
    user = _staff("leads.view_lead")
    with pytest.raises(ScopesNotHeld, match="calls:read"):
        api_key_create(name="CRM", scopes=["calls:read"], created_by=user)
    api_key, _ = api_key_create(name="CRM", scopes=["leads:read"], created_by=user)
    with pytest.raises(ScopesNotHeld, match="metrics:read"):
        api_key_update(api_key=api_key, edited_by=user, scopes=["leads:read", "metrics:read"])
    api_key.refresh_from_db()
    assert api_key.scopes == ["leads:read"]


def test_a_key_stops_using_a_scope_its_creator_loses(client: Client) -> None:
    user = _staff(*SCOPE_PERMISSIONS["calls:read"])
    _, raw = api_key_create(name="CRM", scopes=["calls:read"], created_by=user)
    call = CallFactory(campaign__owner=user)
    assert client.get(f"/api/calls/{call.pk}", headers={"X-API-Key": raw}).status_code == 200

    user.user_permissions.remove(Permission.objects.get(content_type__app_label="calls", codename="view_call"))
    response = client.get(f"/api/calls/{call.pk}", headers={"X-API-Key": raw})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "creator_lacks_permission"
    assert "calls:read" in response.json()["error"]["message"]
    assert client.get("/api/calls/", headers={"X-API-Key": raw}).status_code == 403


def test_a_deactivated_creators_key_stops_working(client: Client) -> None:
    user = _staff("leads.view_lead")
    _, raw = api_key_create(name="CRM", scopes=["leads:read"], created_by=user)
    assert client.get("/api/leads/", headers={"X-API-Key": raw}).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = client.get("/api/leads/", headers={"X-API-Key": raw})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_deleting_the_creator_deletes_their_keys() -> None:
    user = _staff("leads.view_lead")
    api_key_create(name="CRM", scopes=["leads:read"], created_by=user)
    user.delete()
    assert not ApiKey.objects.exists()


def test_a_superusers_key_keeps_every_scope(client: Client) -> None:
    admin = get_user_model().objects.create_superuser(username="root", password="pw-for-tests-only")
    _, raw = api_key_create(name="CRM", scopes=ApiKey.Scope.values, created_by=admin)
    assert client.get("/api/calls/", headers={"X-API-Key": raw}).status_code == 200
    assert client.get("/api/metrics", headers={"X-API-Key": raw}).status_code == 200
