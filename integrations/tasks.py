"""Celery tasks for the Google Sheets sync and outbound webhooks: thin adapters around their services.

Retries never sleep in a worker: a failed attempt is recorded with its next
try time, and the task hands Celery a retry with that countdown. In eager
mode (the demo without a broker) a retry would run at once, in a loop, so
there the failure is left recorded for the admin to see and replay instead.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from integrations.sheets import services as sheets
from integrations.sheets.client import is_configured as sheets_configured
from integrations.sheets.models import SheetSync, SheetSyncRun
from integrations.sheets.selectors import sheet_syncs_due
from integrations.webhooks import services as webhooks
from integrations.webhooks.models import WebhookDelivery

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def sheets_sync_due() -> int:
    """Queue a sync of every active sheet (run by beat every SHEETS_SYNC_INTERVAL_S)."""
    if not sheets_configured():
        logger.info("google sheets sync skipped: GOOGLE_SERVICE_ACCOUNT_FILE is not set")
        return 0
    return sheets.sheet_sync_enqueue(sheet_syncs=sheet_syncs_due(), trigger="beat")


# acks_late: a sync lost with its worker runs again; the sync is idempotent and
# its claim on the sheet expires (services.STALE_CLAIM).
@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def sheet_sync(self: Any, sheet_sync_id: int, trigger: str = "beat") -> str:
    """Sync one sheet; on a quota or server error, retry later with backoff."""
    if not SheetSync.objects.filter(pk=sheet_sync_id).exists():
        return "deleted"  # removed in the admin after the sync was queued
    run = sheets.sheet_sync_run(
        sheet_sync_id=sheet_sync_id,
        trigger=trigger,
        attempt=self.request.retries + 1,
        max_attempts=settings.SHEETS_SYNC_MAX_ATTEMPTS,
    )
    if run.status == SheetSyncRun.Status.RETRYING and run.next_retry_at and not self.request.is_eager:
        raise self.retry(countdown=_seconds_until(run.next_retry_at))
    return str(run.status)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def webhook_deliver(self: Any, delivery_id: int) -> str:
    """Send one webhook delivery; when it fails, retry it at the time its backoff set."""
    delivery = webhooks.webhook_delivery_attempt(delivery_id=delivery_id)
    if delivery is None:
        return "skipped"
    if delivery.status == WebhookDelivery.Status.RETRYING and delivery.next_retry_at and not self.request.is_eager:
        raise self.retry(countdown=_seconds_until(delivery.next_retry_at))
    return str(delivery.status)


def _seconds_until(at: dt.datetime) -> float:
    return max(1.0, (at - timezone.now()).total_seconds())
