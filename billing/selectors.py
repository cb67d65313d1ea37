"""Reads for billing: prices, what calls cost, what budgets have left, the dialer's budget check and the reports."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from billing.models import Budget, Component, CostEntry, PriceItem
from calls.compliance import Decision
from calls.models import Call, Campaign, DialDecision
from calls.selectors import calls_visible
from common.access import Viewer
from integrations.elevenlabs.client import is_configured as elevenlabs_configured
from leads.models import Lead

ZERO = Decimal(0)
Unit = PriceItem.Unit

# --- Prices ----------------------------------------------------------------------------------------------------------

# For a component with no row in the price list. Twilio's US outbound voice and
# call recording rates per minute (2026); local model compute at about $0.07 an
# hour for a 2-vCPU VM, per second of one engine's busy time; ElevenLabs'
# Creator-plan overage per character. The admin's price list overrides each.
DEFAULT_PRICES: dict[str, tuple[str, Decimal]] = {
    Component.TELEPHONY: (Unit.MINUTE, Decimal("0.014")),
    Component.RECORDING: (Unit.MINUTE, Decimal("0.0025")),
    Component.STT: (Unit.CPU_SECOND, Decimal("0.00001")),
    Component.LLM: (Unit.CPU_SECOND, Decimal("0.00001")),
    Component.POST_CALL: (Unit.CPU_SECOND, Decimal("0.00001")),
    Component.TTS: (Unit.CPU_SECOND, Decimal("0.00001")),
    Component.TTS_PREMIUM: (Unit.CHARACTER, Decimal("0.00018")),
}


@dataclass(frozen=True)
class Price:
    """One component's unit price on some day."""

    component: str
    unit: str  # a PriceItem.Unit value
    unit_price: Decimal


def price_get(*, component: str, on: dt.date) -> Price:
    """Return the component's price on `on`: the newest price list row from then or before, else the default."""
    item = PriceItem.objects.filter(component=component, effective_from__lte=on).order_by("-effective_from").first()
    if item is not None:
        return Price(component, item.unit, item.unit_price)
    unit, unit_price = DEFAULT_PRICES[component]
    return Price(component, unit, unit_price)


# --- What calls cost -------------------------------------------------------------------------------------------------


def call_cost_total(*, call_id: int) -> Decimal:
    """Return the sum of the call's ledger entries in dollars."""
    return _sum(CostEntry.objects.filter(call_id=call_id))


def calls_cost_total(*, calls: QuerySet[Call]) -> Decimal:
    """Return the sum of these calls' ledger entries in dollars."""
    return _sum(CostEntry.objects.filter(call__in=calls))


def _sum(entries: QuerySet[CostEntry]) -> Decimal:
    total: Decimal = entries.aggregate(total=Sum("amount_usd", default=ZERO))["total"]
    return total


# A campaign's own calls say what its next call will cost once it has this many priced ones.
ESTIMATE_MIN_CALLS = 5
ESTIMATE_RECENT_CALLS = 50
# What ElevenLabs says in a premium call, for its expected cost: about a
# dozen agent turns of the templates in agents.prompts (the opening alone is ~250).
EXPECTED_PREMIUM_CHARACTERS = 1500


def call_expected_cost(*, campaign_id: int, on: dt.date, premium: bool = False) -> Decimal:
    """Return what one more call of the campaign is expected to cost, in dollars.

    The average of its last finished standard-voice calls that cost anything,
    or BILLING_EXPECTED_CALL_COST_USD before it has ESTIMATE_MIN_CALLS of them;
    ElevenLabs' characters on top for a premium call. Never more than the
    campaign's per-call limit: a call is wrapped up when it reaches it.
    """
    finished = CostEntry.objects.filter(
        call__campaign_id=campaign_id,
        call__status__in=Call.TERMINAL_STATUSES,
        call__voice_tier=Call.VoiceTier.STANDARD,
    )
    per_call = finished.values("call_id").annotate(total=Sum("amount_usd")).order_by("-call_id")
    totals = [row["total"] for row in per_call[:ESTIMATE_RECENT_CALLS]]
    if len(totals) >= ESTIMATE_MIN_CALLS:
        expected = sum(totals, ZERO) / len(totals)
    else:
        expected = Decimal(settings.BILLING_EXPECTED_CALL_COST_USD)
    if premium:
        price = price_get(component=Component.TTS_PREMIUM, on=on)
        if price.unit == Unit.CHARACTER:
            expected += EXPECTED_PREMIUM_CHARACTERS * price.unit_price
    limit = call_cost_limit(campaign_id=campaign_id)
    return min(expected, limit) if limit is not None else expected


