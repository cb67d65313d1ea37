"""The Google Sheets sync against recorded Sheets API exchanges (tests/fixtures/sheets/), replayed at the transport."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import jwt
import pytest
import time_machine
from celery.exceptions import Retry
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.urls import reverse
from django.utils import timezone

from integrations.models import SheetLead, SheetSync, SheetSyncRun
from integrations.sheets import services
from integrations.sheets.client import SheetsClient, column_letter
from integrations.tasks import sheet_sync, sheets_sync_due
from leads.models import Lead, LeadImport
from tests.factories import AppointmentFactory, CallFactory, DoNotCallFactory, SheetSyncFactory
from tests.sheets_replay import ACCESS_TOKEN, CassetteAdapter

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
SERVICE_ACCOUNT = "reautomation-sync@reautomation-test.iam.gserviceaccount.com"
RESULT_HEADERS = ["Status", "Outcome", "Score", "Appointment", "Next attempt", "DNC"]


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def service_account_file(tmp_path: Path, settings: Any, rsa_key: rsa.RSAPrivateKey) -> Path:
    """A service-account key as Google's console downloads it, with a key made for the test."""
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = tmp_path / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "reautomation-test",
                "private_key_id": "0123456789abcdef0123456789abcdef01234567",
                "private_key": pem,
                "client_email": SERVICE_ACCOUNT,
                "client_id": "100000000000000000001",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    settings.GOOGLE_SERVICE_ACCOUNT_FILE = str(path)
    settings.GOOGLE_SHEETS_TIMEOUT_S = 20.0
    return path


@pytest.fixture
def replay(service_account_file: Path) -> Iterator[Any]:
    """Patch the client's one transport; each test loads the cassettes it replays."""
    adapters: list[CassetteAdapter] = []

    def load(*names: str) -> CassetteAdapter:
        adapter = CassetteAdapter(*names)
        adapters.append(adapter)
        return adapter

    with mock.patch("integrations.sheets.client.http_adapter", autospec=True) as http_adapter:
        http_adapter.side_effect = lambda: adapters[-1]
        yield load


def _sheet(**fields: Any) -> SheetSync:
    return SheetSyncFactory(column_map={"Contact #": "phone"}, source="Broker sheet", **fields)


def _written(adapter: CassetteAdapter) -> dict[str, Any]:
    (update,) = [r for r in adapter.sheets_requests() if r.url.endswith("values:batchUpdate")]
    return update.json


@time_machine.travel(NOW, tick=False)
def test_it_imports_good_rows_reports_bad_ones_by_row_and_writes_status_back_in_one_batch(
    replay: Any, rsa_key: rsa.RSAPrivateKey
) -> None:
    DoNotCallFactory(phone="+12125550199")
    sheet = _sheet()
    adapter = replay("first_sync.json")

    run = services.sheet_sync_run(sheet_sync_id=sheet.pk, trigger="admin")

    assert run.status == SheetSyncRun.Status.COMPLETED, run.error
    assert (run.rows_read, run.imported_count, run.rejected_count, run.cells_written) == (6, 3, 3, 9)
    leads = {lead.phone: lead for lead in Lead.objects.all()}
    assert set(leads) == {"+14155550101", "+14155550102", "+14155550103"}
    assert leads["+14155550101"].notes == "Wants to sell in the spring"
    assert leads["+14155550101"].source == "Broker sheet"
    # A formula in a name cell is not a name: it is left blank, and the row is still imported.
    assert leads["+14155550103"].last_name == ""
    assert {link.lead.phone: link.row for link in SheetLead.objects.select_related("lead")} == {
        "+14155550101": 2,
        "+14155550102": 5,
        "+14155550103": 8,
    }
    assert leads["+14155550102"].sheet_row == 5
    problems = {(p["line"], p["level"], p["kind"]): p["reason"] for p in run.row_errors}
    assert problems[(3, "error", "invalid")].startswith("invalid phone")
    assert problems[(6, "error", "duplicate")] == "+14155550101 repeats line 2"
    assert problems[(7, "error", "dnc")] == "+12125550199 is on the do-not-call list"
    assert "carla@@example.com" in problems[(5, "warning", "warning")]
    assert run.lead_import is not None and run.lead_import.status == LeadImport.Status.COMPLETED

    # One read, one write, each with a timeout, signed in with the service account's token.
    token, read, write = adapter.received
    assert token.url == "https://oauth2.googleapis.com/token"
    assertion = dict(token.query or _form(token.body))["assertion"]
    claims = jwt.decode(assertion, rsa_key.public_key(), algorithms=["RS256"], audience=token.url)
    assert claims["iss"] == SERVICE_ACCOUNT
    assert claims["scope"] == "https://www.googleapis.com/auth/spreadsheets"
    assert read.method == "GET" and ("ranges", "'Leads'") in read.query
    assert {r.headers["authorization"] for r in (read, write)} == {f"Bearer {ACCESS_TOKEN}"}
    assert {r.timeout for r in adapter.received} == {(10.0, 20.0)}
    assert run.requests_made == 2
    assert _written(adapter) == {
        "valueInputOption": "RAW",
        "data": [
            {"range": "'Leads'!G1:L1", "values": [RESULT_HEADERS]},
            {"range": "'Leads'!G2", "values": [["New"]]},
            {"range": "'Leads'!G5", "values": [["New"]]},
            {"range": "'Leads'!G8", "values": [["New"]]},
        ],
    }
    assert adapter.unused == []
    sheet.refresh_from_db()
    assert sheet.last_synced_at == NOW and sheet.syncing_since is None


