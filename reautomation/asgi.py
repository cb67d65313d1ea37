"""ASGI entry point: HTTP through Django, websockets through Channels."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, cast

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reautomation.settings")

if TYPE_CHECKING:
    from twisted.internet.base import ReactorBase

# Initialise Django (apps, settings) before importing anything that touches
# models, such as consumers.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402
from twisted.internet import reactor  # noqa: E402

from common.sockets import ExactOriginValidator  # noqa: E402
from reautomation.routing import browser_websocket_urlpatterns, twilio_websocket_urlpatterns  # noqa: E402
from voice import warmup  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(
            [
                *twilio_websocket_urlpatterns,
                # The dashboard's sockets: only from our own origins (scheme, host and port), signed in
                # with the session cookie.
                re_path(r"^", ExactOriginValidator(AuthMiddlewareStack(URLRouter(browser_websocket_urlpatterns)))),
            ]
        ),
    }
)

# Warm the speech models once daphne serves: its Twisted reactor (installed by
# the daphne app above) running is the sign. Tests and other code that import
# this module never run the reactor, so they neither load the models nor tell
# the dialer a media worker is up.
serving = cast("ReactorBase", reactor)
serving.callWhenRunning(warmup.start)
serving.addSystemEventTrigger("before", "shutdown", warmup.stop)
