"""Loading the national do-not-call registry's area-code files."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from leads.dnc_registry import RegistryLine, registry_lines
from leads.models import DoNotCall, Lead
from leads.services import dnc_registry_import, lead_save
from tests.factories import DoNotCallFactory, LeadFactory


def test_it_reads_every_layout_the_registry_uses() -> None:
    lines = [
        "Area Code,Phone Number\n",  # a header
        "2125550140\n",
        "212,5550141\n",
        '"212","555-0142"\n',
        "(212) 555-0143\n",
        "12125550144\n",
        "\n",  # blank lines count for numbering but are not read
        "+1 212.555.0145\r\n",
    ]
    assert list(registry_lines(lines)) == [
        RegistryLine(2, "+12125550140"),
        RegistryLine(3, "+12125550141"),
        RegistryLine(4, "+12125550142"),
        RegistryLine(5, "+12125550143"),
        RegistryLine(6, "+12125550144"),
        RegistryLine(8, "+12125550145"),
    ]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("212555014", "'212555014' is not a 10-digit US number"),
        ("0125550140", "'0125550140' is not a 10-digit US number"),  # no area code starts with 0
        ("2121550140", "'2121550140' is not a 10-digit US number"),  # nor an exchange with 1
        ("212,555014", "'212,555014' has area code 212 but not a 7-digit number after it"),
        ("212,5550140,extra", "'212,5550140,extra' is not one number, nor an area code and a number"),
        ("call 2125550140", "'call 2125550140' is not a phone number"),
        ("Area code,phone", "'Area code,phone' is not a phone number"),  # a header after the first line
    ],
)
def test_it_says_why_a_line_is_not_a_number(line: str, problem: str) -> None:
    assert list(registry_lines(["2125550100", line])) == [RegistryLine(1, "+12125550100"), RegistryLine(2, "", problem)]


@pytest.mark.django_db
def test_it_counts_added_present_and_rejected_lines_and_adds_nothing_the_second_time() -> None:
    DoNotCallFactory.create(phone="+12125550151", source=DoNotCall.Source.LEAD_REQUEST, reason="asked")
    text = "2125550150\n2125550151\nnot a number\n2125550152\n2125550150\n2125550153\n12\n"

    # A batch of 2 makes the five numbers span three batches, the repeat in a later one.
    first = dnc_registry_import(lines=io.StringIO(text), reason="registry file 212.txt", batch_size=2)

    assert (first.lines, first.added, first.already_present, first.rejected_count) == (7, 3, 2, 2)
    assert first.rejected == [(3, "'not a number' is not a phone number"), (7, "'12' is not a 10-digit US number")]
    entries = dict(DoNotCall.objects.values_list("phone", "source"))
    assert entries == {
        "+12125550150": DoNotCall.Source.REGISTRY,
        "+12125550151": DoNotCall.Source.LEAD_REQUEST,  # the lead's own request stays one
        "+12125550152": DoNotCall.Source.REGISTRY,
        "+12125550153": DoNotCall.Source.REGISTRY,
    }
    assert DoNotCall.objects.get(phone="+12125550150").reason == "registry file 212.txt"

    again = dnc_registry_import(lines=io.StringIO(text), batch_size=2)

    assert (again.added, again.already_present, again.rejected_count) == (0, 5, 2)
    assert DoNotCall.objects.count() == 4


@pytest.mark.django_db
def test_it_leaves_leads_callable_with_consent_after_a_registry_import() -> None:
    lead = LeadFactory.create(phone="+12125550160")
    dnc_registry_import(lines=["2125550160"])
    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW
    # Saving the lead by hand does not mark it either; the gate weighs the listing against consent.
    lead_save(lead=lead)
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.NEW


@pytest.mark.django_db
def test_the_command_loads_several_files_and_reports_each(tmp_path: Path) -> None:
    plain = tmp_path / "212.txt"
    plain.write_text("2125550170\n2125550171\nbad line\n")
    packed = tmp_path / "415.csv.gz"
    with gzip.open(packed, "wt") as out:
        out.write("areacode,phone\n415,5550170\n212,5550170\n")
    stdout = io.StringIO()

    call_command("import_dnc_registry", str(plain), str(packed), "--batch-size", "1", stdout=stdout)

    assert stdout.getvalue().splitlines() == [
        "212.txt: 3 lines, 2 added, 0 already on the list, 1 rejected",
        "  line 3: 'bad line' is not a phone number",
        "415.csv.gz: 2 lines, 1 added, 1 already on the list, 0 rejected",
        "2 files: 5 lines, 3 added, 1 already on the list, 1 rejected",
    ]
    assert set(DoNotCall.objects.values_list("source", flat=True)) == {DoNotCall.Source.REGISTRY}
    assert DoNotCall.objects.get(phone="+14155550170").reason == "registry file 415.csv.gz"


@pytest.mark.django_db
def test_the_command_fails_on_a_file_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_dnc_registry", str(tmp_path / "missing.txt"))
