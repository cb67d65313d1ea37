from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from integrations.models import ApiKey
from integrations.services import api_key_create


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    # The rate limiter counts in the cache, which outlives a test's database rollback.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def raw_key(db: Any) -> str:
    """A key with every scope."""
    _, raw = api_key_create(name="CRM", scopes=ApiKey.Scope.values)
    return raw


@pytest.fixture
def api(raw_key: str) -> Client:
    """A test client that sends the all-scopes key with every request."""
    return Client(headers={"X-API-Key": raw_key})
