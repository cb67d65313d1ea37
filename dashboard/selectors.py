"""The dashboard's reads: campaign results, a call's and a lead's page, and the live monitor's snapshot.

The dashboard counts placed calls (dialed_at set), as campaign_stats_get and
the cost reports do: a queued call, or one the gate canceled undialed, was
never a dial. "Reached" is calls_figures' person-answered call, "qualified" a
call that ended qualified or booked (billing's QUALIFIED_OUTCOMES, the
denominator of its cost per qualified lead), "booked" a call that booked an
appointment. Days are in TIME_ZONE, like the rollup's and the cost report's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, Min, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from agents.models import Appointment
from billing.models import CostEntry
from billing.selectors import (
    QUALIFIED_OUTCOMES,
    BudgetUse,
    CostReport,
    budget_use_list,
    call_list,
    calls_cost_total,
    cost_report,
)
from calls.live import live_call_card, live_key
from calls.models import Call, Campaign, CampaignImport, TranscriptTurn
from calls.selectors import calls_visible, campaign_list, campaign_visibility
from calls.stats import REACHED, _percentile, calls_figures, latency_figures
from common.access import Viewer
from leads.models import Consent, DoNotCall, Lead
from leads.selectors import leads_visible

DASHBOARD_DAYS = 30
SCORE_BUCKETS = 10


def _qualified_q() -> Q:
    return Q(outcome__in=QUALIFIED_OUTCOMES)


@dataclass(frozen=True)
class CampaignSummary:
    """One row of the dashboard's campaign list."""

    campaign: Campaign
    leads: int
    placed: int
    reached: int
    qualified: int
    booked: int
    cost_usd: Decimal

    @property
    def cost_per_booking_usd(self) -> Decimal | None:
        return self.cost_usd / self.booked if self.booked else None


def campaign_summary_list(*, viewer: Viewer) -> list[CampaignSummary]:
    """Return every campaign `viewer` sees, newest first, with its leads, placed calls, funnel counts and cost
    (three queries)."""
    campaigns = list(campaign_list(viewer=viewer))
    counts = {
        row["campaign_id"]: row
        for row in Call.objects.filter(dialed_at__isnull=False)
        .values("campaign_id")
        .annotate(
            placed=Count("pk"),
            reached=Count("pk", filter=REACHED),
            qualified=Count("pk", filter=_qualified_q()),
            booked=Count("pk", filter=Q(outcome=Call.Outcome.APPOINTMENT)),
        )
        .order_by()
    }
    costs = dict(
        CostEntry.objects.filter(call__dialed_at__isnull=False)
        .values("call__campaign_id")
        .annotate(total=Sum("amount_usd"))
        .values_list("call__campaign_id", "total")
        .order_by()
    )
    none = {"placed": 0, "reached": 0, "qualified": 0, "booked": 0}
    rows = []
    for c in campaigns:
        n = counts.get(c.pk, none)
        rows.append(
            CampaignSummary(
                campaign=c,
                leads=c.lead_count,  # type: ignore[attr-defined]
                placed=n["placed"],
                reached=n["reached"],
                qualified=n["qualified"],
                booked=n["booked"],
                cost_usd=costs.get(c.pk) or Decimal(0),
            )
        )
    return rows


@dataclass(frozen=True)
class DaySeries:
    """A campaign's placed calls day by day, oldest first, every day of the range present (zeros included)."""

    days: list[dt.date]
    calls: list[int]
    reached: list[int]
    booked: list[int]
    cost_usd: list[Decimal]
    latency_p50_ms: list[int | None]
    latency_p95_ms: list[int | None]

    @property
    def cost_per_booking_usd(self) -> list[Decimal | None]:
        return [cost / n if n else None for cost, n in zip(self.cost_usd, self.booked, strict=True)]


