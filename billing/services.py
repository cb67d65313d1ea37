"""Writes for billing: the per-call cost ledger, and pausing a campaign while a budget is spent, then resuming it."""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from billing.models import Budget, Component, CostEntry, PriceItem
from billing.selectors import (
    PREMIUM_LIMIT_SHARE,
    ZERO,
    BudgetShortfall,
    Price,
    call_cost_limit,
    call_cost_total,
    call_premium_affordable,
    campaign_budget_shortfall,
    price_get,
)
from calls.models import Call, Campaign
from calls.services import campaign_activate, campaign_pause

logger = logging.getLogger(__name__)

Unit = PriceItem.Unit
MICRODOLLAR = Decimal("0.000001")
COMPUTE_COMPONENTS = (Component.STT, Component.LLM, Component.TTS)
# What the voice session meters while the call runs; the post-call analysis is priced by call_post_call_cost_set.
SESSION_COMPONENTS = [c for c in Component.values if c != Component.POST_CALL]


@dataclass(frozen=True)
class CallUsage:
    """What a call has used so far, as its voice session measures it.

    Compute is the seconds each engine was busy on the call: the wall-clock
    time of its work, which is what a held VM core or GPU costs, whether the
    engine ran one thread or several in that time.
    """

    call_seconds: float = 0.0
    stt_compute_s: float = 0.0
    llm_compute_s: float = 0.0
    tts_compute_s: float = 0.0
    elevenlabs_characters: int = 0
    recording_seconds: float = 0.0
    recording_bytes: int = 0


@dataclass(frozen=True)
class CallMeter:
    """What a running call has cost so far, and what it may still do."""

    cost_usd: Decimal
    limit_usd: Decimal | None  # the per-call limit of its campaign's budgets
    premium_allowed: bool  # whether it may go on speaking through ElevenLabs

    @property
    def over_limit(self) -> bool:
        return self.limit_usd is not None and self.cost_usd >= self.limit_usd


def call_costs_update(*, call_id: int, usage: CallUsage, now: dt.datetime | None = None) -> CallMeter:
    """Price the call's usage into its ledger, one entry per component, and pause its campaign if a budget is spent.

    The entries are replaced, never added to, so the voice session sends its
    running totals every few seconds and once more at the end. Components are
    priced at the price list's rates on the day the call was dialed.

    Returns:
        The call's cost so far, its per-call limit and whether premium speech is still allowed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # The row lock keeps this and call_costs_settle (Twilio's final
        # callback, another process) from writing the same entries at once.
        call = Call.objects.select_for_update().get(pk=call_id)
        on = timezone.localdate(call.dialed_at or now)
        entries = {}
        for component in SESSION_COMPONENTS:
            price = price_get(component=component, on=on)
            quantity = _quantity(price, usage, call)
            if quantity is None:
                logger.error("no way to price a component in this unit", extra={"component": component})
            elif quantity:
                entries[component] = (price, quantity)
        stale = CostEntry.objects.filter(call_id=call_id, component__in=SESSION_COMPONENTS)
        stale.exclude(component__in=list(entries)).delete()
        for price, quantity in entries.values():
            _entry_set(call_id, price, quantity)
    return _meter(call, now)


def call_costs_settle(*, call_id: int) -> None:
    """Re-price the call's telephony from Twilio's final duration; the session only knew its own length.

    Also prices a call Twilio connected that never reached a voice session.
    """
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_id)
        if call.duration_seconds is None:
            return
        price = price_get(component=Component.TELEPHONY, on=timezone.localdate(call.dialed_at or timezone.now()))
        quantity = _quantity(price, CallUsage(), call)
        if quantity:
            _entry_set(call_id, price, quantity)
        else:
            # Twilio does not bill an outbound call nobody answered.
            CostEntry.objects.filter(call_id=call_id, component=Component.TELEPHONY).delete()
        campaign_budget_enforce(campaign=Campaign.objects.get(pk=call.campaign_id), now=timezone.now())


def on_call_finished(sender: object, *, call_id: int, **kwargs: object) -> None:
    """Receive calls.signals.call_finished (connected in billing.apps): settle the call's telephony."""
    try:
        # Its own savepoint: a failed pricing rolls back alone, and the final
        # status Twilio told us about is still recorded with the transaction that sent the signal.
        with transaction.atomic():
            call_costs_settle(call_id=call_id)
    except Exception:
        # The voice session's own final update still prices the call.
        logger.exception("could not price the call's telephony", extra={"call": call_id})


