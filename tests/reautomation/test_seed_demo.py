from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from agents.models import Broker, WorkingHours
from calls.models import Campaign
from leads.models import Consent, Lead


@pytest.mark.django_db
def test_it_loads_demo_data_once_and_prints_the_login(settings: Any) -> None:
    settings.DEBUG = True  # the demo password is only offered on a development setup
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=StringIO())  # a second run changes nothing

    assert "Login: admin / reautomation-demo" in out.getvalue()
    assert get_user_model().objects.get(username="admin").check_password("reautomation-demo")
    assert Broker.objects.count() == 2
    assert WorkingHours.objects.count() == 12
    assert Lead.objects.count() == 10
    assert Consent.objects.count() == 10
    assert set(Lead.objects.values_list("timezone_source", flat=True)) <= {"both", "phone", "state"}
    campaign = Campaign.objects.get()
    assert campaign.leads.count() == 10


@pytest.mark.django_db
def test_it_refuses_the_default_password_when_debug_is_off(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.DEBUG = False
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="DEMO_ADMIN_PASSWORD"):
        call_command("seed_demo", stdout=StringIO())
    assert not get_user_model().objects.exists()
