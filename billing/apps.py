from __future__ import annotations

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from billing.services import on_call_finished
        from calls.signals import call_finished

        # A call's final status carries Twilio's duration, which the telephony is billed on.
        call_finished.connect(on_call_finished, dispatch_uid="billing.call_costs_settle")
