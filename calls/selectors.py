"""Reads for campaigns and calls."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Coalesce
from django.utils import timezone

from agents import prompts
from calls.compliance import DayFacts, DialFacts, HolidayFacts, RuleFacts
from calls.models import Call, Campaign, DialDecision, StateRule
from calls.stats import calls_figures
from leads.models import DoNotCall, Lead
from leads.phones import phone_state
from leads.selectors import consent_active_exists, dnc_block_get, leads_visible
from leads.timezones import STATE_TIMEZONES
from reautomation.access import Viewer

# Calls that hold a line or are about to: the concurrency cap counts the live
# ones, and a lead with any open call is not picked again.
LIVE_STATUSES = (Call.Status.DIALING, Call.Status.INITIATED, Call.Status.RINGING, Call.Status.IN_PROGRESS)
OPEN_STATUSES = (Call.Status.QUEUED, *LIVE_STATUSES)
# Leads the dialer may still call; the others are finished (booked, qualified,
# not interested) or must never be called (do-not-call).
DIALABLE_LEAD_STATUSES = (
    Lead.Status.NEW,
    Lead.Status.IN_PROGRESS,
    Lead.Status.CONTACTED,
    Lead.Status.UNREACHABLE,
)


def call_get(*, call_id: int) -> Call | None:
    """Return the call with its lead and campaign, or None."""
    return Call.objects.select_related("lead", "campaign").filter(pk=call_id).first()


# --- Dialer ---------------------------------------------------------------------------------------


def campaign_live_calls_count(*, campaign_id: int) -> int:
    """Return how many of the campaign's calls are being dialed, ringing or in progress."""
    return Call.objects.filter(campaign_id=campaign_id, status__in=LIVE_STATUSES).count()


def calls_past_time_limit_list(*, now: dt.datetime, margin: dt.timedelta) -> list[Call]:
    """Return the live calls with a Twilio SID dialed over their campaign's max_call_minutes plus `margin` ago."""
    # Every campaign allows at least a minute, so the query already drops the
    # calls too young for any campaign; each one's own limit is checked here.
    calls = (
        Call.objects.filter(
            status__in=LIVE_STATUSES, twilio_sid__isnull=False, dialed_at__lt=now - margin - dt.timedelta(minutes=1)
        )
        .select_related("campaign")
        .order_by("dialed_at", "pk")
    )
    return [
        call
        for call in calls
        if call.dialed_at is not None
        and call.dialed_at < now - margin - dt.timedelta(minutes=call.campaign.max_call_minutes)
    ]


def campaign_queued_call_ids(*, campaign_id: int) -> list[int]:
    """Return the campaign's calls waiting for a worker, oldest first."""
    queued = Call.objects.filter(campaign_id=campaign_id, status=Call.Status.QUEUED).order_by("queued_at", "pk")
    return list(queued.values_list("pk", flat=True))


def campaign_due_leads_list(*, campaign: Campaign, now: dt.datetime, limit: int) -> list[Lead]:
    """Return up to `limit` of the campaign's leads that are due a call, retries first.

    A lead is due when it was never called in this campaign (and has no later
    next attempt set), or its next attempt is due; not while it has a call open
    anywhere, nor while the compliance gate's last refusal in this campaign
    says to wait, nor while a call has handed it to a person (`human_follow_up`).
    """
    called_here = _placed_here(campaign)
    open_call = Call.objects.filter(lead=OuterRef("pk"), status__in=OPEN_STATUSES)
    waiting = DialDecision.objects.filter(campaign=campaign, lead=OuterRef("pk"), allowed=False, retry_at__gt=now)
    due = Q(next_attempt_at__lte=now) | (Q(next_attempt_at__isnull=True) & ~Exists(called_here))
    leads = (
        campaign.leads.filter(due, status__in=DIALABLE_LEAD_STATUSES, human_follow_up="")
        .exclude(Exists(open_call))
        .exclude(Exists(waiting))
        .order_by(F("next_attempt_at").asc(nulls_last=True), "pk")
    )
    return list(leads[:limit])


def _placed_here(campaign: Campaign) -> QuerySet[Call]:
    # Placed calls only: a queued call the gate refused at dial time (its
    # window closed while the campaign was paused) was canceled undialed, and
    # its lead is still owed a first call.
    return Call.objects.filter(campaign=campaign, lead=OuterRef("pk"), dialed_at__isnull=False)


