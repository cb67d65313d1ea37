from __future__ import annotations

from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calls"

    def ready(self) -> None:
        from calls.dialer import on_lead_dialing_stopped
        from calls.services import on_lead_import_finished
        from leads.signals import lead_dialing_stopped, lead_import_finished

        # Queued calls of a lead who opted out or revoked consent are canceled in every campaign.
        lead_dialing_stopped.connect(on_lead_dialing_stopped, dispatch_uid="calls.lead_queued_calls_cancel")
        # A file uploaded into a campaign: its leads join the campaign in the transaction that ends the import.
        lead_import_finished.connect(on_lead_import_finished, dispatch_uid="calls.campaign_upload_finish")
