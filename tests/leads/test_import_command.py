from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from leads.models import Lead, LeadImport
from tests.conftest import FIXTURES

CSV_DIR = FIXTURES / "csv"

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_leads", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_imports_the_file_and_prints_a_summary() -> None:
    out, _err = _run(str(CSV_DIR / "excel_quoting.csv"), "--source", "Open house", "--no-progress")

    lead_import = LeadImport.objects.get()
    assert lead_import.status == LeadImport.Status.COMPLETED
    assert Lead.objects.filter(lead_import=lead_import, source="Open house").count() == 4
    assert out.splitlines() == [
        f"Lead import #{lead_import.pk} completed: excel_quoting.csv",
        "  rows                6",
        "  imported            4",
        "  invalid             1",
        "  duplicate           1",
        "  do-not-call         0",
        "  warnings            0",
        "  line 6: invalid: invalid phone: '(555) 123-4567' is not an assigned number (bad area code or exchange)",
        "  line 7: duplicate: +14155550151 repeats line 2",
        f"The report is kept on lead import #{lead_import.pk}; use --report PATH to save it.",
    ]


def test_it_lists_file_warnings_and_counts_row_warnings() -> None:
    out, _err = _run(str(CSV_DIR / "ragged.csv"), "--no-progress")

    assert "  warnings            2" in out.splitlines()
    assert "  warning: 4 blank rows were skipped" in out.splitlines()


def test_it_shows_only_the_first_problems_and_points_to_the_report(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("Phone\n" + "(555) 123-4567\n" * 12)

    out, _err = _run(str(path), "--no-progress")

    assert out.count("invalid: invalid phone") == 10
    assert "  ... and 2 more rejected rows in the report" in out.splitlines()


def test_it_draws_a_progress_bar_that_counts_records_not_lines(capsys: pytest.CaptureFixture[str]) -> None:
    # Six records on eight lines: one quoted note spans three lines.
    _run(str(CSV_DIR / "excel_quoting.csv"))

    # tqdm draws on the process's stderr, like any progress bar on a terminal.
    bar = capsys.readouterr().err
    assert "100%" in bar
    assert "6/6" in bar


def test_it_counts_records_of_a_utf16_file_for_the_progress_bar(capsys: pytest.CaptureFixture[str]) -> None:
    _run(str(CSV_DIR / "crm_utf16.csv"))

    assert "2/2" in capsys.readouterr().err


def test_it_draws_no_bar_with_no_progress(capsys: pytest.CaptureFixture[str]) -> None:
    _run(str(CSV_DIR / "crm_utf16.csv"), "--no-progress")

    assert "2/2" not in capsys.readouterr().err


def test_it_writes_the_report_for_excel(tmp_path: Path) -> None:
    report = tmp_path / "report.csv"

    out, _err = _run(str(CSV_DIR / "excel_quoting.csv"), "--no-progress", "--report", str(report))

    assert f"Report written to {report}" in out.splitlines()
    data = report.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # so Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["line", "level", "kind", "reason", "Name", "Phone", "Notes", "City"]
    assert [row[:3] for row in rows[1:]] == [["6", "error", "invalid"], ["7", "error", "duplicate"]]
    assert rows[2][4:] == ["Cruz, Maria", "(415) 555-0151", "same number as Jane", "Daly City"]


def test_it_fails_with_the_reason_when_there_is_no_phone_column() -> None:
    with pytest.raises(CommandError, match=r"^no_phone_column\.csv was not imported: no phone column found"):
        _run(str(CSV_DIR / "no_phone_column.csv"))

    assert LeadImport.objects.get().status == LeadImport.Status.FAILED
    assert not Lead.objects.exists()


def test_it_fails_on_an_empty_file() -> None:
    with pytest.raises(CommandError, match="the file is empty"):
        _run(str(CSV_DIR / "empty.csv"))


def test_it_fails_on_a_missing_file_without_recording_an_import(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"cannot read .*missing\.csv: No such file or directory"):
        _run(str(tmp_path / "missing.csv"))

    assert not LeadImport.objects.exists()
