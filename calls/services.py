"""Writes for campaigns and calls."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from calls.models import Call, Campaign, CampaignImport, TranscriptTurn
from calls.selectors import LIVE_STATUSES
from calls.signals import call_finished, machine_answered
from common.access import Viewer
from leads.models import Lead, LeadImport
from leads.phones import phone_normalize
from leads.selectors import leads_visible
from leads.services import lead_import_create
from leads.tasks import lead_import_process

logger = logging.getLogger(__name__)

# --- Call lifecycle ------------------------------------------------------------
# Twilio retries webhooks and does not promise their order: "completed" can
# overtake "ringing". Each status has a rank and a call only ever moves up, so
# a duplicate or late callback is a no-op rather than a regression.
_STATUS_RANK: dict[str, int] = {
    Call.Status.QUEUED: 0,
    Call.Status.DIALING: 1,
    Call.Status.INITIATED: 2,
    Call.Status.RINGING: 3,
    Call.Status.IN_PROGRESS: 4,
    **dict.fromkeys(Call.TERMINAL_STATUSES, 5),
}

_OUTCOME_FOR_UNANSWERED: dict[str, str] = {
    Call.Status.BUSY: Call.Outcome.NO_ANSWER,
    Call.Status.NO_ANSWER: Call.Outcome.NO_ANSWER,
    Call.Status.FAILED: Call.Outcome.FAILED,
}

# Twilio's AnsweredBy values from answering-machine detection.
_ANSWERED_BY: dict[str, str] = {
    "human": Call.AnsweredBy.HUMAN,
    "machine_start": Call.AnsweredBy.MACHINE,
    "machine_end_beep": Call.AnsweredBy.MACHINE,
    "machine_end_silence": Call.AnsweredBy.MACHINE,
    "machine_end_other": Call.AnsweredBy.MACHINE,
    "fax": Call.AnsweredBy.FAX,
    "unknown": Call.AnsweredBy.UNKNOWN,
}


def call_status_apply(
    *,
    call_id: int,
    status: str,
    twilio_sid: str = "",
    duration_seconds: int | None = None,
    at: dt.datetime | None = None,
) -> bool:
    """Move a call to a Twilio status if it is later in the lifecycle; return whether it moved.

    Args:
        call_id: our Call's primary key (carried in the webhook URL).
        status: Twilio's CallStatus (queued, initiated, ringing, in-progress, completed, busy, ...).
        twilio_sid: the CallSid, saved the first time it is seen.
        duration_seconds: CallDuration on the final callback.
        at: when the status happened; defaults to now.
    """
    if status not in _STATUS_RANK:
        raise ValueError(f"unknown call status {status!r}")
    at = at or timezone.now()
    lower = [s for s, rank in _STATUS_RANK.items() if rank < _STATUS_RANK[status]]
    changes: dict[str, object] = {"status": status}
    if status in (Call.Status.INITIATED, Call.Status.RINGING):
        changes["started_at"] = at
    elif status == Call.Status.IN_PROGRESS:
        changes["answered_at"] = at
    elif status in Call.TERMINAL_STATUSES:
        changes["ended_at"] = at
        if duration_seconds is not None:
            changes["duration_seconds"] = duration_seconds
    with transaction.atomic():
        # The filter on lower statuses makes the move atomic: two workers
        # handling the same callback cannot both apply it.
        moved = Call.objects.filter(pk=call_id, status__in=lower).update(**changes)
        if twilio_sid:
            Call.objects.filter(pk=call_id, twilio_sid__isnull=True).update(twilio_sid=twilio_sid)
        if moved and status in _OUTCOME_FOR_UNANSWERED:
            Call.objects.filter(pk=call_id, outcome=Call.Outcome.NONE).update(outcome=_OUTCOME_FOR_UNANSWERED[status])
        if moved and status in Call.TERMINAL_STATUSES and duration_seconds is None:
            _fill_duration(call_id)
        if moved and status in Call.TERMINAL_STATUSES:
            call_outcome_apply(call_id=call_id)
            # The filtered update moves a call to a final status once, so the signal goes out once.
            call_finished.send(sender=Call, call_id=call_id)
    logger.info("call status", extra={"call": call_id, "status": status, "applied": bool(moved)})
    return bool(moved)


def _fill_duration(call_id: int) -> None:
    call = Call.objects.only("answered_at", "ended_at").get(pk=call_id)
    if call.answered_at and call.ended_at:
        seconds = max(0, int((call.ended_at - call.answered_at).total_seconds()))
        Call.objects.filter(pk=call_id).update(duration_seconds=seconds)


def call_answered_by_apply(*, call_id: int, answered_by: str) -> str:
    """Record who answered, from Twilio's answering-machine detection; return our value, or "" for a repeat.

    The first definite answer wins: a late "unknown" does not erase "machine".
    Only the callback that records the answer gets it back, so a retried or
    duplicated "machine" callback is not acted on twice (call_machine_answered).
    """
    value = _ANSWERED_BY.get(answered_by, Call.AnsweredBy.UNKNOWN)
    # The filtered update is the claim: of two deliveries of one callback, only one moves the row.
    if not Call.objects.filter(pk=call_id, answered_by=Call.AnsweredBy.UNKNOWN).update(answered_by=value):
        return ""
    if value == Call.AnsweredBy.MACHINE:
        Call.objects.filter(pk=call_id, outcome=Call.Outcome.NONE).update(outcome=Call.Outcome.VOICEMAIL)
        # AMD can report after the final status: the lead's next attempt then changes.
        if Call.objects.filter(pk=call_id, status__in=Call.TERMINAL_STATUSES).exists():
            call_outcome_apply(call_id=call_id)
    return value


# --- What a finished call means for its lead ---------------------------------------------------------
# The brain writes what it learned in the conversation (score, status,
# do-not-call, appointment, a requested callback; agents.services). What is
# left is the dialer's side: when to call an unreachable lead again.

# Outcomes worth another try later: nobody (or a machine) answered, or the call never connected.
_RETRY_STATUSES = frozenset({Call.Status.BUSY, Call.Status.NO_ANSWER, Call.Status.FAILED})
_RETRY_OUTCOMES = frozenset({Call.Outcome.NO_ANSWER, Call.Outcome.VOICEMAIL, Call.Outcome.FAILED})


def call_outcome_apply(*, call_id: int) -> None:
    """Set the lead's next attempt from how its finished call ended; applying it twice changes nothing.

    Busy, no answer, voicemail or a failed dial: the next attempt comes after
    the campaign's retry delay while the lead has attempts left in the
    campaign, and the lead becomes unreachable when it has none. Any other end
    (a conversation) leaves no next attempt, unless the lead asked to be called
    back (the brain sets that time).
    """
    call = Call.objects.select_related("campaign").get(pk=call_id)
    if not call.is_finished or call.dialed_at is None or call.outcome == Call.Outcome.CALLBACK:
        return
    campaign = call.campaign
    unreached = (
        call.status in _RETRY_STATUSES or call.outcome in _RETRY_OUTCOMES or call.answered_by == Call.AnsweredBy.MACHINE
    )
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=call.lead_id)
        placed = Call.objects.filter(lead_id=lead.pk, campaign=campaign, dialed_at__isnull=False).count()
        next_attempt = None
        if unreached and placed < campaign.max_attempts and lead.status != Lead.Status.DO_NOT_CALL:
            next_attempt = (call.ended_at or timezone.now()) + dt.timedelta(minutes=campaign.retry_delay_minutes)
        elif unreached and lead.status in (Lead.Status.NEW, Lead.Status.IN_PROGRESS):
            lead.status = Lead.Status.UNREACHABLE
        lead.next_attempt_at = next_attempt
        lead.save(update_fields=["next_attempt_at", "status", "updated_at"])
    logger.info("lead next attempt", extra={"call": call_id, "lead": lead.pk, "next_attempt_at": str(next_attempt)})


# --- Answering machines -----------------------------------------------------------
# Async AMD says "machine" after the greeting's beep, while the media stream is
# connected and the agent has been talking into the greeting. The campaign
# chooses what happens then; the REST request that does it runs in a task (voice.tasks).


def call_machine_answered(*, call_id: int) -> str:
    """Have a task leave the campaign's voicemail message on a live call a machine answered, or hang up.

    Call it once per call, when call_answered_by_apply() has just recorded the machine. It sends
    calls.signals.machine_answered, for which voice queues the task once the transaction commits.

    Returns:
        The campaign's voicemail_action the task will carry out, or "" when the call is not live
        (it already ended, or was never ours to update) or no machine was recorded.
    """
    call = Call.objects.select_related("campaign").get(pk=call_id)
    if call.answered_by != Call.AnsweredBy.MACHINE or call.status != Call.Status.IN_PROGRESS or not call.twilio_sid:
        logger.info("machine detected on a call that is not live", extra={"call": call_id, "status": call.status})
        return ""
    action = call.campaign.voicemail_action
    machine_answered.send(sender=Call, call_id=call_id, action=action)
    logger.info("machine detected", extra={"call": call_id, "voicemail_action": action})
    return action


# --- Campaign lifecycle ----------------------------------------------------------
# Status changes go through these functions, never a plain save, so the checks
# below hold however the change is asked for (admin action, API, task).


# Spoken in every opening; a campaign saved before they were checked can't start until they can be read aloud.
_SPOKEN_FIELDS = ("agent_name", "business_name", "call_purpose")


def campaign_activate(*, campaign: Campaign, reason: str = "") -> Campaign:
    """Start or resume dialing a campaign's leads.

    Args:
        campaign: the campaign.
        reason: why it was resumed, kept as its status reason; "" when a person activates it.

    Raises:
        ValidationError: when the campaign is completed, has no leads, has an empty calling window, or
            names a business or agent the voice can't read aloud in the disclosure.
    """
    if campaign.status == Campaign.Status.COMPLETED:
        raise ValidationError(f'Campaign "{campaign}" is completed and cannot be activated again.')
    if not campaign.leads.exists():
        raise ValidationError(f'Campaign "{campaign}" has no leads; add leads before activating it.')
    if campaign.window_end <= campaign.window_start:
        raise ValidationError(f'Campaign "{campaign}" has a calling window that ends before it starts.')
    campaign.clean_fields(exclude=[f.name for f in Campaign._meta.fields if f.name not in _SPOKEN_FIELDS])
    return _campaign_status_set(campaign, Campaign.Status.ACTIVE, reason=reason)


def campaign_pause(
    *,
    campaign: Campaign,
    reason: str,
    kind: str = Campaign.PauseKind.MANUAL,
    until: dt.datetime | None = None,
) -> Campaign:
    """Stop dialing an active campaign until it is activated again; queued calls wait.

    A campaign paused for a daily or monthly budget can be paused again: by
    hand, so that it stays paused when that budget starts over, or by billing
    for the budget that stands in the way once it has.

    Args:
        campaign: the campaign.
        reason: why, in words, kept as its status reason.
        kind: a Campaign.PauseKind value: what paused it (a person, unless billing says a budget).
        until: when the daily or monthly budget that paused it starts over; None for any other kind.

    Raises:
        ValidationError: when the campaign is not active, nor paused for a budget that starts over.
    """
    repause = campaign.status == Campaign.Status.PAUSED and campaign.pause_kind in Campaign.RESUMABLE_PAUSE_KINDS
    if campaign.status != Campaign.Status.ACTIVE and not repause:
        raise ValidationError(
            f'Campaign "{campaign}" is {campaign.get_status_display().lower()}; only an active campaign can be paused.'
        )
    return _campaign_status_set(campaign, Campaign.Status.PAUSED, reason=reason, kind=kind, until=until)


def campaign_complete(*, campaign: Campaign, reason: str = "") -> Campaign:
    """Finish a campaign for good and cancel its calls that have not been dialed yet."""
    with transaction.atomic():
        # Only QUEUED rows: a worker claims a call by moving it QUEUED -> DIALING
        # with the same kind of filtered update, so a call is either claimed or
        # canceled, never both.
        canceled = Call.objects.filter(campaign=campaign, status=Call.Status.QUEUED).update(
            status=Call.Status.CANCELED, ended_at=timezone.now()
        )
        _campaign_status_set(campaign, Campaign.Status.COMPLETED, reason=reason)
    logger.info("campaign queue canceled", extra={"campaign": campaign.pk, "canceled_calls": canceled})
    return campaign


def _campaign_status_set(
    campaign: Campaign,
    status: str,
    *,
    reason: str,
    kind: str = Campaign.PauseKind.NONE,
    until: dt.datetime | None = None,
) -> Campaign:
    # The pause kind and its end are cleared by any other status, so a campaign
    # activated by hand and later paused by hand is never resumed by billing.
    campaign.status, campaign.status_reason = status, reason[:255]
    campaign.pause_kind, campaign.paused_until = kind, until
    campaign.save(update_fields=["status", "status_reason", "pause_kind", "paused_until", "updated_at"])
    logger.info("campaign status", extra={"campaign": campaign.pk, "status": status, "pause_kind": kind})
    return campaign


# --- What the voice pipeline records ------------------------------------------


@dataclass(frozen=True)
class TurnRecord:
    """One utterance as the voice pipeline heard or spoke it."""

    speaker: str  # a TranscriptTurn.Speaker value
    text: str
    started_ms: int | None = None
    ended_ms: int | None = None
    vad_stop_ms: int | None = None
    stt_ms: int | None = None
    brain_first_text_ms: int | None = None
    tts_first_audio_ms: int | None = None
    latency_ms: int | None = None


def call_transcript_save(*, call_id: int, turns: Sequence[TurnRecord]) -> int:
    """Replace the call's transcript with these turns; return how many were stored.

    Replacing rather than appending keeps a retried save from doubling turns.
    """
    rows = [TranscriptTurn(call_id=call_id, index=i, **asdict(turn)) for i, turn in enumerate(turns) if turn.text]
    with transaction.atomic():
        TranscriptTurn.objects.filter(call_id=call_id).delete()
        TranscriptTurn.objects.bulk_create(rows)
    return len(rows)


def call_recording_save(*, call_id: int, wav: bytes) -> None:
    """Store the call's two-track recording (lead left, agent right) as a WAV file, unless the call may not be recorded.

    The compliance gate sets recording_mode "off" for a lead in an all-party-consent
    state when the campaign chose not to announce recordings; the audio is then dropped here.
    """
    call = Call.objects.get(pk=call_id)
    if call.recording_mode == Call.RecordingMode.OFF:
        logger.info("recording dropped: the call may not be recorded", extra={"call": call_id})
        return
    if call.recording:
        call.recording.delete(save=False)
    call.recording.save(f"call-{call_id}.wav", ContentFile(wav), save=False)
    # Only the file name: a full save() would write back every field as it was
    # read above, undoing a status callback (completed) that landed meanwhile.
    Call.objects.filter(pk=call_id).update(recording=call.recording.name)


def call_stream_ended(*, call_id: int, hung_up_by_lead: bool) -> None:
    """Note how the media stream ended; Twilio's status callback still sets the final status."""
    if hung_up_by_lead:
        Call.objects.filter(pk=call_id, outcome=Call.Outcome.NONE).update(outcome=Call.Outcome.HUNG_UP)


