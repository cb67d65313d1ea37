"""Reads for leads and the do-not-call list."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from leads.models import DoNotCall, Lead


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
