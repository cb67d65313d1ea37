"""Benchmark the dashboard's pages on a campaign the size of a busy month.

    .venv/bin/python benchmarks/dashboard.py [--calls 20000] [--turns 8] [--runs 20] [--database-url URL]

Seeds a throwaway database (a SQLite file under var/bench/, or a
"bench_dashboard_" database on the --database-url server) with one campaign of
--calls placed calls over 30 days, each with --turns transcript turns (half of
them agent turns with a measured latency) and three cost lines, beside 30 small
campaigns; then requests each dashboard page --runs times as a signed-in staff
user through Django's test client (the whole view, template and ORM; no network)
and prints each page's p50 and p95 and its query count. Results are merged into
benchmarks/results/dashboard.json, one entry per database vendor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import machine_info, percentile, save_result, setup_django, throwaway_database

SEED = 20261124
SMALL_CAMPAIGNS = 30
OUTCOMES = ["qualified", "appointment", "not_interested", "callback", "hung_up", "opted_out"]


def seed(*, calls: int, turns: int) -> dict[str, int]:
    """Create the campaigns, leads, calls, turns and cost lines; return the ids the pages are read with."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from billing.models import Component, CostEntry, PriceItem
    from calls.models import Call, Campaign, TranscriptTurn
    from leads.models import Lead

    rng = random.Random(SEED)
    big = Campaign.objects.create(name="Busy month", business_name="Bayside Realty", callback_number="+14155550100")
    small = Campaign.objects.bulk_create(
        Campaign(name=f"Small {i}", business_name="Bayside Realty", callback_number="+14155550100")
        for i in range(SMALL_CAMPAIGNS)
    )
    leads = Lead.objects.bulk_create(
        Lead(
            first_name=f"Lead{i}",
            last_name="Bench",
            phone=f"+1628{i // 10000:03d}{i % 10000:04d}",
            state="CA",
            city="San Francisco",
            timezone="America/Los_Angeles",
            timezone_source=Lead.TimezoneSource.BOTH,
        )
        for i in range(calls + SMALL_CAMPAIGNS * 10)
    )
    big.leads.add(*leads[:calls])
    end = timezone.now().replace(hour=18, minute=0, second=0, microsecond=0)
    rows = []
    for lead in leads[:calls]:
        dialed = end - dt.timedelta(days=rng.randrange(30), minutes=rng.randrange(600))
        reached = rng.random() < 0.6
        rows.append(
            Call(
                lead=lead,
                campaign=big,
                status=Call.Status.COMPLETED if reached else Call.Status.NO_ANSWER,
                dialed_at=dialed,
                answered_at=dialed if reached else None,
                answered_by=Call.AnsweredBy.HUMAN if reached else Call.AnsweredBy.UNKNOWN,
                outcome=rng.choice(OUTCOMES) if reached else "",
                score=rng.randrange(101) if reached else None,
                duration_seconds=rng.randrange(30, 300) if reached else 0,
            )
        )
    for n, campaign in enumerate(small):
        for lead in leads[calls + n * 10 : calls + (n + 1) * 10]:
            done = Call.Status.COMPLETED
            rows.append(Call(lead=lead, campaign=campaign, status=done, dialed_at=end, answered_at=end))
    placed = Call.objects.bulk_create(rows, batch_size=2000)
    reached_calls = [c for c in placed if c.answered_at is not None]

    lines: list[TranscriptTurn] = []
    for call in reached_calls:
        for index in range(turns):
            agent = index % 2 == 0
            latency = rng.randrange(450, 900) if agent and index else None
            lines.append(
                TranscriptTurn(
                    call=call,
                    index=index,
                    speaker=TranscriptTurn.Speaker.AGENT if agent else TranscriptTurn.Speaker.LEAD,
                    text="Selling, got it. What kind of timeline are you looking at?" if agent else "Maybe in spring.",
                    started_ms=index * 4000,
                    latency_ms=latency,
                    vad_stop_ms=200 if latency else None,
                    stt_ms=350 if latency else None,
                    brain_first_text_ms=360 if latency else None,
                    tts_first_audio_ms=latency,
                )
            )
        if len(lines) >= 20_000:
            TranscriptTurn.objects.bulk_create(lines)
            lines = []
    TranscriptTurn.objects.bulk_create(lines)

    components = [
        (Component.TELEPHONY, PriceItem.Unit.MINUTE, Decimal("0.014")),
        (Component.STT, PriceItem.Unit.CPU_SECOND, Decimal("0.00001")),
        (Component.RECORDING, PriceItem.Unit.MB_MONTH, Decimal("0.0005")),
    ]
    costs = [
        CostEntry(call=call, component=kind, quantity=Decimal(2), unit=unit, unit_price=price, amount_usd=price * 2)
        for call in placed
        for kind, unit, price in components
    ]
    CostEntry.objects.bulk_create(costs, batch_size=5000)

    user = get_user_model().objects.create_user("bench", password="bench", is_staff=True)
    busiest = max(reached_calls, key=lambda c: c.duration_seconds or 0)
    return {"campaign": big.pk, "call": busiest.pk, "lead": busiest.lead_id, "user": user.pk}


