from __future__ import annotations

from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calls"

    def ready(self) -> None:
        from calls.services import on_lead_import_finished
        from leads.signals import lead_import_finished

        # A file uploaded into a campaign: its leads join the campaign in the transaction that ends the import.
        lead_import_finished.connect(on_lead_import_finished, dispatch_uid="calls.campaign_upload_finish")
