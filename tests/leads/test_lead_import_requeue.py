"""An uploaded import whose task was lost is queued again by beat, and imported once however often it is queued."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from leads import tasks
from leads.models import Lead, LeadImport
from leads.services import lead_import_create, lead_imports_lost_requeue
from reautomation.celery import app as celery_app

pytestmark = pytest.mark.django_db

CSV = b"first_name,phone\nMaria,(415) 555-0134\nBad,12\nJames,(212) 555-0187\n"


@pytest.fixture(autouse=True)
def _eager(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    # A queued task runs at once, in this process: what a worker would do with the message.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.LEAD_IMPORT_REQUEUE_AFTER_S = 300


def _uploaded(age_s: int, *, keep_file: bool = True) -> LeadImport:
    lead_import = lead_import_create(file_name="open-house.csv", data=CSV, keep_file=keep_file)
    LeadImport.objects.filter(pk=lead_import.pk).update(created_at=timezone.now() - dt.timedelta(seconds=age_s))
    return LeadImport.objects.get(pk=lead_import.pk)


def test_it_queues_again_an_import_still_pending_past_the_threshold_and_imports_it_once() -> None:
    lead_import = _uploaded(age_s=3600)

    assert tasks.lead_imports_lost_requeue() == 1

    lead_import.refresh_from_db()
    assert lead_import.status == LeadImport.Status.COMPLETED
    assert (lead_import.imported_count, lead_import.invalid_count) == (2, 1)
    assert Lead.objects.count() == 2
    # The lost message turns up after all: it finds the import claimed, and the next sweep finds nothing.
    assert tasks.lead_import_process(lead_import.pk) == "not waiting"
    assert tasks.lead_imports_lost_requeue() == 0
    assert Lead.objects.count() == 2


def test_it_leaves_an_import_uploaded_within_the_threshold_waiting() -> None:
    lead_import = _uploaded(age_s=0)

    # At exactly the threshold it is not yet lost; a moment later it is.
    assert lead_imports_lost_requeue(now=lead_import.created_at + dt.timedelta(seconds=300)) == []
    lead_import.refresh_from_db()
    assert lead_import.status == LeadImport.Status.PENDING
    assert not Lead.objects.exists()
    assert lead_imports_lost_requeue(now=lead_import.created_at + dt.timedelta(seconds=301)) == [lead_import.pk]


def test_it_does_not_queue_again_an_import_a_worker_has_claimed() -> None:
    lead_import = _uploaded(age_s=3600)
    # lead_import_process's claim, as a worker that is still reading the file has made it.
    LeadImport.objects.filter(pk=lead_import.pk).update(status=LeadImport.Status.RUNNING)

    assert tasks.lead_imports_lost_requeue() == 0
    # Even a second message delivered for it imports nothing.
    assert tasks.lead_import_process(lead_import.pk) == "not waiting"
    assert not Lead.objects.exists()
    assert LeadImport.objects.get(pk=lead_import.pk).status == LeadImport.Status.RUNNING


def test_it_leaves_finished_imports_and_those_without_a_file_alone() -> None:
    done = _uploaded(age_s=3600)
    tasks.lead_import_process(done.pk)
    # A Google Sheet's import keeps no file and is run where it is created, never by a worker.
    sheet = _uploaded(age_s=3600, keep_file=False)

    assert tasks.lead_imports_lost_requeue() == 0
    assert LeadImport.objects.get(pk=sheet.pk).status == LeadImport.Status.PENDING
    assert Lead.objects.count() == 2


def test_beat_runs_the_sweep_as_often_as_the_threshold() -> None:
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    (name,) = [
        n for n, e in celery_app.conf.beat_schedule.items() if e["task"] == "leads.tasks.lead_imports_lost_requeue"
    ]
    # What `celery beat` does with the settings' schedule when it starts.
    DatabaseScheduler.Entry.from_entry(name, app=celery_app, **celery_app.conf.beat_schedule[name])

    periodic = PeriodicTask.objects.get(task="leads.tasks.lead_imports_lost_requeue")
    assert periodic.interval is not None and periodic.interval.every == 300
    assert "leads.tasks.lead_imports_lost_requeue" in celery_app.tasks
