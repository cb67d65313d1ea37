"""The one module that talks to Twilio: REST calls, webhook signatures and TwiML.

`TWILIO_API_BASE_URL` points the official `twilio` client at another host, so
the same code drives the local Twilio emulator in the demo and in tests.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.rest import Client
from twilio.twiml.voice_response import Connect, VoiceResponse

logger = logging.getLogger(__name__)

# Twilio's progress events; "answered" arrives as CallStatus=in-progress.
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
REQUEST_TIMEOUT_S = 10
# Twilio's own TimeLimit when a request names none: four hours.
DEFAULT_TIME_LIMIT_S = 14400


class TwilioError(RuntimeError):
    """Twilio (or the emulator) refused or failed a request; the message says why."""


class TwilioOutcomeUnknown(TwilioError):
    """Twilio failed on its side (a 5xx answer): the request may or may not have taken effect."""


@dataclass(frozen=True)
class OutboundCall:
    to: str
    from_: str
    voice_url: str
    status_callback_url: str
    amd_callback_url: str
    # Answering-machine detection runs beside the call (async AMD) so a human
    # who answers hears the agent at once instead of after 3-4 s of analysis.
    machine_detection: str = "DetectMessageEnd"
    # Twilio hangs up once the call has lasted this long, whatever our side is doing.
    time_limit_s: int = DEFAULT_TIME_LIMIT_S

    @classmethod
    def to_our_webhooks(
        cls, *, call_id: int, to: str, from_: str, base_url: str, time_limit_s: int = DEFAULT_TIME_LIMIT_S
    ) -> OutboundCall:
        """Address Twilio's voice, status and AMD requests for one call to our webhooks under base_url."""
        query = f"?call={call_id}"
        base = base_url.rstrip("/")
        return cls(
            to=to,
            from_=from_,
            voice_url=base + reverse("twilio:voice") + query,
            status_callback_url=base + reverse("twilio:status") + query,
            amd_callback_url=base + reverse("twilio:amd") + query,
            time_limit_s=time_limit_s,
        )


@dataclass(frozen=True)
class CallRecord:
    """What Twilio's Call resource says about a call."""

    sid: str
    status: str  # Twilio's status: queued, initiated, ringing, in-progress, completed, busy, no-answer, ...
    duration_seconds: int | None  # set once the call has ended
    ended_at: dt.datetime | None


@cache
def _client(account_sid: str, auth_token: str, base_url: str) -> Client:
    # The library's default HTTP client has no timeout: a stalled Twilio would
    # hold the worker (or, with eager Celery, the webhook) that made the request.
    client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=REQUEST_TIMEOUT_S))
    client.api.base_url = base_url
    return client


def rest_client() -> Client:
    """Return a Twilio REST client bound to the configured account and base URL."""
    return _client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_BASE_URL)


def call_create(call: OutboundCall) -> str:
    """Place an outbound call and return its Call SID.

    Raises:
        TwilioOutcomeUnknown: when Twilio answers with a server error; the call may exist.
        TwilioError: when Twilio rejects the request (bad number, no funds, ...).
    """
    try:
        instance = rest_client().calls.create(
            to=call.to,
            from_=call.from_,
            url=call.voice_url,
            method="POST",
            status_callback=call.status_callback_url,
            status_callback_event=STATUS_EVENTS,
            status_callback_method="POST",
            machine_detection=call.machine_detection,
            async_amd="true",
            async_amd_status_callback=call.amd_callback_url,
            async_amd_status_callback_method="POST",
            time_limit=call.time_limit_s,
        )
    except TwilioRestException as exc:
        if exc.status >= 500:
            # Call creation takes no idempotency key, and a server error does
            # not say whether the call was placed before it failed.
            raise TwilioOutcomeUnknown(
                f"Twilio failed placing the call to {call.to}: {exc.msg} (code {exc.code})"
            ) from exc
        raise TwilioError(f"Twilio refused the call to {call.to}: {exc.msg} (code {exc.code})") from exc
    sid = str(instance.sid)
    logger.info("twilio call created", extra={"call_sid": sid})
    return sid