def campaign_has_pending_leads(*, campaign: Campaign) -> bool:
    """Return whether any lead may still get a call in this campaign (or has one open)."""
    if Call.objects.filter(campaign=campaign, status__in=OPEN_STATUSES).exists():
        return True
    # A lead out of attempts has no next attempt (call_outcome_apply clears it),
    # so "never called here, or a next attempt set" is what is left to do.
    called_here = _placed_here(campaign)
    pending = campaign.leads.filter(status__in=DIALABLE_LEAD_STATUSES).filter(
        ~Exists(called_here) | Q(next_attempt_at__isnull=False)
    )
    return pending.exists()


def lead_states(*, lead: Lead) -> tuple[str, ...]:
    """Return the US states whose calling rules apply to the lead: its address's and its number's."""
    return tuple(sorted({s for s in (lead.state, phone_state(lead.phone)) if s}))


def lead_zones(*, lead: Lead) -> tuple[str, ...]:
    """Return the zones the lead may be in: one, or two when its number and its address disagree."""
    if lead.timezone_source == Lead.TimezoneSource.CONFLICT and lead.state in STATE_TIMEZONES:
        return tuple(dict.fromkeys([lead.timezone, STATE_TIMEZONES[lead.state]]))
    return (lead.timezone,) if lead.timezone else ()


def dial_facts_get(*, lead: Lead, campaign: Campaign, now: dt.datetime, call_id: int | None = None) -> DialFacts:
    """Gather what the compliance gate decides on; `call_id`, the call being dialed, is left out of the counts."""
    states = lead_states(lead=lead)
    other_calls = Call.objects.filter(lead=lead)
    if call_id is not None:
        other_calls = other_calls.exclude(pk=call_id)
    # dialed_at is set only for calls that went to Twilio (a dial the gate
    # refused is cleared), so it counts attempts and the 24-hour state limits.
    placed = other_calls.filter(dialed_at__isnull=False)
    rules = StateRule.objects.filter(state__in=states).prefetch_related("days", "holidays")
    recent = placed.filter(dialed_at__gt=now - dt.timedelta(hours=24))
    block = dnc_block_get(lead=lead, now=now)
    return DialFacts(
        campaign_active=campaign.status == Campaign.Status.ACTIVE,
        campaign_window=(campaign.window_start, campaign.window_end),
        require_consent=campaign.require_consent,
        all_party_recording=campaign.all_party_recording,
        max_attempts=campaign.max_attempts,
        on_dnc=block is not None,
        dnc_detail=block.detail if block else "",
        dnc_registry=block.registry_only if block else False,
        has_consent=consent_active_exists(lead=lead, now=now),
        attempts_made=placed.filter(campaign=campaign).count(),
        on_another_call=other_calls.filter(status__in=OPEN_STATUSES).exists(),
        zones=lead_zones(lead=lead),
        states=states,
        rules=tuple(_rule_facts(rule) for rule in rules),
        dials_last_24h=tuple(t for t in recent.values_list("dialed_at", flat=True) if t is not None),
    )


def _rule_facts(rule: StateRule) -> RuleFacts:
    return RuleFacts(
        rule.state,
        rule.window_start,
        rule.window_end,
        rule.max_calls_per_24h,
        rule.all_party_consent,
        days=tuple(DayFacts(d.weekday, d.window_start, d.window_end) for d in rule.days.all()),
        holidays=tuple(
            HolidayFacts(
                name=h.name,
                kind=h.kind,
                month=h.month,
                day=h.day,
                weekday=h.weekday,
                nth=h.nth,
                easter_offset=h.easter_offset,
                date=h.date,
                also_observed=h.also_observed,
            )
            for h in rule.holidays.all()
        ),
    )


def call_voicemail_message(*, call_id: int) -> str | None:
    """Return the message this call leaves on an answering machine, from its campaign and lead, or None."""
    call = call_get(call_id=call_id)
    if call is None:
        return None
    campaign = call.campaign
    return prompts.voicemail_message(
        agent_name=campaign.agent_name,
        business_name=campaign.business_name,
        call_purpose=campaign.call_purpose,
        callback_number=campaign.callback_number,
        first_name=call.lead.first_name,
    )


# --- Who sees what (reautomation.access.Viewer) ---------------------------------------------------


def campaign_visibility(viewer: Viewer) -> Q:
    """Return the filter on Campaign that keeps the campaigns `viewer` may see: those they own."""
    if viewer.sees_all:
        return Q()
    return Q(owner_id=viewer.user_id) if viewer.user_id is not None else Q(pk__in=[])


def call_visibility(viewer: Viewer) -> Q:
    """Return the filter on Call that keeps the calls `viewer` may see: of their campaigns, or of leads they see."""
    if viewer.sees_all:
        return Q()
    if viewer.user_id is None:
        return Q(pk__in=[])
    return Q(campaign__owner_id=viewer.user_id) | Q(lead__in=leads_visible(viewer=viewer).values("pk"))


