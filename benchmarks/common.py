"""Helpers shared by the benchmark scripts: percentiles, machine facts and the results file."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
BENCH_DIR = ROOT / "var" / "bench"


def setup_django(database_url: str) -> None:
    """Configure Django for a benchmark: its own SQLite file under var/bench/ unless a database URL is given."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reautomation.settings")
    # Benchmarks are development tooling on this machine, like `make`'s targets.
    os.environ.setdefault("DEBUG", "True")
    # Keep the SQLite file and any media under var/bench/, away from the dev database.
    os.environ["VAR_DIR"] = str(BENCH_DIR)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django
    from django.conf import settings

    django.setup()
    # DEBUG keeps every query's SQL in memory, which production does not pay for.
    settings.DEBUG = False


@contextmanager
def throwaway_database(name: str) -> Iterator[None]:
    """Create an empty, migrated database for one benchmark, the way Django's test runner does, and drop it after.

    A SQLite file var/bench/<name>.sqlite3 (a file, not the test runner's
    in-memory database: uploads and recordings hit a disk), or the server's
    "bench_<name>_<database>" database; never Django's default "test_" name,
    which a pytest run may be using at the same time.
    """
    from django.db import connection

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(BENCH_DIR / f"{name}.sqlite3")
    else:
        connection.settings_dict["TEST"]["NAME"] = f"bench_{name}_{connection.settings_dict['NAME']}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def percentile(values: list[float], pct: int) -> float:
    """Return the pct-th percentile (inclusive method); the value itself for a single sample."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def machine_info(**extra: Any) -> dict[str, Any]:
    """Describe the machine a figure was measured on."""
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **extra,
    }


def save_result(name: str, key: str, result: dict[str, Any]) -> Path:
    """Merge one result under `key` into benchmarks/results/<name>.json and return the path."""
    path = RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(path.read_text()) if path.exists() else {}
    results[key] = result
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return path


def rss_mb(pid: int) -> float:
    """Return a process's resident memory in MB (0.0 once it has gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def leak_fit(memory: list[dict[str, float]], *, key: str) -> dict[str, Any]:
    """Fit memory[key] (MB) against memory["after_calls"] over the second half of a run; MB per call.

    The first half is left out: caches (phrase audio, compiled regexes, the
    database connection pool) fill there, and only growth after it is a leak.
    """
    tail = memory[len(memory) // 2 :]
    if len(tail) < 2:
        return {"calls": len(memory), "mb_per_call_second_half": None}
    xs = [m["after_calls"] for m in tail]
    ys = [m[key] for m in tail]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)
    return {
        "calls": len(memory),
        "first_rss_mb": memory[0][key],
        "last_rss_mb": memory[-1][key],
        "mb_per_call_second_half": round(slope, 2),
    }
