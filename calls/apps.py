from __future__ import annotations

from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calls"

    def ready(self) -> None:
        from calls.dialer import on_lead_dialing_stopped
        from leads.signals import lead_dialing_stopped

        # Queued calls of a lead who opted out or revoked consent are canceled in every campaign.
        lead_dialing_stopped.connect(on_lead_dialing_stopped, dispatch_uid="calls.lead_queued_calls_cancel")
