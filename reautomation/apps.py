from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ReautomationConfig(AppConfig):
    name = "reautomation"
    verbose_name = "REAutomation"

    def ready(self) -> None:
        from reautomation import checks  # noqa: F401 - registers system checks
        from reautomation.roles import roles_sync

        post_migrate.connect(roles_sync, dispatch_uid="reautomation.roles_sync")