def call_post_call_cost_set(*, call_id: int, compute_s: float) -> None:
    """Price the compute the post-call analysis (summary, outcome, LLM extractions) spent on a finished call.

    The entry is replaced, never added to, so a retried analysis is billed once.
    """
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_id)
        price = price_get(component=Component.POST_CALL, on=timezone.localdate(call.dialed_at or timezone.now()))
        if price.unit != Unit.CPU_SECOND:
            logger.error("no way to price a component in this unit", extra={"component": price.component})
            return
        quantity = _thousandths(compute_s)
        if quantity:
            _entry_set(call_id, price, quantity)
        campaign_budget_enforce(campaign=Campaign.objects.get(pk=call.campaign_id), now=timezone.now())


def _quantity(price: Price, usage: CallUsage, call: Call) -> Decimal | None:
    """Return how many of the price's units the call used, or None for a unit the component is not measured in."""
    component, unit = price.component, price.unit
    if component == Component.TELEPHONY and unit == Unit.MINUTE:
        seconds = call.duration_seconds if call.duration_seconds is not None else usage.call_seconds
        # Twilio bills US voice per started minute.
        return Decimal(math.ceil(seconds / 60))
    if component == Component.RECORDING:
        # The session's recording is dropped where the call may not be recorded (recording_mode "off").
        stored = bool(call.recording)
        if unit == Unit.MINUTE:
            return Decimal(math.ceil(usage.recording_seconds / 60)) if stored else ZERO
        if unit == Unit.MB_MONTH:
            # The first month's storage, paid when the recording is made.
            return _thousandths(usage.recording_bytes / 1_000_000) if stored else ZERO
    if component in COMPUTE_COMPONENTS and unit == Unit.CPU_SECOND:
        busy: dict[str, float] = {
            Component.STT: usage.stt_compute_s,
            Component.LLM: usage.llm_compute_s,
            Component.TTS: usage.tts_compute_s,
        }
        return _thousandths(busy[component])
    if component == Component.TTS_PREMIUM and unit == Unit.CHARACTER:
        return Decimal(usage.elevenlabs_characters)
    return None


def _thousandths(value: float) -> Decimal:
    # CostEntry.quantity keeps three decimals; rounding the float's text, not its binary value, keeps 0.1 as 0.100.
    return Decimal(f"{max(0.0, value):.3f}")


def _entry_set(call_id: int, price: Price, quantity: Decimal) -> None:
    amount = (quantity * price.unit_price).quantize(MICRODOLLAR, rounding=ROUND_HALF_UP)
    CostEntry.objects.update_or_create(
        call_id=call_id,
        component=price.component,
        defaults={"quantity": quantity, "unit": price.unit, "unit_price": price.unit_price, "amount_usd": amount},
    )


def _meter(call: Call, now: dt.datetime) -> CallMeter:
    cost = call_cost_total(call_id=call.pk)
    limit = call_cost_limit(campaign_id=call.campaign_id)
    shortfall = campaign_budget_enforce(campaign=Campaign.objects.get(pk=call.campaign_id), now=now)
    premium = not shortfall and (limit is None or cost < limit * PREMIUM_LIMIT_SHARE)
    return CallMeter(cost_usd=cost, limit_usd=limit, premium_allowed=premium)


