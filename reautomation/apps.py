from __future__ import annotations

from django.apps import AppConfig


class ReautomationConfig(AppConfig):
    name = "reautomation"
    verbose_name = "REAutomation"

    def ready(self) -> None:
        from reautomation import checks  # noqa: F401 - registers system checks
