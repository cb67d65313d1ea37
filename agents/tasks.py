"""Celery tasks for the agent: thin adapters around agents.brain and agents.notifications."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from agents import brain, notifications

logger = logging.getLogger(__name__)


# acks_late with reject_on_worker_lost: a worker lost midway gives the message
# back, and the redelivery runs the analysis again (its writes can be repeated).
# A lost database connection is worth a few tries; anything else is a bug, logged by Celery.
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=5,
    retry_backoff=True,
    retry_backoff_max=300,
)
def call_conversation_finish(call_id: int) -> bool:
    """Run a call's post-call analysis (summary, outcome, final score) once its voice session has stored it."""
    return brain.call_conversation_finish(call_id=call_id)


# An e-mail is sent at least once: a worker lost after the server took the message sends it again.
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None)
def appointment_email_send(self: Any, appointment_id: int, recipient: notifications.Recipient) -> bool:
    """Send a booking's e-mail to its broker or its lead; retry later while the mail server fails."""
    try:
        return notifications.appointment_email_send(appointment_id=appointment_id, recipient=recipient)
    except (OSError, OperationalError, InterfaceError) as exc:
        _retry_later(self, exc, what={"appointment": appointment_id, "recipient": recipient})
        return False


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None)
def hot_lead_email_send(self: Any, call_id: int) -> int:
    """Send the hot-lead e-mails of a call to the brokers; retry later while the mail server fails."""
    try:
        return notifications.hot_lead_email_send(call_id=call_id)
    except (OSError, OperationalError, InterfaceError) as exc:
        _retry_later(self, exc, what={"call": call_id})
        return 0


def _retry_later(task: Any, exc: Exception, *, what: dict[str, Any]) -> None:
    """Raise the task's retry with backoff, or log the e-mail as not sent when it should not be tried again."""
    # smtplib's errors, refused connections and timeouts are all OSErrors. A server that refuses every
    # recipient will refuse them again. In eager mode (the embedded default, no broker) a retry would run
    # at once, in the caller's request, so the failure is only logged there.
    attempt = task.request.retries + 1
    permanent = isinstance(exc, smtplib.SMTPRecipientsRefused)
    if permanent or task.request.is_eager or attempt >= settings.EMAIL_MAX_ATTEMPTS:
        logger.error("e-mail not sent: %s", exc, extra={**what, "attempt": attempt})
        return
    raise task.retry(exc=exc, countdown=min(60 * 2 ** (attempt - 1), 3600))
