"""Reads for integrations: finding the API key a request carries."""

from __future__ import annotations

import datetime as dt
import hmac
import re

from django.db.models import Q
from django.utils import timezone

from integrations.models import ApiKey
from integrations.services import KEY_PREFIX, api_key_hash

_PREFIX_RE = re.compile(r"[0-9a-f]{8}")


def api_key_authenticate(*, raw_key: str, now: dt.datetime | None = None) -> ApiKey | None:
    """Return the active, unexpired key this text is, or None; also None once its creator is deactivated."""
    parts = (raw_key or "").strip().split("_", 2)
    # The prefix is checked before it reaches the database, so header junk never becomes a query.
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not _PREFIX_RE.fullmatch(parts[1]) or not parts[2]:
        return None
    # A deactivated creator's keys stop with them (a key created from code has no creator).
    api_key = (
        ApiKey.objects.filter(prefix=parts[1], is_active=True)
        .filter(Q(created_by=None) | Q(created_by__is_active=True))
        .select_related("created_by", "acts_for")
        .first()
    )
    if api_key is None:
        return None
    if not hmac.compare_digest(api_key.key_hash, api_key_hash(salt=api_key.salt, secret=parts[2])):
        return None
    if api_key.expires_at is not None and api_key.expires_at <= (now or timezone.now()):
        return None
    return api_key
