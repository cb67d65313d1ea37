"""The one NinjaAPI; each resource's router (a module of this package) is mounted by dotted path.

Served under /api/v1/, and under /api/ as an alias of it (reautomation.urls).
Interactive docs at /api/v1/docs, the OpenAPI schema at /api/v1/openapi.json.
Every operation needs an API key (X-API-Key header, managed in the admin)
with the operation's scope; errors share one format (common.api_errors).

The routers and their schemas live here rather than in each app (STYLE.md's `api.py`/`schemas.py`):
an endpoint reads several apps and checks keys from integrations, and inside the apps that made
them import each other. Here, on top, they only import down.
"""

from __future__ import annotations

import copy
from typing import Any

from ninja import NinjaAPI, Swagger
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation

from common.api_errors import install_error_handlers
from common.api_query import query_parameters_strict
from integrations.auth import rate_limit_headers

_INTEGER = {"type": "integer"}
RATE_LIMIT_HEADERS: dict[str, dict[str, Any]] = {
    "X-RateLimit-Limit": {"description": "Requests this key may make a minute", "schema": _INTEGER},
    "X-RateLimit-Remaining": {"description": "Requests left to this key in the current minute", "schema": _INTEGER},
    "X-RateLimit-Reset": {"description": "Unix time the current minute ends", "schema": _INTEGER},
    "Retry-After": {"description": "Seconds until the key may make requests again", "schema": _INTEGER},
}


class RestApi(NinjaAPI):
    """The NinjaAPI, with the rate-limit headers (integrations.auth.rate_limit_headers) in its schema."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema["components"]["headers"] = RATE_LIMIT_HEADERS
        # A copy: some response objects are the routers' own constants (reautomation.api.calls.RECORDING_RESPONSES).
        schema["paths"] = copy.deepcopy(schema["paths"])
        for path_item in schema["paths"].values():
            for operation in path_item.values():
                for status, response in operation["responses"].items():
                    # Every answer to a valid key has them; a 401 has no key to count against.
                    names = [n for n in RATE_LIMIT_HEADERS if n != "Retry-After" or str(status) == "429"]
                    if str(status) != "401":
                        headers = response.setdefault("headers", {})
                        headers.update({n: {"$ref": f"#/components/headers/{n}"} for n in names})
        return schema

    def get_openapi_operation_id(self, operation: Operation) -> str:
        # Clients generated from the schema name their methods after these ids: `<resource>_api_<view>`
        # (leads_api_lead_list), whatever package holds the views.
        resource = operation.view_func.__module__.rpartition(".")[2]
        return f"{resource}_api_{operation.view_func.__name__}"


api = RestApi(
    title="REAutomation API",
    version="1",
    urls_namespace="api",
    description="Leads, campaigns, calls, appointments, brokers' open slots, the do-not-call list, metrics and "
    "webhook endpoints for CRMs. Send an API key in the X-API-Key header; each operation names the scope it needs. "
    "Every answer to a valid key carries X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset.",
    # Swagger UI would send the schema's address to validator.swagger.io for a badge; the
    # Content-Security-Policy refuses that image anyway (reautomation.security).
    docs=Swagger(settings={"validatorUrl": None}),
)
install_error_handlers(api)
# Every operation: X-RateLimit-* headers on whatever it answers, and 422 for a query parameter it does not take.
api.add_decorator(rate_limit_headers, mode="view")
api.add_decorator(query_parameters_strict, mode="operation")
# The routers spell out their own paths (/leads/, /dnc/, /campaigns/, /calls/, /brokers/, /webhooks/, ...).
api.add_router("", "reautomation.api.leads.router")
api.add_router("", "reautomation.api.calls.router")
api.add_router("", "reautomation.api.agents.router")
api.add_router("", "reautomation.api.integrations.router")
