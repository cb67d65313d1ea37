from __future__ import annotations

import pytest

from tests.factories import CallFactory


@pytest.mark.django_db
def test_it_creates_a_call_with_lead_and_campaign() -> None:
    call = CallFactory()
    assert call.lead.phone.startswith("+1628555")
    assert call.campaign.business_name == "Bayside Realty"
