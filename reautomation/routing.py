"""Websocket routes."""

from __future__ import annotations

from typing import Any

from django.urls import path

from dashboard.consumers import LiveCallsConsumer
from voice.consumers import BrowserTestCallConsumer, TwilioMediaStreamConsumer

# Twilio's media-stream client sends no Origin header, so this route cannot sit
# behind the browser origin check; it is authenticated by the per-call token
# that the signed voice webhook hands out instead.
twilio_websocket_urlpatterns: list[Any] = [
    path("twilio/stream/", TwilioMediaStreamConsumer.as_asgi()),
]

# Browser sockets (the dashboard's live monitor, the test call) go here and are
# wrapped in common.sockets.ExactOriginValidator in asgi.py.
browser_websocket_urlpatterns: list[Any] = [
    path("ws/live-calls/", LiveCallsConsumer.as_asgi()),
    path("ws/test-call/<int:campaign_id>/", BrowserTestCallConsumer.as_asgi()),
]
