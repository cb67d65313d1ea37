"""Outbound webhook endpoints managed by a CRM: list, create, change, delete, and a new signing secret."""

# No `from __future__ import annotations`: ninja's @paginate wrapper resolves
# annotations in its own module, so a paginated view's must not be strings.

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router, Status
from ninja.pagination import paginate

from common.api_errors import ApiError, responses
from common.api_types import Id, Pagination
from integrations.auth import ApiKeyAuth, api_viewer
from integrations.webhooks.models import WebhookEndpoint
from integrations.webhooks.selectors import webhook_endpoint_list
from integrations.webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_secret_rotate,
    webhook_endpoint_update,
)
from reautomation.api.integrations_schemas import (
    WebhookEndpointCreatedOut,
    WebhookEndpointFilters,
    WebhookEndpointIn,
    WebhookEndpointOut,
    WebhookEndpointPatch,
)

router = Router(tags=["webhooks"])

MANAGE = ApiKeyAuth("webhooks:manage")


def _team_key(request: HttpRequest) -> None:
    # An endpoint receives the events of every agent's leads: a key that sees only one agent's records
    # (an agent's, or one bound to an agent) could otherwise read the others' through it.
    if not api_viewer(request).sees_all:
        raise ApiError(
            403,
            "Webhook endpoints receive every agent's events; only a key that sees the whole team may manage them.",
            code="team_key_required",
        )


def _endpoint(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    _team_key(request)
    return get_object_or_404(webhook_endpoint_list(), pk=endpoint_id)


@router.get(
    "/webhooks/", response=responses(200, list[WebhookEndpointOut]), auth=MANAGE, summary="List webhook endpoints"
)
@paginate(Pagination)
def webhooks_list(request: HttpRequest, filters: Query[WebhookEndpointFilters]) -> Any:
    """By name; the signing secrets are not shown. Scope: webhooks:manage, on a key that sees the whole team."""
    _team_key(request)
    return webhook_endpoint_list(active=filters.active)


@router.post(
    "/webhooks/", response=responses(201, WebhookEndpointCreatedOut), auth=MANAGE, summary="Create a webhook endpoint"
)
def webhooks_create(request: HttpRequest, payload: WebhookEndpointIn) -> Status[WebhookEndpoint]:
    """The answer holds the endpoint's signing secret, which is never shown again. The URL must be a public
    https address (422 otherwise). Scope: webhooks:manage, on a key that sees the whole team."""
    _team_key(request)
    return Status(201, webhook_endpoint_create(**payload.dict()))


@router.get(
    "/webhooks/{int:endpoint_id}",
    response=responses(200, WebhookEndpointOut),
    auth=MANAGE,
    summary="Get a webhook endpoint",
)
def webhooks_get(request: HttpRequest, endpoint_id: Path[Id]) -> WebhookEndpoint:
    """Scope: webhooks:manage, on a key that sees the whole team."""
    return _endpoint(request, endpoint_id)


@router.patch(
    "/webhooks/{int:endpoint_id}",
    response=responses(200, WebhookEndpointOut),
    auth=MANAGE,
    summary="Update a webhook endpoint",
)
def webhooks_update(request: HttpRequest, payload: WebhookEndpointPatch, endpoint_id: Path[Id]) -> WebhookEndpoint:
    """Only the fields given change; null leaves a field as it is. Scope: webhooks:manage, on a key that sees
    the whole team."""
    endpoint = _endpoint(request, endpoint_id)
    changes = {name: value for name, value in payload.dict(exclude_unset=True).items() if value is not None}
    return webhook_endpoint_update(endpoint=endpoint, **changes)


@router.delete(
    "/webhooks/{int:endpoint_id}", response=responses(204, None), auth=MANAGE, summary="Delete a webhook endpoint"
)
def webhooks_delete(request: HttpRequest, endpoint_id: Path[Id]) -> HttpResponse:
    """Deletes its delivery log too; deliveries not yet sent are dropped. Scope: webhooks:manage, on a key that
    sees the whole team."""
    webhook_endpoint_delete(endpoint=_endpoint(request, endpoint_id))
    return HttpResponse(status=204)


@router.post(
    "/webhooks/{int:endpoint_id}/rotate-secret",
    response=responses(200, WebhookEndpointCreatedOut),
    auth=MANAGE,
    summary="Give a webhook endpoint a new signing secret",
)
def webhooks_rotate_secret(request: HttpRequest, endpoint_id: Path[Id]) -> WebhookEndpoint:
    """Deliveries from now on are signed with the new secret, shown only in this answer. Scope: webhooks:manage,
    on a key that sees the whole team."""
    return webhook_endpoint_secret_rotate(endpoint=_endpoint(request, endpoint_id))
