"""What a call learned about its lead (Call.qualification, Lead.qualification), as rows a broker reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The slots the agent fills (agents.nlu.SLOT_NAMES), named as a broker says them; others read as their key.
SLOT_LABELS = {
    "intent": "Buying or selling",
    "timeline": "Timeline",
    "motivation": "Motivation",
    "price": "Price",
    "financing": "Financing",
    "has_agent": "Has an agent",
    "address": "Property address",
}


@dataclass(frozen=True)
class SlotRow:
    """One extracted qualification slot as a page shows it."""

    name: str
    value: str
    evidence: str
    source: str


def qualification_slot_rows(*, qualification: dict[str, Any]) -> list[SlotRow]:
    """Return the slots of a Call.qualification (or a Lead.qualification, which is the slots alone) as rows."""
    slots = qualification.get("slots", qualification) if isinstance(qualification, dict) else {}
    if not isinstance(slots, dict):
        return []
    rows = []
    for name, slot in slots.items():
        if not isinstance(slot, dict) or "value" not in slot:
            continue  # a Call.qualification's other keys (score, bucket, ...) when read as a lead's
        rows.append(
            SlotRow(
                name=SLOT_LABELS.get(name, name.replace("_", " ").capitalize()),
                value=_slot_value(slot["value"]),
                evidence=str(slot.get("evidence") or ""),
                source=str(slot.get("source") or ""),
            )
        )
    return rows


def _slot_value(value: Any) -> str:
    # An address slot is {"address", "confirmed", "corrected"}; the others are plain values.
    if isinstance(value, dict) and "address" in value:
        return f"{value['address']} ({'confirmed' if value.get('confirmed') else 'not confirmed'})"
    if isinstance(value, dict) and ("min" in value or "max" in value):
        return _price_text(value)
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("_", " ")


def _price_text(value: dict[str, int]) -> str:
    # As agents.text.price_text says it; calls sits below agents and can't import it.
    low, high = value.get("min"), value.get("max")
    if low is None or high is None:
        return f"under ${high:,}" if low is None else f"over ${low:,}"
    return f"${low:,}" if low == high else f"${low:,}-${high:,}"
