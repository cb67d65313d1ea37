from __future__ import annotations

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        # Each integration keeps its admin beside its code; Django's autodiscovery only imports integrations.admin.
        from integrations import checks  # noqa: F401 - registers system checks
        from integrations.calendar import admin as calendar_admin  # noqa: F401
        from integrations.sheets import admin as sheets_admin  # noqa: F401
        from integrations.webhooks import admin as webhooks_admin  # noqa: F401
