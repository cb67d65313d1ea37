"""The dialer: pick a campaign's due leads, queue their calls, and place each call exactly once.

Two services, each behind a thin Celery task (dialer.tasks):

- `campaigns_dial_due` (beat, every DIALER_TICK_S) queues a Call row for each
  due lead the compliance gate allows, up to the campaign's free concurrency,
  and enqueues `call_dial` for its queued calls once the transaction commits.
- `call_dial` claims its Call row with a filtered UPDATE (queued -> dialing),
  checks the gate again and calls Twilio. A redelivered, duplicated or retried
  message finds the row claimed and does nothing, so one attempt is at most one
  Twilio call; the unique (lead, campaign, attempt) constraint keeps a second
  row for the same attempt out.

Twilio takes no idempotency key on call creation, so "exactly once" cannot
cover a worker that dies between Twilio's answer and saving the SID: the call
was placed, Twilio's status callbacks (which carry our call id) still move the
row on, and nothing dials it again. The same holds for a dial that timed out or
got a Twilio server error (5xx): the call may exist. A row left in "dialing"
without a SID (those, or a worker lost before Twilio heard from it) is marked
failed by `calls_stale_claims_fail` after DIALER_CLAIM_TIMEOUT_S, and the lead
is retried like a failed call. Calls that reached Twilio but never got their
final status callback are settled by calls.reconcile.

Its own app, above billing, because it is the one place that orchestrates
leads, the gate, the budgets, the rate limiter and Twilio.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from billing.selectors import budget_dial_check, call_voice_tier_choose
from billing.services import campaign_budget_enforce
from calls.compliance import dial_check, dial_decision_record
from calls.models import Call, Campaign, DialDecision
from calls.selectors import (
    campaign_due_leads_list,
    campaign_has_pending_leads,
    campaign_live_calls_count,
    campaign_queued_call_ids,
)
from calls.services import call_status_apply, campaign_complete
from common.readiness import media_worker_ready_exists
from integrations.twilio.client import OutboundCall, TwilioError, TwilioOutcomeUnknown, call_create
from leads.models import Lead

logger = logging.getLogger(__name__)

# How many due leads to look at per free line: some are refused by the gate
# (outside their window, say) and the next ones get the line instead.
CANDIDATES_PER_SLOT = 5
# The longest a dial waits for its turn under the account-wide calls-per-second
# limit before it gives the worker back and waits for the next tick instead.
RATE_LOOKAHEAD_S = 10.0


class DialResult(enum.StrEnum):
    PLACED = "placed"  # Twilio accepted the call
    SKIPPED = "skipped"  # not queued any more: claimed by another delivery, canceled or gone
    WAITING = "waiting"  # left queued: campaign paused, concurrency cap or rate limit reached
    REFUSED = "refused"  # the compliance gate refused it; the call is canceled
    FAILED = "failed"  # Twilio refused it; the call failed and the lead is retried later
    UNKNOWN = "unknown"  # an error after the claim; Twilio's callbacks or the stale-claim sweep settle it


# --- Picking due leads -------------------------------------------------------------------------------


def campaigns_dial_due(*, now: dt.datetime | None = None) -> dict[int, list[int]]:
    """Queue and enqueue calls for every active campaign; complete campaigns with nothing left to do.

    Returns:
        The ids of the calls enqueued for dialing, by campaign id.
    """
    now = now or timezone.now()
    calls_stale_claims_fail(now=now)
    if settings.DIALER_REQUIRE_MEDIA_WORKER and not media_worker_ready_exists():
        # A lead answering now would hear silence until some daphne process has loaded its models.
        # Nothing is queued, so no lead is charged an attempt; the next tick looks again.
        logger.warning("no media worker is ready; this tick dials no one")
        return {}
    enqueued: dict[int, list[int]] = {}
    for campaign_id in Campaign.objects.filter(status=Campaign.Status.ACTIVE).values_list("pk", flat=True):
        enqueued[campaign_id] = campaign_dial_due(campaign_id=campaign_id, now=now)
    return enqueued


def campaign_dial_due(*, campaign_id: int, now: dt.datetime) -> list[int]:
    """Queue calls for the campaign's due leads up to its free lines and enqueue its queued calls on commit."""
    with transaction.atomic():
        # Locks the campaign, so two overlapping ticks never fill the same free lines twice.
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id, status=Campaign.Status.ACTIVE).first()
        if campaign is None:
            return []
        if campaign_budget_enforce(campaign=campaign, now=now):
            # A budget cannot pay for another call: the campaign is now paused with it as the reason.
            return []
        live = campaign_live_calls_count(campaign_id=campaign.pk)
        queued = campaign_queued_call_ids(campaign_id=campaign.pk)
        free = campaign.max_concurrent_calls - live - len(queued)
        if free > 0:
            for lead in campaign_due_leads_list(campaign=campaign, now=now, limit=free * CANDIDATES_PER_SLOT):
                call = call_queue(campaign=campaign, lead=lead, now=now)
                if call is not None:
                    queued.append(call.pk)
                    free -= 1
                    if free == 0:
                        break
        to_dial = queued[: max(0, campaign.max_concurrent_calls - live)]
        if not to_dial and not campaign_has_pending_leads(campaign=campaign):
            campaign_complete(campaign=campaign, reason="Every lead has been called as far as the campaign allows.")
        for call_id in to_dial:
            _call_dial_enqueue(call_id)
    return to_dial


