"""seed_demo holds DEMO_ADMIN_PASSWORD to the admin's password rules and never echoes it."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short1", "too short"), ("password123", "too common"), ("84937261054", "entirely numeric"), ("admin", "")],
)
def test_it_refuses_a_password_the_validators_refuse(
    monkeypatch: pytest.MonkeyPatch, password: str, reason: str
) -> None:
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", password)

    with pytest.raises(CommandError, match="DEMO_ADMIN_PASSWORD is refused: ") as refused:
        call_command("seed_demo", stdout=StringIO())

    assert reason in str(refused.value)
    assert password not in str(refused.value).split(": ", 1)[1].split()
    assert not get_user_model().objects.exists()


def test_it_sets_a_good_password_without_printing_it(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    settings.DEBUG = False
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "Wobbly-Kettle-Harbour-42")
    out = StringIO()

    call_command("seed_demo", stdout=out)

    assert "Wobbly-Kettle-Harbour-42" not in out.getvalue()
    assert "Login: admin / the password in DEMO_ADMIN_PASSWORD" in out.getvalue()
    assert get_user_model().objects.get(username="admin").check_password("Wobbly-Kettle-Harbour-42")
