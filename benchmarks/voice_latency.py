"""Voice-to-voice latency through the Twilio emulator, against the real app under daphne.

    .venv/bin/python benchmarks/voice_latency.py [--calls 4] [--concurrency 1,2] [--personas interested_seller,buyer]
        [--database-url URL] [--out benchmarks/results/voice_latency.json]

Each call goes the whole way: the twilio client asks the emulator to dial, the
emulator sends signed callbacks and fetches the voice webhook from daphne,
opens the media stream, and its persona talks (Piper) and listens (Whisper)
while our pipeline runs VAD, Whisper, the brain and Piper. Latency per agent
turn is what the app recorded on its transcript turns: from the end of the
lead's speech to our first media frame, with the VAD, STT, brain and TTS
stages. It reports p50/p95 per concurrency level and daphne's memory (RSS)
after each call as a leak check.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.common import machine_info, percentile, save_result  # noqa: E402

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "bench-voice-token"
CALLER = "+14155550100"
STAGES = ["vad_stop_ms", "stt_ms", "brain_first_text_ms", "tts_first_audio_ms", "latency_ms"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _setup_django(database_url: str, workdir: Path) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "reautomation.settings",
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


def _start_daphne(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "reautomation.asgi:application"]
    with log.open("wb") as fh:
        server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=fh, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(log.read_text()[-3000:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("daphne did not start")


def _make_call(persona: str, index: int) -> Any:
    from calls.models import Call, Campaign
    from leads.services import lead_create

    campaign, _ = Campaign.objects.get_or_create(
        name="Voice latency benchmark", defaults={"business_name": "Bayside Realty", "callback_number": CALLER}
    )
    lead = lead_create(phone=f"+1415555{2000 + index:04d}", first_name="Bench", state="CA")
    return Call.objects.create(lead=lead, campaign=campaign, status=Call.Status.QUEUED), persona


def _dial(base: str, call: Any, emulator: Any) -> dict[str, Any]:
    from integrations.twilio.client import OutboundCall, call_create

    sid = call_create(OutboundCall.to_our_webhooks(call_id=call.pk, to=call.lead.phone, from_=CALLER, base_url=base))
    emulated = emulator.run(emulator.server.wait_call(sid, timeout=300))
    return {"sid": sid, "status": emulated.status, "duration_s": emulated.duration_s}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=4, help="calls per concurrency level (default 4)")
    parser.add_argument("--concurrency", default="1", help="comma-separated levels, e.g. 1,2,4,8")
    parser.add_argument("--personas", default="interested_seller,buyer,books_time,robot_question")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--key", default="sqlite", help="name of this run in benchmarks/results/voice_latency.json")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="voice-bench-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _setup_django(args.database_url, workdir)
    env["PUBLIC_BASE_URL"] = os.environ["PUBLIC_BASE_URL"] = base

    from django.conf import settings

    from voice.emulator import audio
    from voice.emulator.server import emulator_in_thread

    settings.PUBLIC_BASE_URL = base
    audio.warm_up()
    personas = [p.strip() for p in args.personas.split(",") if p.strip()]
    results: dict[str, Any] = {"levels": {}, "memory_mb": []}
    with emulator_in_thread(account_sid=ACCOUNT, auth_token=TOKEN, output_dir=workdir / "emulator") as emulator:
        env["TWILIO_API_BASE_URL"] = settings.TWILIO_API_BASE_URL = emulator.server.base_url
        daphne = _start_daphne(env, port, workdir / "daphne.log")
        try:
            index = 0
            for level in [int(x) for x in args.concurrency.split(",")]:
                calls = []
                for _ in range(args.calls):
                    call, persona = _make_call(personas[index % len(personas)], index)
                    emulator.server.assign(call.lead.phone, persona)
                    calls.append(call)
                    index += 1
                started = time.monotonic()
                with ThreadPoolExecutor(max_workers=level) as pool:
                    outcomes = list(pool.map(lambda c: _dial(base, c, emulator), calls))
                results["memory_mb"].append({"after_calls": index, "daphne_rss_mb": _rss_mb(daphne.pid)})
                summary = _summarise(_turn_latencies([c.pk for c in calls]))
                summary.update(
                    {"calls": len(calls), "wall_s": round(time.monotonic() - started, 1), "outcomes": outcomes}
                )
                results["levels"][str(level)] = summary
                print(f"concurrency {level}: {summary['turns']} agent turns")
                for stage in STAGES:
                    print(f"    {stage:>22}: {summary[stage]}")
        finally:
            daphne.terminate()
            daphne.wait(timeout=30)
    results["machine"] = machine_info(date=time.ctime())
    results["personas"] = personas
    print(f"daphne RSS after each level: {results['memory_mb']}")
    print(f"saved {save_result('voice_latency', args.key, results)}")


if __name__ == "__main__":
    main()
