"""What tests that start a real `celery worker` process share: the broker, the test database's URL, waiting."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection


def redis_broker_url() -> str:
    """Return REDIS_URL once Redis answers there, or skip the test without it."""
    url = django_settings.REDIS_URL
    if not url:
        pytest.skip("needs REDIS_URL: Redis is the broker the worker reads from")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at REDIS_URL is unreachable: {exc}")
    return url


def worker_broker_url() -> str:
    """Return the Redis broker a worker process can share with the test, or skip the test without one."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): the worker's processes must share the test database")
    return redis_broker_url()


def worker_database_url() -> str:
    """Return a DATABASE_URL for the test database (pytest-django's test_ name, not the configured one)."""
    db = connection.settings_dict
    user = quote(db["USER"] or "postgres") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_until(predicate: Callable[[], Any], *, timeout: float, what: str) -> Any:
    """Return the predicate's first truthy value, polling another process's effects; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
