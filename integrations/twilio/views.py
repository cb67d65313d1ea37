"""Twilio webhooks. Thin: check the signature, parse the form, call a service."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from pydantic import ValidationError

from calls.models import Call
from calls.selectors import call_get
from calls.services import call_answered_by_apply, call_machine_answered, call_status_apply
from calls.voicemail import voicemail_token_call_id
from integrations.twilio.client import signature_valid, twiml_hangup, twiml_stream
from integrations.twilio.schemas import AmdCallback, StatusCallback, VoiceWebhook
from voice.stream_tokens import stream_token_issue
from voice.voicemail import call_voicemail_message, voicemail_wav

logger = logging.getLogger(__name__)

View = Callable[[HttpRequest, int], HttpResponse]


def twilio_webhook(view: View) -> Callable[[HttpRequest], HttpResponse]:
    """Reject unsigned or forged requests (403) and requests without a valid call id (400)."""

    @csrf_exempt
    @require_POST
    @functools.wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        # Twilio signs the exact public URL it requested, query string included.
        url = settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
        params = {key: request.POST.getlist(key) for key in request.POST}
        signature = request.headers.get("X-Twilio-Signature", "")
        settings_header = request.headers.get("X-Twilio-Webhooks-Signature-Settings", "")
        if not signature_valid(url=url, params=params, signature=signature, settings_header=settings_header):
            logger.warning("twilio webhook with a bad signature", extra={"path": request.path})
            return HttpResponse("invalid X-Twilio-Signature", status=403, content_type="text/plain")
        raw_id = request.GET.get("call", "")
        if not raw_id.isdigit():
            return HttpResponse("missing or malformed ?call= id", status=400, content_type="text/plain")
        try:
            return view(request, int(raw_id))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            return HttpResponse(f"bad Twilio payload: {problems}", status=400, content_type="text/plain")

    return wrapper


def _twiml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/xml")


def _stream_url() -> str:
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/twilio/stream/"


@twilio_webhook
def voice(request: HttpRequest, call_id: int) -> HttpResponse:
    """Answer the call with TwiML that connects it to our media stream."""
    payload = VoiceWebhook.model_validate(request.POST.dict())
    call = call_get(call_id=call_id)
    if call is None or call.is_finished:
        logger.warning("voice webhook for an unknown or finished call", extra={"call": call_id})
        return _twiml(twiml_hangup())
    call_status_apply(call_id=call_id, status=payload.call_status, twilio_sid=payload.call_sid)
    token = stream_token_issue(call_id=call_id)
    return _twiml(twiml_stream(stream_url=_stream_url(), parameters={"call_id": str(call_id), "token": token}))


@twilio_webhook
def status(request: HttpRequest, call_id: int) -> HttpResponse:
    """Follow the call through initiated, ringing, in-progress and its final status."""
    payload = StatusCallback.model_validate(request.POST.dict())
    if call_get(call_id=call_id) is None:
        return HttpResponse("unknown call", status=404, content_type="text/plain")
    try:
        call_status_apply(
            call_id=call_id,
            status=payload.call_status,
            twilio_sid=payload.call_sid,
            duration_seconds=payload.call_duration,
        )
    except ValueError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    return HttpResponse(status=204)


@twilio_webhook
def amd(request: HttpRequest, call_id: int) -> HttpResponse:
    """Record whether a human or a machine answered (async AMD); on a machine, leave a message or hang up."""
    payload = AmdCallback.model_validate(request.POST.dict())
    if call_get(call_id=call_id) is None:
        return HttpResponse("unknown call", status=404, content_type="text/plain")
    if call_answered_by_apply(call_id=call_id, answered_by=payload.answered_by) == Call.AnsweredBy.MACHINE:
        call_machine_answered(call_id=call_id)
    return HttpResponse(status=204)


@require_GET
def voicemail_audio(request: HttpRequest, call_id: int, token: str) -> HttpResponse:
    """Serve the call's voicemail message as WAV to Twilio's <Play>; the signed token stands in for a login."""
    if voicemail_token_call_id(token=token) != call_id:
        return HttpResponse("invalid or expired token", status=403, content_type="text/plain")
    text = call_voicemail_message(call_id=call_id)
    if text is None:
        return HttpResponse("unknown call", status=404, content_type="text/plain")
    return HttpResponse(voicemail_wav(text=text), content_type="audio/wav")