def call_session_lost(*, call_id: int) -> bool:
    """Mark a live call whose voice session ended without recording an outcome as failed; return whether it was.

    Only for a call Twilio says was completed: a conversation cut short on our
    side, so the lead is retried like a failed call (call_outcome_apply) once
    the call's final status is applied.
    """
    marked = Call.objects.filter(pk=call_id, status__in=LIVE_STATUSES, outcome=Call.Outcome.NONE).update(
        outcome=Call.Outcome.FAILED
    )
    if marked:
        Call.objects.filter(pk=call_id, summary="").update(
            summary="The call's voice session was lost before the call ended; its end was taken from Twilio."
        )
    return bool(marked)


# --- Campaigns created through the REST API ---------------------------------------


def campaign_create(*, viewer: Viewer, lead_ids: Sequence[int] = (), **fields: Any) -> Campaign:
    """Create a draft campaign with these leads; the callback number is stored in E.164.

    An agent's campaign is theirs (its owner); a manager's has no owner unless `fields` names one.

    Raises:
        InvalidPhoneNumber: when the callback number is not dialable.
        ValidationError: when a field is invalid or a lead does not exist or is not the viewer's to see.
    """
    campaign = Campaign(**fields)
    if not viewer.sees_all:
        campaign.owner_id = viewer.user_id
    campaign.callback_number = phone_normalize(campaign.callback_number)
    if campaign.window_end <= campaign.window_start:
        raise ValidationError({"window_end": "The calling window must end after it starts."})
    campaign.full_clean()
    with transaction.atomic():
        campaign.save()
        campaign_leads_add(viewer=viewer, campaign=campaign, lead_ids=lead_ids)
    logger.info("campaign created", extra={"campaign": campaign.pk, "leads": len(lead_ids)})
    return campaign