def call_voice_tier_escalate(*, call_id: int, now: dt.datetime | None = None) -> bool:
    """Move a running call to the premium voice tier when its budgets can pay for the rest of it in that voice.

    For a lead whose score crosses PREMIUM_SCORE_THRESHOLD during the call; the
    voice session has checked the score and that the call may use ElevenLabs.

    Returns:
        Whether the call is now on the premium tier.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # The same row lock as call_costs_update, so the ledger does not move under the check.
        call = Call.objects.select_for_update().get(pk=call_id)
        if call.voice_tier == Call.VoiceTier.PREMIUM:
            return True
        if not call_premium_affordable(call=call, now=now):
            return False
        Call.objects.filter(pk=call_id).update(voice_tier=Call.VoiceTier.PREMIUM)
    logger.info("call moved to the premium voice mid-call", extra={"call": call_id})
    return True


# What a budget that is spent pauses its campaign as; only the daily and
# monthly kinds are resumed by campaigns_budget_resume.
_PAUSE_KIND_FOR_SCOPE = {
    Budget.Scope.CAMPAIGN: Campaign.PauseKind.CAMPAIGN_BUDGET,
    Budget.Scope.DAILY: Campaign.PauseKind.DAILY_BUDGET,
    Budget.Scope.MONTHLY: Campaign.PauseKind.MONTHLY_BUDGET,
}


def campaign_budget_enforce(*, campaign: Campaign, now: dt.datetime) -> str:
    """Pause the campaign when a budget it spends cannot pay for another call.

    The pause records which kind of budget it was and, for a daily or monthly
    one, when that budget starts over, for campaigns_budget_resume.

    Returns:
        Why the campaign cannot afford another call (also its pause reason), or "" when it can.
    """
    short = campaign_budget_shortfall(campaign_id=campaign.pk, now=now)
    if short is None:
        return ""
    if campaign.status != Campaign.Status.ACTIVE:
        return short.reason
    try:
        _campaign_pause_for(campaign, short)
    except ValidationError:
        # Paused or completed meanwhile by someone else: what we wanted.
        return short.reason
    logger.warning("campaign paused: budget spent", extra={"campaign": campaign.pk, "reason": short.reason})
    return short.reason


def _campaign_pause_for(campaign: Campaign, short: BudgetShortfall) -> None:
    kind = _PAUSE_KIND_FOR_SCOPE[Budget.Scope(short.use.budget.scope)]
    until = short.use.period_end if kind in Campaign.RESUMABLE_PAUSE_KINDS else None
    campaign_pause(campaign=campaign, reason=short.reason, kind=kind, until=until)


def campaigns_budget_resume(*, now: dt.datetime | None = None) -> list[int]:
    """Resume the campaigns a daily or monthly budget paused once that budget has started over.

    A campaign resumes only when every budget it spends can pay for a call
    again; one that is still short stays paused for the budget now in the way,
    until that one starts over (never, for the campaign's own budget). A
    campaign paused by hand or for its own budget is left alone. Running it
    again in the same day or month changes nothing.

    Returns:
        The ids of the campaigns resumed.
    """
    now = now or timezone.now()
    resumed = []
    for campaign_id in _resume_due(Campaign.objects.all(), now).values_list("pk", flat=True):
        if _campaign_budget_resume(campaign_id, now):
            resumed.append(campaign_id)
    return resumed


def _resume_due(campaigns: QuerySet[Campaign], now: dt.datetime) -> QuerySet[Campaign]:
    return campaigns.filter(
        status=Campaign.Status.PAUSED,
        pause_kind__in=Campaign.RESUMABLE_PAUSE_KINDS,
        paused_until__lte=now,
    )


def _campaign_budget_resume(campaign_id: int, now: dt.datetime) -> bool:
    with transaction.atomic():
        # The row lock, with the filter read again under it, is the claim: of two
        # overlapping beat runs the second finds the campaign active, or paused
        # until a later day, and leaves it. The dialer locks the same row.
        campaign = _resume_due(Campaign.objects.select_for_update(), now).filter(pk=campaign_id).first()
        if campaign is None:
            return False
        kind = campaign.pause_kind
        short = campaign_budget_shortfall(campaign_id=campaign_id, now=now)
        if short is not None:
            _campaign_pause_for(campaign, short)
            logger.info("campaign stays paused: budget spent", extra={"campaign": campaign_id, "reason": short.reason})
            return False
        local = timezone.localdate(now)
        if kind == Campaign.PauseKind.DAILY_BUDGET:
            reason = f"Resumed: new day's budget ({local:%Y-%m-%d})"
        else:
            reason = f"Resumed: new month's budget ({local:%Y-%m})"
        try:
            campaign_activate(campaign=campaign, reason=reason)
        except ValidationError as exc:
            # No leads left, say: a person has to look, so it is no longer retried every run.
            campaign_pause(
                campaign=campaign,
                reason=f"Not resumed after its budget started over: {' '.join(exc.messages)}",
                kind=Campaign.PauseKind.NONE,
            )
            logger.warning("campaign not resumed", extra={"campaign": campaign_id, "error": str(exc)})
            return False
    logger.info("campaign resumed: budget started over", extra={"campaign": campaign_id, "pause_kind": kind})
    return True
