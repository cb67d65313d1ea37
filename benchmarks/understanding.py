"""Measure how well the agent understands leads: dialog acts, opt-outs and slots on a labelled corpus.

    .venv/bin/python benchmarks/understanding.py [--set heldout|dev|both]

The corpus is lead lines as speech-to-text gives them (lowercase, disfluent,
misheard), each labelled with what the agent had just asked, the dialog acts
it carries and the slots it states:

- agents/data/acts_train.jsonl: what the act classifier learns from (four
  fifths of the lines one writer wrote without seeing the patterns, and lines
  later writers wrote from that file alone);
- tests/agents/corpus/dev.jsonl: the other fifth, and a probe set a third writer
  wrote from the act definitions alone; the patterns and the classifier's
  settings were tuned on it;
- tests/agents/corpus/heldout.jsonl: written separately by another writer who
  never saw the patterns or the other lines; nothing is tuned on it.

It prints, per set: per-act recall and precision, exact act-set accuracy,
opt-out recall and false-positive rate, per-slot accuracy, the confusion pairs
(which act was said, which was heard) and the brain's understanding time per
line (p50/p95), and saves them to benchmarks/results/understanding.json.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import ROOT, machine_info, percentile, save_result

DEV = ROOT / "tests" / "agents" / "corpus" / "dev.jsonl"
HELDOUT = ROOT / "tests" / "agents" / "corpus" / "heldout.jsonl"
# The corpora count months from the day they were written ("by christmas" = 1).
NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles"))

# Acts the agent acts on, as the corpus names them. The rest of the corpus's labels (greeting, goodbye, ...)
# are reported but do not count towards the act accuracy.
SCORED_ACTS = (
    "opt_out", "wrong_number", "not_the_lead_available", "child", "non_english", "not_interested", "call_later",
    "email_me", "text_me", "has_agent_objection", "how_got_number", "ask_robot", "ask_who", "ask_purpose",
    "ask_repeat", "hold_on", "ask_cost", "ask_scam", "ask_home_value", "ask_market", "ask_rates", "ask_next_steps",
    "wants_meeting", "declines_meeting", "goodbye",
)  # fmt: skip
SLOTS = ("intent", "timeline", "motivation", "price", "financing", "has_agent")


def load(path: Path) -> list[dict[str, Any]]:
    """Return the corpus lines of a JSONL file."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def context_for(asked: str) -> tuple[str | None, str]:
    """Return the (pending, stage) the brain would have after asking `asked`."""
    if asked == "offer":
        return "which_slot", "scheduling"
    if asked == "callback_time":
        return "callback_time", "callback"
    if asked == "email":
        return "email", "email"
    if asked == "permission":
        return "permission", "opening"
    if asked == "none":
        return None, "qualifying"
    return asked, "qualifying"


def heard_acts(nlu: Any) -> set[str]:
    """Return the corpus's act names for what understand() found."""
    acts = {f"ask_{a}" for a in nlu.asks}
    objections = set(nlu.objections)
    acts |= {o for o in objections if o in {"not_interested", "how_got_number", "call_later", "email_me"}}
    acts |= {"ask_cost"} if "commission" in objections else set()
    acts |= {"has_agent_objection"} if "has_agent" in objections else set()
    acts |= set(getattr(nlu, "acts", ()))
    if nlu.opt_out:
        acts.add("opt_out")
    if nlu.wrong_number:
        acts.add("wrong_number")
    if nlu.wants_meeting:
        acts.add("wants_meeting")
    if nlu.declines_meeting:
        acts.add("declines_meeting")
    return acts & set(SCORED_ACTS)


def slot_right(name: str, expected: Any, got: Any) -> bool:
    """Return whether the slot value heard matches the label closely enough to act on."""
    if got is None:
        return False
    if name == "timeline":
        if expected == "unsure":
            return got == "unsure"
        if not isinstance(got, int | float):
            return False
        return abs(got - expected) <= max(1, 0.34 * expected)
    if name == "price":
        if not isinstance(got, dict):
            return False
        # "under 400k" is labelled with a max only, "at least 300k" with a min only.
        keys = [k for k in ("min", "max") if k in expected]
        return bool(keys) and all(k in got and abs(got[k] - expected[k]) <= 0.1 * expected[k] for k in keys)
    return bool(got == expected)


