"""Where Twilio fetches a call's voicemail message: a signed, per-call URL.

The URL carries a signed token naming the call, so the file is served only for
calls we placed and only for a while, whatever Twilio does or does not sign on
a media fetch. The audio behind it is voice.voicemail's.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

_SALT = "reautomation.voice.voicemail"
# Twilio fetches the file a second or two after the REST update; a quarter of an
# hour also covers a retried fetch and a slow queue, and nothing much longer.
TOKEN_MAX_AGE_S = 15 * 60


def voicemail_token_issue(*, call_id: int) -> str:
    """Return a signed, timestamped token for one call's voicemail audio URL."""
    return signing.TimestampSigner(salt=_SALT).sign(str(call_id))


def voicemail_token_call_id(*, token: str) -> int | None:
    """Return the call id a valid, fresh token was issued for, or None."""
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=TOKEN_MAX_AGE_S)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


def voicemail_url(*, call_id: int) -> str:
    """Return the public URL, with a fresh token, that Twilio fetches the call's message from."""
    token = voicemail_token_issue(call_id=call_id)
    path = reverse("twilio:voicemail_audio", kwargs={"call_id": call_id, "token": token})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path
