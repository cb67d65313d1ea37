"""Campaign, call and metrics endpoints."""

# No `from __future__ import annotations`: ninja's @paginate wrapper resolves
# annotations in its own module, so a paginated view's must not be strings.

import datetime as dt
from pathlib import PurePath
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Path, Query, Router, Status
from ninja.pagination import paginate

from agents.selectors import campaign_stats_get, metrics_get
from billing.selectors import call_detail_get, call_list
from calls.models import Call, Campaign
from calls.selectors import call_recording_get, campaign_list
from calls.services import campaign_activate, campaign_create, campaign_leads_add, campaign_pause
from common.api_errors import ApiError, responses
from common.api_types import Id, Pagination
from common.files import field_file_response
from integrations.auth import ApiKeyAuth, api_viewer
from leads.phones import InvalidPhoneNumber
from reautomation.api.calls_schemas import (
    CallDetailOut,
    CallFilters,
    CallOut,
    CampaignFilters,
    CampaignIn,
    CampaignLeadsIn,
    CampaignLeadsOut,
    CampaignOut,
    CampaignStatsOut,
    MetricsFilters,
    MetricsOut,
    PauseIn,
)

router = Router()

CAMPAIGNS_READ, CAMPAIGNS_WRITE = ApiKeyAuth("campaigns:read"), ApiKeyAuth("campaigns:write")
CALLS_READ = ApiKeyAuth("calls:read")
METRICS_WINDOW = dt.timedelta(days=30)


def _campaign(request: HttpRequest, campaign_id: int) -> Campaign:
    return get_object_or_404(campaign_list(viewer=api_viewer(request)), pk=campaign_id)


# --- Campaigns ----------------------------------------------------------------------------------------------------


@router.get(
    "/campaigns/",
    response=responses(200, list[CampaignOut]),
    auth=CAMPAIGNS_READ,
    tags=["campaigns"],
    summary="List campaigns",
)
@paginate(Pagination)
def campaigns_list(request: HttpRequest, filters: Query[CampaignFilters]) -> Any:
    """Newest first. Scope: campaigns:read."""
    return campaign_list(viewer=api_viewer(request), status=filters.status)


@router.post(
    "/campaigns/",
    response=responses(201, CampaignOut),
    auth=CAMPAIGNS_WRITE,
    tags=["campaigns"],
    summary="Create a campaign",
)
def campaigns_create(request: HttpRequest, payload: CampaignIn) -> Status[Campaign]:
    """The campaign starts as a draft; start it when its leads are in. Scope: campaigns:write."""
    fields = payload.dict(exclude_none=True)
    try:
        campaign = campaign_create(viewer=api_viewer(request), **fields)
    except InvalidPhoneNumber as exc:
        detail = {"loc": ["body", "callback_number"], "message": str(exc), "type": "invalid_phone"}
        raise ApiError(422, f"Invalid callback number: {exc}", details=[detail]) from exc
    return Status(201, _campaign(request, campaign.pk))


@router.get(
    "/campaigns/{int:campaign_id}",
    response=responses(200, CampaignOut),
    auth=CAMPAIGNS_READ,
    tags=["campaigns"],
    summary="Get a campaign",
)
def campaigns_get(request: HttpRequest, campaign_id: Path[Id]) -> Campaign:
    """Scope: campaigns:read."""
    return _campaign(request, campaign_id)


@router.post(
    "/campaigns/{int:campaign_id}/leads",
    response=responses(200, CampaignLeadsOut),
    auth=CAMPAIGNS_WRITE,
    tags=["campaigns"],
    summary="Add leads to a campaign",
)
def campaigns_leads_add(request: HttpRequest, payload: CampaignLeadsIn, campaign_id: Path[Id]) -> dict[str, int]:
    """Leads already in the campaign are skipped; an id that is not a lead fails the request. Scope: campaigns:write."""
    campaign = _campaign(request, campaign_id)
    added = campaign_leads_add(viewer=api_viewer(request), campaign=campaign, lead_ids=payload.lead_ids)
    return {"added": added, "lead_count": campaign.leads.count()}


@router.post(
    "/campaigns/{int:campaign_id}/start",
    response=responses(200, CampaignOut),
    auth=CAMPAIGNS_WRITE,
    tags=["campaigns"],
    summary="Start or resume a campaign",
)
def campaigns_start(request: HttpRequest, campaign_id: Path[Id]) -> Campaign:
    """409 when the campaign is completed or has no leads. Scope: campaigns:write."""
    campaign = _campaign(request, campaign_id)
    try:
        campaign_activate(campaign=campaign)
    except ValidationError as exc:
        raise ApiError(409, " ".join(exc.messages)) from exc
    return _campaign(request, campaign_id)


