"""Celery tasks for leads: thin adapters around leads.services."""

from __future__ import annotations

from celery import shared_task

from leads import services


# Acknowledged on receipt: a worker lost midway leaves the import "running" with the rows it had
# inserted, rather than a redelivery reading the file again over them (the claim refuses it anyway).
@shared_task(ignore_result=True)
def lead_import_process(lead_import_id: int) -> str:
    """Import an uploaded lead file queued by the admin."""
    lead_import = services.lead_import_process(lead_import_id=lead_import_id)
    return lead_import.status if lead_import is not None else "not waiting"


@shared_task(ignore_result=True)
def lead_import_files_expire() -> int:
    """Delete uploaded lead files past their retention; the import records stay."""
    return services.lead_import_files_expire()