def _slot_value(nlu: Any, name: str) -> Any:
    slot = nlu.slots.get(name)
    if slot is None:
        return None
    value = slot.value
    if name == "timeline" and isinstance(value, dict):
        return value.get("months", "unsure" if value.get("unsure") else None)
    return value


@dataclass
class Report:
    lines: int = 0
    exact: int = 0
    said: collections.Counter[str] = field(default_factory=collections.Counter)
    caught: collections.Counter[str] = field(default_factory=collections.Counter)
    heard: collections.Counter[str] = field(default_factory=collections.Counter)
    confusions: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    slot_total: collections.Counter[str] = field(default_factory=collections.Counter)
    slot_right: collections.Counter[str] = field(default_factory=collections.Counter)
    slot_false: collections.Counter[str] = field(default_factory=collections.Counter)
    checked_opt_outs: int = 0
    needless_checks: int = 0
    missed_opt_outs: list[str] = field(default_factory=list)
    false_opt_outs: list[str] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)

    def add(self, item: dict[str, Any], nlu: Any, elapsed_ms: float) -> None:
        self.lines += 1
        self.ms.append(elapsed_ms)
        expected = set(item["acts"]) & set(SCORED_ACTS)
        got = heard_acts(nlu)
        self.exact += expected == got
        for act in expected:
            self.said[act] += 1
            self.caught[act] += act in got
        for act in got:
            self.heard[act] += 1
        for missed in expected - got:
            for wrong in (got - expected) or {"nothing"}:
                self.confusions[(missed, wrong)] += 1
        for wrong in got - expected:
            if not expected - got:
                self.confusions[("nothing", wrong)] += 1
        unsure = bool(getattr(nlu, "opt_out_unsure", False))
        self.checked_opt_outs += "opt_out" in expected and unsure
        self.needless_checks += "opt_out" not in expected and unsure
        if "opt_out" in expected and "opt_out" not in got and not unsure:
            self.missed_opt_outs.append(item["text"])
        if "opt_out" in got and "opt_out" not in expected:
            self.false_opt_outs.append(item["text"])
        self._slots(item, nlu)

    def _slots(self, item: dict[str, Any], nlu: Any) -> None:
        labels = dict(item.get("slots", {}))
        if "timeline_months" in labels:
            labels["timeline"] = labels.pop("timeline_months")
        for name in SLOTS:
            got = _slot_value(nlu, name)
            if name in labels:
                self.slot_total[name] += 1
                self.slot_right[name] += slot_right(name, labels[name], got)
            elif got is not None:
                self.slot_false[name] += 1

    def figures(self) -> dict[str, Any]:
        no_opt_out = self.lines - self.said["opt_out"]
        acts = {
            act: {
                "said": self.said[act],
                "recall": round(self.caught[act] / self.said[act], 3) if self.said[act] else None,
                "precision": round(self.caught[act] / self.heard[act], 3) if self.heard[act] else None,
            }
            for act in SCORED_ACTS
        }
        slots = {
            name: {
                "labelled": self.slot_total[name],
                "accuracy": round(self.slot_right[name] / self.slot_total[name], 3) if self.slot_total[name] else None,
                "false_fills": self.slot_false[name],
            }
            for name in SLOTS
        }
        recalls = [v["recall"] for v in acts.values() if v["recall"] is not None and v["said"] >= 5]
        return {
            "lines": self.lines,
            "act_set_exact": round(self.exact / self.lines, 3),
            "act_recall_macro": round(sum(recalls) / len(recalls), 3) if recalls else None,
            "opt_out_recall": round(self.caught["opt_out"] / self.said["opt_out"], 3) if self.said["opt_out"] else None,
            "opt_out_false_positive_rate": round(len(self.false_opt_outs) / no_opt_out, 4) if no_opt_out else None,
            # An unsure opt-out is asked about ("take you off our list?") rather than acted on or missed.
            "opt_out_recall_with_check": (
                round((self.caught["opt_out"] + self.checked_opt_outs) / self.said["opt_out"], 3)
                if self.said["opt_out"]
                else None
            ),
            "opt_out_check_rate_on_others": round(self.needless_checks / no_opt_out, 4) if no_opt_out else None,
            "acts": acts,
            "slots": slots,
            "confusions": [[a, b, n] for (a, b), n in self.confusions.most_common(15)],
            "missed_opt_outs": self.missed_opt_outs,
            "false_opt_outs": self.false_opt_outs,
            "understand_ms": {"p50": round(percentile(self.ms, 50), 2), "p95": round(percentile(self.ms, 95), 2)},
        }