def campaign_day_series_get(*, campaign: Campaign, days: int = DASHBOARD_DAYS) -> DaySeries:
    """Return the campaign's last `days` days of calls, up to the last day it dialed, straight from the calls.

    Computed from the calls rather than CampaignDayStats so the dashboard is
    right before the nightly rollup has run (and for today, which it has not).
    """
    zone = timezone.get_current_timezone()
    placed = Call.objects.filter(campaign=campaign, dialed_at__isnull=False)
    last = placed.aggregate(last=Max("dialed_at"))["last"]
    if last is None:
        return DaySeries([], [], [], [], [], [], [])
    end = timezone.localdate(last)
    first_dialed = timezone.localdate(placed.aggregate(first=Min("dialed_at"))["first"])
    start = max(first_dialed, end - dt.timedelta(days=days - 1))
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    in_range = placed.filter(dialed_at__gte=since)
    by_day = {
        row["day"]: row
        for row in in_range.annotate(day=TruncDate("dialed_at", tzinfo=zone))
        .values("day")
        .annotate(
            calls=Count("pk"),
            reached=Count("pk", filter=REACHED),
            booked=Count("pk", filter=Q(outcome=Call.Outcome.APPOINTMENT)),
        )
        .order_by()
    }
    cost = dict(
        CostEntry.objects.filter(call__in=in_range)
        .annotate(day=TruncDate("call__dialed_at", tzinfo=zone))
        .values("day")
        .annotate(total=Sum("amount_usd"))
        .values_list("day", "total")
        .order_by()
    )
    turns = TranscriptTurn.objects.filter(call__in=in_range)
    latency = latency_figures(turns, by=TruncDate("call__dialed_at", tzinfo=zone))
    span = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    return DaySeries(
        days=span,
        calls=[by_day[d]["calls"] if d in by_day else 0 for d in span],
        reached=[by_day[d]["reached"] if d in by_day else 0 for d in span],
        booked=[by_day[d]["booked"] if d in by_day else 0 for d in span],
        cost_usd=[cost.get(d) or Decimal(0) for d in span],
        latency_p50_ms=[latency[d]["p50_ms"] if d in latency else None for d in span],
        latency_p95_ms=[latency[d]["p95_ms"] if d in latency else None for d in span],
    )


