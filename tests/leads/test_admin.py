from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from billing.models import CostEntry
from calls.models import TranscriptTurn
from leads.models import Consent, DoNotCall, Lead, LeadImport
from reautomation.celery import app as celery_app
from tests.factories import (
    CallFactory,
    ConsentFactory,
    CostEntryFactory,
    DoNotCallFactory,
    LeadFactory,
    LeadImportFactory,
    TranscriptTurnFactory,
)

pytestmark = pytest.mark.django_db

NO_CONSENTS = {"consents-TOTAL_FORMS": "0", "consents-INITIAL_FORMS": "0"}


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _lead_form(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Maria",
        "last_name": "Alvarez",
        "phone": "(212) 555-0187",
        "phone_extension": "",
        "email": "maria@example.com",
        "address": "",
        "city": "",
        "state": "ny",
        "zip_code": "",
        "status": Lead.Status.NEW,
        "intent": Lead.Intent.SELL,
        "score": "",
        "source": "",
        "notes": "",
        "next_attempt_at_0": "",
        "next_attempt_at_1": "",
        "crm_id": "",
        "sheet_row": "",
        **NO_CONSENTS,
    }
    data.update(overrides)
    return data


# --- Lead ----------------------------------------------------------------------


def test_it_lists_leads(admin_client: Client) -> None:
    lead = LeadFactory.create(first_name="Maria", last_name="Alvarez", phone="+14155550134")
    response = admin_client.get(reverse("admin:leads_lead_changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [lead]
    assert "Maria Alvarez" in response.text
    assert "+14155550134" in response.text


def test_it_shows_the_lead_add_and_change_pages(admin_client: Client) -> None:
    lead = LeadFactory.create(first_name="Maria")
    ConsentFactory.create(lead=lead, source="open house sign-in")
    assert admin_client.get(reverse("admin:leads_lead_add")).status_code == 200
    response = admin_client.get(reverse("admin:leads_lead_change", args=[lead.pk]))
    assert response.status_code == 200
    assert "open house sign-in" in response.text


def test_it_finds_a_lead_by_name(admin_client: Client) -> None:
    maria = LeadFactory.create(first_name="Maria", last_name="Alvarez")
    LeadFactory.create(first_name="James", last_name="Whitfield")
    response = admin_client.get(reverse("admin:leads_lead_changelist"), {"q": "Maria Alvarez"})
    assert list(response.context["cl"].result_list) == [maria]


def test_it_finds_a_lead_by_a_phone_number_typed_in_local_format(admin_client: Client) -> None:
    lead = LeadFactory.create(phone="+14155550134")
    LeadFactory.create(phone="+14155550135")
    response = admin_client.get(reverse("admin:leads_lead_changelist"), {"q": "(415) 555-0134"})
    assert list(response.context["cl"].result_list) == [lead]


def test_it_filters_leads_by_active_consent(admin_client: Client) -> None:
    consenting = LeadFactory.create()
    ConsentFactory.create(lead=consenting)
    revoked = LeadFactory.create()
    ConsentFactory.create(lead=revoked, revoked_at=timezone.now())
    url = reverse("admin:leads_lead_changelist")
    assert list(admin_client.get(url, {"consent": "yes"}).context["cl"].result_list) == [consenting]
    assert list(admin_client.get(url, {"consent": "no"}).context["cl"].result_list) == [revoked]


def test_it_filters_leads_due_for_a_call(admin_client: Client) -> None:
    now = timezone.now()
    due = LeadFactory.create(next_attempt_at=now - dt.timedelta(minutes=5))
    later = LeadFactory.create(next_attempt_at=now + dt.timedelta(hours=2))
    unscheduled = LeadFactory.create()
    url = reverse("admin:leads_lead_changelist")
    assert list(admin_client.get(url, {"next_attempt": "due"}).context["cl"].result_list) == [due]
    assert list(admin_client.get(url, {"next_attempt": "later"}).context["cl"].result_list) == [later]
    assert list(admin_client.get(url, {"next_attempt": "none"}).context["cl"].result_list) == [unscheduled]


def test_it_normalises_the_phone_and_derives_the_time_zone_of_an_added_lead(admin_client: Client) -> None:
    data = _lead_form(
        phone="(212) 555-0187 ext 12",
        **{
            "consents-TOTAL_FORMS": "1",
            "consents-0-source": "open house",
            "consents-0-text": "Yes, call me.",
            "consents-0-given_at_0": "2026-11-02",
            "consents-0-given_at_1": "10:00:00",
        },
    )
    response = admin_client.post(reverse("admin:leads_lead_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    lead = Lead.objects.get()
    assert lead.phone == "+12125550187"
    assert lead.phone_extension == "12"
    assert lead.state == "NY"
    assert lead.timezone == "America/New_York"
    assert lead.timezone_source == Lead.TimezoneSource.BOTH
    assert Consent.objects.get().lead == lead


def test_it_rederives_the_time_zone_when_the_phone_changes(admin_client: Client) -> None:
    lead = LeadFactory.create(phone="+14155550134", state="CA")
    data = _lead_form(phone="312-555-0100", state="IL")
    response = admin_client.post(reverse("admin:leads_lead_change", args=[lead.pk]), data)
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.phone == "+13125550100"
    assert lead.timezone == "America/Chicago"


def test_it_rejects_a_number_already_on_a_lead_in_another_format(admin_client: Client) -> None:
    LeadFactory.create(phone="+12125550187")
    response = admin_client.post(reverse("admin:leads_lead_add"), _lead_form(phone="212.555.0187"))
    assert response.status_code == 200
    assert "phone" in response.context["adminform"].form.errors
    assert Lead.objects.count() == 1


def test_it_rejects_an_undialable_number_and_an_unknown_state(admin_client: Client) -> None:
    response = admin_client.post(reverse("admin:leads_lead_add"), _lead_form(phone="12", state="ZZ"))
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"phone", "state"}
    assert not Lead.objects.exists()


def test_it_marks_a_lead_added_with_a_do_not_call_number(admin_client: Client) -> None:
    DoNotCallFactory.create(phone="+12125550187")
    response = admin_client.post(reverse("admin:leads_lead_add"), _lead_form())
    assert response.status_code == 302
    assert Lead.objects.get().status == Lead.Status.DO_NOT_CALL


def test_it_adds_the_selected_leads_to_the_do_not_call_list(admin_client: Client) -> None:
    chosen = LeadFactory.create(phone="+14155550134", next_attempt_at=timezone.now())
    other = LeadFactory.create(phone="+14155550135")
    response = admin_client.post(
        reverse("admin:leads_lead_changelist"), {"action": "add_to_do_not_call", "_selected_action": [chosen.pk]}
    )
    assert response.status_code == 302
    entry = DoNotCall.objects.get()
    assert entry.phone == "+14155550134"
    assert entry.source == DoNotCall.Source.ADMIN
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert chosen.status == Lead.Status.DO_NOT_CALL
    assert chosen.next_attempt_at is None
    assert other.status == Lead.Status.NEW
    assert _messages(response) == ["Added 1 number to the do-not-call list."]


def test_it_deletes_a_lead_with_its_calls_transcripts_and_costs(admin_client: Client) -> None:
    # The read-only transcript and ledger admins must not block erasing a lead.
    call = CallFactory.create()
    TranscriptTurnFactory.create(call=call)
    CostEntryFactory.create(call=call)
    response = admin_client.post(reverse("admin:leads_lead_delete", args=[call.lead_id]), {"post": "yes"})
    assert response.status_code == 302
    assert not Lead.objects.exists()
    assert not TranscriptTurn.objects.exists()
    assert not CostEntry.objects.exists()


def test_it_autocompletes_leads_for_a_call(admin_client: Client) -> None:
    maria = LeadFactory.create(first_name="Maria")
    LeadFactory.create(first_name="James")
    response = admin_client.get(
        "/admin/autocomplete/", {"app_label": "calls", "model_name": "call", "field_name": "lead", "term": "Mar"}
    )
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(maria.pk)]


# --- Consent ---------------------------------------------------------------------


def test_it_lists_and_shows_consents(admin_client: Client) -> None:
    consent = ConsentFactory.create(source="web form", lead__phone="+14155550134")
    response = admin_client.get(reverse("admin:leads_consent_changelist"), {"q": "415 555 0134"})
    assert list(response.context["cl"].result_list) == [consent]
    assert admin_client.get(reverse("admin:leads_consent_add")).status_code == 200
    assert admin_client.get(reverse("admin:leads_consent_change", args=[consent.pk])).status_code == 200


# --- Do-not-call ----------------------------------------------------------------


def test_it_lists_and_searches_the_do_not_call_list(admin_client: Client) -> None:
    entry = DoNotCallFactory.create(phone="+12125550100", source=DoNotCall.Source.REGISTRY)
    DoNotCallFactory.create(phone="+12125550101")
    url = reverse("admin:leads_donotcall_changelist")
    assert list(admin_client.get(url, {"q": "(212) 555-0100"}).context["cl"].result_list) == [entry]
    assert list(admin_client.get(url, {"source__exact": "registry"}).context["cl"].result_list) == [entry]
    assert admin_client.get(reverse("admin:leads_donotcall_add")).status_code == 200
    response = admin_client.get(reverse("admin:leads_donotcall_change", args=[entry.pk]))
    assert response.status_code == 200
    # The number is shown but cannot be edited.
    assert 'name="phone"' not in response.text


def test_it_normalises_a_number_added_to_the_do_not_call_list_and_marks_its_lead(admin_client: Client) -> None:
    lead = LeadFactory.create(phone="+14155550134")
    response = admin_client.post(
        reverse("admin:leads_donotcall_add"),
        {"phone": "(415) 555-0134", "reason": "asked on the phone", "source": DoNotCall.Source.ADMIN},
    )
    assert response.status_code == 302
    entry = DoNotCall.objects.get()
    assert entry.phone == "+14155550134"
    assert entry.reason == "asked on the phone"
    assert response["Location"] == reverse("admin:leads_donotcall_changelist")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.DO_NOT_CALL


def test_it_rejects_a_do_not_call_number_already_listed_in_another_format(admin_client: Client) -> None:
    DoNotCallFactory.create(phone="+14155550134")
    response = admin_client.post(
        reverse("admin:leads_donotcall_add"), {"phone": "415-555-0134", "reason": "", "source": "admin"}
    )
    assert response.status_code == 200
    assert "phone" in response.context["adminform"].form.errors
    assert DoNotCall.objects.count() == 1


# --- Lead import -----------------------------------------------------------------

CSV = (
    "First Name,Last Name,Phone,State\n"
    "Maria,Alvarez,(415) 555-0134,CA\n"
    "Bad,Number,12,CA\n"
    "James,Whitfield,(212) 555-0187,NY\n"
)


@pytest.fixture(autouse=True)
def _imports_run_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # The upload queues leads.tasks.lead_import_process; here it runs in this process, as in the embedded default.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def _upload(admin_client: Client, content: bytes, name: str = "open-house.csv") -> Any:
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    # The task is queued on commit; the test's transaction never commits, so its callbacks run here.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return admin_client.post(reverse("admin:leads_leadimport_add"), {"file": upload, "source": "Open house"})


def test_it_shows_the_upload_form(admin_client: Client) -> None:
    changelist = admin_client.get(reverse("admin:leads_leadimport_changelist"))
    assert "Upload CSV" in changelist.text
    response = admin_client.get(reverse("admin:leads_leadimport_add"))
    assert response.status_code == 200
    assert 'type="file"' in response.text


def test_it_imports_an_uploaded_csv_and_shows_the_result(admin_client: Client) -> None:
    response = _upload(admin_client, CSV.encode())

    lead_import = LeadImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:leads_leadimport_change", args=[lead_import.pk])
    assert lead_import.status == LeadImport.Status.COMPLETED
    assert lead_import.file_name == "open-house.csv"
    assert (lead_import.total_rows, lead_import.imported_count, lead_import.invalid_count) == (3, 2, 1)
    assert lead_import.created_by is not None
    assert sorted(Lead.objects.values_list("phone", "source", "lead_import")) == [
        ("+12125550187", "Open house", lead_import.pk),
        ("+14155550134", "Open house", lead_import.pk),
    ]
    assert _messages(response) == ["open-house.csv is queued for import."]


def test_it_lists_the_rejected_rows_on_the_import_page(admin_client: Client) -> None:
    _upload(admin_client, CSV.encode())
    lead_import = LeadImport.objects.get()
    reason = lead_import.row_errors[0]["reason"]

    response = admin_client.get(reverse("admin:leads_leadimport_change", args=[lead_import.pk]))

    assert response.status_code == 200
    assert "<td>3</td><td>error</td><td>invalid</td>" in response.text
    assert reason.replace("'", "&#x27;") in response.text
    assert reverse("admin:leads_leadimport_report", args=[lead_import.pk]) in response.text


def test_it_shows_only_the_first_rejected_rows_on_the_import_page(admin_client: Client) -> None:
    errors = [{"line": n, "level": "error", "kind": "invalid", "reason": f"bad {n}", "row": {}} for n in range(2, 62)]
    lead_import = LeadImportFactory.create(row_errors=errors, invalid_count=60)
    response = admin_client.get(reverse("admin:leads_leadimport_change", args=[lead_import.pk]))
    assert "bad 51" in response.text
    assert "bad 52" not in response.text
    assert "10 more in the downloadable report" in response.text


def test_it_downloads_the_import_report_as_csv(admin_client: Client) -> None:
    _upload(admin_client, CSV.encode())
    lead_import = LeadImport.objects.get()

    response = admin_client.get(reverse("admin:leads_leadimport_report", args=[lead_import.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="open-house-report.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["line"], r["kind"], r["Phone"]) for r in rows] == [("3", "invalid", "12")]
    assert rows[0]["reason"] == lead_import.row_errors[0]["reason"]


def test_the_import_report_never_hands_a_spreadsheet_a_formula(admin_client: Client) -> None:
    rows = [
        "Name,Phone,Notes",
        '"=HYPERLINK(""http://evil.example"",""click"")",12,x',
        "Bob,+cmd|' /C calc'!A0,@SUM(1+1)",
        "Eve,-2+3,\tTAB",
    ]
    _upload(admin_client, ("\n".join(rows) + "\n").encode())
    lead_import = LeadImport.objects.get()

    response = admin_client.get(reverse("admin:leads_leadimport_report", args=[lead_import.pk]))

    cells = [c for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig"))) for c in row]
    formulas = [c for c in cells if c[:1] in {"=", "+", "-", "@", "\t", "\r"}]
    assert formulas == [], formulas
    assert '\'=HYPERLINK("http://evil.example","click")' in cells or "'+cmd|' /C calc'!A0" in cells


def test_it_reports_a_file_that_cannot_be_imported(admin_client: Client) -> None:
    response = _upload(admin_client, b"Name,Email\nMaria,maria@example.com\n", name="no-phone.csv")
    lead_import = LeadImport.objects.get()
    assert lead_import.status == LeadImport.Status.FAILED
    assert not Lead.objects.exists()
    assert "no phone" in lead_import.error.lower()
    assert response.status_code == 302


def test_it_requires_a_file_to_upload(admin_client: Client) -> None:
    response = admin_client.post(reverse("admin:leads_leadimport_add"), {"source": "Open house"})
    assert response.status_code == 200
    assert "file" in response.context["form"].errors
    assert not LeadImport.objects.exists()


def test_it_answers_404_for_the_report_of_a_missing_import(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:leads_leadimport_report", args=[999]))
    assert response.status_code == 404


def test_it_searches_imports_by_file_name(admin_client: Client) -> None:
    wanted = LeadImportFactory.create(file_name="zillow-november.csv")
    LeadImportFactory.create(file_name="open-house.csv")
    response = admin_client.get(reverse("admin:leads_leadimport_changelist"), {"q": "zillow"})
    assert list(response.context["cl"].result_list) == [wanted]


def test_an_imported_value_that_starts_like_a_formula_is_kept_as_text_and_flagged(admin_client: Client) -> None:
    rows = ["Name,Phone,Notes,Address", 'Ann,+14155550142,"=HYPERLINK(""http://evil.example"")",@home']
    _upload(admin_client, ("\n".join(rows) + "\n").encode())
    lead = Lead.objects.get(phone="+14155550142")
    assert lead.notes == '=HYPERLINK("http://evil.example")' and lead.address == "@home"
    reasons = [p["reason"] for p in LeadImport.objects.get().row_errors]
    assert "notes starts like a spreadsheet formula and is kept as text" in reasons
    assert "address starts like a spreadsheet formula and is kept as text" in reasons
