from __future__ import annotations

from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Shared low-level helpers (access rules, env parsing, files, zones, API errors and types); no models."""

    name = "common"