def call_fetch(*, sid: str) -> CallRecord:
    """Return Twilio's record of the call.

    Raises:
        TwilioError: when Twilio refuses the request (e.g. 20404: no such call) or cannot be reached.
    """
    try:
        instance = rest_client().calls(sid).fetch()
    except TwilioRestException as exc:
        raise TwilioError(f"Twilio refused to fetch {sid}: {exc.msg} (code {exc.code})") from exc
    except OSError as exc:  # requests' connection and timeout errors are OSErrors
        raise TwilioError(f"could not reach Twilio to fetch {sid}: {exc}") from exc
    duration = instance.duration
    return CallRecord(
        sid=str(instance.sid),
        status=str(instance.status),
        duration_seconds=int(duration) if duration not in (None, "") else None,
        ended_at=instance.end_time if isinstance(instance.end_time, dt.datetime) else None,
    )


async def call_hangup(*, sid: str) -> None:
    """End a live call through the REST API without blocking the event loop.

    Raises:
        TwilioError: when Twilio rejects the request.
    """
    http_client = AsyncTwilioHttpClient(timeout=REQUEST_TIMEOUT_S)
    client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)
    client.api.base_url = settings.TWILIO_API_BASE_URL
    try:
        await client.calls(sid).update_async(status="completed")
    except TwilioRestException as exc:
        raise TwilioError(f"Twilio refused to hang up {sid}: {exc.msg} (code {exc.code})") from exc
    finally:
        await http_client.close()


def call_update_twiml(*, sid: str, twiml: str) -> None:
    """Replace the TwiML a live call is running; Twilio stops the call's media stream first.

    Raises:
        TwilioError: when Twilio rejects the request (e.g. 21220: the call is no longer in progress)
            or cannot be reached.
    """
    _call_update(sid, "redirect", twiml=twiml)


def call_end(*, sid: str) -> None:
    """End a live call through the REST API (the synchronous twin of call_hangup, for services and tasks).

    Raises:
        TwilioError: when Twilio rejects the request or cannot be reached.
    """
    _call_update(sid, "hang up", status="completed")


def _call_update(sid: str, what: str, **changes: str) -> None:
    try:
        rest_client().calls(sid).update(**changes)
    except TwilioRestException as exc:
        raise TwilioError(f"Twilio refused to {what} {sid}: {exc.msg} (code {exc.code})") from exc
    except OSError as exc:  # requests' connection and timeout errors are OSErrors
        raise TwilioError(f"could not reach Twilio to {what} {sid}: {exc}") from exc
    logger.info("twilio call updated", extra={"call_sid": sid, "update": what})


def signature_valid(*, url: str, params: dict[str, list[str]], signature: str, settings_header: str = "") -> bool:
    """Return whether a webhook really came from Twilio (X-Twilio-Signature over URL and form)."""
    token = settings.TWILIO_AUTH_TOKEN
    if not token or not signature:
        return False
    validator = RequestValidator(token)
    return bool(validator.validate(url, _MultiDict(params), signature, get_signature_algorithm(settings_header)))


def signature_compute(*, url: str, params: dict[str, list[str]], auth_token: str | None = None) -> str:
    """Sign a webhook the way Twilio does; used by the emulator and by tests.

    `auth_token` defaults to TWILIO_AUTH_TOKEN; the emulator passes the token
    of the account it is playing, which need not be this process's.
    """
    token = settings.TWILIO_AUTH_TOKEN if auth_token is None else auth_token
    return str(RequestValidator(token).compute_signature(url, _MultiDict(params)))


class _MultiDict(dict[str, list[str]]):
    # RequestValidator reads repeated form fields through getlist().
    def getlist(self, key: str) -> list[str]:
        return self[key]


def twiml_stream(*, stream_url: str, parameters: dict[str, str]) -> str:
    """Return TwiML that connects the call's audio to our media-stream websocket."""
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=stream_url)
    for name, value in parameters.items():
        stream.parameter(name=name, value=value)
    response.append(connect)
    return str(response)


def twiml_play_then_hangup(*, url: str) -> str:
    """Return TwiML that plays one audio file (WAV, MP3) and then ends the call."""
    response = VoiceResponse()
    response.play(url)
    response.hangup()
    return str(response)


def twiml_hangup() -> str:
    """Return TwiML that ends the call at once."""
    response = VoiceResponse()
    response.hangup()
    return str(response)


__all__ = [
    "DEFAULT_TIME_LIMIT_S",
    "STATUS_EVENTS",
    "CallRecord",
    "OutboundCall",
    "TwilioError",
    "TwilioOutcomeUnknown",
    "call_create",
    "call_end",
    "call_fetch",
    "call_hangup",
    "call_update_twiml",
    "rest_client",
    "signature_compute",
    "signature_valid",
    "twiml_hangup",
    "twiml_play_then_hangup",
    "twiml_stream",
]
