"""Reads for campaigns and calls."""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.fields.files import FieldFile

from calls.compliance import DayFacts, DialFacts, HolidayFacts, RuleFacts
from calls.models import Call, Campaign, DialDecision, StateRule
from common.access import Viewer
from leads.models import Lead
from leads.phones import phone_state
from leads.selectors import consent_active_exists, dnc_block_get, leads_visible
from leads.timezones import STATE_TIMEZONES

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


# --- Who sees what (common.access.Viewer) ---------------------------------------------------


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


def call_recording_get(*, viewer: Viewer, call_id: int) -> FieldFile | None:
    """Return the call's recording stored here, or None when there is no such call, `viewer` may not see it,
    or it has none."""
    call = calls_visible(viewer=viewer).only("recording").filter(pk=call_id).first()
    return call.recording if call is not None and call.recording else None
