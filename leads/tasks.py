"""Celery tasks for leads: thin adapters around leads.services."""

from __future__ import annotations

from celery import shared_task

from leads import services


# Acknowledged when done, and given back if its worker dies: a message whose worker is lost before the
# claim is delivered again. A worker lost midway leaves the import "running" with the rows it had
# inserted, and the redelivery's claim refuses it rather than read the file again over them. A message
# the broker itself lost is queued again by lead_imports_lost_requeue.
@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def lead_import_process(lead_import_id: int) -> str:
    """Import an uploaded lead file queued by the admin."""
    lead_import = services.lead_import_process(lead_import_id=lead_import_id)
    return lead_import.status if lead_import is not None else "not waiting"


@shared_task(ignore_result=True)
def lead_import_files_expire() -> int:
    """Delete uploaded lead files past their retention; the import records stay."""
    return services.lead_import_files_expire()


# A sweep lost or run twice does no harm: it only queues imports that no worker has claimed yet.
@shared_task(ignore_result=True)
def lead_imports_lost_requeue() -> int:
    """Queue again the uploaded imports whose task was lost before a worker claimed it (run by beat)."""
    return len(services.lead_imports_lost_requeue())
