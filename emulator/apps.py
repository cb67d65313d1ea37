from __future__ import annotations

from django.apps import AppConfig


class EmulatorConfig(AppConfig):
    """Installed for its commands: twilio_emulator, demo_campaign, seed_demo, serve, beat_inline."""

    name = "emulator"
