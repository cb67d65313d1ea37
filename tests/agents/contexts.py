"""An agent's call context with no database rows, for tests that talk to the graph directly."""

from __future__ import annotations

from typing import Any

from agents.context import AgentContext


def agent_context(**overrides: Any) -> AgentContext:
    """A Los Angeles lead called Dana, phoned by Alex for Bayside Realty; any field can be overridden."""
    values: dict[str, Any] = {
        "call_id": None,
        "lead_id": None,
        "lead_first_name": "Dana",
        "lead_phone": "+14155550100",
        "lead_timezone": "America/Los_Angeles",
        "agent_name": "Alex",
        "business_name": "Bayside Realty",
        "callback_number": "+14155550199",
        **overrides,
    }
    return AgentContext(**values)
