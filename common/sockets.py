"""Who may hold a browser socket open: an exact-origin check at the handshake, and a periodic re-check after it.

A socket outlives the page that opened it, so the dashboard's own sign-in checks (common.access)
are made again every SOCKET_AUTH_RECHECK_S while it is open: a broker who signs out, loses staff or is
deactivated stops receiving the live monitor's calls, and their test call ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from importlib import import_module
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import urlsplit

from channels.db import aclose_old_connections, database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth import get_user, get_user_model
from django.http import HttpRequest

from common.access import dashboard_user

logger = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": 80, "https": 443}
# The names a development server answers on; in DEBUG a page opened under any of them may open its sockets.
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def _origin(url: str) -> str | None:
    """Return `url` as "scheme://host:port" with the default port written out, or None if it is no web origin."""
    try:
        parts = urlsplit(url.strip().lower())
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or port is None:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}:{port}"


def socket_origins_allowed() -> set[str]:
    """Return the origins whose pages may open our browser sockets, each as "scheme://host:port".

    They are the public site (PUBLIC_BASE_URL) and the origins already trusted to post forms
    (CSRF_TRUSTED_ORIGINS); in DEBUG also the loopback names on PUBLIC_BASE_URL's scheme and port, so
    that http://localhost:8000 works beside http://127.0.0.1:8000 on a laptop.
    """
    origins = {_origin(settings.PUBLIC_BASE_URL), *(_origin(o) for o in settings.CSRF_TRUSTED_ORIGINS)}
    public = urlsplit(settings.PUBLIC_BASE_URL)
    if settings.DEBUG and public.scheme in _DEFAULT_PORTS:
        port = public.port or _DEFAULT_PORTS[public.scheme]
        origins.update(_origin(f"{public.scheme}://{name}:{port}") for name in _LOOPBACK_NAMES)
    return {origin for origin in origins if origin is not None}


class ExactOriginValidator:
    """Let a websocket through only when its Origin header is exactly one of ours: scheme, host and port.

    Channels' AllowedHostsOriginValidator compares host names only, so a page served over plain http,
    or by another service on another port of the same host, could open the dashboard's sockets with
    the broker's cookie. A socket with no Origin is refused too: browsers always send one, so only a
    non-browser client omits it, and those (Twilio's media streams) have their own routes.
    """

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        raw = dict(scope.get("headers", [])).get(b"origin", b"")
        origin = _origin(raw.decode("latin1")) if raw else None
        if origin is None or origin not in socket_origins_allowed():
            logger.warning("websocket refused: origin not allowed", extra={"origin": raw.decode("latin1")[:200]})
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


def _socket_user_allowed(scope: dict[str, Any]) -> bool:
    """Return whether the socket's user may still use the dashboard, read afresh from the session and the database."""
    user: Any = scope.get("user")
    if not dashboard_user(user):
        return False
    session = scope.get("session")
    current: Any
    if session is None:
        # Only tests mount a consumer without the session middleware; the user row is still re-read.
        current = get_user_model()._default_manager.filter(pk=user.pk).first()
    else:
        # A new store, not the scope's: that one holds what the session said at the handshake.
        store = import_module(settings.SESSION_ENGINE).SessionStore(session.session_key)
        # Django's own check: the session still exists, names a backend, and its password hash still matches.
        current = get_user(cast(HttpRequest, SimpleNamespace(session=store)))
    return current is not None and current.pk == user.pk and dashboard_user(current)


async def socket_user_allowed(scope: dict[str, Any]) -> bool:
    """Return whether the socket's user is still signed in, active and staff."""
    # Sockets sit idle between checks longer than a database connection may live.
    await aclose_old_connections()
    return bool(await database_sync_to_async(_socket_user_allowed)(scope))


def socket_user_watch(*, scope: dict[str, Any], revoked: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
    """Check the socket's user every SOCKET_AUTH_RECHECK_S and await `revoked` once they may no longer use it.

    Args:
        scope: the socket's scope, with the user (and the session) the handshake found.
        revoked: closes the socket (and ends whatever it runs); called at most once.

    Returns:
        The watching task; cancel it when the socket closes.
    """

    async def watch() -> None:
        while True:
            await asyncio.sleep(settings.SOCKET_AUTH_RECHECK_S)
            try:
                allowed = await socket_user_allowed(scope)
            except Exception:  # access that cannot be confirmed is access refused
                logger.exception("socket closed: its user's access could not be checked")
                allowed = False
            if not allowed:
                logger.info("socket closed: its user signed out or lost access", extra={"path": scope.get("path")})
                await revoked()
                return

    return asyncio.get_running_loop().create_task(watch())
