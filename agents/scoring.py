"""Turn qualification slots into a 0-100 lead score and a hot, warm or cold bucket."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from agents.text import price_text

Bucket = Literal["hot", "warm", "cold"]

# The defaults mirror ScoringConfig's field defaults, for when no row exists yet.
DEFAULT_WEIGHTS = {
    "intent": 5,
    "timeline": 30,
    "motivation": 20,
    "price": 10,
    "financing": 20,
    "has_agent": 10,
    "address": 5,
}


# A move within this many months makes a lead hot; this far out or more, cold unless they asked to meet.
NEAR_MONTHS = 3
FAR_MONTHS = 12


@dataclass(frozen=True)
class ScoringRules:
    """The weights and thresholds in force for one call (read once from ScoringConfig when the call starts)."""

    weights: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    hot_threshold: int = 75
    warm_threshold: int = 50

    def bucket(self, score: int) -> Bucket:
        if score >= self.hot_threshold:
            return "hot"
        if score >= self.warm_threshold:
            return "warm"
        return "cold"


@dataclass(frozen=True)
class Score:
    value: int
    bucket: Bucket
    factors: dict[str, float]
    # Why the score is what it is, in words a broker reads on the call page.
    reasons: list[str] = field(default_factory=list)


def factor(name: str, value: Any) -> float:
    """Return how strongly one slot value counts towards a hot lead, from 0 to 1."""
    if value is None:
        return 0.0
    if name == "timeline":
        if value == "unsure":
            return 0.1
        months = int(value)
        return 1.0 if months <= 3 else 0.6 if months <= 6 else 0.3 if months <= 12 else 0.1
    if name == "motivation":
        return {"curious": 0.2, "other": 0.6}.get(value, 1.0)
    if name == "financing":
        return {"preapproved": 1.0, "cash": 1.0, "needs_financing": 0.4}.get(value, 0.0)
    if name == "has_agent":
        return 0.0 if value else 1.0
    return 1.0


def applies(name: str, slots: dict[str, dict[str, Any]]) -> bool:
    """Return whether a factor counts for this lead: financing does not for someone who only sells."""
    if name == "financing":
        return slots.get("intent", {}).get("value") != "sell"
    return True


def score_slots(
    slots: dict[str, dict[str, Any]], rules: ScoringRules, *, booked: bool = False, asked_to_meet: bool = False
) -> Score:
    """Score the slots gathered so far and the lead's engagement; a slot not yet known counts as 0.

    Args:
        slots: slot name to {"value": ..., "evidence": ...}, as kept in the conversation state.
        rules: the weights and thresholds.
        booked: the lead booked a meeting with an agent on this call.
        asked_to_meet: the lead asked to meet an agent. Either is the strongest sign a
            lead can give, whatever was left unasked: the lead is at least warm, and
            hot when the move is near (three months or less).

    Returns:
        The score, its bucket, each factor's 0-1 value and the reasons behind it.
    """
    factors: dict[str, float] = {}
    reasons: list[str] = []
    total = earned = 0.0
    for name, weight in rules.weights.items():
        if not applies(name, slots):
            continue
        value = slots.get(name, {}).get("value")
        f = factor(name, value)
        factors[name] = f
        total += weight
        earned += weight * f
        reasons.append(_reason(name, value, f, weight))
    value = round(100 * earned / total) if total else 0
    months = _months(slots.get("timeline", {}).get("value"))
    engaged = booked or asked_to_meet
    # Hot means moving soon: however complete the rest, a lead moving later is at most warm, and one a
    # year or more out is cold unless they asked to meet.
    ceiling = (
        None
        if months is not None and months <= NEAR_MONTHS
        else rules.warm_threshold - 1
        if months is not None and months >= FAR_MONTHS and not engaged
        else rules.hot_threshold - 1
    )
    if ceiling is not None and value > ceiling:
        value = ceiling
        known = f"moving in {months} months" if months is not None else "no timeline yet"
        reasons.append(f"{known.capitalize()}: at most {rules.bucket(ceiling)}")
    if engaged:
        factors["appointment" if booked else "asked_to_meet"] = 1.0
        floor = rules.hot_threshold if ceiling is None else rules.warm_threshold
        if value < floor:
            value = floor
            what = "Booked an appointment" if booked else "Asked to meet an agent"
            reasons.append(f"{what}{' and moving soon' if ceiling is None else ''}: at least {rules.bucket(floor)}")
    return Score(value=value, bucket=rules.bucket(value), factors=factors, reasons=reasons)


def _months(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _reason(name: str, value: Any, f: float, weight: int) -> str:
    label = name.replace("_", " ").capitalize()
    if value is None:
        return f"{label}: not known (0 of {weight})"
    shown = {"has_agent": "has an agent" if value else "no agent"}.get(name)
    if shown is None:
        shown = f"{value} months" if name == "timeline" and value != "unsure" else str(value).replace("_", " ")
    if name == "price" and isinstance(value, dict):
        shown = price_text(value)
    elif isinstance(value, dict):
        shown = "known"
    return f"{label}: {shown} ({round(f * weight)} of {weight})"
