"""The dashboard: campaign results, drill-down to leads and calls, the live call monitor and the test call."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from agents.selectors import campaign_for_test_call_get
from calls.models import Campaign
from calls.selectors import call_recording_get, campaigns_visible
from dashboard import charts
from dashboard.selectors import (
    CampaignDashboard,
    call_dashboard_get,
    call_latency_get,
    campaign_calls_list,
    campaign_dashboard_get,
    campaign_summary_list,
    lead_dashboard_get,
    qualification_slot_rows,
)
from reautomation.access import Viewer, dashboard_view
from reautomation.files import field_file_response

# Each page needs the model permission the admin would ask for, and shows only what its user sees (Viewer).
SEE_CAMPAIGNS = permission_required("calls.view_campaign", raise_exception=True)
SEE_CALLS = permission_required("calls.view_call", raise_exception=True)
SEE_LEADS = permission_required("leads.view_lead", raise_exception=True)


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
    context = {
        "nav": "campaigns",
        "campaign": campaign,
        "dashboard": dashboard,
        "charts": campaign_charts(dashboard),
        "page": page,
    }
    return render(request, "dashboard/campaign_detail.html", context)


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
        "latency": charts.line_chart(
            name="latency",
            label=f"Response latency p50 and p95 by day, {name}",
            x_labels=labels,
            series=[
                charts.Series("p50", [_float(v) for v in days.latency_p50_ms], "p50"),
                charts.Series("p95", [_float(v) for v in days.latency_p95_ms], "p95"),
            ],
            x_title="Day",
            y_title="Milliseconds",
            fmt=lambda v: f"{v:,.0f}",
            width=WIDE_CHART_WIDTH,
        ),
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
