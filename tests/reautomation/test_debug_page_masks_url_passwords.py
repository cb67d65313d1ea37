"""The debug page and error reports hide passwords written inside URLs, not only settings named like secrets."""

from __future__ import annotations

import secrets
import sys
from typing import Any

from django.test import RequestFactory
from django.views.debug import ExceptionReporter

# Made at run time, so that the page's source excerpts cannot show it either.
PASSWORD = secrets.token_hex(8)
DATABASE_URL = f"postgres://reauto:{PASSWORD}@db.internal:5432/reautomation"
REDIS_URL = f"redis://:{PASSWORD}@cache.internal:6379/0"
BROKER_URL = f"amqp://worker:{PASSWORD}@mq.internal:5672//"


def _debug_page(request_meta: dict[str, str] | None = None) -> str:
    request = RequestFactory().get("/dashboard/", **(request_meta or {}))
    broker = BROKER_URL  # noqa: F841 - a local variable the traceback shows
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        return ExceptionReporter(request, *sys.exc_info()).get_traceback_html()


def test_it_masks_the_passwords_in_database_redis_and_broker_urls(settings: Any) -> None:
    settings.DEBUG = True
    settings.DATABASE_URL, settings.REDIS_URL, settings.CELERY_BROKER_URL = DATABASE_URL, REDIS_URL, BROKER_URL
    settings.CACHES = {**settings.CACHES, "sessions": {"BACKEND": "x", "LOCATION": REDIS_URL}}

    page = _debug_page({"HTTP_X_UPSTREAM": BROKER_URL})

    assert PASSWORD not in page
    assert "postgres://reauto:********@db.internal:5432/reautomation" in page
    assert "redis://:********@cache.internal:6379/0" in page
    assert "amqp://worker:********@mq.internal:5672//" in page


def test_it_still_shows_urls_without_passwords(settings: Any) -> None:
    settings.DEBUG = True
    settings.PUBLIC_BASE_URL = "https://agent.example.com/path?q=1"

    assert "https://agent.example.com/path?q=1" in _debug_page()
