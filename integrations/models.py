"""Integration models (sheet mappings, API keys, webhooks) arrive with the integrations issue."""

from __future__ import annotations

from django.conf import settings
from django.db import models

# Sheets, webhooks and calendar feeds keep their models beside their code;
# importing them here is what registers them with the integrations app.
from integrations.calendar.models import CalendarFeed  # noqa: F401
from integrations.sheets.models import SheetLead, SheetSync, SheetSyncRun  # noqa: F401
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent  # noqa: F401


class ApiKey(models.Model):
    """A key a CRM uses to call the REST API, with the scopes it may use.

    Only a salted SHA-256 of the secret is stored; the whole key is shown once,
    when it is created. A key reads "rea_<prefix>_<secret>": the prefix finds
    the row, the secret is checked against the hash.
    """

    class Scope(models.TextChoices):
        LEADS_READ = "leads:read", "Read leads"
        LEADS_WRITE = "leads:write", "Create, update and delete leads"
        CAMPAIGNS_READ = "campaigns:read", "Read campaigns and their stats"
        CAMPAIGNS_WRITE = "campaigns:write", "Create, start and pause campaigns"
        CALLS_READ = "calls:read", "Read calls, transcripts, recordings and costs"
        APPOINTMENTS_READ = "appointments:read", "Read appointments"
        APPOINTMENTS_WRITE = "appointments:write", "Book and cancel appointments"
        DNC_READ = "dnc:read", "Check the do-not-call list"
        DNC_WRITE = "dnc:write", "Add numbers to the do-not-call list"
        METRICS_READ = "metrics:read", "Read account metrics"
        BROKERS_READ = "brokers:read", "Read brokers and their open appointment slots"
        WEBHOOKS_MANAGE = "webhooks:manage", "List, create, change and delete outbound webhook endpoints"

    name = models.CharField(max_length=100, help_text="Who uses the key, e.g. the CRM's name")
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    salt = models.CharField(max_length=32, editable=False)
    key_hash = models.CharField(max_length=64, editable=False, help_text="SHA-256 of the salt and the secret")
    scopes = models.JSONField(default=list, blank=True, help_text="Scope names, e.g. leads:read")
    rate_limit_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests per minute; empty = API_RATE_LIMIT_PER_MINUTE"
    )
    is_active = models.BooleanField(default=True, help_text="Untick to revoke the key")
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The key acts within its creator's permissions (integrations.scopes), so it goes with them: a key
    # left with no creator would be bound by nobody's. A key created from code has none, and only its scopes.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # A CRM integration for one agent sees only that agent's records, whatever its creator may see.
    acts_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Bind the key to one agent: it sees only their leads, calls and appointments. "
        "Empty = it sees what its creator sees.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (rea_{self.prefix}_…)"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
