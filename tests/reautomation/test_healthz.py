from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from common import readiness

# Services every machine here runs; see docs/testing.md, "Development".
LIVE_REDIS = "redis://127.0.0.1:6379/15"
LIVE_RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.mark.django_db
def test_it_reports_only_the_database_on_the_embedded_default(client: Client, settings: Any) -> None:
    settings.REDIS_URL, settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = "", "", True
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database"}


@pytest.mark.django_db
def test_it_reports_redis_and_the_broker_when_configured(client: Client, settings: Any) -> None:
    settings.REDIS_URL, settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = LIVE_REDIS, LIVE_REDIS, False
    body = client.get("/healthz").json()
    assert body["status"] == "ok", body
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "redis": True,
        "celery_broker": True,
    }


@pytest.mark.django_db
def test_it_reaches_a_rabbitmq_broker(client: Client, settings: Any) -> None:
    settings.REDIS_URL, settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = "", LIVE_RABBITMQ, False
    body = client.get("/healthz").json()
    assert body["checks"]["celery_broker"]["ok"] is True, body


@pytest.mark.django_db
def test_it_answers_503_and_names_the_failure_when_redis_is_down(client: Client, settings: Any) -> None:
    settings.REDIS_URL, settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = DEAD_REDIS, "", True
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["redis"]["ok"] is False
    assert "ConnectionError" in checks["redis"]["detail"]


def test_it_only_answers_get(client: Client) -> None:
    assert client.post("/healthz").status_code == 405


@pytest.fixture
def media_worker(monkeypatch: Any, settings: Any) -> readiness.ModelsReadiness:
    """This process as a daphne process whose models are loading (the state warmup.start leaves it in)."""
    settings.REDIS_URL, settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = "", "", True
    process = readiness.ModelsReadiness()
    process.loading()
    monkeypatch.setattr(readiness, "PROCESS", process)
    return process


@pytest.mark.django_db
def test_it_answers_503_while_the_models_load_and_200_once_they_are_warm(
    client: Client, media_worker: readiness.ModelsReadiness
) -> None:
    loading = client.get("/healthz")
    media_worker.warm()
    warm = client.get("/healthz")

    assert loading.status_code == 503
    assert loading.json() == {
        "status": "error",
        "checks": {
            "database": loading.json()["checks"]["database"],
            "models": {"ok": False, "detail": "loading", "latency_ms": 0.0},
        },
    }
    assert warm.status_code == 200
    assert warm.json()["checks"]["models"] == {"ok": True, "detail": "warm", "latency_ms": 0.0}


@pytest.mark.django_db
def test_it_names_the_error_when_the_models_could_not_load(
    client: Client, media_worker: readiness.ModelsReadiness
) -> None:
    media_worker.failed("FileNotFoundError: no Piper voice at /nowhere.onnx")

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["models"]["detail"] == "failed: FileNotFoundError: no Piper voice at /nowhere.onnx"
