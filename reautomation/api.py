"""The one NinjaAPI; each app's router is mounted by dotted path."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="REAutomation API", version="1", urls_namespace="api")
api.add_router("/leads/", "leads.api.router")
