"""A lead file uploaded in the admin is imported by a Celery task, with its progress shown, and deleted later."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from leads import services
from leads.models import Lead, LeadImport
from leads.services import lead_import_create, lead_import_files_expire, lead_import_process
from reautomation.celery import app as celery_app
from tests.factories import LeadImportFactory

pytestmark = pytest.mark.django_db

CSV = b"first_name,phone\nMaria,(415) 555-0134\nBad,12\nJames,(212) 555-0187\nAmy,(415) 555-0199\nBo,(415) 555-0142\n"
REFRESH = '<meta http-equiv="refresh" content="2">'


@pytest.fixture(autouse=True)
def _eager(monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Any) -> None:
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.MEDIA_ROOT = str(tmp_path)


def _change_page(admin_client: Client, lead_import: LeadImport) -> str:
    return admin_client.get(reverse("admin:leads_leadimport_change", args=[lead_import.pk])).text


def test_an_upload_waits_for_a_worker_then_the_task_imports_it(admin_client: Client) -> None:
    upload = SimpleUploadedFile("open-house.csv", CSV, content_type="text/csv")
    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        response = admin_client.post(reverse("admin:leads_leadimport_add"), {"file": upload, "source": "Open house"})

    # The request only stored the file and queued the work.
    lead_import = LeadImport.objects.get()
    assert response.status_code == 302 and len(queued) == 1
    assert lead_import.status == LeadImport.Status.PENDING and not Lead.objects.exists()
    waiting = _change_page(admin_client, lead_import)
    assert "Waiting for a worker" in waiting and REFRESH in waiting

    queued[0]()  # the worker's turn

    lead_import.refresh_from_db()
    assert lead_import.status == LeadImport.Status.COMPLETED
    assert (lead_import.rows_expected, lead_import.processed_rows, lead_import.imported_count) == (5, 5, 4)
    assert Lead.objects.filter(source="Open house").count() == 4
    done = _change_page(admin_client, lead_import)
    assert "5 rows read" in done and REFRESH not in done


def test_a_running_import_shows_how_far_it_has_got(admin_client: Client) -> None:
    lead_import = LeadImportFactory.create(status=LeadImport.Status.RUNNING, rows_expected=10, processed_rows=4)

    page = _change_page(admin_client, lead_import)

    assert '<progress max="10" value="4"></progress> 4 of 10 rows' in page
    assert REFRESH in page


def test_the_task_writes_its_progress_as_it_goes(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setattr(services, "PROGRESS_EVERY_ROWS", 2)
    settings.LEAD_IMPORT_BATCH_SIZE = 2
    lead_import = lead_import_create(file_name="open-house.csv", data=CSV)
    seen: list[int] = []
    insert = services._insert

    def insert_and_look(state: Any, rows: Any) -> None:
        seen.append(LeadImport.objects.get(pk=lead_import.pk).processed_rows)
        insert(state, rows)

    monkeypatch.setattr(services, "_insert", insert_and_look)

    lead_import_process(lead_import_id=lead_import.pk)

    # Batches of two good rows land at rows 3 (one was bad) and 5: the stored count had moved on by then.
    assert seen[:2] == [2, 4]
    assert LeadImport.objects.get(pk=lead_import.pk).processed_rows == 5


def test_a_task_delivered_twice_imports_the_file_once() -> None:
    lead_import = lead_import_create(file_name="open-house.csv", data=CSV)

    first = lead_import_process(lead_import_id=lead_import.pk)
    second = lead_import_process(lead_import_id=lead_import.pk)

    assert first is not None and first.status == LeadImport.Status.COMPLETED
    assert second is None
    assert Lead.objects.count() == 4


def test_an_import_whose_file_is_gone_fails_with_the_reason() -> None:
    lead_import = lead_import_create(file_name="open-house.csv", data=CSV)
    default_storage.delete(lead_import.file.name)

    result = lead_import_process(lead_import_id=lead_import.pk)

    assert result is not None and result.status == LeadImport.Status.FAILED
    assert result.error.startswith("The uploaded file can't be read")


def test_old_uploaded_files_are_deleted_and_their_results_kept(admin_client: Client, settings: Any) -> None:
    settings.LEAD_IMPORT_FILE_RETENTION_DAYS = 30
    now = timezone.now()
    old = lead_import_create(file_name="old.csv", data=CSV)
    lead_import_process(lead_import_id=old.pk)
    recent = lead_import_create(file_name="recent.csv", data=CSV)
    waiting = lead_import_create(file_name="waiting.csv", data=CSV)
    LeadImport.objects.filter(pk__in=[old.pk, waiting.pk]).update(created_at=now - dt.timedelta(days=31))
    old_path = LeadImport.objects.get(pk=old.pk).file.name

    assert lead_import_files_expire(now=now) == 1

    old.refresh_from_db()
    assert not old.file and old.file_removed_at == now
    assert not default_storage.exists(old_path)
    # The record and its report outlive the file; a file still waiting for its import is kept.
    assert old.imported_count == 4 and old.row_errors
    report = admin_client.get(reverse("admin:leads_leadimport_report", args=[old.pk]))
    assert report.status_code == 200 and "invalid" in report.content.decode("utf-8-sig")
    assert LeadImport.objects.get(pk=recent.pk).file and LeadImport.objects.get(pk=waiting.pk).file
    assert lead_import_files_expire(now=now) == 0


@pytest.mark.django_db(transaction=True)
def test_in_the_embedded_default_the_upload_reports_the_result_at_once(admin_client: Client) -> None:
    # Autocommit and eager Celery: the queued task runs as the upload's request commits.
    upload = SimpleUploadedFile("open-house.csv", CSV, content_type="text/csv")

    response = admin_client.post(reverse("admin:leads_leadimport_add"), {"file": upload, "source": ""}, follow=True)

    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        "Imported 4 of 5 rows from open-house.csv. 1 rejected: 1 invalid, 0 duplicate, "
        "0 on the do-not-call list. Each is listed below and in the downloadable report."
    ]
