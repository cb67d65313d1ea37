from __future__ import annotations

from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "voice"

    def ready(self) -> None:
        from calls.signals import voicemail_leaving
        from voice.voicemail import on_voicemail_leaving

        # Rendered before Twilio is handed the message's URL, so its fetch a moment later is a cache hit.
        voicemail_leaving.connect(on_voicemail_leaving, dispatch_uid="voice.voicemail_wav")
