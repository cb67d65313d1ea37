"""Request and response bodies of the lead and do-not-call endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from common.api_types import AwareDatetime, CleanStr, Id
from leads.csv_import import RejectCode
from leads.models import Lead

Intent = Literal["unknown", "buy", "sell", "both"]
LeadStatus = Literal[
    "new", "in_progress", "contacted", "qualified", "appointment", "not_interested", "unreachable", "do_not_call"
]


class LeadOut(Schema):
    id: int
    external_id: str | None = Field(None, description="The CRM's own id for the lead (unique)")
    first_name: str
    last_name: str
    phone: str = Field(description="E.164")
    phone_extension: str
    email: str
    address: str
    city: str
    state: str
    zip_code: str
    source: str
    notes: str
    intent: Intent
    status: LeadStatus
    score: int | None
    qualification: dict[str, Any] = Field(description="The latest value of each slot the agent heard, with evidence")
    timezone: str
    attempt_count: int
    last_attempt_at: dt.datetime | None
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_external_id(obj: Lead) -> str | None:
        return obj.crm_id


class LeadIn(Schema):
    phone: CleanStr = Field(min_length=1, max_length=50, description="Any common format; stored in E.164")
    external_id: CleanStr | None = Field(None, min_length=1, max_length=100)
    first_name: CleanStr = Field("", max_length=100)
    last_name: CleanStr = Field("", max_length=100)
    email: CleanStr = Field("", max_length=254)
    address: CleanStr = Field("", max_length=255)
    city: CleanStr = Field("", max_length=100)
    state: CleanStr = Field("", max_length=20, description="Two-letter code or the state's name")
    zip_code: CleanStr = Field("", max_length=10)
    source: CleanStr = Field("", max_length=100)
    notes: CleanStr = Field("", max_length=10_000)
    intent: Intent = "unknown"


class LeadPatch(Schema):
    phone: CleanStr | None = Field(None, min_length=1, max_length=50)
    external_id: CleanStr | None = Field(None, min_length=1, max_length=100)
    first_name: CleanStr | None = Field(None, max_length=100)
    last_name: CleanStr | None = Field(None, max_length=100)
    email: CleanStr | None = Field(None, max_length=254)
    address: CleanStr | None = Field(None, max_length=255)
    city: CleanStr | None = Field(None, max_length=100)
    state: CleanStr | None = Field(None, max_length=20)
    zip_code: CleanStr | None = Field(None, max_length=10)
    source: CleanStr | None = Field(None, max_length=100)
    notes: CleanStr | None = Field(None, max_length=10_000)
    intent: Intent | None = None


class LeadFilters(Schema):
    status: LeadStatus | None = None
    campaign_id: Id | None = Field(None, description="Leads in this campaign")
    external_id: CleanStr | None = Field(None, max_length=100)
    phone: CleanStr | None = Field(None, max_length=50, description="Any format; matched in E.164")
    updated_since: AwareDatetime | None = Field(None, description="Leads changed at or after this time")


class UpsertConsent(Schema):
    source: CleanStr = Field("", max_length=1000)
    text: CleanStr = Field("", max_length=10_000)
    given_at: CleanStr = Field(max_length=100, description="ISO date or time, or MM/DD/YYYY as in the CSV import")


class UpsertRow(Schema):
    """One lead of a bulk upsert, checked as a CSV import row is: a bad row is reported, the rest are saved."""

    external_id: CleanStr | None = Field(
        None,
        max_length=1000,
        description="The CRM's id: the lead to update, or a new lead's. A row without it is rejected "
        "(missing_external_id) and the other rows still go in.",
    )
    phone: CleanStr | None = Field(None, max_length=1000, description="Required for a new lead")
    first_name: CleanStr | None = Field(None, max_length=1000)
    last_name: CleanStr | None = Field(None, max_length=1000)
    full_name: CleanStr | None = Field(None, max_length=1000, description="Split when first and last are absent")
    email: CleanStr | None = Field(None, max_length=1000)
    address: CleanStr | None = Field(None, max_length=1000)
    city: CleanStr | None = Field(None, max_length=1000)
    state: CleanStr | None = Field(None, max_length=1000)
    zip_code: CleanStr | None = Field(None, max_length=1000)
    source: CleanStr | None = Field(None, max_length=1000)
    notes: CleanStr | None = Field(None, max_length=10_000)
    intent: CleanStr | None = Field(None, max_length=1000, description="buy, sell, both or the CSV import's words")
    consent: UpsertConsent | None = None


class BulkUpsertIn(Schema):
    leads: list[UpsertRow] = Field(min_length=1, max_length=1000)


class UpsertRowOut(Schema):
    index: int = Field(description="Position of the row in the request, from 0")
    external_id: str = Field(description="As given, trimmed; empty when the row had none")
    status: Literal["created", "updated", "rejected"]
    lead_id: int | None = Field(
        description="The lead created or updated; for a duplicate, the lead it duplicates, when the key may see it"
    )
    reason: str = Field(description="Why the row was rejected, in words; empty otherwise")
    reason_code: RejectCode | None = Field(description="Why the row was rejected, for programs; null otherwise")
    warnings: list[str] = Field(description="Values dropped or cut while the row was still saved")


class BulkUpsertOut(Schema):
    created: int
    updated: int
    rejected: int
    rows: list[UpsertRowOut]


class DncIn(Schema):
    phone: CleanStr = Field(min_length=1, max_length=50)
    reason: CleanStr = Field("", max_length=255)


class PhoneQuery(Schema):
    phone: CleanStr = Field(min_length=1, max_length=50, description="Any common format")


class DncOut(Schema):
    phone: str
    reason: str
    source: str
    created_at: dt.datetime


class DncCheckOut(Schema):
    phone: str = Field(description="The number in E.164")
    on_list: bool
    entry: DncOut | None
