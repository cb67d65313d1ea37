"""The state the agent graph carries from one turn of a call to the next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph import add_messages

Event = Literal["start", "turn", "finish"]
# opening: the disclosure was spoken; qualifying: asking the slot questions; scheduling: offering times;
# callback: waiting for a callback time; email: waiting for an email address; ended: the agent said goodbye.
Stage = Literal["opening", "qualifying", "scheduling", "callback", "email", "ended"]


@dataclass
class ConversationState:
    """One call's conversation. Plain data only (dicts, lists, strings), so it is easy to log and to replay.

    Nodes return partial updates. `reply_parts` is rebuilt each turn by the
    first node that runs and extended by the ones after it; `guard` joins,
    checks and speaks it.
    """

    messages: Annotated[Sequence[AnyMessage], add_messages] = field(default_factory=list)
    event: Event = "start"
    stage: Stage = "opening"
    # The question asked last: a slot name, "permission", "address_fix", "not_interested_probe",
    # "which_slot", "callback_time", "reach_time" (when to try a lead someone else answered for) or "email".
    pending: str | None = None
    # The question that was pending when the agent stopped to ask "take you off our list?".
    pending_before: str | None = None
    turn: int = 0
    # Slot name -> {"value", "evidence", "source", "turn"}; the source is "nlu" (the patterns), "model"
    # (agents.slotmodel's guess) or "llm".
    slots: dict[str, dict[str, Any]] = field(default_factory=dict)
    # How often each question was asked; a question is asked at most twice.
    asked: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    misses: int = 0
    nlu: dict[str, Any] = field(default_factory=dict)
    objections: list[str] = field(default_factory=list)
    resume: bool = False
    score: int | None = None
    bucket: str = ""
    factors: dict[str, float] = field(default_factory=dict)
    score_reasons: list[str] = field(default_factory=list)
    # The lead asked to meet an agent at some point in the call.
    asked_to_meet: bool = False
    offered: list[dict[str, Any]] = field(default_factory=list)
    offer_rounds: int = 0
    # The times on offer start from a later week the lead asked for ("next week"): a bare weekday said to them is
    # in that week. Offered later only because the day asked was taken, "friday" is still this Friday.
    offers_later: bool = False
    appointment: dict[str, Any] | None = None
    callback_at: str | None = None
    follow_up: str | None = None
    email: str | None = None
    human_follow_up: str = ""
    dnc: bool = False
    # The agent ended the call because the line stayed silent (it promised to try another time).
    went_silent: bool = False
    outcome: str = ""
    end_call: bool = False
    reply_parts: list[dict[str, str]] = field(default_factory=list)
    reply: str = ""
    reply_source: str = "template"
    guard_violations: list[str] = field(default_factory=list)
    # Slot candidates from the background LLM extraction, checked against the lead's words in `understand`.
    llm_slots: list[dict[str, Any]] = field(default_factory=list)
    llm_report: dict[str, int] = field(default_factory=dict)
    summary: str = ""
    errors: list[str] = field(default_factory=list)
