"""Outbound webhooks: manage endpoints; record a delivery per subscribed endpoint, send it signed, retry, replay."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.backoff import backoff_seconds
from integrations.webhooks.client import WebhookResponse, WebhookTransportError, webhook_post
from integrations.webhooks.destination import webhook_url_problem
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, webhook_secret_new
from integrations.webhooks.signing import SIGNATURE_HEADER, signature_header

logger = logging.getLogger(__name__)

# Retries start after about 30 s and double up to 30 minutes. The cap stays
# well under the Redis broker's visibility timeout (CELERY_VISIBILITY_TIMEOUT_S,
# an hour by default): a retry scheduled further out than that would be handed
# to a second worker while the first still holds it.
RETRY_BASE_S = 30.0
RETRY_CAP_S = 1800.0


def webhook_event_emit(*, event: WebhookEvent, data: Callable[[], Mapping[str, Any]]) -> list[WebhookDelivery]:
    """Record the event for every active endpoint subscribed to it and send each once the transaction commits.

    Args:
        event: the event type.
        data: builds the event's `data`; called only when some endpoint listens, so
            an event nobody subscribes to costs one query.

    Returns:
        The deliveries created, one per endpoint.
    """
    endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True) if event in (e.events or [])]
    if not endpoints:
        return []
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": str(event),
        "created_at": timezone.now().isoformat(),
        "data": dict(data()),
    }
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=e, event=event, event_id=event_id, payload=payload) for e in endpoints]
    )
    for delivery in deliveries:
        _enqueue(delivery.pk)
    logger.info("webhook event", extra={"event": str(event), "event_id": str(event_id), "deliveries": len(deliveries)})
    return deliveries


def _enqueue(delivery_id: int) -> None:
    from integrations.tasks import webhook_deliver  # the tasks module imports this one

    transaction.on_commit(functools.partial(webhook_deliver.delay, delivery_id))


def webhook_body(*, delivery: WebhookDelivery) -> bytes:
    """Return the exact bytes sent (and signed): the payload as compact JSON with sorted keys."""
    return json.dumps(delivery.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Send a pending delivery, or a retrying one that is due, and record the answer.

    A failed attempt (no answer, or a status outside 2xx) leaves the delivery
    RETRYING with `next_retry_at` after exponential backoff until
    WEBHOOK_MAX_ATTEMPTS, then FAILED.

    Returns:
        The delivery after this attempt, or None when it was not attempted: it
        was delivered already, failed for good, is not due yet, or another
        worker holds it (a duplicated or redelivered task).
    """
    now = timezone.now()
    # The update is the claim: of two workers with the same delivery, one
    # moves next_retry_at past the attempt's own timeout and the other then
    # finds it not due.
    lease = now + dt.timedelta(seconds=settings.WEBHOOK_TIMEOUT_S * 2 + 5)
    claimed = (
        WebhookDelivery.objects.filter(
            pk=delivery_id, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING]
        )
        .filter(Q(next_retry_at__isnull=True) | Q(next_retry_at__lte=now))
        .update(next_retry_at=lease, last_attempt_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    body = webhook_body(delivery=delivery)
    headers = {
        SIGNATURE_HEADER: signature_header(secret=delivery.endpoint.secret, body=body),
        "X-REAutomation-Event": delivery.event,
        "X-REAutomation-Event-Id": str(delivery.event_id),
        "X-REAutomation-Delivery": str(delivery.pk),
    }
    # Checked again at send: the name may resolve elsewhere now than when the URL was saved.
    refused = webhook_url_problem(delivery.endpoint.url)
    try:
        if refused:
            raise WebhookTransportError(f"not sent: {refused}")
        response: WebhookResponse | None = webhook_post(
            url=delivery.endpoint.url, body=body, headers=headers, timeout_s=settings.WEBHOOK_TIMEOUT_S
        )
    except WebhookTransportError as exc:
        response, delivery.error = None, str(exc)[:500]
    _delivery_record(delivery, response)
    return delivery


def _delivery_record(delivery: WebhookDelivery, response: WebhookResponse | None) -> None:
    now = timezone.now()
    delivery.response_code = response.status_code if response is not None else None
    delivery.response_body = response.body if response is not None else ""
    if response is not None and response.ok:
        delivery.status, delivery.delivered_at, delivery.next_retry_at, delivery.error = (
            WebhookDelivery.Status.SUCCEEDED,
            now,
            None,
            "",
        )
    else:
        if response is not None:
            delivery.error = f"the endpoint answered {response.status_code}"
        if delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
            wait = backoff_seconds(attempt=delivery.attempts, base_s=RETRY_BASE_S, cap_s=RETRY_CAP_S)
            delivery.status, delivery.next_retry_at = WebhookDelivery.Status.RETRYING, now + dt.timedelta(seconds=wait)
        else:
            delivery.status, delivery.next_retry_at = WebhookDelivery.Status.FAILED, None
    delivery.save(update_fields=["status", "response_code", "response_body", "error", "next_retry_at", "delivered_at"])
    logger.info(
        "webhook delivery",
        extra={
            "delivery": delivery.pk,
            "event": delivery.event,
            "status": delivery.status,
            "response_code": delivery.response_code,
            "attempts": delivery.attempts,
        },
    )


def webhook_delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's event again to its endpoint as a new delivery, with the same event id and payload."""
    replay = WebhookDelivery.objects.create(
        endpoint_id=delivery.endpoint_id,
        event=delivery.event,
        event_id=delivery.event_id,
        payload=delivery.payload,
        replay_of=delivery,
    )
    _enqueue(replay.pk)
    logger.info("webhook replay", extra={"delivery": delivery.pk, "replay": replay.pk})
    return replay


def webhook_endpoint_secret_rotate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Give the endpoint a new signing secret; deliveries from now on are signed with it."""
    endpoint.secret = webhook_secret_new()
    endpoint.save(update_fields=["secret"])
    return endpoint


# What webhook_endpoint_update may change; the secret changes only by rotation.
_ENDPOINT_EDITABLE = frozenset({"name", "url", "events", "is_active"})


def webhook_endpoint_create(*, name: str, url: str, events: Iterable[str], is_active: bool = True) -> WebhookEndpoint:
    """Create an endpoint with a fresh signing secret, once its URL may receive webhooks and its events exist.

    Raises:
        ValidationError: for an address webhooks may not go to (integrations.webhooks.destination) or an
            unknown event type.
    """
    endpoint = WebhookEndpoint(name=name, url=url, events=sorted(set(events)), is_active=is_active)
    endpoint.full_clean()
    endpoint.save()
    logger.info("webhook endpoint created", extra={"endpoint": endpoint.pk, "events": endpoint.events})
    return endpoint


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """Save changes to an endpoint's name, URL, events or activity, checked as on creation.

    Raises:
        ValueError: for a field that may not be changed.
        ValidationError: as webhook_endpoint_create.
    """
    unknown = set(changes) - _ENDPOINT_EDITABLE
    if unknown:
        raise ValueError(f"fields that cannot be changed: {', '.join(sorted(unknown))}")
    if "events" in changes:
        changes["events"] = sorted(set(changes["events"]))
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.full_clean()
    endpoint.save(update_fields=sorted(changes) or None)
    logger.info("webhook endpoint updated", extra={"endpoint": endpoint.pk, "fields": sorted(changes)})
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its delivery log; deliveries still queued for it are dropped."""
    endpoint_id = endpoint.pk
    endpoint.delete()
    logger.info("webhook endpoint deleted", extra={"endpoint": endpoint_id})
