"""Settle calls whose final status never reached us, from what Twilio says about them.

A call is settled by Twilio's final status callback. When that callback never
comes (our app was down when Twilio sent it, or it was lost), the row would stay
live and its lead "on another call" for good. Twilio ends every call we place
after its campaign's max_call_minutes (sent as the call's TimeLimit), so a call
still live here CALL_RECONCILE_MARGIN_S after that must have ended there; this
sweep asks Twilio and applies what it says through the same services as the
callback would. A call Twilio still reports live is left alone, and one Twilio
can't tell us about (an error, a timeout) waits for the next sweep.

Calls without a SID never reached Twilio as far as we know; the dialer's
stale-claim sweep settles those.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging

from django.conf import settings
from django.utils import timezone

from calls.live import live_state_clear, live_turns_get
from calls.models import Call, TranscriptTurn
from calls.selectors import calls_past_time_limit_list
from calls.services import TurnRecord, call_session_lost, call_status_apply, call_transcript_save
from integrations.twilio.client import CallRecord, TwilioError, call_fetch

logger = logging.getLogger(__name__)


class ReconcileResult(enum.StrEnum):
    SETTLED = "settled"  # Twilio said it ended; its final status is applied
    LIVE = "live"  # Twilio says it is still going
    ERROR = "error"  # Twilio could not tell us; the next sweep asks again


def calls_open_reconcile(*, now: dt.datetime | None = None) -> dict[ReconcileResult, int]:
    """Ask Twilio about every live call past its time limit and settle those that ended.

    Returns:
        How many calls came to each ReconcileResult.
    """
    now = now or timezone.now()
    margin = dt.timedelta(seconds=settings.CALL_RECONCILE_MARGIN_S)
    counts = dict.fromkeys(ReconcileResult, 0)
    for call in calls_past_time_limit_list(now=now, margin=margin):
        counts[call_reconcile(call=call)] += 1
    logger.info("open calls reconciled with Twilio", extra={"counts": counts})
    return counts


def call_reconcile(*, call: Call) -> ReconcileResult:
    """Settle one live call from Twilio's record of it, if Twilio says it has ended."""
    if not call.twilio_sid:
        raise ValueError(f"call {call.pk} never reached Twilio; the dialer's stale-claim sweep settles it")
    try:
        record = call_fetch(sid=call.twilio_sid)
    except TwilioError as exc:
        logger.warning("could not reconcile a call with Twilio", extra={"call": call.pk, "error": str(exc)})
        return ReconcileResult.ERROR
    if record.status not in Call.TERMINAL_STATUSES:
        logger.warning(
            "call still live at Twilio past its time limit", extra={"call": call.pk, "twilio_status": record.status}
        )
        return ReconcileResult.LIVE
    _call_settle(call, record)
    return ReconcileResult.SETTLED


def _call_settle(call: Call, record: CallRecord) -> None:
    _live_transcript_keep(call.pk)
    if record.status == Call.Status.COMPLETED:
        # Answered, yet no session wrote an outcome by now: the conversation was cut short on our side.
        call_session_lost(call_id=call.pk)
    call_status_apply(
        call_id=call.pk, status=record.status, duration_seconds=record.duration_seconds, at=record.ended_at
    )
    live_state_clear(call_id=call.pk)
    logger.warning(
        "call settled from Twilio's record",
        extra={"call": call.pk, "status": record.status, "duration_s": record.duration_seconds},
    )


def _live_transcript_keep(call_id: int) -> None:
    # The session saves the transcript when the call ends; a lost session left
    # only what it published to the live monitor. A transcript already saved
    # with at least as many turns is the session's own and stays.
    turns = live_turns_get(call_id=call_id)
    if len(turns) > TranscriptTurn.objects.filter(call_id=call_id).count():
        records = [TurnRecord(speaker=t["speaker"], text=t["text"], latency_ms=t.get("latency_ms")) for t in turns]
        call_transcript_save(call_id=call_id, turns=records)
