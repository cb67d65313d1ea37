"""The one NinjaAPI; each app's router is mounted by dotted path.

Interactive docs at /api/docs, the OpenAPI schema at /api/openapi.json.
Every operation needs an API key (X-API-Key header, managed in the admin)
with the operation's scope; errors share one format (reautomation.api_errors).
"""

from __future__ import annotations

from ninja import NinjaAPI, Swagger

from reautomation.api_errors import install_error_handlers

api = NinjaAPI(
    title="REAutomation API",
    version="1",
    urls_namespace="api",
    description="Leads, campaigns, calls, appointments, the do-not-call list and metrics for CRMs. "
    "Send an API key in the X-API-Key header; each operation names the scope it needs.",
    # Swagger UI would send the schema's address to validator.swagger.io for a badge; the
    # Content-Security-Policy refuses that image anyway (reautomation.security).
    docs=Swagger(settings={"validatorUrl": None}),
)
install_error_handlers(api)
# The routers spell out their own paths (/leads/, /dnc/, /campaigns/, /calls/, ...).
api.add_router("", "leads.api.router")
api.add_router("", "calls.api.router")
api.add_router("", "agents.api.router")
