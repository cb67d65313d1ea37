"""With no DEBUG set the app starts as production does; the public development key never guards a reachable site."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django; from django.conf import settings; django.setup(); print(settings.DEBUG, settings.SECRET_KEY[:8])"
)
REAL_KEY = "k3y-" + "a8Zq" * 15


def _start(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "reautomation.settings", "VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_it_refuses_to_start_with_no_environment_and_says_debug_is_off(tmp_path: Path) -> None:
    result = _start({}, tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured: DEBUG is False (the default" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_it_starts_as_production_when_given_its_secrets_without_debug(tmp_path: Path) -> None:
    result = _start({"SECRET_KEY": REAL_KEY, "ALLOWED_HOSTS": "agent.example.com"}, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", REAL_KEY[:8]]


def test_it_refuses_the_development_key_even_when_set_explicitly_with_debug_off(tmp_path: Path) -> None:
    dev_key = "dev-only-insecure-key-do-not-use-in-production-0123456789"
    result = _start({"DEBUG": "False", "SECRET_KEY": dev_key, "ALLOWED_HOSTS": "agent.example.com"}, tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("ALLOWED_HOSTS", "localhost,crm.example.com", "crm.example.com"),
        ("ALLOWED_HOSTS", "*", "*"),
        ("ALLOWED_HOSTS", "192.168.1.20", "192.168.1.20"),
        ("PUBLIC_BASE_URL", "https://abc123.ngrok.app", "abc123.ngrok.app"),
    ],
)
def test_it_refuses_the_development_key_in_debug_for_a_host_others_can_reach(
    tmp_path: Path, variable: str, value: str, named: str
) -> None:
    result = _start({"DEBUG": "True", variable: value}, tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is the public development key" in result.stderr
    assert f"answers for {named};" in result.stderr


def test_it_takes_the_development_key_in_debug_for_loopback_names_only(tmp_path: Path) -> None:
    env = {
        "DEBUG": "True",
        "ALLOWED_HOSTS": "localhost,127.0.0.1,[::1],app.localhost",
        "PUBLIC_BASE_URL": "http://[::1]:8000",
    }
    result = _start(env, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "dev-only"]


def test_a_reachable_host_in_debug_starts_once_it_has_its_own_key(tmp_path: Path) -> None:
    result = _start({"DEBUG": "True", "ALLOWED_HOSTS": "crm.example.com", "SECRET_KEY": REAL_KEY}, tmp_path)

    assert result.returncode == 0, result.stderr
