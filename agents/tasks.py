"""Celery tasks for the agent: thin adapters around agents.brain."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from agents import brain


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
