"""Integration models (sheet mappings, API keys, webhooks) arrive with the integrations issue."""

from __future__ import annotations

# Sheets, webhooks and calendar feeds keep their models beside their code;
# importing them here is what registers them with the integrations app.
from integrations.calendar.models import CalendarFeed  # noqa: F401
from integrations.sheets.models import SheetLead, SheetSync, SheetSyncRun  # noqa: F401
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent  # noqa: F401
