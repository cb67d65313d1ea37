"""Health probes for the backing services that this deployment configures."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import connection
from kombu.connection import Connection

from common import readiness

logger = logging.getLogger(__name__)

# A health probe that hangs is worse than one that fails: load balancers time
# out and mark the whole instance dead. Keep every check short.
PROBE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    latency_ms: float


def _timed(name: str, probe: Callable[[], str]) -> CheckResult:
    started = time.perf_counter()
    try:
        detail = probe()
        ok = True
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; report it.
        logger.warning("health check failed", extra={"check": name, "error": repr(exc)})
        detail, ok = f"{type(exc).__name__}: {exc}", False
    return CheckResult(name, ok, str(detail), round((time.perf_counter() - started) * 1000, 1))


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _redis() -> str:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=PROBE_TIMEOUT_S, socket_connect_timeout=PROBE_TIMEOUT_S
    )
    try:
        client.ping()
    finally:
        client.close()
    return "pong"


def _broker() -> str:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=PROBE_TIMEOUT_S) as conn:  # type: ignore[no-untyped-call]
        conn.ensure_connection(max_retries=1, timeout=PROBE_TIMEOUT_S)
        return str(conn.transport_cls)


def health_checks_run() -> list[CheckResult]:
    """Run the probes for the configured services: always the database, Redis and the broker when set.

    A daphne process also reports its speech models, which are not ready while
    they load (a load balancer holds its traffic back meanwhile).
    """
    results = [_timed("database", _database)]
    models = readiness.PROCESS.state()
    if models is not None:
        results.append(CheckResult("models", models == "warm", models, 0.0))
    if settings.REDIS_URL:
        results.append(_timed("redis", _redis))
    if settings.CELERY_BROKER_URL and not settings.CELERY_TASK_ALWAYS_EAGER:
        results.append(_timed("celery_broker", _broker))
    return results
