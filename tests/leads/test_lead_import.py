"""Lead CSV import against files as brokers export them (recorded in tests/fixtures/csv/)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from leads import csv_import
from leads.models import Consent, DoNotCall, Lead, LeadImport
from leads.services import dnc_add, lead_import_create, lead_import_report_csv, lead_import_run
from tests.conftest import FIXTURES
from tests.factories import LeadFactory

CSV_DIR = FIXTURES / "csv"

pytestmark = pytest.mark.django_db


def _import(data: bytes, *, file_name: str = "leads.csv", source: str = "", progress: Any = None) -> LeadImport:
    lead_import = lead_import_create(file_name=file_name, data=data, source=source)
    lead_import_run(lead_import=lead_import, data=data, progress=progress)
    # Read back what was saved, not the object the service handed over.
    return LeadImport.objects.get(pk=lead_import.pk)


def _import_fixture(name: str, **kwargs: Any) -> LeadImport:
    return _import((CSV_DIR / name).read_bytes(), file_name=name, **kwargs)


def _errors(lead_import: LeadImport) -> list[tuple[int, str, str]]:
    return sorted((p["line"], p["kind"], p["reason"]) for p in lead_import.row_errors if p["level"] == "error")


def _warnings(lead_import: LeadImport) -> list[tuple[int, str]]:
    return sorted((p["line"], p["reason"]) for p in lead_import.row_errors if p["level"] == "warning")


def _counts(lead_import: LeadImport) -> dict[str, int]:
    return {
        "total": lead_import.total_rows,
        "imported": lead_import.imported_count,
        "invalid": lead_import.invalid_count,
        "duplicate": lead_import.duplicate_count,
        "dnc": lead_import.dnc_count,
    }


def _lead(phone: str) -> Lead:
    return Lead.objects.get(phone=phone)


# Encodings and delimiters


def test_it_imports_an_excel_utf8_file_with_a_bom() -> None:
    lead_import = _import_fixture("excel_utf8_bom.csv", source="Open house")

    assert lead_import.status == LeadImport.Status.COMPLETED
    assert lead_import.encoding == "utf-8-sig"
    assert _counts(lead_import) == {"total": 3, "imported": 3, "invalid": 0, "duplicate": 0, "dnc": 0}
    zoe = _lead("+14155550123")
    # The BOM must not stick to the first header, or "First Name" would go unmapped.
    assert (zoe.first_name, zoe.last_name) == ("Zoë", "Müller")
    assert zoe.phone_extension == "2"
    assert zoe.email == "zoe.muller@example.com"
    assert (zoe.address, zoe.city, zoe.state, zoe.zip_code) == ("12 Noë Valley Rd", "San Francisco", "CA", "94114")
    assert (zoe.source, zoe.intent) == ("Zillow", Lead.Intent.SELL)
    assert (zoe.timezone, zoe.timezone_source) == ("America/Los_Angeles", Lead.TimezoneSource.BOTH)
    assert zoe.lead_import == lead_import


def test_it_applies_the_import_source_only_to_rows_without_one() -> None:
    _import_fixture("excel_utf8_bom.csv", source="Open house")

    assert _lead("+14155550123").source == "Zillow"
    assert _lead("+14155550124").source == "Open house"


def test_it_reads_excel_quirks_in_state_and_zip_columns() -> None:
    _import_fixture("excel_utf8_bom.csv")

    jose = _lead("+14155550124")
    # ="02134" is how Excel users keep a ZIP's leading zero.
    assert (jose.state, jose.zip_code, jose.intent) == ("MA", "02134", Lead.Intent.BUY)
    # A San Francisco number with a Boston address: call hours must respect both.
    assert (jose.timezone, jose.timezone_source) == ("America/Los_Angeles", Lead.TimezoneSource.CONFLICT)
    chloe = _lead("+12125550125")
    assert (chloe.state, chloe.zip_code, chloe.intent) == ("NY", "10016-1234", Lead.Intent.BOTH)


def test_it_decodes_windows_1252_files() -> None:
    lead_import = _import_fixture("excel_cp1252.csv")

    assert lead_import.encoding == "cp1252"
    jose = _lead("+14155550131")
    assert (jose.first_name, jose.last_name) == ("José", "García")
    # Curly quotes and the en dash exist in cp1252 but not in latin-1.
    assert jose.notes == "“Call after 5” – prefers Spanish"  # noqa: RUF001 (the en dash is the point)
    assert _lead("+14155550132").last_name == "Brontë"


def test_it_reads_a_utf16_tab_separated_crm_export() -> None:
    lead_import = _import_fixture("crm_utf16.csv")

    assert lead_import.encoding == "utf-16"
    assert lead_import.imported_count == 2
    zoe = _lead("+13055550141")
    assert (zoe.first_name, zoe.last_name, zoe.email, zoe.state) == ("Zoë", "Ångström", "zoe@example.com", "FL")
    jose = _lead("+15125550142")
    # "Smith, José" in a single name column is last name first.
    assert (jose.first_name, jose.last_name, jose.state) == ("José", "Smith", "TX")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_it_reads_utf16_without_a_bom(encoding: str) -> None:
    data = "Name,Phone\nZoë Ångström,(415) 555-0101\n".encode(encoding)

    lead_import = _import(data)

    assert lead_import.encoding == encoding
    assert (_lead("+14155550101").first_name, lead_import.imported_count) == ("Zoë", 1)


def test_it_survives_a_utf16_file_cut_off_mid_character() -> None:
    data = "Phone,Name\n(415) 555-0101,Ann\n(415) 555-0102,Bo".encode("utf-16")[:-1]

    lead_import = _import(data)

    assert lead_import.status == LeadImport.Status.COMPLETED
    assert lead_import.imported_count == 2
    # The broken character can't be spoken, so the name keeps what can (reported in the row's warnings).
    assert _lead("+14155550102").first_name == "B"


def test_it_removes_nul_characters_that_postgresql_refuses() -> None:
    lead_import = _import(b"Phone,Notes\n(415) 555-0101,call\x00 back\n")

    assert lead_import.imported_count == 1
    assert _lead("+14155550101").notes == "call back"


def test_it_reads_semicolon_separated_files_with_commas_in_values() -> None:
    lead_import = _import_fixture("excel_semicolon.csv")

    assert _counts(lead_import) == {"total": 3, "imported": 3, "invalid": 0, "duplicate": 0, "dnc": 0}
    john = _lead("+14155550161")
    assert (john.first_name, john.last_name, john.notes) == ("John", "Smith", "3 bed, 2 bath")
    assert _lead("+14155550163").notes == "beds; baths"
    assert _warnings(lead_import) == [(3, "email 'jane@example' is not valid and was left blank")]


@pytest.mark.parametrize(
    ("sample", "delimiter"),
    [
        ("Name,Phone,Notes\nAnn,(415) 555-0101,3 bed; 2 bath; pool\n", ","),
        ("Name;Phone;Notes\nSmith, Ann;(415) 555-0101;3 bed, 2 bath\n", ";"),
        ("Name\tPhone\nSmith, Ann\t(415) 555-0101\n", "\t"),
        ("Name|Phone\nAnn|(415) 555-0101\n", "|"),
        ('"Name, full",Phone\n"Smith; Ann",(415) 555-0101\n', ","),
        ("Phone\n(415) 555-0101\n", ","),
        ("", ","),
    ],
)
def test_it_detects_the_delimiter_from_the_header_and_the_rows_below_it(sample: str, delimiter: str) -> None:
    assert csv_import.detect_delimiter(sample) == delimiter


# Quoting, line numbers and ragged rows


def test_it_follows_excel_quoting_and_reports_the_line_each_record_starts_on() -> None:
    lead_import = _import_fixture("excel_quoting.csv")

    assert _counts(lead_import) == {"total": 6, "imported": 4, "invalid": 1, "duplicate": 1, "dnc": 0}
    # Line 3's note runs to line 5, so the bad rows after it are on lines 6 and 7.
    assert _errors(lead_import) == [
        (6, "invalid", "invalid phone: '(555) 123-4567' is not an assigned number (bad area code or exchange)"),
        (7, "duplicate", "+14155550151 repeats line 2"),
    ]
    assert _warnings(lead_import) == []
    jane = _lead("+14155550151")
    assert (jane.first_name, jane.last_name, jane.notes) == ("Jane", "Smith", 'Wants "move-in ready", soon')
    bob = _lead("+14155550152")
    assert bob.notes == 'Call after 5pm\nWife\'s cell is the same, she said\n"no weekends"'
    assert bob.city == "Oakland"
    # A note in single quotes must not make ' the quote character.
    assert _lead("+14155550153").notes == "'hot' lead"
    assert _lead("+14155550154").notes == 'Lives at "The Towers"'


def test_it_skips_blank_lines_and_rows_of_only_commas() -> None:
    lead_import = _import_fixture("ragged.csv")

    assert lead_import.status == LeadImport.Status.COMPLETED
    assert _counts(lead_import) == {"total": 4, "imported": 3, "invalid": 1, "duplicate": 0, "dnc": 0}
    assert lead_import.warnings == ["4 blank rows were skipped"]


def test_it_imports_short_rows_and_warns_about_extra_values() -> None:
    lead_import = _import_fixture("ragged.csv")

    assert _lead("+14155550172").city == ""
    assert _lead("+14155550173").city == "Fresno"
    assert _warnings(lead_import) == [(7, "2 values beyond the last column were ignored")]
    assert _errors(lead_import) == [(9, "invalid", "invalid phone: phone number is missing")]


def test_it_rejects_a_record_whose_quote_is_never_closed_instead_of_losing_the_rest() -> None:
    data = b'Phone,Notes\n(415) 555-0101,fine\n(415) 555-0102,"oops\n(415) 555-0103,x\n(415) 555-0104,y\n'

    lead_import = _import(data)

    assert _counts(lead_import) == {"total": 2, "imported": 1, "invalid": 1, "duplicate": 0, "dnc": 0}
    assert _errors(lead_import) == [
        (
            3,
            "invalid",
            "a quote opened on line 3 is never closed, so lines 3-5 were read as one row; "
            "close the quote and import those lines again",
        )
    ]
    assert list(Lead.objects.values_list("phone", flat=True)) == ["+14155550101"]


@pytest.fixture
def small_csv_field_limit() -> Iterator[None]:
    # The open quote must swallow more than the limit; 128 KB of test data would be slow to read in failures.
    previous = csv.field_size_limit(200)
    yield
    csv.field_size_limit(previous)


@pytest.mark.usefixtures("small_csv_field_limit")
def test_it_reports_an_open_quote_that_runs_past_the_field_size_limit() -> None:
    rest = "".join(f"(415) 555-{n:04d},swallowed\n" for n in range(200, 230))
    data = f'Phone,Notes\n(415) 555-0101,fine\n(415) 555-0102,"oops\n{rest}'.encode()

    lead_import = _import(data)

    assert lead_import.status == LeadImport.Status.COMPLETED
    assert (lead_import.imported_count, lead_import.invalid_count) == (1, 1)
    [(line, kind, reason)] = _errors(lead_import)
    assert (line, kind) == (3, "invalid")
    assert "quote opened on line 3 is never closed" in reason
    assert "every line after it were not imported" in reason


def test_it_imports_a_closed_multi_line_last_record() -> None:
    lead_import = _import(b'Phone,Notes\n(415) 555-0101,"two\nlines"')

    assert (lead_import.imported_count, lead_import.invalid_count) == (1, 0)
    assert _lead("+14155550101").notes == "two\nlines"


# Headers


def test_it_maps_header_variants_and_warns_about_ignored_columns() -> None:
    data = (
        b"Cell Phone,E-mail Address,Zip/Postal Code,State/Province,Favourite Colour,Mobile\n"
        b"(415) 555-0101,a@b.co,94110,ca,red,(415) 555-0199\n"
    )

    lead_import = _import(data)

    lead = _lead("+14155550101")
    assert (lead.email, lead.zip_code, lead.state) == ("a@b.co", "94110", "CA")
    # Only the first phone column is used; the second is reported, not silently merged.
    assert lead_import.warnings == ["ignored columns: Favourite Colour, Mobile"]


def test_it_keeps_both_values_of_repeated_headers_in_the_report() -> None:
    lead_import = _import(b"Phone,Notes,Notes\nnot a number,first,second\n")

    [problem] = lead_import.row_errors
    assert problem["row"] == {"Phone": "not a number", "Notes": "first", "Notes (column 3)": "second"}


def test_it_finds_the_header_after_leading_blank_lines() -> None:
    lead_import = _import(b"\n,,\nPhone,Name\n(415) 555-0101,Ann\n")

    assert lead_import.imported_count == 1
    assert _lead("+14155550101").first_name == "Ann"


def test_it_fails_the_whole_file_without_a_phone_column() -> None:
    lead_import = _import_fixture("no_phone_column.csv")

    assert lead_import.status == LeadImport.Status.FAILED
    assert lead_import.error == (
        "no phone column found; expected a header such as 'phone', 'phone number' or 'mobile' "
        "(headers were: Name, E-mail, City)"
    )
    assert lead_import.finished_at is not None
    assert _counts(lead_import) == {"total": 0, "imported": 0, "invalid": 0, "duplicate": 0, "dnc": 0}
    assert not Lead.objects.exists()


@pytest.mark.parametrize("data", [(CSV_DIR / "empty.csv").read_bytes(), b"\r\n\r\n", b"\n,,,\n  ,\n", b"\xef\xbb\xbf"])
def test_it_fails_an_empty_file_with_a_clear_message(data: bytes) -> None:
    lead_import = _import(data)

    assert lead_import.status == LeadImport.Status.FAILED
    assert lead_import.error == "the file is empty: there is no header row and no leads"
    assert not Lead.objects.exists()


def test_it_completes_a_file_with_only_a_header() -> None:
    lead_import = _import(b"Phone,Name\r\n")

    assert lead_import.status == LeadImport.Status.COMPLETED
    assert lead_import.total_rows == 0


@pytest.mark.parametrize(("magic", "kind"), [(b"PK\x03\x04", ".xlsx"), (b"\xd0\xcf\x11\xe0", ".xls")])
def test_it_fails_an_excel_workbook_and_says_to_save_as_csv(magic: bytes, kind: str) -> None:
    lead_import = _import(magic + b"\x14\x00\x06\x00binary", file_name="leads" + kind)

    assert lead_import.status == LeadImport.Status.FAILED
    assert lead_import.error == f"this is an Excel workbook ({kind}), not a CSV file; save it as CSV and retry"


# Values


def test_it_normalises_phone_numbers_and_rejects_bad_ones_with_the_reason() -> None:
    lead_import = _import_fixture("phone_formats.csv")

    assert _counts(lead_import) == {"total": 9, "imported": 4, "invalid": 5, "duplicate": 0, "dnc": 0}
    assert list(Lead.objects.order_by("phone").values_list("phone", "phone_extension")) == [
        ("+14155550181", "2"),
        ("+14155550182", ""),
        ("+14155550183", ""),
        ("+14155550184", "7"),
    ]
    assert _errors(lead_import) == [
        (6, "invalid", "invalid phone: '(555) 123-4567' is not an assigned number (bad area code or exchange)"),
        (7, "invalid", "invalid phone: '12345' has the wrong number of digits"),
        (8, "invalid", "invalid phone: phone number is missing"),
        (
            9,
            "invalid",
            "invalid phone: 'call me' is not a phone number (The string supplied did not seem to be a phone number.)",
        ),
        # A valid number, but LEAD_COUNTRIES is US only.
        (
            10,
            "invalid",
            "phone not allowed: '+44 20 7946 0958' is a GB number; leads may only have numbers in US",
        ),
    ]


UK_ROW_CSV = b"Name,Phone,State\nAnn,(415) 555-0185,CA\nBen,+44 20 7946 0959,\nCal,(212) 555-0186,NY\n"


def test_it_keeps_the_us_rows_and_reports_a_uk_row() -> None:
    lead_import = _import(UK_ROW_CSV)

    assert lead_import.status == LeadImport.Status.COMPLETED
    assert _counts(lead_import) == {"total": 3, "imported": 2, "invalid": 1, "duplicate": 0, "dnc": 0}
    assert sorted(Lead.objects.values_list("phone", flat=True)) == ["+12125550186", "+14155550185"]
    assert _errors(lead_import) == [
        (3, "invalid", "phone not allowed: '+44 20 7946 0959' is a GB number; leads may only have numbers in US"),
    ]


def test_it_imports_a_uk_row_when_lead_countries_names_gb(settings: Any) -> None:
    settings.LEAD_COUNTRIES = ["US", "GB"]

    lead_import = _import(UK_ROW_CSV)

    assert _counts(lead_import) == {"total": 3, "imported": 3, "invalid": 0, "duplicate": 0, "dnc": 0}
    assert _lead("+442079460959").timezone == "Europe/London"


def test_it_imports_rows_with_bad_email_state_or_zip_and_warns() -> None:
    lead_import = _import_fixture("bad_values.csv")

    assert _counts(lead_import) == {"total": 2, "imported": 2, "invalid": 0, "duplicate": 0, "dnc": 0}
    assert _warnings(lead_import) == [
        (2, "email 'eve(at)example.com' is not valid and was left blank"),
        (2, "intent 'maybe' is not buy, sell or both and was left unknown"),
        (2, "state 'Calif' is not a US state and was left blank"),
        (3, "ZIP 'ABCDE' is not a US ZIP code and was left blank"),
    ]
    eve = _lead("+14155550201")
    # A 4-digit ZIP is a New England ZIP that Excel stripped of its zero.
    assert (eve.email, eve.state, eve.zip_code, eve.intent) == ("", "", "09411", Lead.Intent.UNKNOWN)
    fay = _lead("+14155550202")
    assert (fay.email, fay.state, fay.zip_code) == ("fay@example.com", "TX", "")


def test_it_blanks_an_email_too_long_for_the_column() -> None:
    # Valid to Django's validator (up to 320 characters) but not to the 254-character column.
    email = "a" * 60 + "@" + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + "." + "e" * 60 + ".com"
    lead_import = _import(f"Phone,Email\n(415) 555-0101,{email}\n".encode())

    assert lead_import.imported_count == 1
    assert _lead("+14155550101").email == ""
    assert _warnings(lead_import) == [(2, f"email {email!r} is not valid and was left blank")]


def test_it_cuts_overlong_values_and_says_so() -> None:
    lead_import = _import(f"Phone,City\n(415) 555-0101,{'x' * 150}\n".encode())

    assert _lead("+14155550101").city == "x" * 100
    assert _warnings(lead_import) == [(2, "city was longer than 100 characters and was cut")]


def test_it_records_consent_from_consent_columns() -> None:
    lead_import = _import_fixture("consent.csv")

    assert lead_import.imported_count == 5
    consents = {c.lead.first_name: c for c in Consent.objects.select_related("lead")}
    assert set(consents) == {"Iso", "Us", "Offset"}
    assert consents["Iso"].source == "Web form"
    assert consents["Iso"].text == "I agree to be called about my home."
    assert consents["Iso"].given_at == dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    # US Excel writes dates month first.
    assert consents["Us"].given_at == dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
    assert consents["Us"].text == "Yes, you can call me."
    assert consents["Offset"].given_at == dt.datetime(2026, 11, 4, 22, 30, tzinfo=dt.UTC)
    assert _warnings(lead_import) == [
        (
            5,
            "consent date 'last Tuesday' is missing or not a date (use YYYY-MM-DD or MM/DD/YYYY); "
            "no consent was recorded",
        ),
        (6, "first name 'None' is not a name that can be spoken and was left blank"),
    ]


# Duplicates and do-not-call


def test_it_rejects_do_not_call_numbers_existing_leads_and_repeated_crm_ids() -> None:
    dnc_add(phone="(212) 555-0214", reason="asked on a call")
    existing = LeadFactory.create(phone="+12125550215")
    LeadFactory.create(crm_id="A-4")

    lead_import = _import_fixture("crm_export.csv")

    assert _counts(lead_import) == {"total": 7, "imported": 3, "invalid": 0, "duplicate": 3, "dnc": 1}
    assert _errors(lead_import) == [
        (4, "duplicate", "CRM id 'A-1' repeats line 2"),
        (5, "dnc", "+12125550214 is on the do-not-call list"),
        (6, "duplicate", f"+12125550215 is already lead #{existing.pk}"),
        (7, "duplicate", "CRM id 'A-4' is already used by another lead"),
    ]
    # Line 8 repeats line 7's number, but line 7 was rejected, so line 8 is the first.
    assert dict(Lead.objects.filter(lead_import=lead_import).values_list("crm_id", "phone")) == {
        "A-1": "+12125550211",
        "A-2": "+12125550212",
        "A-5": "+12125550216",
    }
    assert not Lead.objects.filter(phone="+12125550214").exists()


def test_it_reports_every_row_as_a_duplicate_when_the_file_is_imported_again() -> None:
    first = _import_fixture("excel_quoting.csv")
    again = _import_fixture("excel_quoting.csv")

    assert _counts(again) == {"total": 6, "imported": 0, "invalid": 1, "duplicate": 5, "dnc": 0}
    jane = Lead.objects.get(phone="+14155550151", lead_import=first)
    assert (2, "duplicate", f"+14155550151 is already lead #{jane.pk}") in _errors(again)
    assert Lead.objects.count() == 4


# The race with another writer


def _other_writer_inserts(**fields: Any) -> Callable[[int], None]:
    """Return a progress callback that creates a clashing lead once, after the existing numbers were loaded."""
    created: list[Lead] = []

    def progress(_rows: int) -> None:
        if not created:
            created.append(LeadFactory.create(**fields))

    return progress


def test_it_rejects_only_the_row_that_another_writer_inserted_meanwhile(settings: Any) -> None:
    settings.LEAD_IMPORT_BATCH_SIZE = 2  # the clash lands in the second of three batches
    names = ["Ann", "Bo", "Cy", "Di", "Ed"]
    rows = "".join(f"(415) 555-010{n},{names[n - 1]},2026-11-02\n" for n in range(1, 6))
    data = f"Phone,First Name,Consent Date\n{rows}".encode()

    lead_import = _import(data, progress=_other_writer_inserts(phone="+14155550103", first_name="Other"))

    assert _counts(lead_import) == {"total": 5, "imported": 4, "invalid": 0, "duplicate": 1, "dnc": 0}
    [problem] = lead_import.row_errors
    assert (problem["line"], problem["kind"]) == (4, "duplicate")
    assert problem["reason"] == "+14155550103 was added by someone else during the import"
    assert problem["row"] == {"Phone": "(415) 555-0103", "First Name": "Cy", "Consent Date": "2026-11-02"}
    assert set(Lead.objects.filter(lead_import=lead_import).values_list("first_name", flat=True)) == {
        "Ann",
        "Bo",
        "Di",
        "Ed",
    }
    other = _lead("+14155550103")
    assert (other.first_name, other.lead_import) == ("Other", None)
    assert Consent.objects.count() == 4
    assert not other.consents.exists()


def test_it_rejects_only_the_row_whose_crm_id_another_writer_took_meanwhile() -> None:
    data = b"Phone,CRM ID\n(415) 555-0101,C-1\n(415) 555-0102,C-2\n(415) 555-0103,C-3\n"

    lead_import = _import(data, progress=_other_writer_inserts(crm_id="C-2"))

    assert (lead_import.imported_count, lead_import.duplicate_count) == (2, 1)
    assert _errors(lead_import) == [
        (3, "duplicate", "+14155550102 or CRM id 'C-2' was added by someone else during the import")
    ]


# The report


def test_it_keeps_every_problem_in_a_downloadable_csv_report() -> None:
    lead_import = _import_fixture("ragged.csv")

    report = list(csv.reader(io.StringIO(lead_import_report_csv(lead_import=lead_import))))

    assert report == [
        ["line", "level", "kind", "reason", "First Name", "Last Name", "Phone", "City", "extra 5", "extra 6"],
        ["", "warning", "file", "4 blank rows were skipped", "", "", "", "", "", ""],
        [
            "7",
            "warning",
            "warning",
            "2 values beyond the last column were ignored",
            "Cal",
            "Poe",
            "(415) 555-0173",
            "Fresno",
            "extra",
            "more",
        ],
        ["9", "error", "invalid", "invalid phone: phone number is missing", "Dee", "", "", "", "", ""],
    ]


def test_it_keeps_the_uploaded_file_on_the_import() -> None:
    data = (CSV_DIR / "excel_cp1252.csv").read_bytes()

    lead_import = _import(data, file_name="excel_cp1252.csv")

    with lead_import.file.open("rb") as stored:
        assert stored.read() == data


# A large file


AREA_CODES = ("415", "212", "512", "206", "305", "312", "617", "303", "702", "404")


def _large_file(rows: int) -> tuple[bytes, dict[int, str], set[int], list[str], list[str]]:
    """Build a lead file with bad rows at known places.

    Returns the bytes, the expected error kind per line, the lines expected to
    warn, and the numbers to put on the do-not-call list and in the database.
    """
    out = ["First Name,Last Name,Phone,Email,State,Notes"]
    line = 1
    errors: dict[int, str] = {}
    warnings: set[int] = set()
    dnc: list[str] = []
    existing: list[str] = []
    previous_phone = ""
    for i in range(rows):
        line += 1
        area, exchange = AREA_CODES[i % 10], 201 + i // 1000
        phone, e164 = f"({area}) {exchange}-{i:04d}", f"+1{area}{exchange}{i:04d}"
        email, notes = f"lead{i}@example.com", "looking"
        if i % 100 == 7:
            phone = f"(555) 201-{i:04d}"
            errors[line] = "invalid"
        elif i % 100 == 42:
            phone = previous_phone
            errors[line] = "duplicate"
        elif i % 250 == 99:
            dnc.append(e164)
            errors[line] = "dnc"
        elif 10 <= i < 15:
            existing.append(e164)
            errors[line] = "duplicate"
        elif i % 100 == 55:
            email = "not-an-email"
            warnings.add(line)
        if i % 500 == 300:
            notes = '"first line\nsecond, with ""quotes"""'
        out.append(
            f"{FIRST_NAMES[i % len(FIRST_NAMES)]},Rivera,{phone},{email},{'CA' if i % 2 else 'New York'},{notes}"
        )
        line += notes.count("\n")
        if i % 1000 == 600:
            out.append(",,,,," if i % 2000 == 600 else "")
            line += 1
        previous_phone = phone
    return ("\r\n".join(out) + "\r\n").encode(), errors, warnings, dnc, existing


