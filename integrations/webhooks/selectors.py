"""Reads for outbound webhooks: the endpoints."""

from __future__ import annotations

from django.db.models import QuerySet

from integrations.webhooks.models import WebhookEndpoint


def webhook_endpoint_list(*, active: bool | None = None) -> QuerySet[WebhookEndpoint]:
    """Return the webhook endpoints, by name (each receives every agent's events, so there is no viewer)."""
    endpoints = WebhookEndpoint.objects.order_by("name", "pk")
    if active is not None:
        endpoints = endpoints.filter(is_active=active)
    return endpoints
