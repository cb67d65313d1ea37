"""What the demo campaign's calls cost: per call, per minute, per qualified lead and per booked appointment (#6).

    .venv/bin/python benchmarks/cost.py [--run] [--campaign NAME] [--database-url URL] [--key demo]

Reads the campaign's placed calls and their cost ledger (billing.CostEntry,
written while each call ran) from a database: by default the one `make demo`
(`manage.py demo_campaign`) dials into, var/reautomation.sqlite3, and its latest
demo run (each run is a campaign of its own). With --run it first seeds and
dials a fresh demo run through the local Twilio emulator, the production path
but for the telephone network (emulator.demo; minutes of both CPU cores).
So the usual sequence is

    make demo && .venv/bin/python benchmarks/cost.py

Telephony is priced at the price list's Twilio rate for the minutes the
emulator reports, exactly as for real calls. The embedded tier is the default
deployment: local Whisper, the brain, and Piper (voice_tier "standard"); its
cost per minute is the figure a broker compares with a human ISA's. Per-call and per-minute
figures come with p50 and p95 over the calls (nearest rank: an actual call's
figure). Results are printed and merged into benchmarks/results/cost.json under --key.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import ROOT, machine_info, save_result, setup_django

if TYPE_CHECKING:
    from calls.models import Campaign

DEMO_DATABASE = ROOT / "var" / "reautomation.sqlite3"


def _usd(amount: Decimal | None) -> float | None:
    return None if amount is None else float(round(amount, 6))


def cost_figures(*, campaign: Campaign) -> dict[str, Any]:
    """Return the campaign's cost figures: in all, per call, per minute (all and embedded tier), per outcome."""
    from django.utils import timezone

    from billing.selectors import budget_use_list, call_costs_list, cost_report, nearest_rank
    from calls.models import Call

    calls = Call.objects.filter(campaign=campaign, dialed_at__isnull=False)
    report = cost_report(calls=calls)
    embedded_calls = calls.filter(voice_tier=Call.VoiceTier.STANDARD)
    embedded = cost_report(calls=embedded_calls)
    per_minute = sorted(c.cost_usd * 60 / c.seconds for c in call_costs_list(calls=embedded_calls) if c.seconds)
    return {
        "campaign": campaign.name,
        "calls_placed": calls.count(),
        "calls_with_cost": report.calls,
        "minutes": float(round(report.minutes, 2)),
        "total_usd": _usd(report.total_usd),
        "per_call_usd": {
            "mean": _usd(report.per_call_usd),
            "p50": _usd(report.per_call_p50_usd),
            "p95": _usd(report.per_call_p95_usd),
        },
        "per_minute_usd": {
            "all_tiers": _usd(report.per_minute_usd),
            "embedded": _usd(embedded.per_minute_usd),
            "embedded_p50": _usd(nearest_rank(per_minute, 50)),
            "embedded_p95": _usd(nearest_rank(per_minute, 95)),
            "embedded_calls": embedded.calls,
        },
        "qualified": report.qualified,
        "per_qualified_usd": _usd(report.per_qualified_usd),
        "booked": report.booked,
        "per_booked_usd": _usd(report.per_booked_usd),
        "by_component_usd": {component: _usd(amount) for component, amount in sorted(report.by_component.items())},
        "budgets": [
            {"budget": use.label, "spent_usd": _usd(use.spent_usd), "limit_usd": _usd(use.budget.limit_usd)}
            for use in budget_use_list(now=timezone.now(), campaign_id=campaign.pk)
        ],
    }


def _print(figures: dict[str, Any]) -> None:
    def usd(value: float | None) -> str:
        return "n/a" if value is None else f"${value:.4f}"

    per_call, per_minute = figures["per_call_usd"], figures["per_minute_usd"]
    print(f"{figures['campaign']}: {figures['calls_placed']} calls placed, {figures['calls_with_cost']} with a cost")
    print(f"  total                      {usd(figures['total_usd'])} over {figures['minutes']} minutes")
    print(f"  per call  mean/p50/p95     {usd(per_call['mean'])} / {usd(per_call['p50'])} / {usd(per_call['p95'])}")
    print(f"  per minute, all tiers      {usd(per_minute['all_tiers'])}")
    print(
        f"  per minute, embedded tier  {usd(per_minute['embedded'])}  "
        f"(p50 {usd(per_minute['embedded_p50'])}, p95 {usd(per_minute['embedded_p95'])}, "
        f"{per_minute['embedded_calls']} calls)"
    )
    print(f"  per qualified lead         {usd(figures['per_qualified_usd'])}  ({figures['qualified']} qualified)")
    print(f"  per booked appointment     {usd(figures['per_booked_usd'])}  ({figures['booked']} booked)")
    for component, amount in figures["by_component_usd"].items():
        print(f"    {component:<22} {usd(amount)}")
    for budget in figures["budgets"]:
        print(f"  {budget['budget']}: {usd(budget['spent_usd'])} of {usd(budget['limit_usd'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="seed and dial a fresh demo run first (minutes)")
    parser.add_argument("--campaign", help="a campaign's name (default: the latest demo run)")
    parser.add_argument("--database-url", default=f"sqlite:///{DEMO_DATABASE}")
    parser.add_argument("--key", default="demo", help="name of this run in benchmarks/results/cost.json")
    args = parser.parse_args()
    setup_django(args.database_url)

    from django.core.management import call_command

    from calls.models import Campaign
    from emulator.demo import demo_campaign_latest

    if args.run:
        call_command("seed_demo")
        call_command("demo_campaign", campaign=args.campaign)
    campaign = Campaign.objects.filter(name=args.campaign).first() if args.campaign else demo_campaign_latest()
    if campaign is None:
        wanted = repr(args.campaign) if args.campaign else "demo run with calls"
        sys.exit(f"No campaign {wanted} in {args.database_url}: run `make demo` first, or pass --run.")
    figures = cost_figures(campaign=campaign)
    _print(figures)
    print(f"saved {save_result('cost', args.key, {**figures, 'machine': machine_info()})}")


if __name__ == "__main__":
    main()
