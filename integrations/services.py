"""Writes for integrations: REST API keys and their request budget."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import secrets
import time
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from integrations.models import ApiKey

logger = logging.getLogger(__name__)

KEY_PREFIX = "rea"
# How stale last_used_at may get: writing it on every request would turn each read into a write.
_TOUCH_EVERY = dt.timedelta(minutes=1)


def api_key_hash(*, salt: str, secret: str) -> str:
    """Return the stored form of a key's secret."""
    return hashlib.sha256(f"{salt}{secret}".encode()).hexdigest()


def api_key_create(
    *,
    name: str,
    scopes: Iterable[str],
    created_by: Any = None,
    rate_limit_per_minute: int | None = None,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with the whole key text, which is not stored and cannot be shown again.

    Raises:
        ValueError: for a scope that is not an ApiKey.Scope.
    """
    scope_list = sorted(set(scopes))
    unknown = [s for s in scope_list if s not in ApiKey.Scope.values]
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(unknown)}")
    # 32 random bytes: a secret that cannot be guessed, so one SHA-256 round
    # is enough (a slow password hash would only slow every request down).
    prefix, secret, salt = secrets.token_hex(4), secrets.token_urlsafe(32), secrets.token_hex(16)
    api_key = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        salt=salt,
        key_hash=api_key_hash(salt=salt, secret=secret),
        scopes=scope_list,
        rate_limit_per_minute=rate_limit_per_minute,
        expires_at=expires_at,
        created_by=created_by,
    )
    logger.info("api key created", extra={"api_key": api_key.pk, "scopes": scope_list})
    return api_key, f"{KEY_PREFIX}_{prefix}_{secret}"


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Stop the key from working; it stays listed for the record."""
    api_key.is_active = False
    api_key.save(update_fields=["is_active"])
    logger.info("api key revoked", extra={"api_key": api_key.pk})
    return api_key


def api_key_touch(*, api_key: ApiKey, now: dt.datetime | None = None) -> None:
    """Record that the key was just used, at most once a minute."""
    now = now or timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= _TOUCH_EVERY:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


def api_rate_limit_take(*, key_id: int, limit: int, now: float | None = None) -> int:
    """Count one request against the key's requests-per-minute; return 0 if it may go on, else seconds to wait.

    A fixed one-minute window counted in the cache: with Redis every worker
    shares the count, and add() plus incr() are atomic there.
    """
    now = time.time() if now is None else now
    window = int(now // 60)
    cache_key = f"api-rate:{key_id}:{window}"
    cache.add(cache_key, 0, timeout=120)
    try:
        count = cache.incr(cache_key)
    except ValueError:
        # Evicted between add() and incr(); start the window again.
        cache.set(cache_key, 1, timeout=120)
        count = 1
    if count <= limit:
        return 0
    return max(1, math.ceil((window + 1) * 60 - now))
