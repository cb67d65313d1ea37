"""`manage.py demo_campaign`: run the demo campaign through the local Twilio emulator and print its results."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from calls.models import Campaign
from emulator.demo import PERSONAS_FILE, DemoError, demo_campaign_next, demo_run

ROWS = [
    ("Called", "calls"),
    ("Reached a person", "reached"),
    ("Qualified hot", "hot"),
    ("Qualified warm", "warm"),
    ("Qualified cold", "cold"),
    ("Appointments booked", "booked"),
    ("Opted out", "opted_out"),
    ("Voicemail", "voicemail"),
    ("Busy / no answer", "no_answer"),
    ("Refused by the compliance gate", "refused_by_gate"),
]


class Command(BaseCommand):
    help = (
        "Dial a fresh run of the demo campaign through the local Twilio emulator with the real speech models "
        "and brain: the seeded campaign the first time, then a new copy of it with fresh copies of its leads."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", help="dial this campaign (by name) as it stands instead of a fresh demo run")
        parser.add_argument("--real-clock", action="store_true", help="dial on the real time, not the demo clock")
        parser.add_argument(
            "--personas",
            type=Path,
            default=PERSONAS_FILE,
            help="JSON object from each sample lead's number to the emulator persona that answers it and its copies",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        disabled = logging.root.manager.disable
        if options["verbosity"] < 2:
            # Progress lines and the table are the output; per-request INFO logs would bury them.
            logging.disable(logging.INFO)
        try:
            self._run(options)
        finally:
            logging.disable(disabled)

    def _run(self, options: dict[str, Any]) -> None:
        if options["campaign"]:
            campaign = Campaign.objects.filter(name=options["campaign"]).first()
            if campaign is None:
                raise CommandError(f"No campaign named {options['campaign']!r}.")
        else:
            try:
                campaign = demo_campaign_next()
            except DemoError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Running campaign '{campaign}' ({campaign.leads.count()} leads) through the Twilio emulator."
        )
        results = demo_run(
            campaign=campaign,
            real_clock=options["real_clock"],
            say=self.stdout.write,
            personas_file=options["personas"],
        )
        self._table(campaign, results)
        self.stdout.write(
            "\nSee the campaign's charts, and every call with its transcript, per-turn latency, recording and cost:\n"
            f"  make serve, then http://127.0.0.1:8000/dashboard/campaigns/{campaign.pk}/ (its Test call button lets\n"
            "  you talk to the agent from your microphone); the calls in the admin:\n"
            f"  http://127.0.0.1:8000/admin/calls/call/?campaign__id__exact={campaign.pk}\n"
            "  Compliance decisions: /admin/calls/dialdecision/   Daily figures: /admin/calls/campaigndaystats/\n"
            f"  Emulator recordings and timelines: {results['emulator_output']}"
        )
        if results["problem"]:
            # After the table: what did happen is worth seeing, but the run did not end as it should.
            raise CommandError(results["problem"])

    def _table(self, campaign: Campaign, results: dict[str, Any]) -> None:
        self.stdout.write(self.style.SUCCESS(f"\nResults of '{campaign}' ({results['wall_s']} s)"))
        for label, key in ROWS:
            self.stdout.write(f"  {label:<32} {results[key]:>6}")
        cost = results["cost_usd"]
        self.stdout.write(f"  {'Cost':<32} {f'${cost:.4f}':>6}")
        p50, p95 = results["latency_p50_ms"], results["latency_p95_ms"]
        latency = f"{p50} / {p95} ms" if p50 is not None else "n/a"
        self.stdout.write(f"  {'Latency p50 / p95':<32} {latency}  ({results['latency_turns']} agent turns)")
