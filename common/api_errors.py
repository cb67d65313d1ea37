"""One error format for every API error, and the exception handlers that produce it.

Every 4xx and 5xx answer of /api/ has the body
{"error": {"code": "...", "message": "...", "details": [...]}}, whether it
comes from a router, from request validation, from authentication or from
Django's URL resolver (ApiErrorMiddleware rewrites those).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from ninja import Field, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from common.errors import InvalidPhoneNumber

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger(__name__)

CODES: dict[int, str] = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation_error",
    429: "rate_limited",
    500: "server_error",
}


class ErrorDetail(Schema):
    loc: list[str | int] = []
    message: str
    type: str = ""
    # Only in a refused lead's duplicate detail, and only when the key may see that lead.
    lead_id: int | None = Field(None, description="For a duplicate lead: the lead it duplicates, if the key sees it")


class ErrorBody(Schema):
    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorOut(Schema):
    error: ErrorBody


# Every router names its request body parameter so.
BODY_PARAMETER = "payload"

# Every operation documents these; the rate limit and the key check apply to all of them.
ERROR_STATUSES = frozenset({400, 401, 403, 404, 409, 422, 429})


def responses(ok_status: int | frozenset[int], schema: Any) -> dict[Any, Any]:
    """Return an operation's response map: the success schema plus the error format for every error status."""
    return {ok_status: schema, ERROR_STATUSES: ErrorOut}


class ApiError(HttpError):
    """An error a router raises on purpose, with its code and optional per-field details."""

    def __init__(self, status_code: int, message: str, *, code: str = "", details: list[dict[str, Any]] | None = None):
        super().__init__(status_code, message)
        self.code = code or CODES.get(status_code, "error")
        self.details = details or []


class RateLimited(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(429, f"Too many requests; retry in {retry_after} s.")
        self.retry_after = retry_after


def error_body(
    status: int, message: str, *, code: str = "", details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code or CODES.get(status, "error"), "message": message, "details": details or []}}


def _respond(api: NinjaAPI, request: HttpRequest, status: int, message: str, **kwargs: Any) -> HttpResponse:
    return api.create_response(request, error_body(status, message, **kwargs), status=status)


def _on_api_error(api: NinjaAPI, request: HttpRequest, exc: ApiError) -> HttpResponse:
    response = _respond(api, request, exc.status_code, exc.message, code=exc.code, details=exc.details)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _on_http_error(api: NinjaAPI, request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = exc.message
    if isinstance(exc, AuthenticationError):
        message = "A valid API key is required in the X-API-Key header."
    elif isinstance(exc, AuthorizationError):
        message = "This API key may not do that."
    return _respond(api, request, exc.status_code, message)


def _on_validation_error(api: NinjaAPI, request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    # Pydantic's error dicts carry non-JSON values (the input, ctx exceptions): keep what a client needs.
    details = [
        {"loc": _loc(e.get("loc", ())), "message": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors
    ]
    return _respond(api, request, 422, "The request is not valid.", details=details)


def _loc(loc: Sequence[Any]) -> list[str | int]:
    # ninja names the body parameter ("body", "payload", "name"); a client knows only ("body", "name").
    parts: list[str | int] = [p if isinstance(p, int) else str(p) for p in loc]
    if len(parts) >= 2 and parts[0] == "body" and parts[1] == BODY_PARAMETER:
        del parts[1]
    return parts


def _on_django_validation_error(api: NinjaAPI, request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    details: list[dict[str, Any]] = []
    codes: set[str | None] = set()
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                codes.add(error.code)
                details.append(
                    {
                        "loc": ["body", field] if field != "__all__" else ["body"],
                        "message": " ".join(error.messages),
                        "type": error.code or "",
                    }
                )
    else:
        for error in exc.error_list:
            codes.add(error.code)
            details.append({"loc": [], "message": " ".join(error.messages), "type": error.code or ""})
    if codes and codes <= {"unique", "unique_together"}:
        return _respond(api, request, 409, "A record with these values already exists.", details=details)
    return _respond(
        api, request, 422, details[0]["message"] if len(details) == 1 else "The request is not valid.", details=details
    )


def _on_invalid_phone(api: NinjaAPI, request: HttpRequest, exc: InvalidPhoneNumber) -> HttpResponse:
    return _respond(
        api, request, 422, f"Invalid phone: {exc}", details=[{"loc": [], "message": str(exc), "type": "invalid_phone"}]
    )


def _on_not_found(api: NinjaAPI, request: HttpRequest, exc: Exception) -> HttpResponse:
    return _respond(api, request, 404, "Not found.")


def _on_integrity_error(api: NinjaAPI, request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    # A unique row written by someone else between our check and our insert.
    logger.info("api integrity error", extra={"path": request.path, "error": str(exc)[:200]})
    return _respond(api, request, 409, "The change conflicts with another record; reload and retry.")


def _on_too_large(api: NinjaAPI, request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _respond(api, request, 413, f"The request body is larger than the {limit} bytes this API accepts.")


def _on_exception(api: NinjaAPI, request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("api request failed", extra={"path": request.path})
    return _respond(api, request, 500, "Internal server error.")


def install_error_handlers(api: NinjaAPI) -> None:
    """Make every exception the API can raise answer in the one error format."""
    handlers: list[tuple[type[Exception], Callable[..., HttpResponse]]] = [
        (Exception, _on_exception),
        (IntegrityError, _on_integrity_error),
        (RequestDataTooBig, _on_too_large),
        (Http404, _on_not_found),
        (ObjectDoesNotExist, _on_not_found),
        (InvalidPhoneNumber, _on_invalid_phone),
        (DjangoValidationError, _on_django_validation_error),
        (NinjaValidationError, _on_validation_error),
        (HttpError, _on_http_error),
        (ApiError, _on_api_error),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, _bound(api, handler))


def _bound(api: NinjaAPI, handler: Callable[..., HttpResponse]) -> Callable[[HttpRequest, Any], HttpResponse]:
    def handle(request: HttpRequest, exc: Any) -> HttpResponse:
        return handler(api, request, exc)

    return handle


class ApiErrorMiddleware:
    """Give the empty 405 that ninja answers a wrong method with (and any plain 404) the API's error format.

    Neither passes through the exception handlers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code in (404, 405)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            message = "Not found." if status == 404 else f"{request.method} is not allowed here."
            new = JsonResponse(error_body(status, message), status=status)
            if response.has_header("Allow"):
                new["Allow"] = response["Allow"]
            return new
        return response


@csrf_exempt
def api_not_found(request: HttpRequest) -> HttpResponse:
    """Answer an unknown /api/ URL in the error format, for any method.

    Routed after the API's own URLs, so every /api/ path resolves: Django's
    APPEND_SLASH then never redirects one (a POST would lose its body, and
    in DEBUG it raises instead).
    """
    message = "Not found."
    if not request.path.endswith("/") and _is_api_path(request.path + "/"):
        message = f"Not found; did you mean {request.path}/ ?"
    return JsonResponse(error_body(404, message), status=404)


def _is_api_path(path: str) -> bool:
    try:
        return resolve(path).func is not api_not_found
    except Resolver404:
        return False
