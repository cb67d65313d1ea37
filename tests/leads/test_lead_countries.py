"""Leads outside the countries the product calls (LEAD_COUNTRIES) are refused wherever a lead is written."""

from __future__ import annotations

import pytest

from common.access import Viewer
from leads.models import Lead
from leads.phones import PhoneCountryNotAllowed
from leads.services import lead_bulk_upsert, lead_create, lead_save

pytestmark = pytest.mark.django_db


def test_it_refuses_to_create_a_lead_with_a_uk_number() -> None:
    with pytest.raises(PhoneCountryNotAllowed, match="'\\+44 20 7946 0960' is a GB number"):
        lead_create(phone="+44 20 7946 0960", first_name="Ben")
    assert not Lead.objects.exists()


def test_it_refuses_to_move_a_lead_to_a_uk_number() -> None:
    lead = lead_create(phone="(415) 555-0187")
    lead.phone = "+44 20 7946 0961"
    with pytest.raises(PhoneCountryNotAllowed):
        lead_save(lead=lead)
    assert Lead.objects.get(pk=lead.pk).phone == "+14155550187"


def test_it_rejects_the_uk_row_of_a_bulk_upsert_and_saves_the_others() -> None:
    rows = [
        {"crm_id": "a-1", "phone": "(415) 555-0188"},
        {"crm_id": "a-2", "phone": "+44 20 7946 0962"},
    ]
    first, second = lead_bulk_upsert(rows=rows, viewer=Viewer.everyone())

    assert first.status == "created"
    assert (second.status, second.reason) == (
        "rejected",
        "phone not allowed: '+44 20 7946 0962' is a GB number; leads may only have numbers in US",
    )
    assert list(Lead.objects.values_list("crm_id", flat=True)) == ["a-1"]
