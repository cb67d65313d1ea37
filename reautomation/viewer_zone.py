"""The viewer's own time zone, for call times and other times that concern nobody in particular.

Appointments and callbacks are shown in the lead's and the broker's zones (`common.zones`); every
other time a page shows is in the zone of whoever reads it. That zone is, first, the one the user chose
(`viewer_zone_set`, kept in the session); else the one their browser reports (`static/reautomation/viewer-zone.js`
sets a cookie); else their broker profile's zone; else the installation's TIME_ZONE.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from common.zones import zone_valid

SESSION_KEY = "viewer_timezone"
# Written by static/reautomation/viewer-zone.js from Intl.DateTimeFormat().resolvedOptions().timeZone.
COOKIE = "viewer_tz"


def viewer_zone_name(request: HttpRequest) -> str | None:
    """Return the IANA zone the request's viewer reads times in, or None for the installation's default."""
    session = getattr(request, "session", None)
    chosen = session.get(SESSION_KEY) if session is not None else None
    if zone_valid(chosen):
        return chosen
    browser = unquote(request.COOKIES.get(COOKIE, ""))
    if zone_valid(browser):
        return browser
    broker = getattr(getattr(request, "user", None), "broker", None)
    if broker is not None and zone_valid(broker.timezone):
        return str(broker.timezone)
    return None


# The zones a US brokerage reads in, offered in the dashboard's bar; any IANA name can be posted.
CHOICES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "UTC",
)


def viewer_zone_context(request: HttpRequest) -> dict[str, object]:
    """Template context for the zone picker: the choices, with the user's own pick among them."""
    session = getattr(request, "session", None)
    chosen = session.get(SESSION_KEY) if session is not None else None
    choices = CHOICES if not zone_valid(chosen) or chosen in CHOICES else (*CHOICES, chosen)
    return {"viewer_zone_choices": choices, "viewer_zone_chosen": zone_valid(chosen)}


class ViewerTimezoneMiddleware:
    """Activate the viewer's zone for the request, so templates and the admin render times in it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = viewer_zone_name(request)
        if name is None:
            timezone.deactivate()
        else:
            timezone.activate(name)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


@require_POST
def viewer_zone_set(request: HttpRequest) -> HttpResponse:
    """Keep the zone the user picked ("" goes back to the browser's) and return to the page they were on."""
    name = request.POST.get("timezone", "").strip()
    if name and not zone_valid(name):
        return HttpResponseBadRequest(f"Unknown time zone {name!r}: use an IANA name such as America/Chicago.")
    if name:
        request.session[SESSION_KEY] = name
    else:
        request.session.pop(SESSION_KEY, None)
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if not safe:
        target = "/"
    return HttpResponseRedirect(target)
