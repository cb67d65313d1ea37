from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The dashboard: a read model over every app, so it sits above them all and none of them imports it."""

    name = "dashboard"