def _form(body: bytes) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(body.decode())


@time_machine.travel(NOW, tick=False)
def test_it_imports_nothing_twice_and_writes_nothing_when_the_sheet_already_shows_the_results(replay: Any) -> None:
    DoNotCallFactory(phone="+12125550199")
    sheet = _sheet()
    replay("first_sync.json")
    services.sheet_sync_run(sheet_sync_id=sheet.pk)
    adapter = replay("unchanged_sync.json")

    run = services.sheet_sync_run(sheet_sync_id=sheet.pk)

    assert run.status == SheetSyncRun.Status.COMPLETED, run.error
    assert Lead.objects.count() == 3
    # Jane's second row counts as hers; the invalid and do-not-call rows are reported again until fixed.
    assert (run.already_imported, run.imported_count, run.rejected_count) == (4, 0, 2)
    assert [r.url.rsplit("/", 1)[-1].split("?")[0] for r in adapter.sheets_requests()] == ["values:batchGet"]
    assert (run.cells_written, run.requests_made) == (0, 1)


@time_machine.travel(NOW, tick=False)
def test_it_follows_moved_rows_by_phone_and_writes_only_the_changed_results(replay: Any) -> None:
    DoNotCallFactory(phone="+12125550199")
    sheet = _sheet()
    replay("first_sync.json")
    services.sheet_sync_run(sheet_sync_id=sheet.pk)
    jane = Lead.objects.get(phone="+14155550101")
    jane.score, jane.status = 82, Lead.Status.APPOINTMENT
    jane.save()
    start = dt.datetime(2026, 12, 1, 23, 0, tzinfo=dt.UTC)
    AppointmentFactory(lead=jane, start=start, end=start + dt.timedelta(minutes=30))
    CallFactory(lead=jane, status="completed", outcome="appointment")
    Lead.objects.filter(phone="+14155550102").update(status=Lead.Status.DO_NOT_CALL)
    adapter = replay("rows_moved_sync.json")

    run = services.sheet_sync_run(sheet_sync_id=sheet.pk)

    assert run.status == SheetSyncRun.Status.COMPLETED, run.error
    assert run.imported_count == 1 and Lead.objects.filter(phone="+14155550104").exists()
    assert {link.lead.phone: link.row for link in SheetLead.objects.select_related("lead")} == {
        "+14155550104": 2,
        "+14155550101": 3,
        "+14155550102": 6,
        "+14155550103": 9,
    }
    assert _written(adapter)["data"] == [
        {"range": "'Leads'!G2", "values": [["New"]]},
        {"range": "'Leads'!G3:J3", "values": [["Appointment booked"] * 2 + ["82", "2026-12-01 15:00 PST"]]},
        {"range": "'Leads'!G6", "values": [["Do not call"]]},
        {"range": "'Leads'!L6", "values": [["yes"]]},
    ]


