"""A lead file over LEAD_IMPORT_MAX_BYTES is refused while it uploads: Django stops reading it and keeps none of it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client, TestCase
from django.test.client import BOUNDARY, FakePayload, encode_multipart
from django.urls import reverse

from leads.models import Lead, LeadImport
from leads.uploads import FORM_OVERHEAD_BYTES
from reautomation.celery import app as celery_app

pytestmark = pytest.mark.django_db

ADD = "admin:leads_leadimport_add"
HEADER = b"first_name,phone\n"
# Not the MULTIPART_CONTENT object itself: the test client would encode the body a second time.
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture(autouse=True)
def _uploads_to_disk(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every upload goes through the temporary-file handler, into a folder the tests can look in.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def spooled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each chunk Django's temporary-file upload handler writes to disk."""
    chunks: list[int] = []
    write = TemporaryFileUploadHandler.receive_data_chunk

    def write_and_count(handler: TemporaryFileUploadHandler, raw_data: bytes, start: int) -> bytes | None:
        chunks.append(len(raw_data))
        return write(handler, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", write_and_count)
    return chunks


@pytest.fixture
def csrf_client(admin_user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    return client


def _csv(size: int) -> bytes:
    rows = b"Maria,(415) 555-0134\nJames,(212) 555-0187\n"
    return HEADER + rows + b"x" * (size - len(HEADER) - len(rows))


def _token(client: Client) -> str:
    page = client.get(reverse(ADD)).text
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def _post(client: Client, body: bytes) -> tuple[Any, int]:
    """Post a multipart body; return the response and how many of its bytes the server read."""
    payload = FakePayload(body)
    environ: dict[str, Any] = {"wsgi.input": payload}
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse(ADD), body, content_type=CONTENT_TYPE, **environ)
    return response, len(body) - len(payload)


def _nothing_kept(tmp_path: Path, settings: Any) -> None:
    assert not LeadImport.objects.exists()
    assert not Lead.objects.exists()
    assert not list((tmp_path / "uploads").iterdir())
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]


def test_it_stops_reading_an_upload_whose_content_length_is_over_the_limit(
    csrf_client: Client, settings: Any, tmp_path: Path, spooled: list[int]
) -> None:
    settings.LEAD_IMPORT_MAX_BYTES = 1000
    upload = SimpleUploadedFile("big.csv", _csv(FORM_OVERHEAD_BYTES * 4), content_type="text/csv")
    # The CSRF token comes first, as the form sends it, so the refusal is shown rather than a CSRF failure.
    body = encode_multipart(BOUNDARY, {"csrfmiddlewaretoken": _token(csrf_client), "source": "", "file": upload})

    response, read = _post(csrf_client, body)

    assert response.status_code == 200
    error = response.context["form"].errors["file"][0]
    assert error == (
        "big.csv is 256.3\xa0KB; the most one import takes is 1000\xa0bytes (LEAD_IMPORT_MAX_BYTES). "
        "Split it into smaller files."
    )
    assert "Split it into smaller files" in response.text
    # One read of the parser's 64 KiB chunk, for the form fields before the file; none of the file on disk.
    assert read <= 64 * 1024 < len(body)
    assert spooled == []
    _nothing_kept(tmp_path, settings)


def test_it_stops_a_file_once_more_than_the_limit_has_arrived(
    admin_client: Client, settings: Any, tmp_path: Path, spooled: list[int]
) -> None:
    # A body within the form's overhead of the limit: only the bytes received can tell.
    settings.LEAD_IMPORT_MAX_BYTES = 100_000
    upload = SimpleUploadedFile("open-house.csv", _csv(150_000), content_type="text/csv")
    body = encode_multipart(BOUNDARY, {"source": "", "file": upload})
    assert len(body) <= settings.LEAD_IMPORT_MAX_BYTES + FORM_OVERHEAD_BYTES

    response, read = _post(admin_client, body)

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "open-house.csv is more than 97.7\xa0KB; the most one import takes is 97.7\xa0KB (LEAD_IMPORT_MAX_BYTES). "
        "Split it into smaller files."
    ]
    assert read < len(body)
    assert 0 < sum(spooled) <= settings.LEAD_IMPORT_MAX_BYTES
    _nothing_kept(tmp_path, settings)


def test_it_imports_a_file_exactly_as_large_as_the_limit(csrf_client: Client, settings: Any, tmp_path: Path) -> None:
    data = _csv(100_000)
    settings.LEAD_IMPORT_MAX_BYTES = len(data)
    upload = SimpleUploadedFile("open-house.csv", data, content_type="text/csv")
    body = encode_multipart(BOUNDARY, {"csrfmiddlewaretoken": _token(csrf_client), "source": "", "file": upload})

    response, read = _post(csrf_client, body)

    assert response.status_code == 302
    lead_import = LeadImport.objects.get()
    assert lead_import.status == LeadImport.Status.COMPLETED and lead_import.imported_count == 2
    assert read == len(body)
    # The upload's temporary file is gone with the request; the stored copy is the import's.
    assert not list((tmp_path / "uploads").iterdir())


def test_the_upload_still_requires_the_csrf_token(csrf_client: Client, tmp_path: Path, settings: Any) -> None:
    upload = SimpleUploadedFile("open-house.csv", _csv(1000), content_type="text/csv")
    body = encode_multipart(BOUNDARY, {"source": "", "file": upload})

    response, _ = _post(csrf_client, body)

    assert response.status_code == 403
    _nothing_kept(tmp_path, settings)


def test_a_user_who_may_not_add_imports_is_refused_before_the_body_is_read(
    client: Client, django_user_model: Any, tmp_path: Path, settings: Any
) -> None:
    staff = django_user_model.objects.create_user(username="viewer", password="x", is_staff=True)
    client.force_login(staff)
    upload = SimpleUploadedFile("open-house.csv", _csv(1000), content_type="text/csv")
    body = encode_multipart(BOUNDARY, {"source": "", "file": upload})

    response, read = _post(client, body)

    assert response.status_code == 403
    assert read == 0
    _nothing_kept(tmp_path, settings)
