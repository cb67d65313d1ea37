"""Per-campaign, per-day analytics rollups (CampaignDayStats), written by the campaign_stats_rollup task.

A rollup is recomputed from the calls each time rather than incremented, so
running it twice, or late, or after a call's outcome changed, gives the same
row.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from billing.models import CostEntry
from calls.models import Call, CampaignDayStats, DialDecision, TranscriptTurn


def campaign_stats_rollup(*, day: dt.date) -> int:
    """Rewrite the stats of every campaign that dialed or refused a dial on `day`; return how many rows."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    calls = Call.objects.filter(dialed_at__gte=start, dialed_at__lt=end)
    refusals = DialDecision.objects.filter(decided_at__gte=start, decided_at__lt=end, allowed=False)
    campaign_ids = set(calls.values_list("campaign_id", flat=True)) | set(
        refusals.values_list("campaign_id", flat=True)
    )
    for campaign_id in campaign_ids:
        fields = calls_figures(calls.filter(campaign_id=campaign_id))
        fields["refused_by_gate"] = refusals.filter(campaign_id=campaign_id).count()
        CampaignDayStats.objects.update_or_create(campaign_id=campaign_id, day=day, defaults=fields)
    return len(campaign_ids)


# A call answered by a machine, and one answered by a person; the dashboard counts calls with these too.
MACHINE = Q(answered_by=Call.AnsweredBy.MACHINE) | Q(outcome=Call.Outcome.VOICEMAIL)
REACHED = Q(answered_at__isnull=False) & ~MACHINE & ~Q(answered_by=Call.AnsweredBy.FAX)


def calls_figures(calls: QuerySet[Call]) -> dict[str, object]:
    """Return the figures of these calls: placed, reached, voicemail, buckets, booked, opted out, latency, cost."""
    machine, reached = MACHINE, REACHED
    counts = calls.aggregate(
        calls=Count("pk"),
        reached=Count("pk", filter=reached),
        voicemail=Count("pk", filter=machine),
        no_answer=Count("pk", filter=Q(status__in=[Call.Status.BUSY, Call.Status.NO_ANSWER])),
        failed=Count("pk", filter=Q(status=Call.Status.FAILED)),
        hot=Count("pk", filter=reached & Q(qualification__bucket="hot")),
        warm=Count("pk", filter=reached & Q(qualification__bucket="warm")),
        cold=Count("pk", filter=reached & Q(qualification__bucket="cold")),
        booked=Count("pk", filter=Q(outcome=Call.Outcome.APPOINTMENT)),
        opted_out=Count("pk", filter=Q(outcome=Call.Outcome.OPTED_OUT)),
        talk_seconds=Sum("duration_seconds", default=0),
    )
    turns = TranscriptTurn.objects.filter(call__in=calls, latency_ms__isnull=False)
    latencies = sorted(ms for ms in turns.values_list("latency_ms", flat=True) if ms is not None)
    cost = CostEntry.objects.filter(call__in=calls).aggregate(total=Sum("amount_usd", default=Decimal(0)))["total"]
    return {
        **counts,
        "latency_turns": len(latencies),
        "latency_avg_ms": round(sum(latencies) / len(latencies)) if latencies else None,
        "latency_p50_ms": _percentile(latencies, 50),
        "latency_p95_ms": _percentile(latencies, 95),
        "cost_usd": cost,
    }


def _percentile(ordered: list[int], percent: int) -> int | None:
    """Return the nearest-rank percentile of sorted values (an actual observed latency, never an interpolation)."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]