@time_machine.travel(NOW, tick=False)
def test_it_writes_results_to_an_output_tab_one_row_per_lead(replay: Any) -> None:
    sheet = _sheet(write_back=SheetSync.WriteBack.OUTPUT_SHEET, output_worksheet="Results")
    adapter = replay("output_tab_sync.json")

    run = services.sheet_sync_run(sheet_sync_id=sheet.pk)

    assert run.status == SheetSyncRun.Status.COMPLETED, run.error
    read = adapter.sheets_requests()[0]
    assert [v for k, v in read.query if k == "ranges"] == ["'Leads'", "'Results'"]
    header = ["Phone", "Name", *RESULT_HEADERS]
    assert _written(adapter)["data"] == [
        {"range": "'Results'!A1:H1", "values": [header]},
        {"range": "'Results'!A2:C2", "values": [["+14155550101", "Jane Smith", "New"]]},
        {"range": "'Results'!A3:C3", "values": [["+14155550102", "Carla Diaz", "New"]]},
    ]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("cassette", ["rate_limited.json", "server_error.json"])
def test_it_schedules_a_celery_retry_with_backoff_on_quota_and_server_errors(replay: Any, cassette: str) -> None:
    sheet = _sheet()
    replay(cassette)

    with (
        mock.patch("time.sleep", side_effect=AssertionError("a worker must not sleep")),
        mock.patch.object(sheet_sync, "retry", side_effect=Retry) as retry,
        pytest.raises(Retry),
    ):
        sheet_sync(sheet.pk)

    run = SheetSyncRun.objects.get()
    assert run.status == SheetSyncRun.Status.RETRYING
    assert "RESOURCE_EXHAUSTED" in run.error or "UNAVAILABLE" in run.error
    # The first retry waits 15-30 s (30 s, less up to half of it as jitter).
    assert run.next_retry_at is not None
    assert 15 <= (run.next_retry_at - NOW).total_seconds() <= 30
    assert 15 <= retry.call_args.kwargs["countdown"] <= 30
    sheet.refresh_from_db()
    assert sheet.syncing_since is None and sheet.last_synced_at is None


def test_it_gives_up_after_the_last_attempt(replay: Any) -> None:
    sheet = _sheet()
    replay("rate_limited.json")

    run = services.sheet_sync_run(sheet_sync_id=sheet.pk, attempt=5, max_attempts=5)

    assert run.status == SheetSyncRun.Status.FAILED and run.next_retry_at is None


def test_it_fails_without_retrying_when_the_spreadsheet_does_not_exist(replay: Any) -> None:
    sheet = _sheet(spreadsheet_id="test")
    replay("not_found.json")

    run = services.sheet_sync_run(sheet_sync_id=sheet.pk, max_attempts=5)

    assert run.status == SheetSyncRun.Status.FAILED
    assert "404 NOT_FOUND: Requested entity was not found. (check the spreadsheet id)" in run.error


def test_it_refuses_to_sync_while_another_sync_holds_the_sheet(replay: Any) -> None:
    sheet = _sheet()
    SheetSync.objects.filter(pk=sheet.pk).update(syncing_since=timezone.now())

    run = services.sheet_sync_run(sheet_sync_id=sheet.pk)

    assert run.status == SheetSyncRun.Status.SKIPPED


def test_it_is_off_with_a_clear_message_when_no_service_account_is_configured(settings: Any) -> None:
    settings.GOOGLE_SERVICE_ACCOUNT_FILE = ""
    sheet = _sheet()

    run = services.sheet_sync_run(sheet_sync_id=sheet.pk)

    assert run.status == SheetSyncRun.Status.FAILED
    assert run.error == "Google Sheets sync is off: GOOGLE_SERVICE_ACCOUNT_FILE is not set"
    assert sheets_sync_due() == 0