def evaluate(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Run understand() on every line and return the figures."""
    from agents.nlu import understand

    report = Report()
    for item in items:
        pending, stage = context_for(item.get("asked", "none"))
        started = time.perf_counter()
        nlu = understand(item["text"], pending=pending, stage=stage, now=NOW, address_on_file="12 Oak Street")
        report.add(item, nlu, (time.perf_counter() - started) * 1000)
    return report.figures()


def _print(name: str, figures: dict[str, Any]) -> None:
    print(f"\n== {name}: {figures['lines']} lines ==")
    print(f"act sets exactly right      {figures['act_set_exact']:.1%}")
    print(f"act recall (macro, n>=5)    {figures['act_recall_macro']:.1%}")
    print(f"opt-out recall              {figures['opt_out_recall']:.1%}")
    print(f"opt-out false positives     {figures['opt_out_false_positive_rate']:.2%}")
    print(f"opt-out recall, with check  {figures['opt_out_recall_with_check']:.1%}")
    print(f"'off the list?' asked of others {figures['opt_out_check_rate_on_others']:.2%}")
    print(f"understand() ms p50/p95     {figures['understand_ms']['p50']} / {figures['understand_ms']['p95']}")
    print(f"{'act':<24}{'said':>6}{'recall':>9}{'precision':>11}")
    for act, v in figures["acts"].items():
        if v["said"]:
            r = f"{v['recall']:.0%}" if v["recall"] is not None else "-"
            p = f"{v['precision']:.0%}" if v["precision"] is not None else "-"
            print(f"{act:<24}{v['said']:>6}{r:>9}{p:>11}")
    print(f"{'slot':<24}{'labelled':>9}{'accuracy':>10}{'false fills':>13}")
    for slot, v in figures["slots"].items():
        acc = f"{v['accuracy']:.0%}" if v["accuracy"] is not None else "-"
        print(f"{slot:<24}{v['labelled']:>9}{acc:>10}{v['false_fills']:>13}")
    print("confusions (said -> heard): " + "; ".join(f"{a}->{b} x{n}" for a, b, n in figures["confusions"][:10]))
    if name == "heldout":
        # The held-out lines are not shown: reading them would be tuning on them.
        print(f"missed opt-outs: {len(figures['missed_opt_outs'])}; false opt-outs: {len(figures['false_opt_outs'])}")
        return
    for text in figures["missed_opt_outs"][:15]:
        print(f"  missed opt-out: {text}")
    for text in figures["false_opt_outs"][:15]:
        print(f"  false opt-out:  {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=["heldout", "dev", "both"], default="both")
    args = parser.parse_args()
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reautomation.settings")
    os.environ.setdefault("DEBUG", "True")
    import django

    django.setup()
    results: dict[str, Any] = {"machine": machine_info()}
    for name, path in (("dev", DEV), ("heldout", HELDOUT)):
        if args.set in {name, "both"}:
            results[name] = evaluate(load(path))
            _print(name, results[name])
    if "heldout" in results:
        # The held-out lines stay out of the saved results too: only how many were missed or false.
        for key in ("missed_opt_outs", "false_opt_outs"):
            results["heldout"][key] = len(results["heldout"][key])
    for key, value in results.items():
        save_result("understanding", key, value)


if __name__ == "__main__":
    main()
