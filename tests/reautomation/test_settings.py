"""Settings come from the environment; these tests start fresh interpreters with controlled env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "db": settings.DATABASES["default"]["ENGINE"],
    "cache": settings.CACHES["default"]["BACKEND"],
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "broker": settings.CELERY_BROKER_URL,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "debug": settings.DEBUG,
}))
"""


def _run(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "reautomation.settings", "VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def _probe(env: dict[str, str], tmp_path: Path) -> dict[str, object]:
    result = _run(["-c", PROBE], env, tmp_path)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_it_runs_on_embedded_defaults_with_only_debug_set(tmp_path: Path) -> None:
    assert _probe({"DEBUG": "True"}, tmp_path) == {
        "db": "django.db.backends.sqlite3",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "layer": "channels.layers.InMemoryChannelLayer",
        "broker": "",
        "eager": True,
        "debug": True,
    }


def test_it_switches_database_cache_layer_and_broker_from_urls(tmp_path: Path) -> None:
    env = {
        "DEBUG": "True",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/reautomation",
        "REDIS_URL": "redis://127.0.0.1:6379/3",
    }
    assert _probe(env, tmp_path) == {
        "db": "django.db.backends.postgresql",
        "cache": "django.core.cache.backends.redis.RedisCache",
        "layer": "channels_redis.core.RedisChannelLayer",
        "broker": "redis://127.0.0.1:6379/3",
        "eager": False,
        "debug": True,
    }


def test_it_refuses_to_start_without_secret_key_when_debug_is_off(tmp_path: Path) -> None:
    result = _run(["-c", PROBE], {"DEBUG": "False", "ALLOWED_HOSTS": "crm.example.com"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_it_names_the_twilio_token_when_only_the_sid_is_set(tmp_path: Path) -> None:
    env = {"DEBUG": "False", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "a.example.com", "TWILIO_ACCOUNT_SID": "AC123"}
    result = _run(["-c", PROBE], env, tmp_path)
    assert result.returncode != 0
    assert "TWILIO_AUTH_TOKEN" in result.stderr


@pytest.mark.parametrize("value", ["flase", "maybe", "2"])
def test_it_rejects_a_boolean_it_cannot_parse(tmp_path: Path, value: str) -> None:
    result = _run(["-c", PROBE], {"DEBUG": value}, tmp_path)
    assert result.returncode != 0
    assert f"DEBUG={value!r} is not a boolean" in result.stderr


def test_it_passes_the_deploy_check_with_production_values(tmp_path: Path) -> None:
    env = {
        "DEBUG": "False",
        "SECRET_KEY": "k3y-" + "a8Zq" * 15,
        "ALLOWED_HOSTS": "agent.example.com",
        "PUBLIC_BASE_URL": "https://agent.example.com",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/reautomation",
    }
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_warns_in_the_deploy_check_when_the_public_url_is_not_https(tmp_path: Path) -> None:
    env = {"DEBUG": "False", "SECRET_KEY": "k3y-" + "a8Zq" * 15, "ALLOWED_HOSTS": "agent.example.com"}
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode != 0
    assert "reautomation.W001" in result.stderr
