"""Writes for brokers, appointments and what the agent learns on a call."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from agents import notifications, signals
from agents.models import Appointment, Broker, ConversationSnapshot
from agents.selectors import open_slots_list
from calls.models import Call
from calls.services import TurnRecord, call_transcript_save
from leads.models import DoNotCall, Lead
from leads.phones import phone_normalize
from leads.services import dnc_add

logger = logging.getLogger(__name__)


def appointment_cancel(*, appointment: Appointment) -> Appointment:
    """Cancel a booked or confirmed appointment; canceling it twice is harmless.

    Raises:
        ValidationError: when the appointment already took place or was a no-show.
    """
    if appointment.status == Appointment.Status.CANCELED:
        return appointment
    if appointment.status in (Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW):
        raise ValidationError(
            f"The appointment on {appointment.start:%Y-%m-%d %H:%M} is "
            f"{appointment.get_status_display().lower()} and cannot be canceled."
        )
    appointment.status = Appointment.Status.CANCELED
    appointment.save(update_fields=["status"])
    logger.info("appointment canceled", extra={"appointment": appointment.pk})
    return appointment


# --- What the agent writes during and after a call ------------------------------------------------------------------


class SlotUnavailable(Exception):
    """The time is no longer open: someone booked it, or it is outside the broker's hours."""


def appointment_book(
    *, lead_id: int, broker_id: int, start: dt.datetime, call_id: int | None = None, notes: str = ""
) -> Appointment:
    """Book the lead with the broker at `start` for the broker's appointment length, if that time is still open.

    The broker row is locked while checking, so two calls cannot book the same slot.

    Raises:
        SlotUnavailable: when the slot is taken, outside the broker's working hours, or the broker is inactive.
    """
    with transaction.atomic():
        broker = Broker.objects.select_for_update().filter(pk=broker_id, is_active=True).first()
        if broker is None:
            raise SlotUnavailable(f"broker {broker_id} is not taking appointments")
        end = start + dt.timedelta(minutes=broker.appointment_minutes)
        open_now = open_slots_list(start=start, end=end)
        if not any(s.broker_id == broker_id and s.start == start for s in open_now):
            raise SlotUnavailable(f"{start.isoformat()} is no longer open for broker {broker_id}")
        appointment = Appointment.objects.create(
            lead_id=lead_id, broker=broker, call_id=call_id, start=start, end=end, notes=notes
        )
        Lead.objects.filter(pk=lead_id).exclude(status=Lead.Status.DO_NOT_CALL).update(status=Lead.Status.APPOINTMENT)
        signals.appointment_booked.send(sender=Appointment, appointment_id=appointment.pk)
        notifications.appointment_booked_notify(appointment_id=appointment.pk)
    logger.info("appointment booked", extra={"appointment": appointment.pk, "call": call_id})
    return appointment


def lead_callback_schedule(*, lead_id: int, at: dt.datetime) -> None:
    """Have the dialer call the lead again at `at`, as they asked; a do-not-call lead stays untouched."""
    Lead.objects.filter(pk=lead_id).exclude(status=Lead.Status.DO_NOT_CALL).update(
        next_attempt_at=at, status=Lead.Status.CONTACTED
    )


def lead_opt_out(*, phone: str, reason: str) -> DoNotCall:
    """Put the number on the do-not-call list because the lead asked on a call."""
    with transaction.atomic():
        # Asking twice (two calls, or a retried tool call) sends the signal once.
        # A national registry listing is not the lead's own request: the first one still counts.
        listed = (
            DoNotCall.objects.filter(phone=phone_normalize(phone)).exclude(source=DoNotCall.Source.REGISTRY).exists()
        )
        entry = dnc_add(phone=phone, reason=reason, source=DoNotCall.Source.LEAD_REQUEST)
        opted_out = [] if listed else list(Lead.objects.filter(phone=entry.phone).values_list("pk", flat=True))
        for lead_id in opted_out:
            signals.lead_opted_out.send(sender=Lead, lead_id=lead_id, reason=reason)
    return entry


# Lead statuses a call may move a lead to, by how far along it is; a later call never moves a lead back.
_LEAD_STATUS_RANK: dict[str, int] = {
    Lead.Status.NEW: 0,
    Lead.Status.IN_PROGRESS: 1,
    Lead.Status.UNREACHABLE: 1,
    Lead.Status.CONTACTED: 2,
    Lead.Status.NOT_INTERESTED: 3,
    Lead.Status.QUALIFIED: 3,
    Lead.Status.APPOINTMENT: 4,
    Lead.Status.DO_NOT_CALL: 5,
}


