"""A lead file over the size or row limit is refused whole, with the limit named, and nothing is imported."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from leads.models import Lead, LeadImport
from leads.services import lead_import_create, lead_import_run
from reautomation.celery import app as celery_app

pytestmark = pytest.mark.django_db

HEADER = b"first_name,phone\n"


def _rows(count: int) -> bytes:
    return HEADER + b"".join(b"Lead %d,+1415555%04d\n" % (i, i) for i in range(count))


def test_the_admin_refuses_a_file_over_the_size_limit(admin_client: Client) -> None:
    data = _rows(3) + b"x" * (30 * 1024 * 1024)
    upload = SimpleUploadedFile("big.csv", data, content_type="text/csv")
    response = admin_client.post(reverse("admin:leads_leadimport_add"), {"file": upload, "source": ""})
    assert response.status_code == 200
    error = response.context["form"].errors["file"][0]
    assert "big.csv is 30.0\xa0MB" in error
    assert "10.0\xa0MB (LEAD_IMPORT_MAX_BYTES)" in error
    assert "Split it into smaller files" in response.content.decode()
    assert not LeadImport.objects.exists()
    assert not Lead.objects.exists()


def test_the_size_limit_comes_from_settings(admin_client: Client, settings: Any) -> None:
    settings.LEAD_IMPORT_MAX_BYTES = 40
    upload = SimpleUploadedFile("leads.csv", _rows(3), content_type="text/csv")
    response = admin_client.post(reverse("admin:leads_leadimport_add"), {"file": upload, "source": ""})
    assert "40\xa0bytes (LEAD_IMPORT_MAX_BYTES)" in response.context["form"].errors["file"][0]
    assert not Lead.objects.exists()


def test_it_refuses_a_file_with_more_rows_than_the_limit(settings: Any) -> None:
    settings.LEAD_IMPORT_MAX_ROWS = 5
    settings.LEAD_IMPORT_BATCH_SIZE = 2  # a partial import would have landed batches before the refusal
    data = _rows(6)
    lead_import = lead_import_run(lead_import=lead_import_create(file_name="leads.csv", data=data), data=data)
    assert lead_import.status == LeadImport.Status.FAILED
    assert "the file has 6 rows, more than the 5 one import takes (LEAD_IMPORT_MAX_ROWS)" in lead_import.error
    assert lead_import.imported_count == 0
    assert not Lead.objects.exists()


def test_it_imports_a_file_with_as_many_rows_as_the_limit(settings: Any) -> None:
    settings.LEAD_IMPORT_MAX_ROWS = 5
    data = _rows(5) + b",\n\n"  # blank rows are not counted
    lead_import = lead_import_run(lead_import=lead_import_create(file_name="leads.csv", data=data), data=data)
    assert lead_import.status == LeadImport.Status.COMPLETED
    assert Lead.objects.count() == 5


# Committed at once, as the embedded default's requests are: the queued import runs (eagerly) before the reply.
@pytest.mark.django_db(transaction=True)
def test_the_admin_says_why_a_file_with_too_many_rows_was_not_imported(
    admin_client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.LEAD_IMPORT_MAX_ROWS = 2
    upload = SimpleUploadedFile("leads.csv", _rows(3), content_type="text/csv")
    response = admin_client.post(reverse("admin:leads_leadimport_add"), {"file": upload, "source": ""}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any("leads.csv was not imported: the file has 3 rows, more than the 2 one" in m for m in messages), messages
    assert not Lead.objects.exists()
