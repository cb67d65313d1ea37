"""Per-call tokens that admit a Twilio media stream to the consumer.

The voice webhook (signed by Twilio) hands out the token inside TwiML; the
websocket carries it back in the stream's `start` message. Without it anyone
who found the URL could open a stream and run up compute on our models.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

_SALT = "reautomation.voice.stream"


def stream_token_issue(*, call_id: int) -> str:
    """Return a signed, timestamped token for one call's media stream."""
    return signing.TimestampSigner(salt=_SALT).sign(str(call_id))


def stream_token_call_id(*, token: str) -> int | None:
    """Return the call id a valid, fresh token was issued for, or None."""
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=settings.STREAM_TOKEN_MAX_AGE_S)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None
