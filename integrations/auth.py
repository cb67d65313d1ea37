"""API-key authentication for the REST API: key check, per-key rate limit, then scope."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja.security import APIKeyHeader

from common.access import Viewer
from common.api_errors import ApiError, RateLimited
from integrations.models import ApiKey
from integrations.scopes import scope_permissions_lacking
from integrations.selectors import api_key_authenticate
from integrations.services import RateLimitUse, api_key_touch, api_rate_limit_take


def api_viewer(request: HttpRequest) -> Viewer:
    """Return whose records the request's API key sees: its creator's, narrowed to the agent it acts for.

    A key made from code (no creator) acting for nobody sees everything, as its scopes alone bind it.
    Worked out per request, so a demoted creator or agent narrows the key at once.
    """
    api_key: ApiKey = request.auth  # type: ignore[attr-defined]  # set by ApiKeyAuth
    viewer = Viewer.of(api_key.created_by) if api_key.created_by is not None else Viewer.everyone()
    if api_key.acts_for is not None:
        viewer = viewer.within(Viewer.of(api_key.acts_for))
    return viewer


class ApiKeyAuth(APIKeyHeader):
    """Accept a request carrying an active key in X-API-Key that has `scope`, while its creator holds it too.

    The rate limit counts every request of a known key, even one refused for
    its scope, so a key cannot probe the API faster than its limit.
    """

    param_name = "X-API-Key"

    def __init__(self, scope: str) -> None:
        if scope not in ApiKey.Scope.values:
            raise ValueError(f"unknown scope {scope!r}")
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        api_key = api_key_authenticate(raw_key=key or "")
        if api_key is None:
            return None  # ninja answers 401
        limit = api_key.rate_limit_per_minute or settings.API_RATE_LIMIT_PER_MINUTE
        use = api_rate_limit_take(key_id=api_key.pk, limit=limit)
        request.api_rate_limit = use  # type: ignore[attr-defined]  # read by rate_limit_headers
        if use.retry_after:
            raise RateLimited(retry_after=use.retry_after)
        if not api_key.has_scope(self.scope):
            raise ApiError(403, f"This API key lacks the {self.scope} scope.", code="missing_scope")
        # Checked on every request, not only when the key was made: demoting the creator shrinks the key.
        if api_key.created_by is not None and scope_permissions_lacking(user=api_key.created_by, scopes=[self.scope]):
            raise ApiError(
                403,
                f"This API key's creator no longer holds the permissions the {self.scope} scope needs.",
                code="creator_lacks_permission",
            )
        api_key_touch(api_key=api_key)
        return api_key


def rate_limit_headers(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Wrap an operation (ninja "view" mode: its whole run, errors included) to tell the caller its rate limit.

    X-RateLimit-Limit is the key's requests a minute, X-RateLimit-Remaining what is left of them in this
    minute, and X-RateLimit-Reset the Unix time the minute ends. A request without a valid key gets none.
    """

    @wraps(run)
    def with_headers(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = run(request, *args, **kwargs)
        use: RateLimitUse | None = getattr(request, "api_rate_limit", None)
        if use is not None:
            response["X-RateLimit-Limit"] = str(use.limit)
            response["X-RateLimit-Remaining"] = str(use.remaining)
            response["X-RateLimit-Reset"] = str(use.reset_at)
        return response

    return with_headers