def campaign_leads_add(*, viewer: Viewer, campaign: Campaign, lead_ids: Sequence[int]) -> int:
    """Add leads to the campaign; return how many were not in it yet.

    Only leads the viewer sees may be added: a campaign's owner sees its leads, so adding
    another agent's lead to one's own campaign would otherwise be a way to read it.

    Raises:
        ValidationError: naming the ids that are not leads the viewer sees; nothing is added then.
    """
    wanted = set(lead_ids)
    found = set(leads_visible(viewer=viewer).filter(pk__in=wanted).values_list("pk", flat=True))
    missing = sorted(wanted - found)
    if missing:
        shown = ", ".join(str(pk) for pk in missing[:20]) + (" ..." if len(missing) > 20 else "")
        raise ValidationError({"lead_ids": f"These are not leads: {shown}."})
    already = set(campaign.leads.filter(pk__in=found).values_list("pk", flat=True))
    campaign.leads.add(*(found - already))
    return len(found - already)


# --- Lead files uploaded into a campaign ---------------------------------------------


def campaign_upload_create(
    *, campaign: Campaign, file_name: str, data: bytes, source: str = "", user: Any = None
) -> LeadImport:
    """Queue a lead file for import; the leads it creates join the campaign when it ends (campaign_upload_finish).

    Raises:
        ValidationError: when the campaign is completed: it dials no one any more.
    """
    if campaign.status == Campaign.Status.COMPLETED:
        raise ValidationError(f'Campaign "{campaign}" is completed; upload the leads into another campaign.')
    with transaction.atomic():
        lead_import = lead_import_create(file_name=file_name, data=data, source=source, user=user)
        # Linked before the task can run: the import's end looks the link up.
        CampaignImport.objects.create(lead_import=lead_import, campaign=campaign)
        transaction.on_commit(functools.partial(lead_import_process.delay, lead_import.pk))
    logger.info("campaign upload queued", extra={"campaign": campaign.pk, "lead_import": lead_import.pk})
    return lead_import


def campaign_upload_finish(*, lead_import: LeadImport) -> int | None:
    """Add the leads a finished import created to the campaign it was uploaded into; return how many.

    None when the file was not uploaded into a campaign. A failed import's leads that did land are added too.
    """
    link = CampaignImport.objects.select_related("campaign").filter(lead_import=lead_import).first()
    if link is None:
        return None
    importer = lead_import.created_by
    viewer = Viewer.of(importer) if importer is not None else Viewer.everyone()
    # The import's own leads are the uploader's (or unassigned, for a manager), so the viewer sees them all.
    lead_ids = list(leads_visible(viewer=viewer).filter(lead_import=lead_import).values_list("pk", flat=True))
    added = campaign_leads_add(viewer=viewer, campaign=link.campaign, lead_ids=lead_ids)
    link.leads_added = added
    link.save(update_fields=["leads_added"])
    logger.info("campaign upload added", extra={"campaign": link.campaign_id, "leads_added": added})
    return added


def on_lead_import_finished(sender: object, *, lead_import: LeadImport, **kwargs: object) -> None:
    """Receive leads.signals.lead_import_finished (connected in calls.apps)."""
    campaign_upload_finish(lead_import=lead_import)