@router.post(
    "/campaigns/{int:campaign_id}/pause",
    response=responses(200, CampaignOut),
    auth=CAMPAIGNS_WRITE,
    tags=["campaigns"],
    summary="Pause a campaign",
)
def campaigns_pause(request: HttpRequest, payload: PauseIn, campaign_id: Path[Id]) -> Campaign:
    """Queued calls wait until the campaign is started again; 409 when it is not active. Scope: campaigns:write."""
    campaign = _campaign(request, campaign_id)
    try:
        campaign_pause(campaign=campaign, reason=payload.reason)
    except ValidationError as exc:
        raise ApiError(409, " ".join(exc.messages)) from exc
    return _campaign(request, campaign_id)


@router.get(
    "/campaigns/{int:campaign_id}/stats",
    response=responses(200, CampaignStatsOut),
    auth=CAMPAIGNS_READ,
    tags=["campaigns"],
    summary="A campaign's stats and cost",
)
def campaigns_stats(request: HttpRequest, campaign_id: Path[Id]) -> dict[str, Any]:
    """Computed from the campaign's calls now, not from the daily rollup. Scope: campaigns:read."""
    return campaign_stats_get(campaign=_campaign(request, campaign_id))


# --- Calls --------------------------------------------------------------------------------------------------------

# Recordings are stored as WAV (calls.services). The keys are integers, as ninja writes the codes of
# `response=` and then merges these into them: a string "200" here would sit beside ninja's 200 and
# come out as two "200" keys in openapi.json, which Swagger UI refuses whole (tests/api/test_openapi_schema.py).
_AUDIO = {"audio/wav": {"schema": {"type": "string", "format": "binary"}}}
RECORDING_RESPONSES: dict[int, dict[str, Any]] = {
    200: {
        "description": "The whole recording",
        "content": _AUDIO,
        "headers": {
            "Accept-Ranges": {
                "description": "bytes: a Range header may ask for part of it",
                "schema": {"type": "string"},
            }
        },
    },
    206: {
        "description": "Partial Content: the single byte range a `Range: bytes=first-last` header asked for",
        "content": _AUDIO,
        "headers": {"Content-Range": {"description": "bytes first-last/size", "schema": {"type": "string"}}},
    },
    416: {
        "description": "Range Not Satisfiable: the range starts past the end of the recording (no body)",
        "headers": {"Content-Range": {"description": "bytes */size", "schema": {"type": "string"}}},
    },
}


@router.get("/calls/", response=responses(200, list[CallOut]), auth=CALLS_READ, tags=["calls"], summary="List calls")
@paginate(Pagination)
def calls_list(request: HttpRequest, filters: Query[CallFilters]) -> Any:
    """Newest first. Scope: calls:read."""
    return call_list(viewer=api_viewer(request), **filters.dict())


@router.get(
    "/calls/{int:call_id}",
    response=responses(200, CallDetailOut),
    auth=CALLS_READ,
    tags=["calls"],
    summary="Get a call with its transcript, recording and cost",
)
def calls_get(request: HttpRequest, call_id: Path[Id]) -> Call:
    """Scope: calls:read."""
    call = call_detail_get(viewer=api_viewer(request), call_id=call_id)
    if call is None:
        raise ApiError(404, "Not found.")
    return call


@router.get(
    "/calls/{int:call_id}/recording",
    response=responses(frozenset({200, 206}), None),
    auth=CALLS_READ,
    tags=["calls"],
    summary="Download a call's recording",
    url_name="calls_recording",
    openapi_extra={"responses": RECORDING_RESPONSES},
)
def calls_recording(request: HttpRequest, call_id: Path[Id]) -> HttpResponseBase:
    """The stored recording, whole or the byte range a `Range` header asks for. Calls recorded only at
    Twilio have no download here: their `recording_url` is Twilio's. Scope: calls:read."""
    recording = call_recording_get(viewer=api_viewer(request), call_id=call_id)
    if recording is None:
        raise ApiError(404, "No recording stored for this call.")
    return field_file_response(request, recording, filename=f"call-{call_id}{PurePath(recording.name or '').suffix}")


# --- Metrics ------------------------------------------------------------------------------------------------------


@router.get(
    "/metrics",
    response=responses(200, MetricsOut),
    auth=ApiKeyAuth("metrics:read"),
    tags=["metrics"],
    summary="Account metrics",
)
def metrics(request: HttpRequest, filters: Query[MetricsFilters]) -> dict[str, Any]:
    """Leads and campaigns by status now; calls, appointments and do-not-call additions in the period
    (the last 30 days unless since/until say otherwise). Scope: metrics:read."""
    until = filters.until or timezone.now()
    since = filters.since or until - METRICS_WINDOW
    if since >= until:
        raise ApiError(
            422,
            "since must be before until.",
            details=[{"loc": ["query", "since"], "message": "must be before until", "type": "value_error"}],
        )
    return metrics_get(viewer=api_viewer(request), since=since, until=until)
