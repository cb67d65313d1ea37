"""Celery tasks for the calls themselves: thin adapters around services."""

from __future__ import annotations

from celery import shared_task

from calls import reconcile


# A redelivery asks Twilio again; settling a call is a filtered update, so a
# call already settled is left as it is.
@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def calls_open_reconcile() -> int:
    """Settle the live calls past their time limit that Twilio says have ended (run by beat)."""
    return reconcile.calls_open_reconcile()[reconcile.ReconcileResult.SETTLED]
