"""Sign-in throttling: too many failed passwords lock the username, and the address, for a while.

Counted in the default cache (Redis in production), per username and per client
address, so a guesser is stopped whether it tries many passwords for one user
or one password for many. Both login forms (the admin's and /accounts/login/)
check before they authenticate and say plainly why a locked sign-in is refused.
Each lockout is also kept as a LoginLockout row, which the admin lists and can lift.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import time
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from reautomation.models import LoginLockout

logger = logging.getLogger(__name__)


def _normal(value: str) -> str:
    return value.strip().lower()


def login_failure_key(kind: str, value: str) -> str:
    digest = hashlib.sha256(_normal(value).encode()).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def _client_address(request: HttpRequest | None) -> str:
    return str(request.META.get("REMOTE_ADDR", "")) if request is not None else ""


def _counters(username: str, address: str) -> list[tuple[str, str, int]]:
    """Return (kind, value, limit) for each counter a sign-in attempt counts against."""
    out: list[tuple[str, str, int]] = (
        [(LoginLockout.Kind.USER, username, settings.LOGIN_MAX_FAILURES)] if username else []
    )
    if address:
        out.append((LoginLockout.Kind.ADDRESS, address, settings.LOGIN_MAX_FAILURES_PER_ADDRESS))
    return out


def login_locked_for_s(*, username: str, address: str) -> int:
    """Return how many seconds sign-ins stay refused for this username or address (0: not locked)."""
    now = time.time()
    waits = []
    for kind, value, limit in _counters(username, address):
        entry = cache.get(login_failure_key(kind, value))
        if entry and entry["count"] >= limit:
            waits.append(math.ceil(entry["until"] - now))
    return max([w for w in waits if w > 0], default=0)


def login_failure_record(*, username: str, address: str) -> None:
    """Count one failed sign-in against the username and the address; the count lasts LOGIN_LOCKOUT_S."""
    until = time.time() + settings.LOGIN_LOCKOUT_S
    for kind, value, limit in _counters(username, address):
        key = login_failure_key(kind, value)
        entry = cache.get(key) or {"count": 0}
        entry = {"count": entry["count"] + 1, "until": until}
        cache.set(key, entry, timeout=settings.LOGIN_LOCKOUT_S)
        if entry["count"] == limit:
            logger.warning("sign-ins locked after repeated failures", extra={"counter": kind})
            locked_at = timezone.now()
            LoginLockout.objects.create(
                kind=kind,
                value=_normal(value)[:255],
                failures=limit,
                locked_at=locked_at,
                locked_until=locked_at + dt.timedelta(seconds=settings.LOGIN_LOCKOUT_S),
            )


def login_failures_clear(*, username: str) -> None:
    """Forget the username's failures after a good sign-in (the address keeps its count)."""
    if username:
        cache.delete(login_failure_key("user", username))


def login_lockouts_lift(*, lockouts: list[LoginLockout], by: AbstractBaseUser | None) -> int:
    """Let the locked usernames or addresses sign in again at once; return how many were still locked."""
    lifted = 0
    now = timezone.now()
    for lockout in lockouts:
        cache.delete(login_failure_key(lockout.kind, lockout.value))
        if lockout.is_active:
            lifted += 1
        if lockout.unlocked_at is None:
            lockout.unlocked_at, lockout.unlocked_by = now, by  # type: ignore[assignment]
            lockout.save(update_fields=["unlocked_at", "unlocked_by"])
    return lifted


class ThrottledLoginMixin:
    """Refuse a locked sign-in before the password is checked, and count each failure."""

    request: HttpRequest | None

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = getattr(self, "data", {})
        username, address = str(data.get("username", "")), _client_address(self.request)
        wait = login_locked_for_s(username=username, address=address)
        if wait:
            minutes = max(1, math.ceil(wait / 60))
            raise forms.ValidationError(
                f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''}, "
                "or ask an administrator to reset your password.",
                code="locked",
            )
        try:
            cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        except forms.ValidationError:
            login_failure_record(username=username, address=address)
            raise
        login_failures_clear(username=username)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password did not match. Try again.",
    }


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
