from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.apps import apps

MIGRATIONS = Path(__file__).resolve().parents[2] / "calls" / "migrations"


@pytest.fixture(autouse=True)
def _fast_dial_rate(settings: Any) -> None:
    # At Twilio's default 1 call per second every dial in these tests would
    # wait up to a second for its slot; the limiter has tests of its own.
    settings.TWILIO_CALLS_PER_SECOND = 1000


@pytest.fixture
def state_rules(db: None) -> None:
    """Make sure the seeded state rules exist: a transactional test elsewhere may have flushed them."""
    for pattern, seed in (
        ("*_dialer_compliance.py", "state_rules_seed"),
        ("*_state_rules_statutes_seed.py", "state_rules_statutes_seed"),
    ):
        (migration,) = MIGRATIONS.glob(pattern)
        module = importlib.import_module(f"calls.migrations.{migration.stem}")
        getattr(module, seed)(apps, None)


@pytest.fixture
def inside_the_window() -> Iterator[None]:
    """Run at noon in New York, 9 AM in California: inside every US lead's calling window."""
    with time_machine.travel(dt.datetime(2026, 6, 2, 16, 0, tzinfo=dt.UTC), tick=True):
        yield
