"""What calls learned about a lead (Lead.qualification, Call.qualification), as rows a broker reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

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
    # As agents.text.price_text says it; leads sits below agents and can't import it.
    low, high = value.get("min"), value.get("max")
    if low is None or high is None:
        return f"under ${high:,}" if low is None else f"over ${low:,}"
    return f"${low:,}" if low == high else f"${low:,}-${high:,}"


def qualification_html(qualification: dict[str, Any]) -> SafeString | str:
    """Return a call's (or a lead's) qualification as a table of the lead's answers, with score, bucket, objections."""
    rows = qualification_slot_rows(qualification=qualification)
    extra = isinstance(qualification, dict)
    objections = qualification.get("objections") if extra else None
    facts = [
        (label, qualification.get(key))
        for label, key in (("Score", "score"), ("Bucket", "bucket"))
        if extra and qualification.get(key) not in (None, "")
    ]
    if isinstance(objections, list) and objections:
        facts.append(("Objections", ", ".join(str(o).replace("_", " ") for o in objections)))
    if not rows and not facts:
        return "Nothing yet"
    slots = format_html_join(
        "", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>", ((r.name, r.value, r.evidence or "—") for r in rows)
    )
    others = format_html_join("", '<tr><th>{}</th><td colspan="2">{}</td></tr>', facts)
    return format_html(
        '<table class="qualification"><thead><tr><th>Question</th><th>Answer</th><th>What the lead said</th>'
        "</tr></thead><tbody>{}{}</tbody></table>",
        slots,
        others,
    )
