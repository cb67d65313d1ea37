"""Reads for leads and the do-not-call list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from leads.models import Consent, DoNotCall, Lead


def lead_list(
    *,
    status: str | None = None,
    campaign_id: int | None = None,
    external_id: str | None = None,
    phone: str | None = None,
    updated_since: dt.datetime | None = None,
) -> QuerySet[Lead]:
    """Return the leads matching every given filter, newest first; `phone` is in E.164."""
    leads = Lead.objects.order_by("-created_at", "-pk")
    if status:
        leads = leads.filter(status=status)
    if campaign_id is not None:
        leads = leads.filter(campaigns__id=campaign_id)
    if external_id:
        leads = leads.filter(crm_id=external_id)
    if phone:
        leads = leads.filter(phone=phone)
    if updated_since is not None:
        leads = leads.filter(updated_at__gte=updated_since)
    return leads


def dnc_entry_get(*, phone: str) -> DoNotCall | None:
    """Return the do-not-call entry of a number in E.164, or None."""
    return DoNotCall.objects.filter(phone=phone).first()


def consent_active_exists(*, lead: Lead, now: dt.datetime) -> bool:
    """Return whether the lead has a consent given by `now` and not revoked."""
    return Consent.objects.filter(lead=lead, revoked_at__isnull=True, given_at__lte=now).exists()


@dataclass(frozen=True)
class DncBlock:
    """Why a lead's number may not be dialed."""

    detail: str
    registry_only: bool  # only the national registry lists it; consent would lift it


def dnc_block_get(*, lead: Lead, now: dt.datetime) -> DncBlock | None:
    """Return why no campaign may dial the lead's number, or None when nothing blocks it.

    The national registry stands aside when the lead has an active consent (an
    established relationship or express permission: 47 CFR 64.1200(c)(2),
    16 CFR 310.4(b)(1)(iii)(B)).
    Our own list (the lead asked, an admin, the API, an imported list) never does.
    """
    if lead.status == Lead.Status.DO_NOT_CALL:
        return DncBlock("the lead is marked do-not-call", registry_only=False)
    entry = DoNotCall.objects.filter(phone=lead.phone).only("source").first()
    if entry is None:
        return None
    if entry.source != DoNotCall.Source.REGISTRY:
        return DncBlock(f"the number is on the do-not-call list ({entry.get_source_display()})", registry_only=False)
    if consent_active_exists(lead=lead, now=now):
        return None
    return DncBlock("the number is on the national do-not-call registry and the lead has no active consent", True)
