from __future__ import annotations

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        # Each integration keeps its admin beside its code; Django's autodiscovery only imports integrations.admin.
        from agents import signals as agents_signals
        from calls.signals import call_finished
        from integrations import checks  # noqa: F401 - registers system checks
        from integrations.calendar import admin as calendar_admin  # noqa: F401
        from integrations.sheets import admin as sheets_admin  # noqa: F401
        from integrations.webhooks import admin as webhooks_admin  # noqa: F401
        from integrations.webhooks import receivers

        # Outbound webhooks announce what the apps below record, in the transaction that records it.
        call_finished.connect(receivers.on_call_finished, dispatch_uid="integrations.webhooks.call_completed")
        agents_signals.appointment_booked.connect(
            receivers.on_appointment_booked, dispatch_uid="integrations.webhooks.appointment_booked"
        )
        agents_signals.lead_qualified.connect(
            receivers.on_lead_qualified, dispatch_uid="integrations.webhooks.lead_qualified"
        )
        agents_signals.lead_opted_out.connect(
            receivers.on_lead_opted_out, dispatch_uid="integrations.webhooks.lead_opted_out"
        )