def call_queue(*, campaign: Campaign, lead: Lead, now: dt.datetime) -> Call | None:
    """Run the gate and the budget check for the lead's next attempt, log the decision, queue the call if allowed."""
    decision = budget_dial_check(campaign=campaign, decision=dial_check(lead=lead, campaign=campaign, now=now), now=now)
    record = dial_decision_record(
        lead=lead,
        campaign=campaign,
        decision=decision,
        stage=DialDecision.Stage.SCHEDULE,
        now=now,
        recheck_after=dt.timedelta(minutes=settings.DIALER_RECHECK_MINUTES),
    )
    if not decision.allowed:
        return None
    last = Call.objects.filter(lead=lead, campaign=campaign).aggregate(n=Max("attempt"))["n"] or 0
    try:
        with transaction.atomic():
            call = Call.objects.create(
                lead=lead, campaign=campaign, attempt=last + 1, recording_mode=decision.recording_mode
            )
    except IntegrityError:
        # Another tick queued this attempt first; its call is the one that will be dialed.
        logger.info("attempt already queued", extra={"lead": lead.pk, "campaign": campaign.pk, "attempt": last + 1})
        return None
    DialDecision.objects.filter(pk=record.pk).update(call=call)
    return call


def _call_dial_enqueue(call_id: int) -> None:
    # dialer.tasks imports this module, so the task is looked up when needed.
    from dialer.tasks import call_dial

    transaction.on_commit(lambda: call_dial.delay(call_id))


def calls_stale_claims_fail(*, now: dt.datetime) -> int:
    """Fail calls claimed longer than DIALER_CLAIM_TIMEOUT_S ago that never reached Twilio; return how many."""
    cutoff = now - dt.timedelta(seconds=settings.DIALER_CLAIM_TIMEOUT_S)
    stale = Call.objects.filter(status=Call.Status.DIALING, twilio_sid__isnull=True, dialed_at__lt=cutoff)
    failed = 0
    for call_id in stale.values_list("pk", flat=True):
        Call.objects.filter(pk=call_id, dial_error="").update(dial_error="the worker dialing it was lost")
        failed += call_status_apply(call_id=call_id, status=Call.Status.FAILED, at=now)
    if failed:
        logger.warning("stale dial claims failed", extra={"calls": failed})
    return failed


def lead_queued_calls_cancel(*, lead_ids: list[int], reason: str, now: dt.datetime | None = None) -> int:
    """Cancel the leads' calls that no worker has claimed yet, in every campaign; return how many."""
    now = now or timezone.now()
    # Only QUEUED rows, with the same kind of filtered update a worker claims
    # with: a call is either claimed first (and the gate refuses it at dial
    # time) or canceled here, never both.
    canceled = Call.objects.filter(lead_id__in=lead_ids, status=Call.Status.QUEUED).update(
        status=Call.Status.CANCELED, ended_at=now, dial_error=f"canceled: {reason}"[:255]
    )
    if canceled:
        logger.info("queued calls canceled", extra={"calls": canceled, "reason": reason})
    return canceled


def on_lead_dialing_stopped(sender: object, *, lead_ids: list[int], reason: str, **kwargs: object) -> None:
    # Connected in DialerConfig.ready: leads sends the signal because it may not import the dialer.
    lead_queued_calls_cancel(lead_ids=lead_ids, reason=reason)


# --- Placing one call --------------------------------------------------------------------------------


def call_dial(*, call_id: int) -> DialResult:
    """Place the queued call if its campaign is active, has a free line, and the gate allows it now."""
    call = Call.objects.select_related("campaign").filter(pk=call_id).first()
    if call is None or call.status != Call.Status.QUEUED:
        return DialResult.SKIPPED
    if not _line_free(call.campaign):
        return DialResult.WAITING
    # Wait for the account's calls-per-second budget before claiming, so a
    # claimed call never sits waiting while it holds a line.
    slot = dial_rate_slot_reserve(now=time.time())
    if slot is None:
        return DialResult.WAITING
    time.sleep(max(0.0, slot - time.time()))
    now = timezone.now()
    not_claimed = _claim(call, now=now)
    if not_claimed is not None:
        return not_claimed
    return _dial_claimed(Call.objects.select_related("lead", "campaign").get(pk=call_id), now=now)