def call_cost_limit(*, campaign_id: int) -> Decimal | None:
    """Return the most one call of the campaign may cost (the lowest per-call limit of its budgets), or None."""
    limits = [budget.per_call_limit_usd for budget in budgets_for_campaign(campaign_id=campaign_id)]
    return min(limits) if limits else None


# --- Budgets ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetUse:
    """One budget in its current period: what was spent and what is left."""

    budget: Budget
    period: str  # "lifetime", "2026-11-24" or "2026-11", in TIME_ZONE
    period_end: dt.datetime | None  # when a daily or monthly budget starts over
    spent_usd: Decimal

    @property
    def left_usd(self) -> Decimal:
        return self.budget.limit_usd - self.spent_usd

    @property
    def percent(self) -> int:
        """Return the share spent, 0-100 (more when overspent by calls that were running)."""
        if self.budget.limit_usd <= 0:
            return 100
        return math.floor(self.spent_usd * 100 / self.budget.limit_usd)

    @property
    def label(self) -> str:
        scope = {"campaign": "Campaign", "daily": "Daily", "monthly": "Monthly"}[self.budget.scope]
        target = f' of campaign "{self.budget.campaign}"' if self.budget.campaign_id else " for all campaigns"
        when = "" if self.period == "lifetime" else f" ({self.period})"
        return f"{scope} budget{target}{when}"


def budgets_for_campaign(*, campaign_id: int) -> list[Budget]:
    """Return the active budgets a campaign's calls spend: its own and the account-wide ones."""
    budgets = Budget.objects.filter(is_active=True).filter(Q(campaign_id=campaign_id) | Q(campaign__isnull=True))
    return list(budgets.select_related("campaign"))


def budget_use_get(*, budget: Budget, now: dt.datetime) -> BudgetUse:
    """Return what the budget's calls have cost in its period at `now` (a call counts on the day it was dialed)."""
    entries = CostEntry.objects.all()
    if budget.campaign_id is not None:
        entries = entries.filter(call__campaign_id=budget.campaign_id)
    start, end, period = _period(budget.scope, now)
    if start is not None:
        entries = entries.filter(call__dialed_at__gte=start, call__dialed_at__lt=end)
    return BudgetUse(budget=budget, period=period, period_end=end, spent_usd=_sum(entries))


def budget_use_list(*, now: dt.datetime, campaign_id: int | None = None) -> list[BudgetUse]:
    """Return every active budget's use at `now`, or those a campaign spends."""
    budgets = (
        budgets_for_campaign(campaign_id=campaign_id)
        if campaign_id is not None
        else list(Budget.objects.filter(is_active=True).select_related("campaign"))
    )
    return [budget_use_get(budget=budget, now=now) for budget in budgets]


