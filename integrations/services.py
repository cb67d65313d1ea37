"""Writes for integrations: REST API keys and their request budget."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from integrations.models import ApiKey
from integrations.scopes import ActsForNotAllowed, ScopesNotHeld, acts_for_allowed, scope_permissions_lacking

logger = logging.getLogger(__name__)

KEY_PREFIX = "rea"
# How stale last_used_at may get: writing it on every request would turn each read into a write.
_TOUCH_EVERY = dt.timedelta(minutes=1)
# What api_key_update may change; the secret and its hash never change.
_EDITABLE = frozenset({"name", "scopes", "rate_limit_per_minute", "expires_at", "is_active", "acts_for"})


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
    acts_for: Any = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with the whole key text, which is not stored and cannot be shown again.

    A key made by a user may hold only scopes that user holds; one made from
    code (created_by None) is bound by its scopes alone.

    A key acting for an agent sees only that agent's records (integrations.auth.api_viewer);
    only a manager may bind a key to someone other than themselves.

    Raises:
        ValueError: for a scope that is not an ApiKey.Scope.
        ScopesNotHeld: for a scope whose permissions created_by lacks.
        ActsForNotAllowed: when created_by may not bind the key to acts_for.
    """
    scope_list = _scopes_checked(scopes=scopes, user=created_by)
    if not acts_for_allowed(user=created_by, acts_for=acts_for):
        raise ActsForNotAllowed
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
        acts_for=acts_for,
    )
    logger.info("api key created", extra={"api_key": api_key.pk, "scopes": scope_list})
    return api_key, f"{KEY_PREFIX}_{prefix}_{secret}"


def api_key_update(*, api_key: ApiKey, edited_by: Any, **changes: Any) -> ApiKey:
    """Save changes to a key's name, scopes, rate limit, expiry or activity.

    An editing user must hold every scope the key is left with, not only
    those added: re-activating or extending a key grants its scopes again.
    Code that edits a key (edited_by None) is bound by nothing, as in api_key_create.

    Raises:
        ValueError: for a scope that is not an ApiKey.Scope, or a field that may not be edited.
        ScopesNotHeld: for a scope whose permissions edited_by lacks.
        ActsForNotAllowed: when edited_by may not bind the key to its acts_for.
    """
    unknown_fields = set(changes) - _EDITABLE
    if unknown_fields:
        raise ValueError(f"fields that cannot be edited: {', '.join(sorted(unknown_fields))}")
    for name, value in changes.items():
        setattr(api_key, name, value)
    api_key.scopes = _scopes_checked(scopes=api_key.scopes, user=edited_by)
    if not acts_for_allowed(user=edited_by, acts_for=api_key.acts_for):
        raise ActsForNotAllowed
    api_key.save(update_fields=sorted({*changes, "scopes"}))
    logger.info("api key updated", extra={"api_key": api_key.pk, "scopes": api_key.scopes})
    return api_key


def _scopes_checked(*, scopes: Iterable[str], user: Any) -> list[str]:
    """Return the scopes sorted and unique, once each is known and, for a user, held by them."""
    scope_list = sorted(set(scopes))
    unknown = [s for s in scope_list if s not in ApiKey.Scope.values]
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(unknown)}")
    if user is not None:
        missing = scope_permissions_lacking(user=user, scopes=scope_list)
        if missing:
            raise ScopesNotHeld(missing)
    return scope_list


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


@dataclass(frozen=True)
class RateLimitUse:
    """Where a key stands in its current one-minute window, after counting a request."""

    limit: int
    remaining: int
    reset_at: int  # Unix time the window ends
    retry_after: int  # seconds to wait before the next request; 0 while under the limit


def api_rate_limit_take(*, key_id: int, limit: int, now: float | None = None) -> RateLimitUse:
    """Count one request against the key's requests-per-minute and return where the key stands.

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
    reset_at = (window + 1) * 60
    retry_after = 0 if count <= limit else max(1, math.ceil(reset_at - now))
    return RateLimitUse(limit=limit, remaining=max(0, limit - count), reset_at=reset_at, retry_after=retry_after)
