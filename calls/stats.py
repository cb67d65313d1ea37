"""Per-campaign, per-day analytics rollups (CampaignDayStats), written by the campaign_stats_rollup task.

A rollup is recomputed from the calls each time rather than incremented, so
running it twice, or late, or after a call's outcome changed, gives the same
row.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable
from decimal import Decimal
from typing import Any, Protocol

from django.db import connections
from django.db.models import Aggregate, Count, Expression, IntegerField, Q, QuerySet, Sum, Value
from django.utils import timezone

from calls.models import Call, CampaignDayStats, DialDecision, TranscriptTurn


class CostTotal(Protocol):
    """What a set of calls cost, in dollars: billing.selectors.calls_cost_total."""

    def __call__(self, *, calls: QuerySet[Call]) -> Decimal: ...


def campaign_stats_rollup(*, day: dt.date, cost_total: CostTotal) -> int:
    """Rewrite the stats of every campaign that dialed or refused a dial on `day`; return how many rows.

    Args:
        day: the day, in TIME_ZONE.
        cost_total: what a set of calls cost (billing.selectors.calls_cost_total): billing's ledger sits above calls.
    """
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    calls = Call.objects.filter(dialed_at__gte=start, dialed_at__lt=end)
    refusals = DialDecision.objects.filter(decided_at__gte=start, decided_at__lt=end, allowed=False)
    campaign_ids = set(calls.values_list("campaign_id", flat=True)) | set(
        refusals.values_list("campaign_id", flat=True)
    )
    for campaign_id in campaign_ids:
        campaign_calls = calls.filter(campaign_id=campaign_id)
        fields = {**calls_figures(campaign_calls), "cost_usd": cost_total(calls=campaign_calls)}
        fields["refused_by_gate"] = refusals.filter(campaign_id=campaign_id).count()
        CampaignDayStats.objects.update_or_create(campaign_id=campaign_id, day=day, defaults=fields)
    return len(campaign_ids)


# A call answered by a machine, and one answered by a person; the dashboard counts calls with these too.
MACHINE = Q(answered_by=Call.AnsweredBy.MACHINE) | Q(outcome=Call.Outcome.VOICEMAIL)
REACHED = Q(answered_at__isnull=False) & ~MACHINE & ~Q(answered_by=Call.AnsweredBy.FAX)


def calls_figures(calls: QuerySet[Call]) -> dict[str, object]:
    """Return the figures of these calls: placed, reached, voicemail, buckets, booked, opted out, latency.

    What they cost is billing's (billing.selectors.calls_cost_total).
    """
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
    latency = latency_figures(turns, by=Value(0)).get(0, {})
    return {
        **counts,
        "latency_turns": latency.get("turns", 0),
        "latency_avg_ms": latency.get("avg_ms"),
        "latency_p50_ms": latency.get("p50_ms"),
        "latency_p95_ms": latency.get("p95_ms"),
    }


class _PercentileDisc(Aggregate):
    """PostgreSQL's percentile_disc: the same nearest-rank percentile as `_percentile`, in the database."""

    function = "PERCENTILE_DISC"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = IntegerField()

    def __init__(self, expression: str, percent: int) -> None:
        super().__init__(expression, fraction=f"{percent / 100:.2f}")


def latency_figures(turns: QuerySet[TranscriptTurn], *, by: Expression) -> dict[Hashable, dict[str, Any]]:
    """Return each group's turns, average, p50 and p95 of latency_ms, the groups keyed by the value of `by`.

    PostgreSQL computes them with percentile_disc; elsewhere (the SQLite demo) the latencies are
    loaded and ranked here. Both give the nearest-rank value, an observed latency, never an interpolation.
    """
    grouped = turns.filter(latency_ms__isnull=False).annotate(group=by).values("group").order_by()
    if connections[turns.db].vendor == "postgresql":
        rows = grouped.annotate(
            turns=Count("pk"),
            total=Sum("latency_ms"),
            p50_ms=_PercentileDisc("latency_ms", 50),
            p95_ms=_PercentileDisc("latency_ms", 95),
        )
        return {
            row["group"]: {
                "turns": row["turns"],
                "avg_ms": round(row["total"] / row["turns"]),
                "p50_ms": row["p50_ms"],
                "p95_ms": row["p95_ms"],
            }
            for row in rows
            if row["turns"]  # an ungrouped aggregate answers one row even when there are no turns
        }
    latencies: dict[Hashable, list[int]] = {}
    for group, ms in grouped.values_list("group", "latency_ms"):
        if ms is not None:  # filtered out above; the check is for the type
            latencies.setdefault(group, []).append(ms)
    figures = {}
    for group, values in latencies.items():
        ordered = sorted(values)
        figures[group] = {
            "turns": len(ordered),
            "avg_ms": round(sum(ordered) / len(ordered)),
            "p50_ms": _percentile(ordered, 50),
            "p95_ms": _percentile(ordered, 95),
        }
    return figures


def _percentile(ordered: list[int], percent: int) -> int | None:
    """Return the nearest-rank percentile of sorted values (an actual observed latency, never an interpolation)."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]
