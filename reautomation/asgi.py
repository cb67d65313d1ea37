"""ASGI entry point: HTTP through Django, websockets through Channels."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reautomation.settings")

# Initialise Django (apps, settings) before importing anything that touches
# models, such as consumers.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from reautomation.routing import browser_websocket_urlpatterns, twilio_websocket_urlpatterns  # noqa: E402
from voice.engines import warm_up_in_background  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(
            [
                *twilio_websocket_urlpatterns,
                # The dashboard's sockets: same-origin only, signed in with the session cookie.
                re_path(
                    r"^", AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(browser_websocket_urlpatterns)))
                ),
            ]
        ),
    }
)

# Load the speech models while the server starts rather than on the first call.
if settings.VOICE_WARM_UP:
    warm_up_in_background()