def transcript_turn_visibility(viewer: Viewer) -> Q:
    """Return the filter on TranscriptTurn that keeps the turns of the calls `viewer` may see."""
    return Q() if viewer.sees_all else Q(call__in=calls_visible(viewer=viewer).values("pk"))


def dial_decision_visibility(viewer: Viewer) -> Q:
    """Return the filter on DialDecision that keeps the dialer's decisions on leads or campaigns `viewer` sees."""
    if viewer.sees_all:
        return Q()
    return Q(lead__in=leads_visible(viewer=viewer).values("pk")) | Q(campaign__in=campaigns_visible(viewer=viewer))


def campaign_day_stats_visibility(viewer: Viewer) -> Q:
    """Return the filter on CampaignDayStats that keeps the days of campaigns `viewer` sees."""
    return Q() if viewer.sees_all else Q(campaign__in=campaigns_visible(viewer=viewer))


def campaigns_visible(*, viewer: Viewer) -> QuerySet[Campaign]:
    """Return the campaigns `viewer` may see."""
    return Campaign.objects.filter(campaign_visibility(viewer))


def calls_visible(*, viewer: Viewer) -> QuerySet[Call]:
    """Return the calls `viewer` may see."""
    return Call.objects.filter(call_visibility(viewer))


# --- REST API -------------------------------------------------------------------------------------


def campaign_list(*, viewer: Viewer, status: str | None = None) -> QuerySet[Campaign]:
    """Return the campaigns `viewer` may see, newest first, each with its lead_count."""
    campaigns = (
        campaigns_visible(viewer=viewer)
        .annotate(lead_count=Count("leads", distinct=True))
        .order_by("-created_at", "-pk")
    )
    return campaigns.filter(status=status) if status else campaigns


def campaign_stats_get(*, campaign: Campaign) -> dict[str, Any]:
    """Return the campaign's leads by status, calls by status, booked appointments and its placed calls' figures."""
    # Imported here: agents.selectors and billing.selectors import this module.
    from agents.models import Appointment
    from billing.selectors import budget_use_list, cost_report

    calls = Call.objects.filter(campaign=campaign)
    placed = calls.filter(dialed_at__isnull=False)
    leads_by_status = dict(campaign.leads.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    return {
        "campaign_id": campaign.pk,
        "status": campaign.status,
        "leads": sum(leads_by_status.values()),
        "leads_by_status": leads_by_status,
        "calls_by_status": dict(calls.values("status").annotate(n=Count("pk")).values_list("status", "n")),
        "appointments": Appointment.objects.filter(call__campaign=campaign)
        .exclude(status=Appointment.Status.CANCELED)
        .count(),
        "figures": calls_figures(placed),
        "cost": cost_report(calls=placed),
        "budgets": budget_use_list(now=timezone.now(), campaign_id=campaign.pk),
    }


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
    from billing.models import CostEntry  # billing.selectors imports this module; keep billing imports local

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


def call_recording_get(*, viewer: Viewer, call_id: int) -> FieldFile | None:
    """Return the call's recording stored here, or None when there is no such call, `viewer` may not see it,
    or it has none."""
    call = calls_visible(viewer=viewer).only("recording").filter(pk=call_id).first()
    return call.recording if call is not None and call.recording else None


def metrics_get(*, viewer: Viewer, since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    """Return the figures of what `viewer` sees: leads and campaigns by status now, and what happened between
    since and until. The do-not-call count and the budgets are the account's, shared by everyone."""
    from agents.models import Appointment  # agents.selectors imports this module, so imported here
    from billing.selectors import budget_use_list

    placed = calls_visible(viewer=viewer).filter(dialed_at__gte=since, dialed_at__lt=until)
    appointments = Appointment.objects.all()
    if not viewer.sees_all:
        # As agents.selectors.appointment_visibility: of leads they see, or booked with them.
        booked_with = Q(broker__user_id=viewer.user_id) if viewer.user_id is not None else Q(pk__in=[])
        appointments = appointments.filter(Q(lead__in=leads_visible(viewer=viewer).values("pk")) | booked_with)
    return {
        "since": since,
        "until": until,
        "leads_by_status": dict(
            leads_visible(viewer=viewer).values("status").annotate(n=Count("pk")).values_list("status", "n")
        ),
        "campaigns_by_status": dict(
            campaigns_visible(viewer=viewer).values("status").annotate(n=Count("pk")).values_list("status", "n")
        ),
        "appointments_booked": appointments.filter(created_at__gte=since, created_at__lt=until).count(),
        "dnc_added": DoNotCall.objects.filter(created_at__gte=since, created_at__lt=until).count(),
        "figures": calls_figures(placed),
        "budgets": budget_use_list(now=timezone.now()),
    }