@dataclass(frozen=True)
class ConversationRecord:
    """What the agent learned on a call, to store on the Call and its Lead."""

    qualification: dict[str, Any]
    score: int | None
    intent: str = ""
    outcome: str = ""
    summary: str = ""
    lead_status: str = ""
    address: str = ""
    email: str = ""
    # Why a person should make the next call ("doesn't speak English"); empty leaves the lead to the AI.
    human_follow_up: str = ""


# Outcomes that stand even on a call answering-machine detection called a voicemail:
# each put the number on the do-not-call list, and the call record must say why.
_OUTCOMES_OVER_VOICEMAIL = frozenset({Call.Outcome.OPTED_OUT, Call.Outcome.WRONG_NUMBER})


def conversation_save(*, call_id: int, lead_id: int, record: ConversationRecord) -> None:
    """Store the slots, score, outcome and summary on the call, and what they say about the lead on the lead.

    Saved after every turn (outcome and summary empty) and once more at the end of the call, so a call
    cut off midway keeps what was learned. On a voicemail call the final save keeps the voicemail
    outcome and summary and leaves the lead alone: what the brain heard came from a machine.
    """
    call_fields: dict[str, Any] = {"qualification": record.qualification, "score": record.score}
    ending = {name: value for name, value in (("outcome", record.outcome), ("summary", record.summary)) if value}
    with transaction.atomic():
        if ending and record.outcome not in _OUTCOMES_OVER_VOICEMAIL:
            # Locked, so the AMD webhook cannot mark the call a voicemail between this read and the write.
            outcome = Call.objects.select_for_update().values_list("outcome", flat=True).get(pk=call_id)
            if outcome == Call.Outcome.VOICEMAIL:
                Call.objects.filter(pk=call_id).update(**call_fields)
                return
        Call.objects.filter(pk=call_id).update(**call_fields, **ending)
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        was = lead.status
        _lead_apply(lead, record)
        _lead_slots_merge(lead, record, call_id=call_id)
        lead.save(
            update_fields=[
                "score", "intent", "status", "address", "email", "qualification", "human_follow_up", "updated_at"
            ]
        )  # fmt: skip
        # Statuses only move up (_LEAD_STATUS_RANK), so a lead becomes qualified, and is announced, once.
        if lead.status == Lead.Status.QUALIFIED and was != Lead.Status.QUALIFIED:
            signals.lead_qualified.send(sender=Lead, lead_id=lead.pk, call_id=call_id)


def _lead_slots_merge(lead: Lead, record: ConversationRecord, *, call_id: int) -> None:
    # A later call's answer replaces an earlier one slot by slot; slots this
    # call did not touch keep what an earlier call learned.
    slots = record.qualification.get("slots") or {}
    if slots:
        lead.qualification = {**lead.qualification, **{k: {**v, "call_id": call_id} for k, v in slots.items()}}


def _lead_apply(lead: Lead, record: ConversationRecord) -> None:
    if record.score is not None:
        lead.score = record.score
    if record.intent in Lead.Intent.values:
        lead.intent = record.intent
    rank = _LEAD_STATUS_RANK
    if record.lead_status and rank.get(record.lead_status, 0) > rank.get(lead.status, 0):
        lead.status = record.lead_status
    if record.human_follow_up:
        lead.human_follow_up = record.human_follow_up[:100]
    if record.address:
        lead.address = record.address[:255]
    if record.email:
        try:
            validate_email(record.email)
        except ValidationError:
            logger.warning("ignored an invalid email heard on a call", extra={"lead": lead.pk})
        else:
            lead.email = record.email


def conversation_transcript_save(*, call_id: int, turns: Sequence[tuple[str, str]]) -> int:
    """Store the call's transcript so far as (speaker, text) pairs; the voice layer later replaces it with timings."""
    return call_transcript_save(call_id=call_id, turns=[TurnRecord(speaker=s, text=t) for s, t in turns])


def conversation_snapshot_save(*, call_id: int, state: dict[str, Any]) -> None:
    """Store the conversation as the call left it, for its post-call analysis (brain.call_conversation_finish)."""
    ConversationSnapshot.objects.update_or_create(call_id=call_id, defaults={"state": state, "finished_at": None})


def conversation_snapshot_finished(*, call_id: int) -> bool:
    """Mark the call's post-call analysis stored; return False when it already was (a duplicate run).

    A call that ended with a hot lead is announced to the brokers here, where the final score is
    stored and only the first run gets through.
    """
    with transaction.atomic():
        done = ConversationSnapshot.objects.filter(call_id=call_id, finished_at__isnull=True).update(
            finished_at=timezone.now()
        )
        # A voicemail's score came from a machine's greeting.
        hot = Call.objects.filter(pk=call_id, qualification__bucket="hot").exclude(outcome=Call.Outcome.VOICEMAIL)
        if done == 1 and hot.exists():
            notifications.hot_lead_notify(call_id=call_id)
    return done == 1
