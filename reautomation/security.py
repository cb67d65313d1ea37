"""HTTP hardening: a Content-Security-Policy and no-store on every page, and no URL passwords on the debug page."""

from __future__ import annotations

import re
from pprint import pformat
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.deprecation import MiddlewareMixin
from django.views.debug import SafeExceptionReporterFilter

# Every script and style the dashboard, the admin and the API docs use is a file under STATIC_URL,
# so nothing inline runs: an injected <script> or on*= attribute does nothing. Images may be data:
# URLs (the admin's and Swagger UI's icons); sockets and fetches go to this origin only ('self'
# covers ws:// and wss:// to it); no other site may frame a page, or be posted to by one.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# scheme://user:password@host -> scheme://user:********@host (the user name may be empty: redis://:pw@host).
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s]*):(?P<password>[^@/\s]+)@", re.IGNORECASE)
URL_PASSWORD_MASK = "********"


def url_passwords_mask(text: str) -> str:
    """Return `text` with the password of every URL in it replaced by asterisks."""
    return _URL_PASSWORD.sub(rf"\g<head>:{URL_PASSWORD_MASK}@", text)


class SecurityHeadersMiddleware(MiddlewareMixin):
    """Add the Content-Security-Policy, and `Cache-Control: no-store` unless the view chose its own caching.

    Every page this app renders is for a signed-in broker or an API client and shows leads' names,
    numbers and calls, so none may stay in a shared cache or the browser's history; static files
    are served (and cached) by WhiteNoise before this runs.
    """

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        # Django's own technical 404 and 500 pages in DEBUG style and script themselves inline.
        debug_page = settings.DEBUG and response.status_code in (404, 500)
        if not debug_page:
            response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Cache-Control", "no-store")
        return response


class CredentialsCleansingFilter(SafeExceptionReporterFilter):
    """Django's filter for error pages and reports, which also hides passwords written inside URLs.

    Django hides settings whose names look secret (SECRET_KEY, DATABASES' PASSWORD), but
    DATABASE_URL, REDIS_URL, CELERY_BROKER_URL, the cache's LOCATION and the channel layer's
    address carry the password inside the value.
    """

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        return url_passwords_mask(cleansed) if isinstance(cleansed, str) else cleansed

    def get_safe_request_meta(self, request: HttpRequest) -> dict[str, Any]:
        return {key: self._masked(value) for key, value in super().get_safe_request_meta(request).items()}

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        return [(name, self._masked(value)) for name, value in super().get_traceback_frame_variables(request, tb_frame)]

    def _masked(self, value: Any) -> Any:
        if isinstance(value, str):
            return url_passwords_mask(value)
        # A URL can hide anywhere in a variable (a dict of options, a client object); the page
        # shows each one as its pformat, so mask that text and show it in the value's place.
        try:
            shown = pformat(value)
        except Exception:  # noqa: BLE001 - the page itself says "Error in formatting" for these
            return value
        masked = url_passwords_mask(shown)
        return value if masked == shown else _Shown(masked)


class _Shown:
    """A frame variable replaced by its masked text, which the debug page prints as is."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text
