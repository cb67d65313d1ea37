"""Voice-to-voice latency through the Twilio emulator, against the real app under daphne.

    .venv/bin/python benchmarks/voice_latency.py [--calls 4] [--concurrency 1,2,4,8]
        [--personas interested_seller,buyer] [--leak-calls 50 --leak-concurrency 4] [--database-url URL] [--key NAME]

Each call goes the whole way: the twilio client asks the emulator to dial, the
emulator sends signed callbacks and fetches the voice webhook from daphne,
opens the media stream, and its persona talks (Piper) and listens (Whisper)
while our pipeline runs VAD, Whisper, the brain and Piper. Latency per agent
turn is what the app recorded on its transcript turns: from the end of the
lead's speech to our first media frame, with the VAD, STT, brain and TTS
stages. It reports p50/p95 per concurrency level, and daphne's memory (RSS)
after every call; with --leak-calls it places that many more calls and fits
the memory growth per call over the second half of them, as a leak check.

It also reports each call's greeting delay, from the stream's start to the
first agent audio the lead hears, with the first call of the fresh daphne
process apart from the rest: daphne is started and, as the demo and the dialer
do, waited on until /healthz says its models are warm, and that first call
must then be greeted as fast as the others (target: within 1 s).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.common import leak_fit, machine_info, percentile, rss_mb, save_result  # noqa: E402
from emulator.appserver import app_start, app_stop, free_port  # noqa: E402

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "bench-voice-token"
CALLER = "+14155550100"
LEAD_NAMES = ["Dana", "Miguel", "Priya", "Tom", "Aisha", "Kenji", "Olga", "Sam"]
STAGES = ["vad_stop_ms", "stt_ms", "brain_first_text_ms", "tts_first_audio_ms", "latency_ms"]


def _setup_django(database_url: str, workdir: Path) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "reautomation.settings",
        "DEBUG": os.environ.get("DEBUG", "True"),
        "DATABASE_URL": database_url or f"sqlite:///{workdir / 'voice.sqlite3'}",
        "DB_CONN_MAX_AGE": "0",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "LLM_BACKEND": "none",
        "MEDIA_ROOT": str(workdir / "media"),
        "EMULATOR_OUTPUT_DIR": str(workdir / "emulator"),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def _make_call(persona: str, index: int) -> Any:
    from calls.models import Call, Campaign
    from leads.services import lead_create

    campaign, _ = Campaign.objects.get_or_create(
        name="Voice latency benchmark", defaults={"business_name": "Bayside Realty", "callback_number": CALLER}
    )
    # Names of their own, as real leads have: the opening says the name, so (for the first
    # len(LEAD_NAMES) calls) no call's greeting was rendered by an earlier one.
    first_name = LEAD_NAMES[index % len(LEAD_NAMES)]
    lead = lead_create(phone=f"+1415555{2000 + index:04d}", first_name=first_name, state="CA")
    return Call.objects.create(lead=lead, campaign=campaign, status=Call.Status.QUEUED), persona


def _dial(base: str, call: Any, emulator: Any) -> dict[str, Any]:
    from integrations.twilio.client import OutboundCall, call_create

    sid = call_create(OutboundCall.to_our_webhooks(call_id=call.pk, to=call.lead.phone, from_=CALLER, base_url=base))
    emulated = emulator.run(emulator.server.wait_call(sid, timeout=300))
    # From the stream's start to the first audio of the greeting, as the lead hears it.
    speech = emulated.timeline.find("agent_speech_start")
    greeting_ms = speech[0]["stream_ms"] if speech else None
    return {"sid": sid, "status": emulated.status, "duration_s": emulated.duration_s, "greeting_ms": greeting_ms}


def _turn_latencies(call_ids: list[int]) -> list[dict[str, int | None]]:
    from calls.models import TranscriptTurn

    rows = TranscriptTurn.objects.filter(call_id__in=call_ids, speaker="agent", latency_ms__isnull=False)
    return [{stage: getattr(row, stage) for stage in STAGES} for row in rows]


def _summarise(turns: list[dict[str, int | None]]) -> dict[str, Any]:
    out: dict[str, Any] = {"turns": len(turns)}
    for stage in STAGES:
        values = [float(t[stage]) for t in turns if t[stage] is not None]
        out[stage] = (
            {"p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1)} if values else None
        )
    return out


def _run_level(
    *, level: int, count: int, personas: list[str], first_index: int, base: str, emulator: Any, daphne: Any
) -> tuple[dict[str, Any], list[dict[str, float]]]:
    """Place `count` calls, `level` at a time; return the level's summary and daphne's RSS after each call."""
    calls = []
    for offset in range(count):
        index = first_index + offset
        call, persona = _make_call(personas[index % len(personas)], index)
        emulator.server.assign(call.lead.phone, persona)
        calls.append(call)
    memory: list[dict[str, float]] = []
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=level) as pool:
        outcomes = []
        for outcome in pool.map(lambda c: _dial(base, c, emulator), calls):
            outcomes.append(outcome)
            memory.append({"after_calls": first_index + len(outcomes), "daphne_rss_mb": rss_mb(daphne.pid)})
    summary = _summarise(_turn_latencies([c.pk for c in calls]))
    summary.update({"calls": count, "wall_s": round(time.monotonic() - started, 1), "outcomes": outcomes})
    return summary, memory


GREETING_TARGET_MS = 1000


def _greetings(levels: dict[str, Any]) -> dict[str, Any]:
    """Return the greeting delay (ms) of the process's first call apart from the later calls' p50/p95."""
    greetings = [
        o["greeting_ms"] for level in levels.values() for o in level["outcomes"] if o["greeting_ms"] is not None
    ]
    later = [float(g) for g in greetings[1:]]
    return {
        "first_call": greetings[0] if greetings else None,
        "later": {"p50": round(percentile(later, 50)), "p95": round(percentile(later, 95))} if later else None,
        "target_ms": GREETING_TARGET_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=4, help="calls per concurrency level, at least the level itself")
    parser.add_argument("--concurrency", default="1", help="comma-separated levels, e.g. 1,2,4,8")
    parser.add_argument("--personas", default="interested_seller,buyer,books_time,robot_question")
    parser.add_argument("--leak-calls", type=int, default=0, help="then place this many more calls, tracking RSS")
    parser.add_argument("--leak-concurrency", type=int, default=4)
    parser.add_argument("--leak-personas", default="", help="personas for the leak run (default: --personas)")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--key", default="sqlite", help="name of this run in benchmarks/results/voice_latency.json")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="voice-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _setup_django(args.database_url, workdir)
    env["PUBLIC_BASE_URL"] = os.environ["PUBLIC_BASE_URL"] = base

    from django.conf import settings

    from emulator import audio
    from emulator.server import emulator_in_thread

    settings.PUBLIC_BASE_URL = base
    audio.warm_up()
    personas = [p.strip() for p in args.personas.split(",") if p.strip()]
    results: dict[str, Any] = {"levels": {}, "memory_mb": []}
    with emulator_in_thread(account_sid=ACCOUNT, auth_token=TOKEN, output_dir=workdir / "emulator") as emulator:
        env["TWILIO_API_BASE_URL"] = settings.TWILIO_API_BASE_URL = emulator.server.base_url
        daphne = app_start(env=env, port=port, log=workdir / "daphne.log")
        index = 0
        try:
            for level in [int(x) for x in args.concurrency.split(",")]:
                count = max(args.calls, level)
                summary, memory = _run_level(
                    level=level,
                    count=count,
                    personas=personas,
                    first_index=index,
                    base=base,
                    emulator=emulator,
                    daphne=daphne,
                )
                index += count
                results["levels"][str(level)] = summary
                results["memory_mb"].extend(memory)
                print(f"concurrency {level}: {count} calls, {summary['turns']} agent turns, {summary['wall_s']} s")
                for stage in STAGES:
                    print(f"    {stage:>22}: {summary[stage]}")
            results["greeting_ms"] = _greetings(results["levels"])
            greeting = results["greeting_ms"]
            print(
                f"greeting (stream start to first agent audio): first call of the fresh process "
                f"{greeting['first_call']} ms, later calls {greeting['later']} (target {GREETING_TARGET_MS} ms)"
            )
            if args.leak_calls:
                _, memory = _run_level(
                    level=args.leak_concurrency,
                    count=args.leak_calls,
                    personas=[p.strip() for p in args.leak_personas.split(",") if p.strip()] or personas,
                    first_index=index,
                    base=base,
                    emulator=emulator,
                    daphne=daphne,
                )
                results["memory_mb"].extend(memory)
                results["leak_check"] = leak_fit(memory, key="daphne_rss_mb")
                print(f"leak check over {args.leak_calls} calls: {results['leak_check']}")
        finally:
            app_stop(daphne)
    results["machine"] = machine_info(date=time.ctime())
    results["personas"] = personas
    results["command"] = "benchmarks/voice_latency.py " + " ".join(sys.argv[1:])
    print(f"daphne RSS after the last call: {results['memory_mb'][-1] if results['memory_mb'] else None}")
    print(f"saved {save_result('voice_latency', args.key, results)}")


if __name__ == "__main__":
    main()
