"""The demo runner's clock and the database it hands to the app process."""

from __future__ import annotations

import datetime as dt

import pytest

from reautomation.demo import DEMO_ZONE, demo_clock
from voice.emulator.appserver import database_url


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 11, 23), dt.date(2026, 11, 24)),  # Monday: tomorrow
        (dt.date(2026, 11, 24), dt.date(2026, 12, 1)),  # Tuesday: a week on, never "now"
        (dt.date(2026, 11, 28), dt.date(2026, 12, 1)),  # Saturday
    ],
)
def test_it_runs_the_demo_on_the_coming_tuesday_morning_in_san_francisco(today: dt.date, expected: dt.date) -> None:
    clock = demo_clock(today)
    assert (clock.date(), clock.time(), clock.tzinfo) == (expected, dt.time(10, 0), DEMO_ZONE)


@pytest.mark.django_db
def test_it_hands_the_app_process_the_database_this_process_uses() -> None:
    from django.db import connection

    url = database_url()
    if connection.vendor == "sqlite":
        assert url.startswith("sqlite:////") and url.endswith(str(connection.settings_dict["NAME"]).lstrip("."))
    else:
        assert url.startswith("postgres://") and url.endswith(f"/{connection.settings_dict['NAME']}")
