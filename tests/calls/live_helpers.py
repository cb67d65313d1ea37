"""The live monitor's test harness: a staff or non-staff session cookie, a monitor socket, a call in progress."""

from __future__ import annotations

from typing import Any

from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from calls.models import Call
from reautomation.asgi import application
from reautomation.roles import MANAGERS
from tests.factories import CallFactory, team_member


def session_cookie(*, is_staff: bool, role: str = MANAGERS) -> str:
    """Sign in a staff user of `role` ("nobody": none), or a user who is not staff; return their session cookie."""
    if is_staff and role == "nobody":
        user = get_user_model().objects.create_user(username="staff-without-role", password="pw-12345", is_staff=True)
    elif is_staff:
        user = team_member(f"u{is_staff}{role}", role=role)
    else:
        user = get_user_model().objects.create_user(username=f"u{is_staff}", password="pw-12345")
    client = Client()
    client.force_login(user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


async def monitor(cookie: str | None, origin: str = "http://127.0.0.1:8000") -> WebsocketCommunicator:
    headers = [(b"origin", origin.encode()), (b"host", b"127.0.0.1:8000")]
    if cookie is not None:
        headers.append((b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, "/ws/live-calls/", headers=headers)


def live_call(**fields: Any) -> Call:
    return CallFactory(status=Call.Status.IN_PROGRESS, answered_at=timezone.now(), lead__first_name="Riley", **fields)
