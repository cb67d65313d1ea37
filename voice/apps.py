from __future__ import annotations

from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "voice"

    def ready(self) -> None:
        from calls.signals import machine_answered
        from voice.tasks import on_machine_answered

        # A machine answered a live call: a task leaves the campaign's message or hangs up.
        machine_answered.connect(on_machine_answered, dispatch_uid="voice.call_machine_handle")