def _period(scope: str, now: dt.datetime) -> tuple[dt.datetime | None, dt.datetime | None, str]:
    local = timezone.localdate(now)
    if scope == Budget.Scope.DAILY:
        first, after, label = local, local + dt.timedelta(days=1), f"{local:%Y-%m-%d}"
    elif scope == Budget.Scope.MONTHLY:
        first = local.replace(day=1)
        after, label = (first + dt.timedelta(days=32)).replace(day=1), f"{local:%Y-%m}"
    else:
        return None, None, "lifetime"
    # Midnight in TIME_ZONE, so a day is 23 or 25 hours long across a DST change.
    return _midnight(first), _midnight(after), label


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _held_for_open_calls(*, budget: Budget, expected: Decimal, exclude_call_id: int | None) -> tuple[Decimal, int]:
    """Return what the open calls the budget pays for may still cost, and how many there are.

    Each is held at the expected cost of a call, less what it has cost so far.
    """
    # Imported here: calls.selectors reads cost reports from this module.
    from calls.selectors import OPEN_STATUSES

    calls = Call.objects.filter(status__in=OPEN_STATUSES)
    if budget.campaign_id is not None:
        calls = calls.filter(campaign_id=budget.campaign_id)
    if exclude_call_id is not None:
        calls = calls.exclude(pk=exclude_call_id)
    ids = list(calls.values_list("pk", flat=True))
    so_far = dict(
        CostEntry.objects.filter(call_id__in=ids)
        .values("call_id")
        .annotate(total=Sum("amount_usd"))
        .values_list("call_id", "total")
    )
    return sum((max(ZERO, expected - so_far.get(pk, ZERO)) for pk in ids), ZERO), len(ids)


# How long a lead waits after a refusal that only calls already under way
# caused: their cost is known within a minute or two.
HELD_RECHECK = dt.timedelta(minutes=2)


def budget_dial_check(
    *, campaign: Campaign, decision: Decision, now: dt.datetime, call_id: int | None = None
) -> Decision:
    """Return the compliance gate's decision, or a refusal when the call could overrun a budget.

    A dial is refused when its expected cost is more than a budget has left
    after holding the expected cost of every other open call it pays for.

    Args:
        campaign: the campaign dialing.
        decision: what the compliance gate decided; a refusal is returned as it is.
        now: the time of the decision.
        call_id: the call being dialed, if it exists, so it does not hold money against itself.
    """
    if not decision.allowed:
        return decision
    expected = call_expected_cost(campaign_id=campaign.pk, on=timezone.localdate(now))
    for use in budget_use_list(now=now, campaign_id=campaign.pk):
        held, open_calls = _held_for_open_calls(budget=use.budget, expected=expected, exclude_call_id=call_id)
        if expected <= use.left_usd - held:
            continue
        detail = f"{use.label}: ${use.left_usd:.2f} left of ${use.budget.limit_usd:.2f}"
        if held:
            detail += f", ${held:.2f} of it held for {open_calls} open call(s)"
        detail += f"; a call is expected to cost ${expected:.4f}"
        spent = use.left_usd < expected
        retry_at = use.period_end if spent else now + HELD_RECHECK
        return replace(
            decision, allowed=False, reason=DialDecision.Reason.OVER_BUDGET, detail=detail, retry_at=retry_at
        )
    return decision


@dataclass(frozen=True)
class BudgetShortfall:
    """A budget that cannot pay for another call of a campaign, and why in words."""

    use: BudgetUse
    reason: str


def campaign_budget_shortfall(*, campaign_id: int, now: dt.datetime) -> BudgetShortfall | None:
    """Return the first budget the campaign spends that has less left than a call costs, with why; None if none."""
    expected = call_expected_cost(campaign_id=campaign_id, on=timezone.localdate(now))
    for use in budget_use_list(now=now, campaign_id=campaign_id):
        if use.left_usd > 0 and use.left_usd >= expected:
            continue
        reason = f"{use.label} spent: ${use.spent_usd:.2f} of ${use.budget.limit_usd:.2f}"
        if use.left_usd > 0:
            reason += f"; the ${use.left_usd:.2f} left is less than a call's expected ${expected:.4f}"
        return BudgetShortfall(use=use, reason=reason)
    return None


# A premium call goes on with Piper once it has cost this share of its
# per-call limit, so the cheaper voice can finish the conversation rather
# than the limit cutting it short.
PREMIUM_LIMIT_SHARE = Decimal("0.8")


