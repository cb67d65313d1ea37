"""Request and response bodies of the webhook endpoint endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from common.api_types import CleanStr

# integrations.webhooks.models.WebhookEvent's values (tests/api/test_webhook_endpoints.py keeps them equal).
EventType = Literal["call.completed", "appointment.booked", "lead.qualified", "lead.opted_out"]


class WebhookEndpointOut(Schema):
    id: int
    name: str
    url: str
    events: list[EventType] = Field(description="The event types sent to the URL")
    is_active: bool = Field(description="An inactive endpoint is sent nothing")
    created_at: dt.datetime


class WebhookEndpointCreatedOut(WebhookEndpointOut):
    secret: str = Field(
        description="Signs every delivery (X-REAutomation-Signature, HMAC-SHA256). Shown only now: store it."
    )


class WebhookEndpointIn(Schema):
    name: CleanStr = Field(min_length=1, max_length=100)
    url: CleanStr = Field(min_length=1, max_length=500, description="A public https address")
    events: list[EventType] = Field(min_length=1, max_length=20)
    is_active: bool = True


class WebhookEndpointPatch(Schema):
    name: CleanStr | None = Field(None, min_length=1, max_length=100)
    url: CleanStr | None = Field(None, min_length=1, max_length=500, description="A public https address")
    events: list[EventType] | None = Field(None, min_length=1, max_length=20)
    is_active: bool | None = None


class WebhookEndpointFilters(Schema):
    active: bool | None = Field(None, description="Only active (true) or inactive (false) endpoints")
