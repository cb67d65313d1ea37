"""System checks for configuration that is legal Django but wrong for this product."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.compatibility, deploy=True)
def public_url_check(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """Twilio only opens media streams to wss:// URLs, so production needs https."""
    if settings.PUBLIC_BASE_URL.startswith("https://"):
        return []
    return [
        Warning(
            f"PUBLIC_BASE_URL is {settings.PUBLIC_BASE_URL!r}; Twilio needs a public https URL "
            "for webhooks and wss:// for media streams.",
            hint="Set PUBLIC_BASE_URL=https://your-host.example.com",
            id="reautomation.W001",
        )
    ]


@register(Tags.caches)
def dialer_rate_cache_check(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """The account-wide calls-per-second limit lives in the cache, so workers must share one."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.CELERY_TASK_ALWAYS_EAGER or not backend.endswith(("LocMemCache", "DummyCache")):
        return []
    return [
        Warning(
            f"Celery runs on workers but the cache is {backend.rsplit('.', 1)[-1]}: each worker process "
            "would keep its own calls-per-second budget and together they could exceed Twilio's limit.",
            hint="Set REDIS_URL so the cache is Redis.",
            id="reautomation.W002",
        )
    ]
