"""Lead and do-not-call endpoints: CRUD, bulk upsert by external id, and the do-not-call list."""

# No `from __future__ import annotations` here: ninja's @paginate wraps the view, and the
# wrapper's globals are ninja's, so string annotations of a paginated view would not resolve.

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router, Status
from ninja.pagination import paginate

from common.access import Viewer
from common.api_errors import ApiError, responses
from common.api_types import Id, Pagination
from integrations.auth import ApiKeyAuth, api_viewer
from leads.csv_import import RejectCode
from leads.models import DoNotCall, Lead
from leads.phones import InvalidPhoneNumber, PhoneCountryNotAllowed, phone_normalize
from leads.selectors import dnc_entry_get, lead_clash_get, lead_list, leads_visible
from leads.services import UPSERT_FIELDS, dnc_add, lead_bulk_upsert, lead_delete, lead_save
from reautomation.api.leads_schemas import (
    BulkUpsertIn,
    BulkUpsertOut,
    DncCheckOut,
    DncIn,
    DncOut,
    LeadFilters,
    LeadIn,
    LeadOut,
    LeadPatch,
    PhoneQuery,
)

router = Router(tags=["leads"])

READ, WRITE = ApiKeyAuth("leads:read"), ApiKeyAuth("leads:write")


def _phone_error(exc: InvalidPhoneNumber, *, loc: str = "body") -> ApiError:
    code = RejectCode.PHONE_NOT_ALLOWED if isinstance(exc, PhoneCountryNotAllowed) else RejectCode.INVALID_PHONE
    detail = {"loc": [loc, "phone"], "message": str(exc), "type": code}
    return ApiError(422, f"Invalid phone: {exc}", details=[detail])


def _lead_saved(request: HttpRequest, lead: Lead) -> Lead:
    try:
        return lead_save(lead=lead)
    except InvalidPhoneNumber as exc:
        raise _phone_error(exc) from exc
    except ValidationError as exc:
        raise _lead_refused(exc, lead=lead, viewer=api_viewer(request)) from exc


def _lead_refused(exc: ValidationError, *, lead: Lead, viewer: Viewer) -> ApiError:
    """Turn lead_save's refusal into the API's error, each field with its RejectCode; 409 when all are duplicates.

    A duplicate phone or external id names the lead it duplicates (`lead_id`) when the key may see that lead.
    """
    if not hasattr(exc, "error_dict"):
        return ApiError(422, " ".join(exc.messages))
    details = [_field_refused(field, errors, lead=lead, viewer=viewer) for field, errors in exc.error_dict.items()]
    duplicates = all(d["type"] == RejectCode.DUPLICATE for d in details)
    message = details[0]["message"] if len(details) == 1 else "The lead cannot be saved."
    return ApiError(409 if duplicates else 422, message, details=details)


def _field_refused(field: str, errors: list[ValidationError], *, lead: Lead, viewer: Viewer) -> dict[str, Any]:
    name = "external_id" if field == "crm_id" else field
    loc = ["body", name] if field != NON_FIELD_ERRORS else ["body"]
    if any(e.code == "unique" for e in errors) and field in ("phone", "crm_id"):
        value = lead.phone if field == "phone" else lead.crm_id
        if field == "phone":
            clash = lead_clash_get(viewer=viewer, phone=lead.phone, exclude_id=lead.pk)
        else:
            clash = lead_clash_get(viewer=viewer, crm_id=lead.crm_id, exclude_id=lead.pk)
        if clash is not None:
            message = clash.reason(f"{name} {value!r}")
            return {"loc": loc, "message": message, "type": RejectCode.DUPLICATE, "lead_id": clash.lead_id}
    code = RejectCode.INVALID_EMAIL if field == "email" else RejectCode.INVALID_VALUE
    return {"loc": loc, "message": " ".join(m for e in errors for m in e.messages), "type": code}


def _e164(phone: str, *, loc: str) -> str:
    try:
        return phone_normalize(phone)
    except InvalidPhoneNumber as exc:
        raise _phone_error(exc, loc=loc) from exc


@router.get("/leads/", response=responses(200, list[LeadOut]), auth=READ, summary="List leads")
@paginate(Pagination)
def leads_list(request: HttpRequest, filters: Query[LeadFilters]) -> QuerySet[Lead]:
    """Newest first. Scope: leads:read."""
    phone = _e164(filters.phone, loc="query") if filters.phone else None
    return lead_list(
        viewer=api_viewer(request),
        status=filters.status,
        campaign_id=filters.campaign_id,
        external_id=filters.external_id,
        phone=phone,
        updated_since=filters.updated_since,
    )