FIRST_NAMES = ("Ann", "Bo", "Carmen", "Dev", "Eli", "Fatima", "Grace", "Hiro", "Ines", "Jamal", "Kofi")


def test_it_imports_10000_rows_with_exact_counts_and_line_numbers(settings: Any) -> None:
    settings.LEAD_IMPORT_BATCH_SIZE = 1000
    data, expected_errors, expected_warnings, dnc, existing = _large_file(10_000)
    DoNotCall.objects.bulk_create(DoNotCall(phone=phone, source=DoNotCall.Source.REGISTRY) for phone in dnc)
    for phone in existing:
        LeadFactory.create(phone=phone)

    lead_import = _import(data)

    assert (len(dnc), len(existing), len(expected_warnings)) == (40, 5, 100)
    assert lead_import.status == LeadImport.Status.COMPLETED
    assert _counts(lead_import) == {"total": 10_000, "imported": 9_755, "invalid": 100, "duplicate": 105, "dnc": 40}
    assert {p["line"]: p["kind"] for p in lead_import.row_errors if p["level"] == "error"} == expected_errors
    assert {p["line"] for p in lead_import.row_errors if p["level"] == "warning"} == expected_warnings
    assert lead_import.warnings == ["10 blank rows were skipped"]
    assert Lead.objects.filter(lead_import=lead_import).count() == 9_755
    assert Lead.objects.filter(lead_import=lead_import, timezone="").count() == 0
