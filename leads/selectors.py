"""Reads for leads and the do-not-call list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from common.access import Viewer
from leads.models import Consent, DoNotCall, Lead

_NOTHING = Q(pk__in=[])


def lead_visibility(viewer: Viewer) -> Q:
    """Return the filter on Lead that keeps the leads `viewer` may see (see common.access.Viewer)."""
    if viewer.sees_all:
        return Q()
    if viewer.user_id is None:
        return _NOTHING
    # A subquery, not a join: a lead in several of the agent's campaigns would come back once per campaign.
    in_own_campaigns = Lead.objects.filter(campaigns__owner_id=viewer.user_id).values("pk")
    return Q(owner_id=viewer.user_id) | Q(pk__in=in_own_campaigns)


def leads_visible(*, viewer: Viewer) -> QuerySet[Lead]:
    """Return the leads `viewer` may see."""
    return Lead.objects.filter(lead_visibility(viewer))


def lead_import_visibility(viewer: Viewer) -> Q:
    """Return the filter on LeadImport that keeps the imports `viewer` may see: their own uploads (and their
    reports, which quote every row), or all of them for a manager."""
    if viewer.sees_all:
        return Q()
    return Q(created_by_id=viewer.user_id) if viewer.user_id is not None else _NOTHING


def consent_visibility(viewer: Viewer) -> Q:
    """Return the filter on Consent that keeps the consents of the leads `viewer` may see."""
    return Q() if viewer.sees_all else Q(lead__in=leads_visible(viewer=viewer).values("pk"))


def lead_list(
    *,
    viewer: Viewer,
    status: str | None = None,
    campaign_id: int | None = None,
    external_id: str | None = None,
    phone: str | None = None,
    updated_since: dt.datetime | None = None,
) -> QuerySet[Lead]:
    """Return the leads matching every given filter, newest first; `phone` is in E.164."""
    leads = leads_visible(viewer=viewer).order_by("-created_at", "-pk")
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


@dataclass(frozen=True)
class LeadClash:
    """Another lead that already has a phone or external id; numbered only for a viewer who sees it."""

    lead_id: int | None

    def reason(self, what: str) -> str:
        """Return the sentence that refuses `what` (a phone, or an external id) as a duplicate."""
        if self.lead_id is None:
            return f"{what} is already a lead of another agent"
        return f"{what} is already lead #{self.lead_id}"


def lead_clash_get(
    *, viewer: Viewer, phone: str | None = None, crm_id: str | None = None, exclude_id: int | None = None
) -> LeadClash | None:
    """Return the lead, other than `exclude_id`, with this phone (E.164) or external id, or None.

    Its id is left out when `viewer` may not see it, so a rejection does not reveal another agent's lead.
    """
    match = Q(phone=phone) if phone else Q(crm_id=crm_id) if crm_id else _NOTHING
    others = Lead.objects.filter(match) if exclude_id is None else Lead.objects.filter(match).exclude(pk=exclude_id)
    clash_id = others.values_list("pk", flat=True).first()
    if clash_id is None:
        return None
    return LeadClash(lead_id=clash_id if leads_visible(viewer=viewer).filter(pk=clash_id).exists() else None)


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
