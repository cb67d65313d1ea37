"""System checks for the Google Sheets settings."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.compatibility)
def google_service_account_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when GOOGLE_SERVICE_ACCOUNT_FILE is set but is not a readable service-account key."""
    path = settings.GOOGLE_SERVICE_ACCOUNT_FILE
    if not path:
        return []
    try:
        with open(path, encoding="utf-8") as key_file:
            key = json.load(key_file)
    except (OSError, ValueError) as exc:
        return [
            Warning(
                f"GOOGLE_SERVICE_ACCOUNT_FILE={path!r} cannot be read as JSON ({exc}).",
                hint="Download a JSON key for the service account from the Google Cloud console.",
                id="integrations.W001",
            )
        ]
    if not isinstance(key, dict) or key.get("type") != "service_account" or "private_key" not in key:
        return [
            Warning(
                f"GOOGLE_SERVICE_ACCOUNT_FILE={path!r} is not a service-account key.",
                hint='The file must be the JSON key of a service account ("type": "service_account").',
                id="integrations.W002",
            )
        ]
    return []
