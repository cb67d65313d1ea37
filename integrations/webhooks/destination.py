"""Where a webhook may be sent: a public https address, never a machine inside our network.

An endpoint's URL is typed by a staff user, and the delivery carries lead
details and is answered by whatever listens there, so a URL that resolves to
loopback, a private or link-local network, or a cloud metadata service would
let the admin reach inside the deployment. The check runs when the URL is
saved and again before each send, on every address the name resolves to then.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

# Names that reach a cloud provider's instance metadata without an IP in the URL.
_METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data"})


def webhook_url_problem(url: str) -> str | None:
    """Return why a webhook may not be sent to `url`, or None when it may.

    WEBHOOK_ALLOW_INTERNAL (on in DEBUG) lets a developer send to http:// and local receivers.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "the address has no host"
    if settings.WEBHOOK_ALLOW_INTERNAL:
        return None
    if parts.scheme != "https":
        return "only https addresses can receive webhooks"
    if host in _METADATA_NAMES or host.endswith(".internal"):
        return f"{host} is a cloud metadata or internal name"
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return f"{host} does not resolve"
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            return f"{host} resolves to {address}, an internal address"
    return None


def validate_webhook_url(url: str) -> None:
    """Refuse, with the reason, a URL webhooks may not be sent to."""
    problem = webhook_url_problem(url)
    if problem:
        raise ValidationError(f"Webhooks can't be sent there: {problem}.", code="webhook_destination")
