from __future__ import annotations

from django.apps import AppConfig


class DialerConfig(AppConfig):
    name = "dialer"

    def ready(self) -> None:
        from dialer.services import on_lead_dialing_stopped
        from leads.signals import lead_dialing_stopped

        # Queued calls of a lead who opted out or revoked consent are canceled in every campaign.
        lead_dialing_stopped.connect(on_lead_dialing_stopped, dispatch_uid="dialer.lead_queued_calls_cancel")
