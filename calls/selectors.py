"""Reads for campaigns and calls."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum

from agents import prompts
from calls.compliance import DialFacts, RuleFacts
from calls.models import Call, Campaign, DialDecision, StateRule
from calls.stats import calls_figures
from leads.models import Consent, DoNotCall, Lead
from leads.phones import phone_state
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


def campaign_queued_call_ids(*, campaign_id: int) -> list[int]:
    """Return the campaign's calls waiting for a worker, oldest first."""
    queued = Call.objects.filter(campaign_id=campaign_id, status=Call.Status.QUEUED).order_by("queued_at", "pk")
    return list(queued.values_list("pk", flat=True))


def campaign_due_leads_list(*, campaign: Campaign, now: dt.datetime, limit: int) -> list[Lead]:
    """Return up to `limit` of the campaign's leads that are due a call, retries first.

    A lead is due when it was never called in this campaign (and has no later
    next attempt set), or its next attempt is due; not while it has a call open
    anywhere, nor while the compliance gate's last refusal in this campaign
    says to wait.
    """
    called_here = _placed_here(campaign)
    open_call = Call.objects.filter(lead=OuterRef("pk"), status__in=OPEN_STATUSES)
    waiting = DialDecision.objects.filter(campaign=campaign, lead=OuterRef("pk"), allowed=False, retry_at__gt=now)
    due = Q(next_attempt_at__lte=now) | (Q(next_attempt_at__isnull=True) & ~Exists(called_here))
    leads = (
        campaign.leads.filter(due, status__in=DIALABLE_LEAD_STATUSES)
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
    consents = Consent.objects.filter(lead=lead, revoked_at__isnull=True, given_at__lte=now)
    rules = StateRule.objects.filter(state__in=states)
    recent = placed.filter(dialed_at__gt=now - dt.timedelta(hours=24))
    return DialFacts(
        campaign_active=campaign.status == Campaign.Status.ACTIVE,
        campaign_window=(campaign.window_start, campaign.window_end),
        require_consent=campaign.require_consent,
        all_party_recording=campaign.all_party_recording,
        max_attempts=campaign.max_attempts,
        on_dnc=lead.status == Lead.Status.DO_NOT_CALL or DoNotCall.objects.filter(phone=lead.phone).exists(),
        has_consent=consents.exists(),
        attempts_made=placed.filter(campaign=campaign).count(),
        on_another_call=other_calls.filter(status__in=OPEN_STATUSES).exists(),
        zones=lead_zones(lead=lead),
        states=states,
        rules=tuple(
            RuleFacts(r.state, r.window_start, r.window_end, r.max_calls_per_24h, r.all_party_consent) for r in rules
        ),
        dials_last_24h=tuple(t for t in recent.values_list("dialed_at", flat=True) if t is not None),
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


# --- REST API -------------------------------------------------------------------------------------


def campaign_list(*, status: str | None = None) -> QuerySet[Campaign]:
    """Return campaigns, newest first, each with its lead_count."""
    campaigns = Campaign.objects.annotate(lead_count=Count("leads", distinct=True)).order_by("-created_at", "-pk")
    return campaigns.filter(status=status) if status else campaigns


def campaign_stats_get(*, campaign: Campaign) -> dict[str, Any]:
    """Return the campaign's leads by status, calls by status, booked appointments and its placed calls' figures."""
    # Imported here: agents.selectors and billing.selectors import this module.
    from agents.models import Appointment
    from billing.selectors import cost_report

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
    }


def call_list(
    *,
    campaign_id: int | None = None,
    lead_id: int | None = None,
    status: str | None = None,
    outcome: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[Call]:
    """Return the calls matching every given filter, newest first, each with its cost_usd so far."""
    calls = Call.objects.annotate(cost_usd=Sum("cost_entries__amount_usd", default=Decimal(0))).order_by(
        "-queued_at", "-pk"
    )
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


def call_detail_get(*, call_id: int) -> Call | None:
    """Return the call with its cost_usd, transcript turns and cost entries loaded, or None."""
    return call_list().prefetch_related("turns", "cost_entries").filter(pk=call_id).first()


def metrics_get(*, since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    """Return account-wide figures: leads and campaigns by status now, and what happened between since and until."""
    from agents.models import Appointment  # agents.selectors imports this module, so imported here

    placed = Call.objects.filter(dialed_at__gte=since, dialed_at__lt=until)
    return {
        "since": since,
        "until": until,
        "leads_by_status": dict(Lead.objects.values("status").annotate(n=Count("pk")).values_list("status", "n")),
        "campaigns_by_status": dict(
            Campaign.objects.values("status").annotate(n=Count("pk")).values_list("status", "n")
        ),
        "appointments_booked": Appointment.objects.filter(created_at__gte=since, created_at__lt=until).count(),
        "dnc_added": DoNotCall.objects.filter(created_at__gte=since, created_at__lt=until).count(),
        "figures": calls_figures(placed),
    }
