"""Outbound webhook endpoints managed through the API: the secret is shown once, and only team keys manage them."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any, get_args
from unittest import mock

import pytest
from django.test import Client

from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from integrations.scopes import ScopesNotHeld
from integrations.services import api_key_create
from integrations.webhooks.services import webhook_body
from integrations.webhooks.signing import signature_header
from reautomation.api.integrations_schemas import EventType
from reautomation.roles import AGENTS
from tests.factories import WebhookEndpointFactory, team_member

pytestmark = pytest.mark.django_db

PUBLIC = [(2, 1, 6, "", ("93.184.215.14", 443))]


@pytest.fixture(autouse=True)
def _public_dns(settings: Any) -> Iterator[None]:
    # The destination check resolves the host; answer as a public name would, with no network.
    settings.WEBHOOK_ALLOW_INTERNAL = False
    with mock.patch.object(socket, "getaddrinfo", return_value=PUBLIC):
        yield


def _create(client: Client, **fields: Any) -> Any:
    body = {"name": "HubSpot", "url": "https://hooks.example-crm.com/rea", "events": ["call.completed"], **fields}
    return client.post("/api/v1/webhooks/", body, content_type="application/json")


def test_it_creates_an_endpoint_and_shows_its_secret_only_then(api: Client) -> None:
    created = _create(api, events=["lead.qualified", "call.completed", "lead.qualified"])

    assert created.status_code == 201
    body = created.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body["secret"] == endpoint.secret and endpoint.secret.startswith("whsec_")
    assert (endpoint.name, endpoint.url, endpoint.events, endpoint.is_active) == (
        "HubSpot",
        "https://hooks.example-crm.com/rea",
        ["call.completed", "lead.qualified"],
        True,
    )
    listed = api.get("/api/v1/webhooks/").json()
    got = api.get(f"/api/v1/webhooks/{endpoint.pk}").json()
    assert listed["count"] == 1
    assert "secret" not in listed["items"][0] and "secret" not in got
    assert endpoint.secret not in api.get("/api/v1/webhooks/").content.decode()
    assert got == {k: v for k, v in body.items() if k != "secret"}


def test_a_created_endpoint_signs_deliveries_with_the_secret_it_was_shown(api: Client) -> None:
    secret = _create(api).json()["secret"]
    endpoint = WebhookEndpoint.objects.get()
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=WebhookEvent.CALL_COMPLETED, payload={"a": 1})
    body = webhook_body(delivery=delivery)

    assert signature_header(secret=secret, body=body, timestamp=1) == signature_header(
        secret=endpoint.secret, body=body, timestamp=1
    )


def test_it_refuses_an_internal_address_or_an_unknown_event(api: Client) -> None:
    with mock.patch.object(socket, "getaddrinfo", return_value=[(2, 1, 6, "", ("10.0.0.5", 443))]):
        internal = _create(api, url="https://crm.internal-looking.example/hook")
    plain_http = _create(api, url="http://hooks.example-crm.com/rea")
    unknown = _create(api, events=["lead.deleted"])

    assert internal.status_code == plain_http.status_code == unknown.status_code == 422
    assert internal.json()["error"]["details"][0]["loc"] == ["body", "url"]
    assert "internal address" in internal.json()["error"]["message"]
    assert "only https" in plain_http.json()["error"]["message"]
    assert unknown.json()["error"]["details"][0]["loc"] == ["body", "events", 0]
    assert not WebhookEndpoint.objects.exists()


def test_it_updates_only_the_fields_given_and_keeps_the_secret(api: Client) -> None:
    endpoint = WebhookEndpointFactory(url="https://old.example-crm.com/", events=["call.completed"])

    response = api.patch(
        f"/api/v1/webhooks/{endpoint.pk}",
        {"events": ["appointment.booked"], "is_active": False, "name": None},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert "secret" not in response.json()
    before = endpoint.secret, endpoint.name
    endpoint.refresh_from_db()
    assert (endpoint.events, endpoint.is_active, endpoint.url) == (
        ["appointment.booked"],
        False,
        "https://old.example-crm.com/",
    )
    assert (endpoint.secret, endpoint.name) == before
    with mock.patch.object(socket, "getaddrinfo", return_value=[(2, 1, 6, "", ("10.1.2.3", 443))]):
        bad = api.patch(
            f"/api/v1/webhooks/{endpoint.pk}", {"url": "https://10.1.2.3/"}, content_type="application/json"
        )
    assert bad.status_code == 422
    endpoint.refresh_from_db()
    assert endpoint.url == "https://old.example-crm.com/"


def test_it_deletes_an_endpoint_with_its_deliveries(api: Client) -> None:
    endpoint = WebhookEndpointFactory()
    WebhookDelivery.objects.create(endpoint=endpoint, event=WebhookEvent.CALL_COMPLETED, payload={})

    assert api.delete(f"/api/v1/webhooks/{endpoint.pk}").status_code == 204
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
    assert api.delete(f"/api/v1/webhooks/{endpoint.pk}").status_code == 404


def test_it_rotates_the_secret_and_shows_the_new_one_once(api: Client) -> None:
    endpoint = WebhookEndpointFactory()
    old = endpoint.secret

    body = api.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret").json()

    endpoint.refresh_from_db()
    assert body["secret"] == endpoint.secret != old


def test_the_webhooks_manage_scope_is_needed(db: Any) -> None:
    _, raw = api_key_create(name="CRM", scopes=["leads:read", "leads:write"])
    client = Client(headers={"X-API-Key": raw})

    assert client.get("/api/v1/webhooks/").json()["error"]["code"] == "missing_scope"
    assert _create(client).status_code == 403


def test_an_agents_key_cannot_hold_the_scope(db: Any) -> None:
    # An endpoint hears every agent's events: its permissions are managers' only.
    ann = team_member("ann", role=AGENTS)

    with pytest.raises(ScopesNotHeld, match="webhooks:manage"):
        api_key_create(name="Ann's CRM", scopes=["webhooks:manage"], created_by=ann)


def test_a_managers_key_bound_to_an_agent_may_not_manage_endpoints(db: Any) -> None:
    manager, ann = team_member("mia"), team_member("ann", role=AGENTS)
    endpoint = WebhookEndpointFactory()
    _, raw = api_key_create(name="Ann's CRM", scopes=["webhooks:manage"], created_by=manager, acts_for=ann)
    client = Client(headers={"X-API-Key": raw})

    answers = [
        client.get("/api/v1/webhooks/"),
        _create(client),
        client.get(f"/api/v1/webhooks/{endpoint.pk}"),
        client.patch(f"/api/v1/webhooks/{endpoint.pk}", {"name": "x"}, content_type="application/json"),
        client.delete(f"/api/v1/webhooks/{endpoint.pk}"),
        client.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret"),
    ]

    assert [a.status_code for a in answers] == [403] * 6
    assert {a.json()["error"]["code"] for a in answers} == {"team_key_required"}
    assert WebhookEndpoint.objects.get().name == endpoint.name


def test_a_managers_own_key_manages_them(db: Any) -> None:
    manager = team_member("mia")
    _, raw = api_key_create(name="Team CRM", scopes=["webhooks:manage"], created_by=manager)

    assert _create(Client(headers={"X-API-Key": raw})).status_code == 201


def test_the_apis_event_types_are_the_models() -> None:
    assert set(get_args(EventType)) == set(WebhookEvent.values)
