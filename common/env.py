"""Strict readers for environment variables used by settings.py.

A typo such as ``DEBUG=flase`` must stop start-up rather than silently pick a
default, so every reader raises ``ImproperlyConfigured`` on a value it cannot
parse (the same rule as healthchecks' ``envbool``).
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def envstr(name: str, default: str = "") -> str:
    """Return the variable, or ``default`` when it is unset or empty."""
    value = os.environ.get(name, "")
    return value if value != "" else default


def envbool(name: str, default: bool) -> bool:
    """Return the variable as a bool; anything but true/false words is an error."""
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use True or False.")


def envint(name: str, default: int) -> int:
    """Return the variable as an int, failing loudly on garbage."""
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from exc


def envfloat(name: str, default: float) -> float:
    """Return the variable as a float, failing loudly on garbage."""
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from exc


def envlist(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated variable as a list of stripped, non-empty items."""
    raw = os.environ.get(name, "")
    if raw == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]