class QueryCounter:
    """Count and time the queries run through a connection (the request cycle resets connection.queries)."""

    def __init__(self) -> None:
        self.count = 0
        self.timed: list[tuple[float, str]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.timed.append(((time.perf_counter() - started) * 1000, sql))

    def slowest(self, n: int = 3) -> list[dict[str, Any]]:
        """The n slowest queries of the counted request: where a page's time goes."""
        return [{"ms": round(ms, 1), "sql": sql[:160]} for ms, sql in sorted(self.timed, reverse=True)[:n]]


def time_pages(ids: dict[str, int], runs: int) -> dict[str, dict[str, Any]]:
    """Request each page `runs` times (after one untimed request) and return its timings and query count."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(pk=ids["user"]))
    pages = {
        "campaign list": "/dashboard/",
        "campaign detail": f"/dashboard/campaigns/{ids['campaign']}/",
        "campaign detail, page 100": f"/dashboard/campaigns/{ids['campaign']}/?page=100",
        "call detail": f"/dashboard/calls/{ids['call']}/",
        "lead detail": f"/dashboard/leads/{ids['lead']}/",
    }
    results = {}
    for name, url in pages.items():
        queries = QueryCounter()
        with connection.execute_wrapper(queries):
            response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        results[name] = {
            "url": url,
            "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(percentile(timings, 95), 1),
            "queries": queries.count,
            "bytes": len(response.content),
            "slowest_queries": queries.slowest(),
        }
        print(f"{name:<28} p50 {results[name]['p50_ms']:>7.1f} ms  p95 {results[name]['p95_ms']:>7.1f} ms  "
              f"{results[name]['queries']:>3} queries  {len(response.content) / 1024:.0f} KiB")  # fmt: skip
        for query in results[name]["slowest_queries"]:
            print(f"{'':<8}{query['ms']:>7.1f} ms  {query['sql'][:100]}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000, help="placed calls in the big campaign (default 20000)")
    parser.add_argument("--turns", type=int, default=8, help="transcript turns per reached call (default 8)")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--database-url", default="", help="benchmark on this server, not SQLite")
    args = parser.parse_args(argv)

    setup_django(args.database_url)
    from django.conf import settings
    from django.db import connection

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    with throwaway_database("dashboard"):
        started = time.perf_counter()
        ids = seed(calls=args.calls, turns=args.turns)
        print(f"seeded {args.calls:,} calls with {args.turns} turns each in {time.perf_counter() - started:.0f}s")
        pages = time_pages(ids, args.runs)
        vendor = connection.vendor
        machine = machine_info(db_vendor=vendor)

    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "calls": args.calls,
        "turns_per_call": args.turns,
        "runs": args.runs,
        "pages": pages,
        "machine": machine,
    }
    save_result("dashboard", vendor, result)
    print("saved to benchmarks/results/dashboard.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
