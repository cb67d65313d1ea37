"""The leads worklist: search and filters, CSV export, bulk "add to campaign", and notes on a lead."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from agents.selectors import scoring_rules_get
from calls.selectors import campaigns_visible
from calls.services import campaign_leads_add
from common.access import Viewer, dashboard_view
from dashboard.selectors import lead_dashboard_get
from dashboard.views import CHANGE_CAMPAIGNS, SEE_LEADS
from dashboard.worklist import (
    BULK_ADD_LIMIT,
    WorklistFilterForm,
    WorklistFilters,
    lead_bucket,
    leads_not_dialable_count,
    worklist_csv_rows,
    worklist_leads,
)
from leads.qualification import qualification_slot_rows
from leads.selectors import leads_visible
from leads.services import lead_note_create

# A note annotates the lead: the right the admin would ask for (adding leads to a campaign changes it).
CHANGE_LEADS = permission_required("leads.change_lead", raise_exception=True)

LEADS_PER_PAGE = 50
# The preset tabs: each is the query string of a filter any user could set by hand.
PRESETS = [
    ("all", "All leads", ""),
    ("callbacks", "Call back today", "next_attempt=by_today&sort=next_attempt"),
    ("hot", "Hot leads", "bucket=hot&sort=score"),
]


def _filters(request: HttpRequest, viewer: Viewer) -> tuple[WorklistFilterForm, WorklistFilters]:
    form = WorklistFilterForm(request.GET, viewer=viewer)
    return form, WorklistFilters.of(form)


@require_GET
@dashboard_view
@SEE_LEADS
def lead_list(request: HttpRequest) -> HttpResponse:
    """The leads the user sees, searched and filtered, 50 to a page, with the bulk "add to campaign" form."""
    viewer = Viewer.of(request.user)
    form, filters = _filters(request, viewer)
    leads = worklist_leads(viewer=viewer, filters=filters, now=timezone.now())
    page = Paginator(leads, LEADS_PER_PAGE).get_page(request.GET.get("page"))
    rules = scoring_rules_get()
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "nav": "leads",
        "form": form,
        "page": page,
        "rows": [(lead, lead_bucket(score=lead.score, rules=rules)) for lead in page.object_list],
        "query": query.urlencode(),
        "presets": PRESETS,
        "preset": next((key for key, _, q in PRESETS if q == query.urlencode()), ""),
        "campaigns": campaigns_visible(viewer=viewer).order_by("name", "pk"),
        "can_add": request.user.has_perm("calls.change_campaign"),
        "bulk_limit": BULK_ADD_LIMIT,
    }
    return render(request, "dashboard/lead_list.html", context)


@require_GET
@dashboard_view
@SEE_LEADS
def lead_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered leads as CSV: the same rows as the list, every page of them."""
    viewer = Viewer.of(request.user)
    _, filters = _filters(request, viewer)
    leads = worklist_leads(viewer=viewer, filters=filters, now=timezone.now())
    response = StreamingHttpResponse(worklist_csv_rows(leads=leads), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="leads-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


@require_POST
@dashboard_view
@SEE_LEADS
@CHANGE_CAMPAIGNS
def leads_campaign_add(request: HttpRequest) -> HttpResponse:
    """Add the ticked leads, or every filtered lead, to a campaign the user sees; back to the list with the count."""
    viewer = Viewer.of(request.user)
    back = f"{reverse('dashboard:lead_list')}?{request.POST.get('query', '')}".rstrip("?")
    campaign_id = _int(request.POST.get("campaign"))
    campaign = None if campaign_id is None else campaigns_visible(viewer=viewer).filter(pk=campaign_id).first()
    if campaign is None:
        messages.error(request, "Pick one of your campaigns to add the leads to.")
        return HttpResponseRedirect(back)
    if request.POST.get("scope") == "filtered":
        # The filters travel in the form as the list's query string, so "all N" is the N the page showed.
        form = WorklistFilterForm(QueryDict(request.POST.get("query", "")), viewer=viewer)
        leads = worklist_leads(viewer=viewer, filters=WorklistFilters.of(form), now=timezone.now())
        lead_ids = list(leads.values_list("pk", flat=True)[: BULK_ADD_LIMIT + 1])
        if len(lead_ids) > BULK_ADD_LIMIT:
            messages.error(request, f"More than {BULK_ADD_LIMIT:,} leads match: narrow the filters first.")
            return HttpResponseRedirect(back)
    else:
        lead_ids = sorted({n for n in map(_int, request.POST.getlist("lead")) if n is not None})
    if not lead_ids:
        messages.error(request, "Tick the leads to add, or choose all the filtered leads.")
        return HttpResponseRedirect(back)
    try:
        added = campaign_leads_add(viewer=viewer, campaign=campaign, lead_ids=lead_ids)
    except ValidationError:
        # Ids of leads the user does not see (another agent's, or deleted): nothing was added.
        messages.error(request, "Some of those leads are not yours to add; nothing was added.")
        return HttpResponseRedirect(back)
    messages.success(
        request, _added_text(campaign.name, added, len(lead_ids), leads_not_dialable_count(lead_ids=lead_ids))
    )
    return HttpResponseRedirect(back)


def _added_text(name: str, added: int, asked: int, not_dialable: int) -> str:
    text = f"Added {added} lead{pluralize(added)} to {name}"
    if asked - added:
        text += f"; {asked - added} {'was' if asked - added == 1 else 'were'} already in it"
    text += "."
    if not_dialable:
        text += f" {not_dialable} of them {'is' if not_dialable == 1 else 'are'} on the do-not-call list: never dialed."
    return text


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@require_POST
@dashboard_view
@SEE_LEADS
@CHANGE_LEADS
def lead_note_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a note to a lead the user sees; an invalid note shows the lead's page again with the error."""
    viewer = Viewer.of(request.user)
    lead = leads_visible(viewer=viewer).filter(pk=pk).first()
    if lead is None:
        raise Http404("No such lead.")
    text = request.POST.get("text", "")
    try:
        lead_note_create(lead=lead, author_id=request.user.pk, text=text)
    except ValidationError as exc:
        dashboard = lead_dashboard_get(viewer=viewer, lead_id=pk)
        assert dashboard is not None  # the lead was visible a moment ago
        context = {
            "nav": "campaigns",  # as views.lead_detail's
            "lead": dashboard.lead,
            "dashboard": dashboard,
            "slots": qualification_slot_rows(qualification=dashboard.lead.qualification),
            "note_text": text,
            "note_errors": exc.message_dict.get("text", exc.messages),
        }
        return render(request, "dashboard/lead_detail.html", context, status=400)
    messages.success(request, "Note added.")
    return HttpResponseRedirect(f"{reverse('dashboard:lead_detail', args=[pk])}#notes")
