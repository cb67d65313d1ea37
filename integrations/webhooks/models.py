"""Endpoints that receive our events, and every delivery made to them."""

from __future__ import annotations

import secrets
import uuid

from django.core.exceptions import ValidationError
from django.db import models

from integrations.webhooks.destination import validate_webhook_url


class WebhookEvent(models.TextChoices):
    CALL_COMPLETED = "call.completed", "A call finished"
    APPOINTMENT_BOOKED = "appointment.booked", "An appointment was booked"
    LEAD_QUALIFIED = "lead.qualified", "A call qualified a lead"
    LEAD_OPTED_OUT = "lead.opted_out", "A lead asked not to be called again"


def webhook_secret_new() -> str:
    """Return a fresh signing secret (256 bits)."""
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A URL that receives the events it subscribes to, signed with its own secret."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500, validators=[validate_webhook_url])
    secret = models.CharField(max_length=80, default=webhook_secret_new, help_text="Signs every delivery (HMAC-SHA256)")
    events = models.JSONField(default=list, blank=True, help_text="Event types sent to this URL")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "webhook endpoint"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        unknown = sorted(set(self.events or []) - set(WebhookEvent.values))
        if unknown:
            raise ValidationError({"events": f"Unknown event types: {', '.join(unknown)}"})


class WebhookDelivery(models.Model):
    """One event for one endpoint, with the outcome of its latest attempt."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        RETRYING = "retrying", "Failed, retry scheduled"
        FAILED = "failed", "Failed for good"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices, db_index=True)
    # The event's id: the same in every attempt and in a replay, so receivers can drop repeats.
    event_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The start of the endpoint's answer")
    error = models.CharField(max_length=500, blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint_id} ({self.status})"
