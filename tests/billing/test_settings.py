"""Billing settings are parsed strictly: a typo in an amount stops start-up instead of pricing calls wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = "import django; from django.conf import settings as s; django.setup(); print(s.BILLING_EXPECTED_CALL_COST_USD)"


def _start(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "reautomation.settings",
        "VAR_DIR": str(tmp_path),
        "DEBUG": "True",  # the development setup; DEBUG is off when unset
    }
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_it_reads_the_expected_call_cost_as_an_exact_amount(tmp_path: Path) -> None:
    result = _start({"BILLING_EXPECTED_CALL_COST_USD": "0.07"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0.07"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BILLING_EXPECTED_CALL_COST_USD", "five cents"),
        ("BILLING_EXPECTED_CALL_COST_USD", "-0.05"),
        ("BILLING_METER_INTERVAL_S", "0"),
        ("PREMIUM_SCORE_THRESHOLD", "high"),
    ],
)
def test_it_refuses_to_start_on_a_bad_billing_setting(tmp_path: Path, name: str, value: str) -> None:
    result = _start({name: value}, tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and f"{name}=" in result.stderr