def test_it_queues_every_active_sheet_from_beat_spaced_for_the_quota(
    service_account_file: Path, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    assert settings.CELERY_BEAT_SCHEDULE["google sheets sync"]["task"] == "integrations.tasks.sheets_sync_due"
    first, second = _sheet(), _sheet()
    _sheet(is_active=False)

    with django_capture_on_commit_callbacks() as callbacks:
        assert sheets_sync_due() == 2

    # Each callback is apply_async((sheet id, trigger), countdown=...), run once the transaction commits.
    assert [(c.args[0], c.keywords["countdown"]) for c in callbacks] == [
        ((first.pk, "beat"), 0),
        ((second.pk, "beat"), services.SPACING_S),
    ]


def test_it_names_columns_like_a_spreadsheet() -> None:
    assert [column_letter(i) for i in (0, 6, 25, 26, 701, 702)] == ["A", "G", "Z", "AA", "ZZ", "AAA"]


def test_it_reports_an_unreadable_key_file(settings: Any, tmp_path: Path) -> None:
    settings.GOOGLE_SERVICE_ACCOUNT_FILE = str(tmp_path / "missing.json")

    with pytest.raises(Exception, match="cannot read the service-account key"):
        SheetsClient.from_settings()


def test_it_warns_in_the_admin_that_sync_is_off_without_a_service_account(admin_client: Any, settings: Any) -> None:
    settings.GOOGLE_SERVICE_ACCOUNT_FILE = ""
    sheet = _sheet()
    changelist = reverse("admin:integrations_sheetsync_changelist")

    page = admin_client.get(changelist)
    response = admin_client.post(changelist, {"action": "sync_now", "_selected_action": [sheet.pk]}, follow=True)

    assert "Google Sheets sync is off: GOOGLE_SERVICE_ACCOUNT_FILE is not set" in page.content.decode()
    assert "set GOOGLE_SERVICE_ACCOUNT_FILE to a service-account key file" in response.content.decode()
    assert not SheetSyncRun.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_it_syncs_on_demand_from_the_admin_and_shows_the_log(
    admin_client: Any, replay: Any, django_capture_on_commit_callbacks: Any
) -> None:
    DoNotCallFactory(phone="+12125550199")
    sheet = _sheet()
    replay("first_sync.json")
    changelist = reverse("admin:integrations_sheetsync_changelist")

    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post(changelist, {"action": "sync_now", "_selected_action": [sheet.pk]})
    (queued,) = callbacks
    assert queued.args == ((sheet.pk, "admin"),)
    sheet_sync(*queued.args[0])  # what the worker runs

    run = SheetSyncRun.objects.get()
    assert (run.trigger, run.status, run.imported_count) == ("admin", SheetSyncRun.Status.COMPLETED, 3)
    detail = admin_client.get(reverse("admin:integrations_sheetsyncrun_change", args=[run.pk])).content.decode()
    assert "+14155550101 repeats line 2" in detail
    sheet_page = admin_client.get(reverse("admin:integrations_sheetsync_change", args=[sheet.pk])).content.decode()
    assert "Completed" in sheet_page


def test_it_checks_that_the_configured_key_file_is_a_service_account_key(settings: Any, tmp_path: Path) -> None:
    from integrations.checks import google_service_account_check

    settings.GOOGLE_SERVICE_ACCOUNT_FILE = ""
    assert google_service_account_check() == []
    settings.GOOGLE_SERVICE_ACCOUNT_FILE = str(tmp_path / "missing.json")
    assert [m.id for m in google_service_account_check()] == ["integrations.W001"]
    (tmp_path / "user.json").write_text('{"type": "authorized_user"}')
    settings.GOOGLE_SERVICE_ACCOUNT_FILE = str(tmp_path / "user.json")
    assert [m.id for m in google_service_account_check()] == ["integrations.W002"]


def test_it_refuses_a_column_mapping_to_an_unknown_field_in_the_admin(admin_client: Any) -> None:
    response = admin_client.post(
        reverse("admin:integrations_sheetsync_add"),
        {"name": "Leads", "spreadsheet_id": "abc", "worksheet": "Leads", "header_row": 1, "is_active": "on",
         "column_map": '{"Cell": "mobile_phone"}', "write_back": "output_sheet", "output_worksheet": "",
         "result_columns": "{}"},
    )  # fmt: skip

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Unknown lead fields: mobile_phone" in errors["column_map"][0]
    assert errors["output_worksheet"] == ["Name the tab the results go to."]
    assert not SheetSync.objects.exists()


def test_it_fails_a_sync_of_a_sheet_saved_with_invalid_settings(replay: Any) -> None:
    sheet = _sheet(write_back=SheetSync.WriteBack.OUTPUT_SHEET, output_worksheet="")

    run = services.sheet_sync_run(sheet_sync_id=sheet.pk)

    assert run.status == SheetSyncRun.Status.FAILED
    assert run.error == "the sheet's settings are invalid: Name the tab the results go to."
    assert run.requests_made == 0
