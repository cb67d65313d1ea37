"""A soak: many whole calls through the Twilio emulator, a few at a time, against daphne and a Celery worker.

    .venv/bin/python benchmarks/soak.py [--calls 100] [--concurrency 4] [--llm none|llamacpp]
        [--personas soak|outcomes|NAME,NAME] [--database-url postgres://postgres@127.0.0.1:5432/reautomation]
        [--redis-url redis://127.0.0.1:6379/9] [--key NAME]

The production topology, on this machine: daphne serves the webhooks and media
streams, a `celery worker` runs the post-call analysis (summary, outcome,
score), PostgreSQL holds the records and Redis carries the channel layer and
the task queue. The emulator dials each lead as Twilio would and its personas
talk and listen with the real speech models.

A call is a technical failure when the emulator's call did not complete, the
record is not settled (status, outcome), an answered call's post-call analysis
was never stored, a person who answered heard no agent, or the call has no
transcript; errors in daphne's or the worker's log are counted apart. It prints
daphne's and the worker's resident memory after every call and fits the growth
per call over the second half of the run (target: at most 1 MB per call), and
saves everything to benchmarks/results/soak.json under --key.

Each persona with an entry in benchmarks/data/voice_outcomes.json is also
checked for the outcome a broker should see (and the do-not-call entry where
it opts out or is a wrong number): `--personas outcomes --calls 20` plays each
of those twenty whole calls once, for the conversation's figures rather than
the soak's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.common import (  # noqa: E402
    BENCH_DIR,
    leak_fit,
    machine_info,
    percentile,
    rss_mb,
    save_result,
    setup_django,
    throwaway_database,
)

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "bench-soak-token"
CALLER = "+14155550100"
# Every emulator persona that picks up: the whole conversations, the awkward
# ones (interrupting, hanging up mid-sentence, silence) and an answering machine.
PERSONAS = [
    "interested_seller",
    "buyer",
    "not_interested",
    "opt_out",
    "robot_question",
    "voicemail",
    "books_time",
    "interrupter",
    "hangs_up_mid_sentence",
    "silent",
]
NO_PERSON = {"voicemail"}
EXPECTED = json.loads((ROOT / "benchmarks" / "data" / "voice_outcomes.json").read_text())
LOG_PROBLEMS = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b|took too long to shut down")
# /healthz answers 503 while the models load, before the first call; Django logs each as an error.
LOG_EXPECTED = re.compile(r"Service Unavailable: /healthz")
WORKER_READY_S = 120
POST_CALL_WAIT_S = 900


def _environment(*, redis_url: str, llm: str, queue: str, workdir: Path) -> dict[str, str]:
    """Return the settings daphne and the worker share (DATABASE_URL is added once the database exists)."""
    return {
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "False",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "LLM_BACKEND": llm,
        "MEDIA_ROOT": str(workdir / "media"),
        "EMULATOR_OUTPUT_DIR": str(workdir / "emulator"),
        "LOG_LEVEL": "WARNING",
    }


def _worker_start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "celery", "-A", "reautomation", "worker", "--pool=solo", "--without-heartbeat",
        "--without-gossip", "--without-mingle", "--loglevel=INFO", f"--hostname=soak-{uuid.uuid4().hex[:8]}@%h",
    ]  # fmt: skip
    with log.open("ab") as out:
        worker = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + WORKER_READY_S
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.returncode}:\n{log.read_text()[-3000:]}")
        if " ready." in log.read_text():
            return worker
        time.sleep(0.2)
    worker.kill()
    raise RuntimeError(f"the worker was not ready within {WORKER_READY_S} s:\n{log.read_text()[-3000:]}")


def _calls_create(count: int, personas: list[str]) -> list[tuple[Any, str]]:
    from agents.models import Broker, WorkingHours
    from calls.models import Call, Campaign
    from leads.services import lead_create

    campaign, _ = Campaign.objects.get_or_create(
        name="Soak", defaults={"business_name": "Bayside Realty", "callback_number": CALLER}
    )
    # A broker free every day, so the times offered and asked for are open whatever day the run falls on.
    broker = Broker.objects.create(name="Sam Rivera", email="sam@example.com", timezone="America/Los_Angeles")
    WorkingHours.objects.bulk_create(
        WorkingHours(broker=broker, weekday=day, start=dt.time(8), end=dt.time(18)) for day in range(7)
    )
    calls = []
    for index in range(count):
        lead = lead_create(phone=f"+1415555{3000 + index:04d}", first_name="Dana", state="CA", address="12 Oak Street")
        calls.append(
            (
                Call.objects.create(lead=lead, campaign=campaign, status=Call.Status.QUEUED),
                personas[index % len(personas)],
            )
        )
    return calls


def _dial(base: str, call: Any, emulator: Any) -> dict[str, Any]:
    from integrations.twilio.client import OutboundCall, call_create

    started = time.monotonic()
    try:
        sid = call_create(
            OutboundCall.to_our_webhooks(call_id=call.pk, to=call.lead.phone, from_=CALLER, base_url=base)
        )
        emulated = emulator.run(emulator.server.wait_call(sid, timeout=600))
    except Exception as exc:  # noqa: BLE001 - a soak counts every way a call can break, and goes on
        return {"call": call.pk, "error": f"{type(exc).__name__}: {exc}", "wall_s": time.monotonic() - started}
    return {
        "call": call.pk,
        "status": emulated.status,
        "duration_s": emulated.duration_s,
        "agent_spoke": bool(emulated.timeline.find("agent_speech_start")),
        "wall_s": round(time.monotonic() - started, 1),
    }


def _records_settled(calls: list[tuple[Any, str]], *, timeout: float) -> float:
    """Wait until every call's record is settled; return the seconds waited.

    The emulator's call ends when the lead hangs up, a moment before our side
    has saved it: a call is settled once it has its outcome and, where a person
    answered, the worker has stored its post-call analysis (the summary).
    """
    from calls.models import Call

    people = [call.pk for call, persona in calls if persona not in NO_PERSON]
    every = [call.pk for call, _ in calls]
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        unsettled = Call.objects.filter(pk__in=every, outcome="").exists()
        if not unsettled and not Call.objects.filter(pk__in=people, summary="").exists():
            break
        time.sleep(1)
    return round(time.monotonic() - started, 1)


def _failures(call: Any, persona: str, outcome: dict[str, Any]) -> list[str]:
    """Return what went technically wrong with one call (an empty list for a call that went right)."""
    from agents.models import ConversationSnapshot
    from calls.models import Call, TranscriptTurn

    if "error" in outcome:
        return [f"placing or running the call failed: {outcome['error']}"]
    problems = []
    if outcome["status"] != "completed":
        problems.append(f"the emulator's call ended {outcome['status']!r}")
    call.refresh_from_db()
    if call.status != Call.Status.COMPLETED:
        problems.append(f"the record's status is {call.status!r}")
    if not call.outcome:
        problems.append("the record has no outcome")
    if persona not in NO_PERSON:
        if not outcome["agent_spoke"]:
            problems.append("the lead heard no agent")
        if not TranscriptTurn.objects.filter(call=call).exists():
            problems.append("no transcript")
        if ConversationSnapshot.objects.filter(call=call, finished_at__isnull=True).exists():
            problems.append("the post-call analysis was never stored")
        if not call.summary:
            problems.append("no summary")
    return problems


def _wrong_outcome(call: Any, persona: str) -> list[str]:
    """Return how the call's record differs from what the persona's conversation should come to."""
    from leads.models import DoNotCall

    expected = EXPECTED[persona]
    call.refresh_from_db()
    problems = []
    if call.outcome not in expected["outcomes"]:
        problems.append(f"outcome {call.outcome!r}, expected {' or '.join(expected['outcomes'])}")
    listed = DoNotCall.objects.filter(phone=call.lead.phone).exists()
    if listed != expected.get("dnc", False):
        problems.append("the number was put on the do-not-call list" if listed else "no do-not-call entry")
    if problems:
        # What was said, to see why: the database is dropped when the run ends.
        problems += [f"{turn.speaker}: {turn.text}" for turn in call.turns.order_by("index")]
    return problems


def _log_problems(log: Path) -> list[str]:
    lines = log.read_text(errors="replace").splitlines()
    return [line for line in lines if LOG_PROBLEMS.search(line) and not LOG_EXPECTED.search(line)]


def _turn_latency(call_ids: list[int]) -> dict[str, float] | None:
    from calls.models import TranscriptTurn

    values = [
        float(v)
        for v in TranscriptTurn.objects.filter(
            call_id__in=call_ids, speaker="agent", latency_ms__isnull=False
        ).values_list("latency_ms", flat=True)
    ]
    return (
        {"p50": round(percentile(values, 50)), "p95": round(percentile(values, 95)), "turns": len(values)}
        if values
        else None
    )


def _soak(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from django.conf import settings

    from emulator import audio
    from emulator.appserver import app_start, app_stop, database_url, free_port
    from emulator.server import emulator_in_thread

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    queue = f"soak-{uuid.uuid4().hex[:8]}"
    env = _environment(redis_url=args.redis_url, llm=args.llm, queue=queue, workdir=workdir)
    env.update({"DATABASE_URL": database_url(), "PUBLIC_BASE_URL": base})
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.PUBLIC_BASE_URL = ACCOUNT, TOKEN, base
    audio.warm_up()
    calls = _calls_create(args.calls, args.personas)
    memory: list[dict[str, float]] = []
    outcomes: list[dict[str, Any]] = []
    with emulator_in_thread(account_sid=ACCOUNT, auth_token=TOKEN, output_dir=workdir / "emulator") as emulator:
        env["TWILIO_API_BASE_URL"] = settings.TWILIO_API_BASE_URL = emulator.server.base_url
        for call, persona in calls:
            emulator.server.assign(call.lead.phone, persona)
        worker = _worker_start(env, workdir / "worker.log")
        daphne = app_start(env=env, port=port, log=workdir / "daphne.log")
        print(
            f"daphne and the worker are up (logs in {workdir}); "
            f"placing {args.calls} calls, {args.concurrency} at a time"
        )
        started = time.monotonic()
        try:
            with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                for outcome in pool.map(lambda pair: _dial(base, pair[0], emulator), calls):
                    outcomes.append(outcome)
                    memory.append(
                        {
                            "after_calls": len(outcomes),
                            "daphne_rss_mb": rss_mb(daphne.pid),
                            "worker_rss_mb": rss_mb(worker.pid),
                        }
                    )
                    if len(outcomes) % 10 == 0:
                        last = memory[-1]
                        print(
                            f"  {len(outcomes)} calls: daphne {last['daphne_rss_mb']} MB, "
                            f"worker {last['worker_rss_mb']} MB"
                        )
            calls_wall_s = round(time.monotonic() - started, 1)
            drain_s = _records_settled(calls, timeout=POST_CALL_WAIT_S)
        finally:
            app_stop(daphne)
            app_stop(worker)  # terminate, then kill after 15 s: a worker stops like daphne
    failures = {
        str(call.pk): problems
        for (call, persona), outcome in zip(calls, outcomes, strict=True)
        if (problems := _failures(call, persona, outcome))
    }
    durations = [float(o["duration_s"]) for o in outcomes if o.get("duration_s") is not None]
    checked = [(call, persona) for call, persona in calls if persona in EXPECTED]
    wrong = {f"{c.pk} {persona}": problems for c, persona in checked if (problems := _wrong_outcome(c, persona))}
    return {
        "calls": args.calls,
        "concurrency": args.concurrency,
        "llm": args.llm,
        "personas": sorted(set(args.personas)),
        "technical_failures": len(failures),
        "failures": failures,
        "outcomes_checked": len(checked),
        "outcomes_right": len(checked) - len(wrong),
        "wrong_outcomes": wrong,
        "log_problems": {
            "daphne": _log_problems(workdir / "daphne.log")[:50],
            "worker": _log_problems(workdir / "worker.log")[:50],
        },
        "calls_wall_s": calls_wall_s,
        "settled_after_s": drain_s,
        "call_duration_s": {"p50": round(percentile(durations, 50), 1), "p95": round(percentile(durations, 95), 1)}
        if durations
        else None,
        "turn_latency_ms": _turn_latency([c.pk for c, _ in calls]),
        "daphne_memory": leak_fit(memory, key="daphne_rss_mb"),
        "worker_memory": leak_fit(memory, key="worker_rss_mb"),
        "memory_mb": memory,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--llm", default="none", choices=["none", "llamacpp", "ollama"], help="LLM_BACKEND of the app")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/reautomation"),
        help="a PostgreSQL server; the soak creates and drops a database of its own on it",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9", help="the channel layer and task queue")
    parser.add_argument(
        "--personas",
        default="soak",
        help="soak (the ten that pick up), outcomes (every one in benchmarks/data/voice_outcomes.json) or a list",
    )
    parser.add_argument("--key", default="", help="name of this run in benchmarks/results/soak.json (default: --llm)")
    args = parser.parse_args()
    named = {"soak": PERSONAS, "outcomes": list(EXPECTED)}
    args.personas = named.get(args.personas) or [p for p in args.personas.split(",") if p]
    if not args.database_url.startswith("postgres"):
        parser.error("the soak needs PostgreSQL: daphne, the worker and this script share its database")

    os.environ.update({"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN, "REDIS_URL": args.redis_url})
    setup_django(args.database_url)
    workdir = BENCH_DIR / f"soak-{args.llm}"
    workdir.mkdir(parents=True, exist_ok=True)
    for log in ("daphne.log", "worker.log"):
        (workdir / log).unlink(missing_ok=True)
    with throwaway_database("soak"):
        result = _soak(args, workdir)
    result["machine"] = machine_info(date=time.ctime())
    result["command"] = "benchmarks/soak.py " + " ".join(sys.argv[1:])
    print(
        f"{result['calls']} calls, {result['concurrency']} at a time, LLM {args.llm}: "
        f"{result['technical_failures']} technical failures, "
        f"{len(result['log_problems']['daphne'])} problem lines in daphne's log, "
        f"{len(result['log_problems']['worker'])} in the worker's"
    )
    for pk, problems in result["failures"].items():
        print(f"  call {pk}: {'; '.join(problems)}")
    print(f"outcomes right: {result['outcomes_right']} of {result['outcomes_checked']}")
    for call, problems in result["wrong_outcomes"].items():
        print(f"  call {call}:\n    " + "\n    ".join(problems))
    print(f"calls took {result['calls_wall_s']} s; every record was settled {result['settled_after_s']} s later")
    print(f"call length p50/p95 {result['call_duration_s']} s; agent turn latency {result['turn_latency_ms']} ms")
    print(f"daphne memory: {result['daphne_memory']}")
    print(f"worker memory: {result['worker_memory']}")
    print(f"saved {save_result('soak', args.key or args.llm, result)}")


if __name__ == "__main__":
    main()
