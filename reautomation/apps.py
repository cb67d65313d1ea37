from __future__ import annotations

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class ReautomationConfig(AppConfig):
    name = "reautomation"
    verbose_name = "REAutomation"

    def ready(self) -> None:
        from reautomation import checks  # noqa: F401 - registers system checks
        from reautomation.roles import roles_sync

        # post_migrate comes once for each app with models, in INSTALLED_APPS order, after that app's
        # permissions are made: the last app's signal is the first that finds every permission.
        last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
        post_migrate.connect(roles_sync, sender=last, dispatch_uid="reautomation.roles_sync")
