"""Runtime configuration for one call: who speaks for whom, to whom, in which time zone, with which LLM."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.utils import timezone

from agents.llm import LLMBackend
from agents.scoring import ScoringRules


@dataclass(frozen=True, kw_only=True)
class AgentContext:
    """Everything the graph needs that doesn't change during a call.

    The compliance lines are filled from these fields only, so the persona and
    business named in the disclosure are the campaign's, never the LLM's.
    """

    call_id: int | None
    lead_id: int | None
    lead_first_name: str = ""
    lead_phone: str = ""
    lead_email: str = ""
    lead_address: str = ""
    lead_source: str = ""
    lead_timezone: str = "UTC"
    agent_name: str = "Alex"
    business_name: str
    callback_number: str = ""
    call_purpose: str = "to see if you're thinking about buying or selling a home"
    # The campaign's own answers to questions asked in passing (Campaign.answers), over prompts.ANSWERS.
    answers: dict[str, str] = field(default_factory=dict)
    # The compliance gate asks for this for leads in all-party-consent states.
    announce_recording: bool = False
    # Whether the call is recorded at all: a lead who asks is told the truth.
    recorded: bool = True
    scoring: ScoringRules = field(default_factory=ScoringRules)
    llm: LLMBackend | None = None
    # Rephrasing puts the LLM on the critical path, so it is opt-in (LLM_REPHRASE).
    rephrase: bool = False
    rephrase_timeout_s: float = 0.8
    llm_timeout_s: float = 20.0
    # A turn the rules could not read goes to the LLM (LLM_FALLBACK), which the lead waits for, briefly.
    llm_fallback: bool = False
    llm_fallback_timeout_s: float = 4.0
    # While the LLM takes a turn, a short filler is said through `hold` once it has been thinking this long
    # (LLM_FILLER_AFTER_S; below 0: never). The voice layer sets `hold` for each turn and speaks the words at once.
    filler_after_s: float = 0.5
    hold: Callable[[str], Awaitable[None]] | None = None
    clock: Callable[[], dt.datetime] = timezone.now
    # A broker's test call from the dashboard: no lead, nothing stored, and a
    # booking is confirmed without writing an appointment, so the script can be
    # tried to the end.
    dry_run: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.lead_timezone or "UTC")

    def now(self) -> dt.datetime:
        """Return the current time in the lead's time zone."""
        return self.clock().astimezone(self.tz)