@router.post("/leads/", response=responses(201, LeadOut), auth=WRITE, summary="Create a lead")
def leads_create(request: HttpRequest, payload: LeadIn) -> Status[Lead]:
    """The phone is stored in E.164; a number on the do-not-call list makes a do-not-call lead. A refusal gives
    each field's reason code as its detail's type; 409 `duplicate` names the existing lead (`lead_id`) when the
    key may see it. Scope: leads:write."""
    data = payload.dict()
    lead = Lead(crm_id=data.pop("external_id"), **data)
    viewer = api_viewer(request)
    if not viewer.sees_all:
        lead.owner_id = viewer.user_id  # an agent's lead is theirs, or they could not read it back
    return Status(201, _lead_saved(request, lead))


@router.get("/leads/{int:lead_id}", response=responses(200, LeadOut), auth=READ, summary="Get a lead")
def leads_get(request: HttpRequest, lead_id: Path[Id]) -> Lead:
    """Scope: leads:read."""
    return get_object_or_404(leads_visible(viewer=api_viewer(request)), pk=lead_id)


@router.patch("/leads/{int:lead_id}", response=responses(200, LeadOut), auth=WRITE, summary="Update a lead")
def leads_update(request: HttpRequest, payload: LeadPatch, lead_id: Path[Id]) -> Lead:
    """Only the fields given change. Scope: leads:write."""
    lead = get_object_or_404(leads_visible(viewer=api_viewer(request)), pk=lead_id)
    for name, value in payload.dict(exclude_unset=True).items():
        if value is None and name != "external_id":
            continue  # null means "leave it", except for the external id, which may be cleared
        setattr(lead, "crm_id" if name == "external_id" else name, value)
    return _lead_saved(request, lead)


@router.delete("/leads/{int:lead_id}", response=responses(204, None), auth=WRITE, summary="Delete a lead")
def leads_delete(request: HttpRequest, lead_id: Path[Id]) -> HttpResponse:
    """Deletes the lead's calls and appointments too. Scope: leads:write."""
    lead_delete(lead=get_object_or_404(leads_visible(viewer=api_viewer(request)), pk=lead_id))
    return HttpResponse(status=204)


@router.post(
    "/leads/bulk-upsert",
    response=responses(200, BulkUpsertOut),
    auth=WRITE,
    summary="Create or update leads by external id",
)
def leads_bulk_upsert(request: HttpRequest, payload: BulkUpsertIn) -> dict[str, Any]:
    """Up to 1000 leads, matched on external_id. Each row is checked as a CSV import row is: a bad row (one
    without an external_id among them) is rejected with its reason and reason_code, and the good rows are
    saved. A duplicate names the existing lead (`lead_id`) when the key may see it. Scope: leads:write."""
    rows = [_upsert_values(row.dict(exclude_unset=True)) for row in payload.leads]
    results = lead_bulk_upsert(rows=rows, viewer=api_viewer(request))
    return {
        "created": sum(r.status == "created" for r in results),
        "updated": sum(r.status == "updated" for r in results),
        "rejected": sum(r.status == "rejected" for r in results),
        "rows": results,
    }


def _upsert_values(row: dict[str, Any]) -> dict[str, str]:
    # From the API's names to the CSV import's; a null value is a value not given.
    consent = row.pop("consent", None) or {}
    values = {("crm_id" if k == "external_id" else k): v for k, v in row.items() if v is not None}
    values.update({f"consent_{k if k != 'given_at' else 'at'}": v for k, v in consent.items() if v is not None})
    return {k: v for k, v in values.items() if k in UPSERT_FIELDS}


# --- Do-not-call ------------------------------------------------------------------------------------------------


@router.post(
    "/dnc/",
    response=responses(frozenset({200, 201}), DncOut),
    auth=ApiKeyAuth("dnc:write"),
    tags=["do-not-call"],
    summary="Add a number to the do-not-call list",
)
def dnc_create(request: HttpRequest, payload: DncIn) -> Status[DoNotCall]:
    """Every lead with the number becomes do-not-call. 201 when added; 200 with the first entry when the
    number was already on the list. Scope: dnc:write."""
    e164 = _e164(payload.phone, loc="body")
    existed = dnc_entry_get(phone=e164) is not None
    entry = dnc_add(phone=e164, reason=payload.reason, source=DoNotCall.Source.API)
    return Status(200 if existed else 201, entry)


@router.get(
    "/dnc/check",
    response=responses(200, DncCheckOut),
    auth=ApiKeyAuth("dnc:read"),
    tags=["do-not-call"],
    summary="Check a number against the do-not-call list",
)
def dnc_check(request: HttpRequest, query: Query[PhoneQuery]) -> dict[str, Any]:
    """Scope: dnc:read."""
    e164 = _e164(query.phone, loc="query")
    entry = dnc_entry_get(phone=e164)
    return {"phone": e164, "on_list": entry is not None, "entry": entry}
