"""Benchmark the agent brain: per-turn latency to the reply text, and how many scripted leads come out right.

    .venv/bin/python benchmarks/agent_turns.py [--runs 3] [--llm none|embedded|both|fallback] [--gap-ms 0]
                                              [--database-url URL]

Each run plays every persona of tests/agents/personas.py through the
Conversation facade against a throwaway database (a SQLite file under
var/bench/ by default), exactly as the voice pipeline would: opening(), then
respond(line) per lead line, then finish(). A turn's latency is the time from
calling respond() to having the reply text. A persona is right when every
expectation in it holds in the database afterwards (slots, score bucket,
booked slot, do-not-call entry, outcome, ...).

--llm none: the agent speaks from templates, understanding is deterministic.
--llm embedded: the bundled Qwen2.5-Coder-1.5B (requirements-llm.txt) also
extracts slots in the background after each turn and writes the summary.
--llm fallback: the same model only for the turns the rules found nothing in
(LLM_FALLBACK), with no background extraction and templated summaries, played
beside --llm none: it reports how often the fallback was used and which
personas it turned right or wrong.
--gap-ms: wait this long between turns, as a lead speaking would; with 0 the
background LLM work competes with the next turns for the two CPU cores.

Results are printed and merged into benchmarks/results/agent_turns.json, one
entry per mode.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import ROOT, machine_info, percentile, save_result, setup_django, throwaway_database


def _embedded_backend() -> Any:
    from django.conf import settings

    from agents.llm import LlamaCppBackend, embedded_model_path

    path = Path(settings.LLAMACPP_MODEL_PATH) if settings.LLAMACPP_MODEL_PATH else None
    backend = LlamaCppBackend(
        model_path=path or embedded_model_path(ROOT / "var" / "models"), n_threads=settings.LLAMACPP_THREADS
    )
    started = time.perf_counter()
    backend.load()
    print(f"embedded model loaded in {time.perf_counter() - started:.1f}s")
    return backend


class _FallbackTurnsOnly:
    """The embedded model for the fallback turns alone: any other request (the summary) fails as an LLM error
    would, so the agent keeps its templated summary and the run measures what the fallback adds."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.name = f"{backend.name} (fallback turns only)"

    async def complete(self, messages: Any, *, timeout_s: float, json_schema: Any = None, max_tokens: int = 256) -> str:
        from agents import prompts
        from agents.llm import LLMError

        if json_schema is not prompts.FALLBACK_SCHEMA:
            raise LLMError("this run uses the model for fallback turns only")
        return str(
            await self.backend.complete(messages, timeout_s=timeout_s, json_schema=json_schema, max_tokens=max_tokens)
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


async def _play(persona: Any, call_id: int, llm: Any, gap_s: float, *, extract: bool = True) -> dict[str, Any]:
    from dataclasses import replace

    from channels.db import database_sync_to_async
    from django.db import connections

    from agents.brain import Conversation, context_for_call
    from tests.agents.personas import say

    context = await database_sync_to_async(context_for_call)(call_id=call_id, llm=llm)
    conversation = Conversation(context=replace(context, llm=llm), extract=extract and llm is not None)
    started = time.perf_counter()
    replies = [(await conversation.opening()).text]
    opening_ms = (time.perf_counter() - started) * 1000
    turns_ms = []
    for line in persona.lines:
        if gap_s:
            await asyncio.sleep(gap_s)
        started = time.perf_counter()
        reply = await say(conversation, line)
        turns_ms.append((time.perf_counter() - started) * 1000)
        replies.append(reply.text)
        if reply.end_call:
            break
    started = time.perf_counter()
    await conversation.finish()
    finish_ms = (time.perf_counter() - started) * 1000
    # The ORM ran in asgiref's worker thread; close its connection so the test database can be dropped.
    await database_sync_to_async(connections.close_all)()
    return {
        "replies": replies,
        "ended": conversation.ended,
        "opening_ms": opening_ms,
        "turns_ms": turns_ms,
        "finish_ms": finish_ms,
        "llm_stats": conversation.llm_stats,
        "llm_report": conversation.state.llm_report,
        "sources": [s.get("source") for s in conversation.state.slots.values()],
        # An LLM summary that passed its check is stored above the templated one.
        "summary_llm": "\n\nOutcome:" in conversation.state.summary,
    }


def _run_mode(mode: str, runs: int, gap_s: float, *, backend: Any = None) -> dict[str, Any]:
    import time_machine
    from django.core.management import call_command

    from agents.brain import warm_up
    from tests.agents.personas import (
        BRIEFED_G1_PERSONAS,
        BRIEFED_G2_PERSONAS,
        BRIEFED_G3_PERSONAS,
        BRIEFED_G4_PERSONAS,
        BRIEFED_G5_PERSONAS,
        BRIEFED_G6_PERSONAS,
        BRIEFED_G7_PERSONAS,
        BRIEFED_G8_PERSONAS,
        BRIEFED_PERSONAS,
        DEV_PERSONAS,
        FRESH_PERSONAS,
        HELDOUT_PERSONAS,
        NOW,
        PERSONAS,
        courtesy_left_unheard,
        persona_check,
        persona_setup,
    )

    parts = {
        "suite": (*PERSONAS, *DEV_PERSONAS),
        "heldout": HELDOUT_PERSONAS,
        "fresh": FRESH_PERSONAS,
        "briefed": BRIEFED_PERSONAS,
        "briefed_g1": BRIEFED_G1_PERSONAS,
        "briefed_g2": BRIEFED_G2_PERSONAS,
        "briefed_g3": BRIEFED_G3_PERSONAS,
        "briefed_g4": BRIEFED_G4_PERSONAS,
        "briefed_g5": BRIEFED_G5_PERSONAS,
        "briefed_g6": BRIEFED_G6_PERSONAS,
        "briefed_g7": BRIEFED_G7_PERSONAS,
        "briefed_g8": BRIEFED_G8_PERSONAS,
    }

    started = time.perf_counter()
    warm_up()
    warm_up_ms = (time.perf_counter() - started) * 1000
    llm = backend if mode != "none" else None
    if mode == "fallback":
        llm = _FallbackTurnsOnly(llm)
    turns, openings, finishes, extraction_ms = [], [], [], []
    right = total = 0
    failures: dict[str, list[str]] = {}
    # part -> category -> [right, played]
    categories: dict[str, dict[str, list[int]]] = {part: {} for part in parts}
    llm_totals = dict.fromkeys(
        ("extractions", "extraction_errors", "candidates", "accepted", "redundant", "rejected"), 0
    )
    sources = {"nlu": 0, "llm": 0}
    summaries_llm = fallback_turns = 0
    verdicts: dict[str, bool] = {}
    # Right personas whose last lines only thanked or said goodbye after the agent had ended the call, per part.
    courtesy_unheard: dict[str, int] = dict.fromkeys(parts, 0)
    for run in range(runs):
        for part, persona in ((part, p) for part, personas in parts.items() for p in personas):
            call_command("flush", interactive=False, verbosity=0)
            # The wall clock stands still at NOW so the expected slots hold; asyncio's timers use the
            # monotonic clock, which time_machine leaves running.
            with time_machine.travel(NOW, tick=False):
                call = persona_setup(persona)
                played = asyncio.run(_play(persona, call.pk, llm, gap_s, extract=mode == "embedded"))
                problems = persona_check(persona, call, played["replies"], ended=played["ended"])
            total += 1
            right += not problems
            courtesy_unheard[part] += not problems and courtesy_left_unheard(
                persona, played["replies"], ended=played["ended"]
            )
            verdicts[f"{part}/{persona.category}/{persona.key}"] = not problems
            fallback_turns += played["llm_report"].get("fallback_turns", 0)
            tally = categories[part].setdefault(persona.category, [0, 0])
            tally[0] += not problems
            tally[1] += 1
            # What went wrong in a held-out persona stays unseen, so nobody tunes on it.
            if problems and part == "suite":
                failures.setdefault(f"{persona.category}/{persona.key}", problems)
            turns += played["turns_ms"]
            openings.append(played["opening_ms"])
            finishes.append(played["finish_ms"])
            stats = played["llm_stats"]
            extraction_ms += stats.extraction_ms
            for key in ("extractions", "extraction_errors", "candidates"):
                llm_totals[key] += getattr(stats, key)
            for key in ("accepted", "redundant", "rejected"):
                llm_totals[key] += played["llm_report"].get(key, 0)
            summaries_llm += played["summary_llm"]
            for source in played["sources"]:
                sources[source or "nlu"] = sources.get(source or "nlu", 0) + 1
        print(f"  {mode} run {run + 1}/{runs}: {right}/{total} personas right so far")
    return {
        "turns": len(turns),
        "turn_p50_ms": round(statistics.median(turns), 2),
        "turn_p95_ms": round(percentile(turns, 95), 2),
        "turn_max_ms": round(max(turns), 2),
        "opening_p50_ms": round(statistics.median(openings), 2),
        "finish_p50_ms": round(statistics.median(finishes), 2),
        "warm_up_ms": round(warm_up_ms, 1),
        "personas": total,
        "personas_right": right,
        "persona_accuracy": round(right / total, 4),
        "categories": {
            part: {name: {"right": r, "played": n, "rate": round(r / n, 4)} for name, (r, n) in sorted(tally.items())}
            for part, tally in categories.items()
        },
        "parts": {
            part: round(sum(r for r, _ in tally.values()) / max(1, sum(n for _, n in tally.values())), 4)
            for part, tally in categories.items()
        },
        "failures": failures,
        "courtesy_left_unheard": courtesy_unheard,
        "slot_sources": sources,
        "llm": {
            **llm_totals,
            "extraction_p50_ms": round(statistics.median(extraction_ms), 1) if extraction_ms else None,
            "extraction_p95_ms": round(percentile(extraction_ms, 95), 1) if extraction_ms else None,
            "summaries_kept": summaries_llm,
            "fallback_turns": fallback_turns,
        },
        "verdicts": verdicts,
        "gap_ms": round(gap_s * 1000),
    }


def _machine(vendor: str) -> dict[str, Any]:
    import django
    import langgraph
    from django.db import connection

    return machine_info(
        django=django.get_version(),
        langgraph=getattr(langgraph, "__version__", "1.2.22"),
        db_vendor=vendor,
        db_version=".".join(str(part) for part in connection.get_database_version()),
    )


def _print_flips(without: dict[str, bool], with_fallback: dict[str, bool]) -> None:
    """Print the personas the fallback turned right and wrong; held-out ones are counted, never named."""
    for part in ("suite", "heldout", "fresh", "briefed", "briefed_g1", "briefed_g2", "briefed_g3"):
        keys = [key for key in without if key.startswith(f"{part}/")]
        fixed = [key for key in keys if with_fallback.get(key) and not without[key]]
        broken = [key for key in keys if without[key] and not with_fallback.get(key)]
        print(f"  the fallback on the {part}: {len(fixed)} personas turned right, {len(broken)} turned wrong")
        if part == "suite":
            for key in fixed:
                print(f"    right with it: {key}")
            for key in broken:
                print(f"    wrong with it: {key}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="times to play every persona (default 3)")
    parser.add_argument("--llm", choices=["none", "embedded", "both", "fallback"], default="none")
    parser.add_argument("--gap-ms", type=float, default=0, help="pause between lead turns (default 0)")
    parser.add_argument("--database-url", default="", help="benchmark on this server, not SQLite")
    args = parser.parse_args(argv)

    setup_django(args.database_url)
    from django.db import connection

    modes = {"both": ["none", "embedded"], "fallback": ["none", "fallback"]}.get(args.llm, [args.llm])
    verdicts: dict[str, dict[str, bool]] = {}
    with throwaway_database("agent_turns"):
        vendor = connection.vendor
        machine = _machine(vendor)
        backend = _embedded_backend() if modes != ["none"] else None
        for mode in modes:
            result = _run_mode(mode, args.runs, args.gap_ms / 1000, backend=backend)
            verdicts[mode] = result.pop("verdicts")
            result.update(date=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), runs=args.runs, machine=machine)
            key = f"{vendor}/llm={mode}/gap={round(args.gap_ms)}ms"
            save_result("agent_turns", key, result)
            llm = result["llm"]
            print(
                f"{key}: turn p50 {result['turn_p50_ms']} ms, p95 {result['turn_p95_ms']} ms "
                f"({result['turns']} turns); personas right {result['personas_right']}/{result['personas']} "
                f"({result['persona_accuracy']:.0%}); slots from nlu {result['slot_sources'].get('nlu', 0)}, "
                f"llm {result['slot_sources'].get('llm', 0)}"
            )
            if mode == "fallback":
                print(f"  llm: {llm['fallback_turns']} fallback turns")
            elif mode != "none":
                print(
                    f"  llm: {llm['extractions']} extractions ({llm['extraction_errors']} failed), "
                    f"p50 {llm['extraction_p50_ms']} ms; candidates {llm['candidates']}: accepted {llm['accepted']}, "
                    f"redundant {llm['redundant']}, rejected {llm['rejected']}; "
                    f"LLM summaries kept {llm['summaries_kept']}/{result['personas']}"
                )
            for part, tally in result["categories"].items():
                rates = ", ".join(f"{name} {c['right']}/{c['played']}" for name, c in tally.items())
                print(f"  {part} {result['parts'][part]:.1%}: {rates}")
            unheard = ", ".join(f"{part} {n}" for part, n in result["courtesy_left_unheard"].items())
            print(f"  right with only a thanks or goodbye left unheard after the agent hung up: {unheard}")
            for key_, problems in result["failures"].items():
                print(f"  wrong: {key_}: {'; '.join(problems)}")
    if "fallback" in verdicts:
        _print_flips(verdicts["none"], verdicts["fallback"])
    print("saved to benchmarks/results/agent_turns.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
