"""The browser test call's page (its socket is voice.consumers.BrowserTestCallConsumer)."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agents.selectors import campaign_for_test_call_get
from calls.models import Campaign
from reautomation.access import Viewer, dashboard_view


@require_GET
@dashboard_view
@permission_required("calls.view_campaign", raise_exception=True)
def test_call(request: HttpRequest, pk: int) -> HttpResponse:
    """Let a broker talk to a campaign's agent from the browser's microphone before the campaign dials anyone."""
    try:
        campaign = campaign_for_test_call_get(viewer=Viewer.of(request.user), campaign_id=pk)
    except Campaign.DoesNotExist as exc:
        raise Http404("No such campaign.") from exc
    return render(request, "dashboard/test_call.html", {"campaign": campaign, "nav": "campaigns"})