def call_voice_tier_choose(*, lead: Lead, campaign: Campaign, now: dt.datetime, call_id: int | None = None) -> str:
    """Return the voice tier for a call to the lead: premium for a high-scoring lead while the budgets allow it.

    Premium needs the lead's score from an earlier call to be at least
    PREMIUM_SCORE_THRESHOLD, ElevenLabs to be configured, and every budget
    the call spends to have the expected cost of a premium call left.
    """
    if lead.score is None or lead.score < settings.PREMIUM_SCORE_THRESHOLD or not elevenlabs_configured():
        return Call.VoiceTier.STANDARD
    expected = call_expected_cost(campaign_id=campaign.pk, on=timezone.localdate(now), premium=True)
    if not _premium_fits(campaign_id=campaign.pk, expected=expected, rest=expected, now=now, call_id=call_id):
        return Call.VoiceTier.STANDARD
    return Call.VoiceTier.PREMIUM


def call_premium_affordable(*, call: Call, now: dt.datetime) -> bool:
    """Return whether every budget a running call spends can pay for the rest of it in the premium voice.

    The rest is the expected cost of a premium call less what the call has
    cost so far, on top of what the other open calls are held at.
    """
    expected = call_expected_cost(
        campaign_id=call.campaign_id, on=timezone.localdate(call.dialed_at or now), premium=True
    )
    rest = max(ZERO, expected - call_cost_total(call_id=call.pk))
    return _premium_fits(campaign_id=call.campaign_id, expected=expected, rest=rest, now=now, call_id=call.pk)


def _premium_fits(*, campaign_id: int, expected: Decimal, rest: Decimal, now: dt.datetime, call_id: int | None) -> bool:
    for use in budget_use_list(now=now, campaign_id=campaign_id):
        held, _ = _held_for_open_calls(budget=use.budget, expected=expected, exclude_call_id=call_id)
        if rest > use.left_usd - held:
            return False
    return True


# --- Reports ---------------------------------------------------------------------------------------------------------

QUALIFIED_OUTCOMES = (Call.Outcome.QUALIFIED, Call.Outcome.APPOINTMENT)


@dataclass(frozen=True)
class CallCost:
    """One call's cost, with what the reports divide it by."""

    call_id: int
    cost_usd: Decimal
    seconds: int  # Twilio's duration; 0 while the call runs
    voice_tier: str
    outcome: str


def call_costs_list(*, calls: QuerySet[Call]) -> list[CallCost]:
    """Return the cost of each of these calls that has any, oldest first."""
    # One grouped query: a campaign's month can hold tens of thousands of calls, too many to pass back as ids.
    rows = (
        calls.annotate(total=Sum("cost_entries__amount_usd"))
        .filter(total__isnull=False)
        .order_by("pk")
        .values_list("pk", "total", "duration_seconds", "voice_tier", "outcome")
    )
    return [CallCost(pk, total, seconds or 0, tier, outcome) for pk, total, seconds, tier, outcome in rows]


@dataclass(frozen=True)
class CostReport:
    """What a set of calls cost: in all, per call, per minute, per qualified lead and per booked appointment.

    "Per qualified lead" and "per booked appointment" divide the cost of every
    call, reached or not, by how many calls ended that way: what one of them costs.
    """

    calls: int  # calls with a cost
    total_usd: Decimal
    minutes: Decimal  # talk time of those calls (Twilio's duration)
    qualified: int  # calls that ended qualified or with an appointment
    booked: int
    per_call_p50_usd: Decimal | None
    per_call_p95_usd: Decimal | None
    by_component: dict[str, Decimal] = field(default_factory=dict)

    @property
    def per_call_usd(self) -> Decimal | None:
        return self.total_usd / self.calls if self.calls else None

    @property
    def per_minute_usd(self) -> Decimal | None:
        return self.total_usd / self.minutes if self.minutes else None

    @property
    def per_qualified_usd(self) -> Decimal | None:
        return self.total_usd / self.qualified if self.qualified else None

    @property
    def per_booked_usd(self) -> Decimal | None:
        return self.total_usd / self.booked if self.booked else None


