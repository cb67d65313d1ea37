"""Request and response bodies of the campaign, call and metrics endpoints."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.urls import reverse
from ninja import Field, Schema

from common.api_types import (
    LOCAL_TIME_PATTERN,
    AwareDatetime,
    CleanStr,
    Id,
    LocalTime,
    Minutes,
    Money,
    UnitPrice,
    local_time_text,
)

CampaignStatus = Literal["draft", "active", "paused", "completed"]
PauseKind = Literal["", "manual", "campaign_budget", "daily_budget", "monthly_budget"]
CallStatus = Literal[
    "queued", "dialing", "initiated", "ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled"
]
CallOutcome = Literal[
    "", "qualified", "appointment", "callback", "not_interested", "opted_out", "voicemail", "no_answer",
    "wrong_number", "hung_up", "failed",
]  # fmt: skip


class CampaignIn(Schema):
    name: CleanStr = Field(min_length=1, max_length=200)
    business_name: CleanStr = Field(min_length=1, max_length=200)
    callback_number: CleanStr = Field(min_length=1, max_length=50, description="Any common format; stored in E.164")
    agent_name: CleanStr = Field("Alex", min_length=1, max_length=100)
    script: CleanStr = Field("", max_length=20_000)
    call_purpose: CleanStr | None = Field(None, min_length=1, max_length=255, description="Completes 'I'm calling ...'")
    window_start: LocalTime = Field(dt.time(9, 0), description="Earliest local time of the lead")
    window_end: LocalTime = Field(dt.time(20, 0), description="Calls start before this local time of the lead")
    max_concurrent_calls: int = Field(2, ge=1, le=100)
    max_attempts: int = Field(3, ge=1, le=20)
    retry_delay_minutes: int = Field(240, ge=1, le=525_600)
    voicemail_action: Literal["message", "hang_up"] = "message"
    require_consent: bool = True
    lead_ids: list[Id] = Field([], max_length=10_000, description="Leads to call; more can be added later")


class CampaignOut(Schema):
    id: int
    name: str
    status: CampaignStatus
    status_reason: str
    pause_kind: PauseKind = Field(
        description="What paused it: a person, or the campaign's, daily or monthly budget; empty when not paused"
    )
    paused_until: dt.datetime | None = Field(
        description="When a daily or monthly budget pause lifts by itself, if every budget can then pay for a call"
    )
    business_name: str
    agent_name: str
    callback_number: str
    call_purpose: str
    script: str
    window_start: str = Field(pattern=LOCAL_TIME_PATTERN, description="Local time of the lead")
    window_end: str = Field(pattern=LOCAL_TIME_PATTERN, description="Local time of the lead")
    max_concurrent_calls: int
    max_attempts: int
    retry_delay_minutes: int
    voicemail_action: str
    require_consent: bool
    lead_count: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_window_start(obj: Any) -> str:
        return local_time_text(obj.window_start)

    @staticmethod
    def resolve_window_end(obj: Any) -> str:
        return local_time_text(obj.window_end)

    @staticmethod
    def resolve_lead_count(obj: Any) -> int:
        # Annotated by the selector; a freshly created campaign is counted directly.
        count = getattr(obj, "lead_count", None)
        return int(count) if count is not None else int(obj.leads.count())


class CampaignFilters(Schema):
    status: CampaignStatus | None = None


class CampaignLeadsIn(Schema):
    lead_ids: list[Id] = Field(min_length=1, max_length=10_000)


class CampaignLeadsOut(Schema):
    added: int
    lead_count: int


class PauseIn(Schema):
    reason: CleanStr = Field("", max_length=255)


class CallFigures(Schema):
    calls: int = Field(description="Calls placed")
    reached: int = Field(description="Answered by a person")
    voicemail: int
    no_answer: int = Field(description="Busy or no answer")
    failed: int
    hot: int
    warm: int
    cold: int
    booked: int = Field(description="Calls that booked an appointment")
    opted_out: int
    talk_seconds: int
    latency_turns: int = Field(description="Agent turns with a measured latency (what the latency figures come from)")
    latency_avg_ms: int | None = Field(description="End of the lead's speech to the agent's first audio")
    latency_p50_ms: int | None
    latency_p95_ms: int | None
    cost_usd: Money = Field(description="Sum of the calls' cost entries")


class CostOut(Schema):
    """What a set of calls cost (billing.selectors.cost_report)."""

    calls: int = Field(description="Calls with a cost")
    total_usd: Money
    minutes: Minutes = Field(description="Talk time of those calls")
    per_call_usd: Money | None
    per_minute_usd: Money | None
    per_qualified_usd: Money | None = Field(description="All the cost over the calls that qualified a lead")
    per_booked_usd: Money | None = Field(description="All the cost over the calls that booked an appointment")
    per_call_p50_usd: Money | None
    per_call_p95_usd: Money | None
    by_component: dict[str, Money]


class BudgetUseOut(Schema):
    """A budget in its current period (billing.selectors.BudgetUse)."""

    id: int = Field(description="The budget's id")
    scope: Literal["campaign", "daily", "monthly"]
    campaign_id: int | None = Field(description="Empty for an account-wide daily or monthly budget")
    limit_usd: Money
    per_call_limit_usd: Money = Field(description="A call that reaches this is wrapped up")
    period: str = Field(description='"lifetime", the day ("2026-11-24") or the month ("2026-11"), in TIME_ZONE')
    period_end: dt.datetime | None = Field(description="When a daily or monthly budget starts over")
    spent_usd: Money = Field(description="Cost of the calls dialed in the period")
    left_usd: Money
    percent: int = Field(description="Share spent, 0-100 (more when running calls overspent it)")

    @staticmethod
    def resolve_id(obj: Any) -> int:
        return int(obj.budget.pk)

    @staticmethod
    def resolve_scope(obj: Any) -> str:
        return str(obj.budget.scope)

    @staticmethod
    def resolve_campaign_id(obj: Any) -> int | None:
        return obj.budget.campaign_id  # type: ignore[no-any-return]

    @staticmethod
    def resolve_limit_usd(obj: Any) -> Decimal:
        return obj.budget.limit_usd  # type: ignore[no-any-return]

    @staticmethod
    def resolve_per_call_limit_usd(obj: Any) -> Decimal:
        return obj.budget.per_call_limit_usd  # type: ignore[no-any-return]


class CampaignStatsOut(Schema):
    campaign_id: int
    status: CampaignStatus
    leads: int
    leads_by_status: dict[str, int]
    calls_by_status: dict[str, int] = Field(description="Every call of the campaign, placed or not")
    appointments: int = Field(description="Appointments booked on the campaign's calls and not canceled")
    figures: CallFigures = Field(description="The campaign's placed calls")
    cost: CostOut = Field(description="What the campaign's placed calls cost")
    budgets: list[BudgetUseOut] = Field(description="The active budgets its calls spend (its own and account-wide)")


class CallFilters(Schema):
    campaign_id: Id | None = None
    lead_id: Id | None = None
    status: CallStatus | None = None
    outcome: CallOutcome | None = None
    since: AwareDatetime | None = Field(None, description="Calls queued at or after this time")
    until: AwareDatetime | None = Field(None, description="Calls queued before this time")


class CallOut(Schema):
    id: int
    lead_id: int
    campaign_id: int
    attempt: int
    status: CallStatus
    answered_by: str
    outcome: CallOutcome
    score: int | None
    summary: str
    queued_at: dt.datetime
    dialed_at: dt.datetime | None
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration_seconds: int | None
    recording_url: str | None = Field(description="Link to the call's recording, if it was recorded")
    cost_usd: Money = Field(description="Sum of the call's cost entries so far")

    @staticmethod
    def resolve_recording_url(obj: Any, context: dict[str, Any]) -> str | None:
        # Our own stored file, through the API's authorised download; else Twilio's recording URL.
        if obj.recording:
            request = context["request"]
            # Under the path the request came by: /api/v1/, or the unversioned alias (reautomation.urls).
            namespace = getattr(request.resolver_match, "namespace", "") or "api"
            path = reverse(f"{namespace}:calls_recording", kwargs={"call_id": obj.pk})
            return str(request.build_absolute_uri(path))
        return obj.recording_url or None


class TurnOut(Schema):
    index: int
    speaker: Literal["agent", "lead"]
    text: str
    started_ms: int | None
    ended_ms: int | None
    latency_ms: int | None


class CostLineOut(Schema):
    component: str
    quantity: Decimal
    unit: str
    unit_price: UnitPrice
    amount_usd: Money


class CallDetailOut(CallOut):
    qualification: dict[str, Any]
    transcript: list[TurnOut]
    costs: list[CostLineOut] = Field(description="The billing ledger's lines for the call, one per component")

    @staticmethod
    def resolve_transcript(obj: Any) -> list[Any]:
        return list(obj.turns.all())

    @staticmethod
    def resolve_costs(obj: Any) -> list[Any]:
        return list(obj.cost_entries.all())


class MetricsFilters(Schema):
    since: AwareDatetime | None = Field(None, description="Calls placed at or after this time; default: 30 days ago")
    until: AwareDatetime | None = Field(None, description="Calls placed before this time; default: now")


class MetricsOut(Schema):
    since: dt.datetime
    until: dt.datetime
    leads_by_status: dict[str, int]
    campaigns_by_status: dict[str, int]
    appointments_booked: int = Field(description="Appointments created in the period, canceled ones included")
    dnc_added: int = Field(description="Numbers put on the do-not-call list in the period")
    figures: CallFigures = Field(description="Calls placed in the period")
    budgets: list[BudgetUseOut] = Field(description="Every active budget's use now")