def campaign_score_buckets(*, campaign: Campaign) -> list[int]:
    """Return how many reached calls scored 0-9, 10-19, ..., 90-100 (a score of 100 falls in the last bucket)."""
    buckets = [0] * SCORE_BUCKETS
    scored = Call.objects.filter(REACHED, campaign=campaign, dialed_at__isnull=False, score__isnull=False)
    for score, n in scored.values("score").annotate(n=Count("pk")).values_list("score", "n").order_by():
        if score is not None:
            buckets[min(score // 10, SCORE_BUCKETS - 1)] += n
    return buckets


@dataclass(frozen=True)
class CampaignDashboard:
    """Everything the campaign page shows but its calls list."""

    campaign: Campaign
    figures: dict[str, Any]  # calls_figures of the placed calls, and their cost_usd
    qualified: int
    cost: CostReport
    budgets: list[BudgetUse]
    days: DaySeries
    score_buckets: list[int]

    @property
    def funnel(self) -> list[tuple[str, int]]:
        f = self.figures
        return [
            ("Dialed", f["calls"]),
            ("Reached", f["reached"]),
            ("Qualified", self.qualified),
            ("Booked", f["booked"]),
        ]


def campaign_dashboard_get(*, campaign: Campaign, now: dt.datetime) -> CampaignDashboard:
    """Return the campaign's figures, cost report, budgets' use, day-by-day series and score distribution."""
    placed = Call.objects.filter(campaign=campaign, dialed_at__isnull=False)
    return CampaignDashboard(
        campaign=campaign,
        figures={**calls_figures(placed), "cost_usd": calls_cost_total(calls=placed)},
        qualified=placed.filter(_qualified_q()).count(),
        cost=cost_report(calls=placed),
        budgets=budget_use_list(now=now, campaign_id=campaign.pk),
        days=campaign_day_series_get(campaign=campaign),
        score_buckets=campaign_score_buckets(campaign=campaign),
    )


def campaign_calls_list(*, viewer: Viewer, campaign: Campaign) -> QuerySet[Call]:
    """Return the campaign's calls `viewer` sees, newest first, with their lead and cost_usd (for a paginated table)."""
    return call_list(viewer=viewer, campaign_id=campaign.pk).select_related("lead")


def call_dashboard_get(*, viewer: Viewer, call_id: int) -> Call | None:
    """Return the call with its lead, campaign, cost_usd, ordered turns, cost lines and appointments, or None
    when there is no such call or `viewer` may not see it."""
    return (
        call_list(viewer=viewer)
        .select_related("lead", "campaign")
        .prefetch_related(
            Prefetch("turns", queryset=TranscriptTurn.objects.order_by("index")),
            "cost_entries",
            "appointments__broker",
        )
        .filter(pk=call_id)
        .first()
    )


def call_latency_get(*, call: Call) -> dict[str, int | None]:
    """Return the p50 and p95 of the call's agent response latencies from its prefetched turns."""
    ordered = sorted(t.latency_ms for t in call.turns.all() if t.latency_ms is not None)
    return {"p50_ms": _percentile(ordered, 50), "p95_ms": _percentile(ordered, 95), "turns": len(ordered)}


@dataclass(frozen=True)
class LeadDashboard:
    """A lead with its consent and do-not-call state, appointments and calls."""

    lead: Lead
    consents: list[Consent]
    do_not_call: DoNotCall | None
    appointments: list[Appointment]  # broker loaded
    calls: list[Call]  # newest first, campaign loaded, with cost_usd
    campaigns: list[Campaign]

    @property
    def on_dnc(self) -> bool:
        return self.do_not_call is not None or self.lead.status == Lead.Status.DO_NOT_CALL

    @property
    def has_consent(self) -> bool:
        return any(c.revoked_at is None for c in self.consents)


def lead_dashboard_get(*, viewer: Viewer, lead_id: int) -> LeadDashboard | None:
    """Return the lead's dashboard page data, or None when there is no such lead or `viewer` may not see it.

    A lead's calls and appointments are all visible to whoever sees the lead; its campaigns only where the
    viewer sees them too."""
    lead = leads_visible(viewer=viewer).filter(pk=lead_id).first()
    if lead is None:
        return None
    return LeadDashboard(
        lead=lead,
        consents=list(lead.consents.order_by("-given_at")),
        do_not_call=DoNotCall.objects.filter(phone=lead.phone).first(),
        appointments=list(Appointment.objects.filter(lead=lead).select_related("broker").order_by("-start")),
        calls=list(call_list(viewer=Viewer.everyone(), lead_id=lead.pk).select_related("campaign")),
        campaigns=list(lead.campaigns.filter(campaign_visibility(viewer)).order_by("-created_at")),
    )


# --- Live monitor (what calls.live publishes) ------------------------------------------------------


def live_call_seen(*, viewer: Viewer, call_id: int) -> bool:
    """Return whether `viewer` may follow this call on the monitor (sync: reads the database)."""
    return viewer.sees_all or calls_visible(viewer=viewer).filter(pk=call_id).exists()


def live_calls_snapshot(*, viewer: Viewer) -> list[dict[str, Any]]:
    """Return the calls in progress that `viewer` sees, with their transcripts so far, oldest first
    (sync: reads the database)."""
    calls = list(
        calls_visible(viewer=viewer)
        .filter(status=Call.Status.IN_PROGRESS, ended_at__isnull=True)
        .select_related("lead", "campaign")
        .order_by("answered_at", "pk")[:100]
    )
    states = cache.get_many([live_key(call.pk) for call in calls])
    snapshot = []
    for call in calls:
        state = states.get(live_key(call.pk))
        # A call whose session has not published yet (or whose cache entry is gone) still shows.
        snapshot.append(state if state is not None else {"card": live_call_card(call_id=call.pk), "turns": []})
    return snapshot


# Enough to follow the latest uploads; older ones are under Lead imports in the admin.
CAMPAIGN_UPLOADS_SHOWN = 5


def campaign_uploads_list(*, campaign: Campaign) -> list[CampaignImport]:
    """Return the latest lead files uploaded into the campaign, newest first, with their imports."""
    uploads = CampaignImport.objects.filter(campaign=campaign).select_related("lead_import")
    return list(uploads.order_by("-lead_import__created_at", "-pk")[:CAMPAIGN_UPLOADS_SHOWN])