def cost_report(*, calls: QuerySet[Call]) -> CostReport:
    """Return the cost report of these calls."""
    costs = call_costs_list(calls=calls)
    ordered = sorted(c.cost_usd for c in costs)
    entries = CostEntry.objects.filter(call__in=calls)
    by_component = dict(entries.values("component").annotate(total=Sum("amount_usd")).values_list("component", "total"))
    return CostReport(
        calls=len(costs),
        total_usd=sum(ordered, ZERO),
        minutes=Decimal(sum(c.seconds for c in costs)) / 60,
        qualified=calls.filter(outcome__in=QUALIFIED_OUTCOMES).count(),
        booked=calls.filter(outcome=Call.Outcome.APPOINTMENT).count(),
        per_call_p50_usd=nearest_rank(ordered, 50),
        per_call_p95_usd=nearest_rank(ordered, 95),
        by_component=by_component,
    )


def nearest_rank(ordered: list[Decimal], percent: int) -> Decimal | None:
    """Return the nearest-rank percentile of sorted values: an actual call's figure, never an interpolation."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def campaign_cost_by_day(*, campaign_id: int, days: int = 14) -> list[tuple[dt.date, int, Decimal]]:
    """Return the campaign's last `days` days with costs, newest first: (day in TIME_ZONE, calls, dollars)."""
    rows = (
        CostEntry.objects.filter(call__campaign_id=campaign_id, call__dialed_at__isnull=False)
        .annotate(day=TruncDate("call__dialed_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(total=Sum("amount_usd"))
        .order_by("-day")
    )
    calls = dict(
        Call.objects.filter(campaign_id=campaign_id, cost_entries__isnull=False)
        .annotate(day=TruncDate("dialed_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("pk", distinct=True))
        .values_list("day", "n")
    )
    return [(row["day"], calls.get(row["day"], 0), row["total"]) for row in rows[:days]]


def cost_entry_visibility(viewer: Viewer) -> Q:
    """Return the filter on CostEntry that keeps the cost lines of the calls `viewer` may see."""
    from calls.selectors import calls_visible  # calls.selectors imports this module

    return Q() if viewer.sees_all else Q(call__in=calls_visible(viewer=viewer).values("pk"))


# --- Calls with what they cost ------------------------------------------------------------------------------------


# The type of a sum of CostEntry.amount_usd.
COST_FIELD: DecimalField[Any, Decimal] = DecimalField(max_digits=14, decimal_places=6)


def call_list(
    *,
    viewer: Viewer,
    campaign_id: int | None = None,
    lead_id: int | None = None,
    status: str | None = None,
    outcome: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[Call]:
    """Return the calls matching every given filter, newest first, each with its cost_usd so far."""
    # A subquery, not a join and GROUP BY: a page of 50 then sums 50 calls' lines, not every call's.
    lines = CostEntry.objects.filter(call=OuterRef("pk")).order_by().values("call")
    cost = Subquery(lines.annotate(total=Sum("amount_usd")).values("total"), output_field=COST_FIELD)
    calls = calls_visible(viewer=viewer).annotate(cost_usd=Coalesce(cost, Value(Decimal(0)), output_field=COST_FIELD))
    calls = calls.order_by("-queued_at", "-pk")
    if campaign_id is not None:
        calls = calls.filter(campaign_id=campaign_id)
    if lead_id is not None:
        calls = calls.filter(lead_id=lead_id)
    if status:
        calls = calls.filter(status=status)
    if outcome is not None:
        calls = calls.filter(outcome=outcome)
    if since is not None:
        calls = calls.filter(queued_at__gte=since)
    if until is not None:
        calls = calls.filter(queued_at__lt=until)
    return calls


def call_detail_get(*, viewer: Viewer, call_id: int) -> Call | None:
    """Return the call with its cost_usd, transcript turns and cost entries loaded, or None (also when unseen)."""
    return call_list(viewer=viewer).prefetch_related("turns", "cost_entries").filter(pk=call_id).first()
