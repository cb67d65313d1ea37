"""The dashboard: campaign results and controls, drill-down to leads and calls, the live monitor and the test call."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from agents.selectors import campaign_for_test_call_get
from billing.selectors import campaign_budget_shortfall
from calls.models import Campaign
from calls.selectors import call_recording_get, campaigns_visible
from calls.services import campaign_activate, campaign_pause, campaign_upload_create
from common.access import Viewer, dashboard_view
from common.files import field_file_response
from dashboard import charts
from dashboard.selectors import (
    CampaignDashboard,
    call_dashboard_get,
    call_latency_get,
    campaign_calls_list,
    campaign_dashboard_get,
    campaign_summary_list,
    campaign_uploads_list,
    lead_dashboard_get,
)
from leads.forms import LeadImportUploadForm
from leads.models import LeadImport
from leads.qualification import qualification_slot_rows
from leads.uploads import LeadFileLimitHandler

# Each page needs the model permission the admin would ask for, and shows only what its user sees (Viewer).
SEE_CAMPAIGNS = permission_required("calls.view_campaign", raise_exception=True)
SEE_CALLS = permission_required("calls.view_call", raise_exception=True)
SEE_LEADS = permission_required("leads.view_lead", raise_exception=True)
# Starting, pausing and uploading leads into a campaign: what the admin's campaign actions ask for.
CHANGE_CAMPAIGNS = permission_required("calls.change_campaign", raise_exception=True)
UPLOAD_LEADS = permission_required("leads.add_leadimport", raise_exception=True)


@require_GET
@dashboard_view
@SEE_CALLS
def live_monitor(request: HttpRequest) -> HttpResponse:
    """The calls in progress, their transcripts updating over a websocket (dashboard.consumers.LiveCallsConsumer)."""
    return render(request, "dashboard/live.html", {"nav": "live"})


# --- Campaign results and drill-down --------------------------------------------------------------

CALLS_PER_PAGE = 50
# The latency chart spans the page: drawn this wide, its text stays the size of the other charts'.
WIDE_CHART_WIDTH = 1200


@require_GET
@dashboard_view
@SEE_CAMPAIGNS
def campaign_list(request: HttpRequest) -> HttpResponse:
    """Every campaign the user sees, with its leads, calls, funnel counts and cost per booking."""
    rows = campaign_summary_list(viewer=Viewer.of(request.user))
    return render(request, "dashboard/campaign_list.html", {"nav": "campaigns", "rows": rows})


@require_GET
@dashboard_view
@SEE_CAMPAIGNS
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One campaign's figures and charts, and its calls, 50 to a page."""
    viewer = Viewer.of(request.user)
    campaign = get_object_or_404(campaigns_visible(viewer=viewer), pk=pk)
    dashboard = campaign_dashboard_get(campaign=campaign, now=timezone.now())
    page = Paginator(campaign_calls_list(viewer=viewer, campaign=campaign), CALLS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    user = request.user
    context = {
        "nav": "campaigns",
        "campaign": campaign,
        "dashboard": dashboard,
        "charts": campaign_charts(dashboard),
        "page": page,
        "can_control": user.has_perm("calls.change_campaign"),
        "can_upload": user.has_perm("calls.change_campaign") and user.has_perm("leads.add_leadimport"),
        "upload_form": LeadImportUploadForm(),
        "uploads": campaign_uploads_list(campaign=campaign),
        "lead_count": campaign.leads.count(),
    }
    return render(request, "dashboard/campaign_detail.html", context)


# --- Running a campaign: start, pause, resume, and leads uploaded into it -------------------------------


@require_POST
@dashboard_view
@CHANGE_CAMPAIGNS
def campaign_start(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a draft campaign, or resume a paused one; the service's refusal shows as a message."""
    campaign = get_object_or_404(campaigns_visible(viewer=Viewer.of(request.user)), pk=pk)
    verb = "resumed" if campaign.status == Campaign.Status.PAUSED else "started"
    # Activating a campaign no budget can pay for would only have billing pause it again at its first dial.
    short = campaign_budget_shortfall(campaign_id=campaign.pk, now=timezone.now())
    if short is not None:
        messages.error(request, f'Campaign "{campaign}" was not {verb}: {short.reason}.')
        return redirect("dashboard:campaign_detail", pk=campaign.pk)
    try:
        campaign_activate(campaign=campaign)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        window = f"{campaign.window_start:%H:%M} and {campaign.window_end:%H:%M}"
        messages.success(
            request,
            f'Campaign "{campaign}" {verb}. It dials between {window} in each '
            "lead's local time (and within their state's rules); outside those hours its calls wait.",
        )
    return redirect("dashboard:campaign_detail", pk=campaign.pk)


@require_POST
@dashboard_view
@CHANGE_CAMPAIGNS
def campaign_pause_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Pause an active campaign by hand: it stays paused until someone resumes it."""
    campaign = get_object_or_404(campaigns_visible(viewer=Viewer.of(request.user)), pk=pk)
    try:
        campaign_pause(
            campaign=campaign, reason=f"Paused on the dashboard by {request.user}", kind=Campaign.PauseKind.MANUAL
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f'Campaign "{campaign}" paused. Calls already queued wait until you resume it.')
    return redirect("dashboard:campaign_detail", pk=campaign.pk)


# CSRF is checked in _campaign_upload, after the size limit's handler is installed: the check reads the body,
# and upload handlers cannot be added once it is read (as in leads.admin.LeadImportAdmin.add_view).
@csrf_exempt
@require_POST
@dashboard_view
@CHANGE_CAMPAIGNS
@UPLOAD_LEADS
def campaign_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Import a lead CSV into the campaign: a worker imports it, and the leads it creates join the campaign."""
    size_limit = LeadFileLimitHandler(request)
    request.upload_handlers = [size_limit, *request.upload_handlers]
    return _campaign_upload(request, pk, size_limit)


@csrf_protect
def _campaign_upload(request: HttpRequest, pk: int, size_limit: LeadFileLimitHandler) -> HttpResponse:
    campaign = get_object_or_404(campaigns_visible(viewer=Viewer.of(request.user)), pk=pk)
    form = LeadImportUploadForm(request.POST, request.FILES, refusal=size_limit.refusal)
    if not form.is_valid():
        errors = [str(error) for field_errors in form.errors.values() for error in field_errors]
        messages.error(request, "The file was not uploaded: " + " ".join(errors))
        return redirect("dashboard:campaign_detail", pk=campaign.pk)
    upload = form.cleaned_data["file"]
    try:
        lead_import = campaign_upload_create(
            campaign=campaign,
            file_name=upload.name,
            data=upload.read(),
            source=form.cleaned_data["source"],
            user=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("dashboard:campaign_detail", pk=campaign.pk)
    _upload_message(request, lead_import)
    return redirect(reverse("dashboard:campaign_detail", args=[campaign.pk]) + "#uploads")


def _upload_message(request: HttpRequest, lead_import: LeadImport) -> None:
    # Imported already when Celery runs eagerly (the embedded default); otherwise a worker reports on the page.
    lead_import.refresh_from_db()
    report = reverse("admin:leads_leadimport_change", args=[lead_import.pk])
    if lead_import.status == LeadImport.Status.FAILED:
        messages.error(request, f"{lead_import.file_name} was not imported: {lead_import.error}")
    elif lead_import.finished_at is None:
        messages.info(request, f"{lead_import.file_name} is queued for import; its leads join the campaign when done.")
    else:
        text = format_html(
            '{} of {} rows of {} imported into the campaign; {} rejected (<a href="{}">report</a>).',
            lead_import.imported_count,
            lead_import.total_rows,
            lead_import.file_name,
            lead_import.rejected_count,
            report,
        )
        level = messages.WARNING if lead_import.rejected_count else messages.SUCCESS
        messages.add_message(request, level, text)


@require_GET
@dashboard_view
@SEE_CALLS
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One call: its transcript with per-turn latency, recording, extracted data and cost lines."""
    call = call_dashboard_get(viewer=Viewer.of(request.user), call_id=pk)
    if call is None:
        raise Http404("No such call.")
    context = {
        "nav": "campaigns",
        "call": call,
        "turns": list(call.turns.all()),
        "latency": call_latency_get(call=call),
        "slots": qualification_slot_rows(qualification=call.qualification),
        "recording_src": reverse("dashboard:call_recording", args=[call.pk]) if call.recording else call.recording_url,
    }
    return render(request, "dashboard/call_detail.html", context)


@require_GET
@dashboard_view
@SEE_CALLS
def call_recording(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The call's recording for the page's audio player, to those who see the call only: it is the lead's voice."""
    recording = call_recording_get(viewer=Viewer.of(request.user), call_id=pk)
    if recording is None:
        raise Http404("No recording stored for this call.")
    return field_file_response(request, recording, filename=f"call-{pk}{Path(recording.name or '').suffix}")


@require_GET
@dashboard_view
@SEE_LEADS
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One lead: its details, consent and do-not-call state, appointments and calls."""
    dashboard = lead_dashboard_get(viewer=Viewer.of(request.user), lead_id=pk)
    if dashboard is None:
        raise Http404("No such lead.")
    context = {
        "nav": "campaigns",
        "lead": dashboard.lead,
        "dashboard": dashboard,
        "slots": qualification_slot_rows(qualification=dashboard.lead.qualification),
    }
    return render(request, "dashboard/lead_detail.html", context)


@require_GET
@dashboard_view
@SEE_CAMPAIGNS
def test_call(request: HttpRequest, pk: int) -> HttpResponse:
    """Let a broker talk to a campaign's agent from the browser's microphone before the campaign dials anyone.

    The call itself runs over the page's socket, voice.consumers.BrowserTestCallConsumer.
    """
    try:
        campaign = campaign_for_test_call_get(viewer=Viewer.of(request.user), campaign_id=pk)
    except Campaign.DoesNotExist as exc:
        raise Http404("No such campaign.") from exc
    return render(request, "dashboard/test_call.html", {"campaign": campaign, "nav": "campaigns"})


def campaign_charts(dashboard: CampaignDashboard) -> dict[str, SafeString]:
    """Return the campaign page's SVG charts, by name."""
    days = dashboard.days
    labels = [f"{d:%b} {d.day}" for d in days.days]
    name = dashboard.campaign.name
    per_booking = days.cost_per_booking_usd
    return {
        "calls_per_day": charts.bar_chart(
            name="calls-per-day",
            label=f"Calls per day, {name}",
            bars=[
                charts.Bar(label, n, f"{d:%a %Y-%m-%d}: {n} call{pluralize(n)}")
                for label, d, n in zip(labels, days.days, days.calls, strict=True)
            ],
            x_title="Day",
            y_title="Calls",
            integer=True,
        ),
        "funnel": charts.funnel_chart(name="funnel", label=f"Outcome funnel, {name}", stages=dashboard.funnel),
        "scores": charts.histogram(
            name="score-distribution",
            label=f"Score distribution of reached calls, {name}",
            counts=dashboard.score_buckets,
        ),
        "cost_per_booking": charts.bar_chart(
            name="cost-per-booking",
            label=f"Cost per booking by day, {name}",
            bars=[
                charts.Bar(label, None if v is None else float(v), _per_booking_tooltip(d, v, n))
                for label, d, v, n in zip(labels, days.days, per_booking, days.booked, strict=True)
            ],
            x_title="Day",
            y_title="USD per booking",
            fmt=_usd_tick,
            empty_text="No bookings yet",
        ),
        # Drawn twice: across the page, and at the others' width for a phone, where the wide one's text
        # would shrink to nothing (the stylesheet shows one of them).
        **{
            key: charts.line_chart(
                name=chart_name,
                label=f"Response latency p50 and p95 by day, {name}",
                x_labels=labels,
                series=[
                    charts.Series("p50", [_float(v) for v in days.latency_p50_ms], "p50"),
                    charts.Series("p95", [_float(v) for v in days.latency_p95_ms], "p95"),
                ],
                x_title="Day",
                y_title="Milliseconds",
                fmt=lambda v: f"{v:,.0f}",
                width=width,
            )
            for key, chart_name, width in (
                ("latency", "latency", WIDE_CHART_WIDTH),
                ("latency_compact", "latency-compact", charts.WIDTH),
            )
        },
    }


def _per_booking_tooltip(day: dt.date, value: Decimal | None, booked: int) -> str:
    if value is None:
        return f"{day:%Y-%m-%d}: no bookings"
    return f"{day:%Y-%m-%d}: ${value:,.4f} per booking ({booked} booked)"


def _usd_tick(value: float) -> str:
    # Cents are too coarse for a campaign whose calls cost a fraction of a cent.
    return f"${value:,.2f}" if value == 0 or value >= 0.1 else f"${value:.3f}"


def _float(value: int | None) -> float | None:
    return None if value is None else float(value)