def _line_free(campaign: Campaign) -> bool:
    if campaign.status != Campaign.Status.ACTIVE:
        return False
    return campaign_live_calls_count(campaign_id=campaign.pk) < campaign.max_concurrent_calls


def _claim(call: Call, *, now: dt.datetime) -> DialResult | None:
    """Move the call from queued to dialing; return None when this delivery got it, else why not."""
    with transaction.atomic():
        # The campaign row lock serialises claims within a campaign, so two
        # workers cannot both take the last free line.
        campaign = Campaign.objects.select_for_update().get(pk=call.campaign_id)
        if not _line_free(campaign):
            return DialResult.WAITING
        claimed = Call.objects.filter(pk=call.pk, status=Call.Status.QUEUED).update(
            status=Call.Status.DIALING, dialed_at=now
        )
    if claimed != 1:
        logger.info("call already claimed", extra={"call": call.pk})
        return DialResult.SKIPPED
    return None


def _dial_claimed(call: Call, *, now: dt.datetime) -> DialResult:
    lead, campaign = call.lead, call.campaign
    decision = budget_dial_check(
        campaign=campaign,
        decision=dial_check(lead=lead, campaign=campaign, now=now, call_id=call.pk),
        now=now,
        call_id=call.pk,
    )
    dial_decision_record(
        lead=lead, campaign=campaign, decision=decision, stage=DialDecision.Stage.DIAL, now=now, call=call
    )
    if not decision.allowed:
        # Not an attempt: nothing was dialed, so it counts toward no limit.
        Call.objects.filter(pk=call.pk).update(
            status=Call.Status.CANCELED, dialed_at=None, ended_at=now, dial_error=decision.detail[:255]
        )
        return DialResult.REFUSED
    with transaction.atomic():
        voice_tier = call_voice_tier_choose(lead=lead, campaign=campaign, now=now, call_id=call.pk)
        Call.objects.filter(pk=call.pk).update(recording_mode=decision.recording_mode, voice_tier=voice_tier)
        Lead.objects.filter(pk=lead.pk).update(
            attempt_count=F("attempt_count") + 1, last_attempt_at=now, next_attempt_at=None
        )
        Lead.objects.filter(pk=lead.pk, status=Lead.Status.NEW).update(status=Lead.Status.IN_PROGRESS)
    outbound = OutboundCall.to_our_webhooks(
        call_id=call.pk,
        to=lead.phone,
        from_=settings.TWILIO_FROM_NUMBER or campaign.callback_number,
        base_url=settings.PUBLIC_BASE_URL,
        time_limit_s=campaign.max_call_minutes * 60,
    )
    try:
        sid = call_create(outbound)
    except TwilioOutcomeUnknown:
        # Twilio failed on its side and the call may exist: as for a timeout,
        # its callbacks or the stale-claim sweep settle the row, never a redial.
        logger.exception("dial outcome unknown", extra={"call": call.pk})
        return DialResult.UNKNOWN
    except TwilioError as exc:
        # Twilio answered with an error, so no call exists: fail this attempt
        # and let the retry cadence decide when to try again (no retry storm).
        Call.objects.filter(pk=call.pk).update(dial_error=str(exc)[:255])
        call_status_apply(call_id=call.pk, status=Call.Status.FAILED)
        return DialResult.FAILED
    except Exception:
        # A timeout or a dropped connection: the call may exist. Never dial
        # again; Twilio's callbacks or the stale-claim sweep settle the row.
        logger.exception("dial outcome unknown", extra={"call": call.pk})
        return DialResult.UNKNOWN
    Call.objects.filter(pk=call.pk, twilio_sid__isnull=True).update(twilio_sid=sid)
    logger.info("call placed", extra={"call": call.pk, "call_sid": sid, "attempt": call.attempt})
    return DialResult.PLACED


def dial_rate_slot_reserve(*, now: float) -> float | None:
    """Reserve the next free start time under TWILIO_CALLS_PER_SECOND; return it (epoch seconds) or None.

    Time is cut into slots of 1/rate seconds and each dial takes a whole slot
    with an atomic cache add, starting at the slot's beginning, so any two
    dials of the account start at least 1/rate seconds apart, whichever worker
    places them. The cache must be shared by the workers (Redis; the
    reautomation.W002 check warns otherwise).
    """
    interval = 1.0 / settings.TWILIO_CALLS_PER_SECOND
    first = math.ceil(now / interval)
    for slot in range(first, first + max(1, math.ceil(RATE_LOOKAHEAD_S / interval))):
        start = slot * interval
        if cache.add(f"dialer:rate-slot:{slot}", 1, timeout=math.ceil(start - now) + 60):
            return start
    return None
