"""The admin's site: its index and sidebar group the models the way a brokerage works, not by Django app.

A broker finds leads, campaigns, appointments and billing in sections named for the work; the
scheduler's tables, per-call logs and rollups are internals, listed only to superusers under System.
Hiding them from the index changes no permission: a page is still open to whoever holds its permission.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest

# Sections in the order they show, each with its models in order: (app_label, model_name).
SECTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Leads",
        [("leads", "lead"), ("leads", "leadimport"), ("leads", "consent"), ("leads", "leadnote")],
    ),
    ("Campaigns & calls", [("calls", "campaign"), ("calls", "call")]),
    ("Appointments & brokers", [("agents", "appointment"), ("agents", "broker"), ("agents", "scoringconfig")]),
    (
        "Compliance",
        [("leads", "donotcall"), ("calls", "staterule"), ("calls", "dialdecision")],
    ),
    ("Billing", [("billing", "budget"), ("billing", "costentry"), ("billing", "priceitem")]),
    (
        "Integrations",
        [
            ("integrations", "apikey"),
            ("integrations", "sheetsync"),
            ("integrations", "sheetsyncrun"),
            ("integrations", "webhookendpoint"),
            ("integrations", "webhookdelivery"),
            ("integrations", "calendarfeed"),
        ],
    ),
]
# Everything not in a section above: people and their roles, the scheduler, lockouts, raw per-turn rows
# and daily rollups (the dashboard shows those). Listed to superusers only.
SYSTEM = "System"


class ReautomationAdminSite(admin.AdminSite):
    site_header = "REAutomation"
    site_title = "REAutomation admin"
    index_title = "Leads, campaigns and calls"

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        """Return the models the user may see, in the sections of SECTIONS; one app's page lists that app."""
        if app_label is not None:
            return super().get_app_list(request, app_label)
        models = {
            (app["app_label"], model["object_name"].lower()): (app, model)
            for app in self._build_app_dict(request).values()
            for model in app["models"]
        }
        sections = []
        for name, keys in SECTIONS:
            found = [models.pop(key) for key in keys if key in models]
            if found:
                sections.append(_section(name, found))
        if request.user.is_superuser and models:
            rest = sorted(models.values(), key=lambda pair: (pair[0]["name"], pair[1]["name"]))
            sections.append(_section(SYSTEM, rest))
        return sections


def _section(name: str, found: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    first_app, first_model = found[0]
    return {
        "name": name,
        # The label only styles the section; its heading opens the first model's list.
        "app_label": name.lower().replace(" & ", "-").replace(" ", "-"),
        "app_url": first_model.get("admin_url") or first_app["app_url"],
        "has_module_perms": True,
        "models": [model for _, model in found],
    }


class ReautomationAdminConfig(AdminConfig):
    """django.contrib.admin, with ReautomationAdminSite as admin.site (INSTALLED_APPS names this instead)."""

    default_site = "reautomation.admin_site.ReautomationAdminSite"
