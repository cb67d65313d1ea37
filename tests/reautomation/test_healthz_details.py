"""/healthz names what failed only to staff and to probes from inside; anyone else gets the status alone."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(settings: Any) -> None:
    settings.REDIS_URL, settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = DEAD_REDIS, "", True


def test_an_outsider_gets_only_the_status_code(client: Client, redis_down: None) -> None:
    response = client.get("/healthz", REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 503
    assert response.json() == {"status": "error"}
    assert b"ConnectionError" not in response.content and b"6379" not in response.content


def test_a_request_forwarded_by_a_proxy_counts_as_from_outside(client: Client, redis_down: None) -> None:
    response = client.get("/healthz", REMOTE_ADDR="127.0.0.1", headers={"X-Forwarded-For": "203.0.113.7"})

    assert response.json() == {"status": "error"}


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.0.3.4", "192.168.1.9"])
def test_a_probe_from_inside_gets_the_details(client: Client, redis_down: None, address: str) -> None:
    response = client.get("/healthz", REMOTE_ADDR=address)

    assert response.status_code == 503
    assert "ConnectionError" in response.json()["checks"]["redis"]["detail"]


def test_staff_get_the_details_from_anywhere(admin_client: Client, redis_down: None) -> None:
    response = admin_client.get("/healthz", REMOTE_ADDR="203.0.113.7")

    assert response.json()["checks"]["redis"]["ok"] is False


def test_an_outsider_still_sees_healthy_as_200(client: Client, settings: Any) -> None:
    settings.REDIS_URL, settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = "", "", True

    response = client.get("/healthz", REMOTE_ADDR="203.0.113.7")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})
