"""Signatures on outbound webhooks, Stripe-style: `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.

The timestamp is signed with the body, so a receiver that refuses old
timestamps also refuses a captured delivery played back later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-REAutomation-Signature"
# How old a signature a receiver should still accept, in seconds.
DEFAULT_TOLERANCE_S = 300


def signature_compute(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of "<timestamp>.<body>" under the endpoint's secret."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    """Return the value of the X-REAutomation-Signature header for this body, signed now unless told when."""
    at = int(time.time()) if timestamp is None else timestamp
    return f"t={at},v1={signature_compute(secret=secret, timestamp=at, body=body)}"


def signature_verify(
    *, secret: str, body: bytes, header: str, tolerance_s: int = DEFAULT_TOLERANCE_S, now: float | None = None
) -> bool:
    """Return whether the header signs this exact body with this secret, within `tolerance_s` of now.

    This is what a receiver runs; docs/integrations.md shows the same check on its own.
    """
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = signature_compute(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, parts.get("v1", ""))
