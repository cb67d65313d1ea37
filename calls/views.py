"""The dashboard: campaign results, drill-down to leads and calls, and the live call monitor."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from reautomation.access import dashboard_view


@require_GET
@dashboard_view
def live_monitor(request: HttpRequest) -> HttpResponse:
    """The calls in progress, their transcripts updating over a websocket (calls.consumers.LiveCallsConsumer)."""
    return render(request, "dashboard/live.html", {"nav": "live"})
