"""Tags for the leads worklist and the lead page: a lead's notes, and `tel:` links to its phone."""

from __future__ import annotations

from django import template

from dashboard.worklist import lead_notes_list
from leads.models import Lead, LeadNote

register = template.Library()


@register.simple_tag
def lead_notes(lead: Lead) -> list[LeadNote]:
    """Return the lead's notes, newest first (the lead page is rendered by views.lead_detail, which has none)."""
    return lead_notes_list(lead=lead)


@register.filter
def tel_href(lead: Lead) -> str:
    """Return the lead's phone as a tel: URI (RFC 3966), its extension included, for a phone to dial it."""
    ext = "".join(ch for ch in lead.phone_extension if ch.isdigit())
    return f"tel:{lead.phone}" + (f";ext={ext}" if ext else "")
