"""Lead names are cleaned so the voice can say them; each change is reported where the lead came in."""

from __future__ import annotations

import pytest

from leads.models import Lead, LeadImport
from leads.names import person_name_checked, person_name_clean, spoken_label_problem
from leads.services import lead_import_create, lead_import_run


@pytest.mark.parametrize(
    ("raw", "spoken"),
    [
        ("O'Brien", "O'Brien"),
        ("Jane #2", "Jane"),
        ("Sam (cell)", "Sam"),
        ("Bob_Smith", "Bob Smith"),
        ("MARY ANN", "Mary Ann"),
        ("McDonald", "McDonald"),
        ("DeShawn", "DeShawn"),
        ("José", "José"),
        ("o\u2019neil", "o'neil"),
        ("Mary-Jane", "Mary-Jane"),
        ("  Ann   Lee ", "Ann Lee"),
        ("Ann [home]", "Ann"),
        ("🏡 Priya", "Priya"),
    ],
)
def test_it_keeps_the_speakable_part_of_a_name(raw: str, spoken: str) -> None:
    assert person_name_clean(raw) == spoken


@pytest.mark.parametrize(
    "raw", ["N/A", "n/a", "unknown", "[Unknown]", "-", "--", "none", "NULL", "???", "#3", "李明", '=HYPERLINK("x")', ""]
)
def test_it_leaves_out_a_placeholder_or_what_the_voice_cannot_read(raw: str) -> None:
    assert person_name_clean(raw) == ""


def test_it_says_what_it_changed_and_nothing_when_it_changed_nothing() -> None:
    assert person_name_checked("Jane #2", field="first name").note == (
        "first name 'Jane #2' was cleaned to 'Jane' so it can be spoken"
    )
    assert person_name_checked("N/A", field="first name").note == (
        "first name 'N/A' is not a name that can be spoken and was left blank"
    )
    assert person_name_checked("Jane", field="first name").note == ""


@pytest.mark.django_db
def test_a_csv_import_cleans_names_and_reports_each_change() -> None:
    data = (
        b"First Name,Last Name,Phone\nJane #2,SMITH,(415) 555-0101\nN/A,Lee,(415) 555-0102\nAna,Ruiz,(415) 555-0103\n"
    )
    lead_import = lead_import_create(file_name="leads.csv", data=data)
    lead_import_run(lead_import=lead_import, data=data)
    lead_import = LeadImport.objects.get(pk=lead_import.pk)

    names = dict(Lead.objects.values_list("phone", "first_name"))
    assert names == {"+14155550101": "Jane", "+14155550102": "", "+14155550103": "Ana"}
    assert Lead.objects.get(phone="+14155550101").last_name == "Smith"
    assert sorted((p["line"], p["reason"]) for p in lead_import.row_errors if p["level"] == "warning") == [
        (2, "first name 'Jane #2' was cleaned to 'Jane' so it can be spoken"),
        (2, "last name 'SMITH' was cleaned to 'Smith' so it can be spoken"),
        (3, "first name 'N/A' is not a name that can be spoken and was left blank"),
    ]
    assert lead_import.imported_count == 3


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Compass #1 Team", "can't be read aloud: remove '#'"),
        ("🏠 Homes", "can't be read aloud"),
        ("1234", "needs letters the voice can read"),
        ("Big " * 11, "at most 10 words"),
    ],
)
def test_it_says_why_a_business_name_cannot_be_spoken(value: str, problem: str) -> None:
    assert problem in spoken_label_problem(value, field="business_name")
