"""Websocket routes. The voice issue adds the Twilio media stream here."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []
