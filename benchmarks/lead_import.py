"""Benchmark the lead CSV import on a generated, realistically messy 100,000-row file.

    .venv/bin/python benchmarks/lead_import.py [--rows 100000] [--runs 3] [--database-url URL] [--profile]

Each run imports the same file into an empty lead table and times
lead_import_run, which is what the admin upload and `manage.py import_leads`
both call. The database is a throwaway one, made and dropped the way Django's
test runner does it: a SQLite file under var/bench/ by default, or a
"bench_lead_import_" database on the --database-url server, so no real
database is touched.
Results are printed and merged into benchmarks/results/lead_import.json, one
entry per database vendor.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import platform
import pstats
import random
import statistics
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import machine_info, percentile, save_result, setup_django, throwaway_database

SEED = 20261124

# Area code, its state and a city there; the number decides the lead's time zone.
PLACES = [
    ("415", "CA", "San Francisco"), ("213", "CA", "Los Angeles"), ("619", "CA", "San Diego"),
    ("212", "NY", "New York"), ("718", "NY", "Brooklyn"), ("512", "TX", "Austin"),
    ("214", "TX", "Dallas"), ("713", "TX", "Houston"), ("915", "TX", "El Paso"),
    ("305", "FL", "Miami"), ("813", "FL", "Tampa"), ("850", "FL", "Pensacola"),
    ("312", "IL", "Chicago"), ("206", "WA", "Seattle"), ("503", "OR", "Portland"),
    ("303", "CO", "Denver"), ("602", "AZ", "Phoenix"), ("702", "NV", "Las Vegas"),
    ("404", "GA", "Atlanta"), ("617", "MA", "Boston"), ("215", "PA", "Philadelphia"),
    ("313", "MI", "Detroit"), ("612", "MN", "Minneapolis"), ("704", "NC", "Charlotte"),
    ("615", "TN", "Nashville"), ("801", "UT", "Salt Lake City"), ("808", "HI", "Honolulu"),
    ("907", "AK", "Anchorage"), ("202", "DC", "Washington"), ("504", "LA", "New Orleans"),
]  # fmt: skip
STATE_NAMES = {"CA": "California", "NY": "New York", "TX": "Texas", "FL": "Florida", "WA": "Washington"}
FIRST_NAMES = ["Maria", "James", "Priya", "Derek", "Zoë", "José", "Chloé", "Wei", "Aisha", "Liam", "Sofía", "Noah"]
LAST_NAMES = ["Alvarez", "Whitfield", "Raman", "Olsen", "Müller", "Núñez", "O'Brien", "Nguyen", "Okafor", "Smith"]
STREETS = ["Dolores St", "Orchard St", "Barton Hills Dr", "Fremont Ave N", "Main St", "Oak Ave", "Elm St"]
SOURCES = ["Zillow", "Open house sign-in", "Website valuation form", "Referral", "Realtor.com", ""]
INTENTS = ["buy", "sell", "both", "Buyer", "Seller", "", ""]
NOTES = [
    "",
    "",
    "Asked for a home value estimate",
    "Looking for a 2-bedroom, near schools",
    'Said "call after 5pm"',
    "Relocating for work; needs to sell first",
    "Pre-approved\nwants a call back next week",
]
CONSENT_TEXT = "I agree that Bayside Realty may call me, including with automated technology, about my home."
HEADER = [
    "First Name", "Last Name", "Phone Number", "E-mail", "Property Address", "City", "State", "ZIP Code",
    "Lead Source", "Buy or Sell", "Notes", "Consent Source", "Consent Date", "Consent Text",
]  # fmt: skip


@dataclass
class GeneratedFile:
    data: bytes
    expected: dict[str, int]
    dnc: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)


def generate(rows: int, seed: int = SEED) -> GeneratedFile:
    """Build a CSV like a broker's CRM export, with known numbers of bad rows.

    About 2% of rows have an invalid number, 2% repeat an earlier row's number
    (written differently), 0.5% are on the do-not-call list and 0.5% are
    already leads; 1% have a bad email, which only warns.
    """
    rng = random.Random(seed)
    # Distinct numbers without building them all: index -> area, exchange, line.
    picks = rng.sample(range(len(PLACES) * 800 * 10_000), rows)
    lines = [",".join(HEADER)]
    expected = {"total": rows, "imported": 0, "invalid": 0, "duplicate": 0, "dnc": 0}
    out = GeneratedFile(data=b"", expected=expected)
    good: list[tuple[str, str, str]] = []  # (area, exchange, line) of imported rows, to repeat later
    for pick in picks:
        place = PLACES[pick // 8_000_000]
        number = (place[0], f"{200 + pick // 10_000 % 800:03d}", f"{pick % 10_000:04d}")
        kind = _row_kind(rng, good)
        if kind == "invalid":
            phone = rng.choice(["(555) 123-4567", "12345", "", "call me", f"(415) 555-{number[2]}9"])
        elif kind == "duplicate":
            phone = _format_phone(rng, rng.choice(good))
        else:
            phone = _format_phone(rng, number)
            e164 = "+1" + "".join(number)
            if kind == "dnc":
                out.dnc.append(e164)
            elif kind == "existing":
                out.existing.append(e164)
            else:
                good.append(number)
        expected["duplicate" if kind == "existing" else kind] += 1
        lines.append(_row(rng, place, phone))
        if rng.random() < 0.001:
            lines.append(rng.choice(["", ",,,,,,,,,,,,,"]))  # cleared rows in Excel
    out.data = ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")
    return out


def _row_kind(rng: random.Random, good: list[tuple[str, str, str]]) -> str:
    roll = rng.random()
    if roll < 0.02:
        return "invalid"
    if roll < 0.04 and good:
        return "duplicate"
    if roll < 0.045:
        return "dnc"
    if roll < 0.05:
        return "existing"
    return "imported"


def _format_phone(rng: random.Random, number: tuple[str, str, str]) -> str:
    area, exchange, line = number
    style = rng.randrange(6)
    phone = [
        f"({area}) {exchange}-{line}",
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"+1 {area} {exchange} {line}",
        f"{area}{exchange}{line}",
        f"1-{area}-{exchange}-{line}",
    ][style]
    return phone + (f" ext {rng.randrange(1, 999)}" if rng.random() < 0.03 else "")


def _row(rng: random.Random, place: tuple[str, str, str], phone: str) -> str:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    state = place[1]
    if rng.random() < 0.2:
        state = STATE_NAMES.get(state, state.lower())
    # People with accented names still have ASCII addresses: "zoe.muller", not "zoë.müller".
    ascii_name = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode()
    email = f"{ascii_name}{rng.randrange(1000)}@example.com".lower().replace("'", "")
    if rng.random() < 0.01:
        email = email.replace("@", " at ")
    elif rng.random() < 0.15:
        email = ""
    consent = ["", "", ""]
    if rng.random() < 0.6:
        day = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(300))
        consent = ["Web form", day.isoformat() if rng.random() < 0.5 else day.strftime("%m/%d/%Y"), CONSENT_TEXT]
    cells = [
        first, last, phone, email, f"{rng.randrange(1, 9999)} {rng.choice(STREETS)}", place[2], state,
        f"{rng.randrange(10000, 99999)}", rng.choice(SOURCES), rng.choice(INTENTS), rng.choice(NOTES), *consent,
    ]  # fmt: skip
    return ",".join(_quote(cell) for cell in cells)


def _quote(cell: str) -> str:
    if any(c in cell for c in ',"\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


@dataclass
class RunResult:
    seconds: float
    counts: dict[str, int]


def _run_once(generated: GeneratedFile, profile: bool) -> RunResult:
    from django.core.management import call_command

    from leads.models import DoNotCall, Lead, LeadImport
    from leads.services import lead_import_create, lead_import_run

    call_command("flush", interactive=False, verbosity=0)
    DoNotCall.objects.bulk_create(DoNotCall(phone=p, source=DoNotCall.Source.REGISTRY) for p in generated.dnc)
    Lead.objects.bulk_create(Lead(phone=p, first_name="Existing") for p in generated.existing)
    lead_import = lead_import_create(file_name="bench.csv", data=generated.data, keep_file=False)

    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    lead_import_run(lead_import=lead_import, data=generated.data)
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - started

    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    lead_import = LeadImport.objects.get(pk=lead_import.pk)
    counts = {
        "total": lead_import.total_rows,
        "imported": lead_import.imported_count,
        "invalid": lead_import.invalid_count,
        "duplicate": lead_import.duplicate_count,
        "dnc": lead_import.dnc_count,
    }
    if lead_import.status != LeadImport.Status.COMPLETED:
        raise SystemExit(f"import {lead_import.status}: {lead_import.error}")
    return RunResult(seconds=seconds, counts=counts)


def _machine(vendor: str) -> dict[str, Any]:
    import django
    import phonenumbers
    from django.db import connection

    return machine_info(
        cpu=platform.processor() or platform.machine(),
        django=django.get_version(),
        phonenumbers=phonenumbers.__version__,
        db_vendor=vendor,
        db_version=".".join(str(part) for part in connection.get_database_version()),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the generated file (default 100000)")
    parser.add_argument("--runs", type=int, default=3, help="timed imports (default 3)")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed for the generated file")
    parser.add_argument("--database-url", default="", help="benchmark on this server, not SQLite")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of each run (slows it down)")
    args = parser.parse_args(argv)

    setup_django(args.database_url)
    from django.conf import settings
    from django.db import connection

    started = time.perf_counter()
    generated = generate(args.rows, args.seed)
    print(f"generated {args.rows:,} rows ({len(generated.data) / 1e6:.1f} MB) in {time.perf_counter() - started:.1f}s")

    with throwaway_database("lead_import"):
        runs = []
        for i in range(args.runs):
            run = _run_once(generated, args.profile)
            if run.counts != generated.expected:
                raise SystemExit(f"run {i + 1}: counts {run.counts} differ from the generated {generated.expected}")
            print(f"run {i + 1}/{args.runs}: {run.seconds:.2f}s ({args.rows / run.seconds:,.0f} rows/s)")
            runs.append(run.seconds)
        vendor = connection.vendor
        machine = _machine(vendor)

    p50, p95 = statistics.median(runs), percentile(runs, 95)
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": args.rows,
        "runs": [round(s, 3) for s in runs],
        "p50_s": round(p50, 3),
        "p95_s": round(p95, 3),
        "rows_per_s": round(args.rows / p50),
        "counts": generated.expected,
        "batch_size": settings.LEAD_IMPORT_BATCH_SIZE,
        "seed": args.seed,
        "machine": machine,
    }
    save_result("lead_import", vendor, result)
    print(f"{vendor}: p50 {p50:.2f}s, p95 {p95:.2f}s, {args.rows / p50:,.0f} rows/s; counts {generated.expected}")
    print("saved to benchmarks/results/lead_import.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
