"""The admin's index groups models in sections a broker understands and hides internals from non-superusers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from reautomation.admin_site import ReautomationAdminSite
from reautomation.roles import AGENTS, MANAGERS
from tests.factories import team_member

pytestmark = pytest.mark.django_db

INTERNALS = ("periodic tasks", "crontabs", "groups", "login lockouts", "transcript turns", "campaign days")


def _sections(client: Client) -> dict[str, list[str]]:
    app_list: list[dict[str, Any]] = client.get(reverse("admin:index")).context["app_list"]
    return {app["name"]: [str(m["name"]) for m in app["models"]] for app in app_list}


def test_the_project_uses_the_grouping_site() -> None:
    assert isinstance(admin.site, ReautomationAdminSite)


def test_a_superuser_sees_the_sections_and_the_internals_under_system(admin_client: Client) -> None:
    sections = _sections(admin_client)
    assert list(sections)[:6] == [
        "Leads",
        "Campaigns & calls",
        "Appointments & brokers",
        "Compliance",
        "Billing",
        "Integrations",
    ]
    assert list(sections)[-1] == "System"
    assert sections["Campaigns & calls"] == ["Campaigns", "Calls"]
    assert sections["Compliance"] == ["Do-not-call list", "State rules", "Dial decisions"]
    system = [name.lower() for name in sections["System"]]
    assert all(internal in system for internal in INTERNALS)
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "Django Celery Beat" not in html and "Periodic tasks" in html


@pytest.mark.parametrize("role", [AGENTS, MANAGERS])
def test_an_agent_or_manager_sees_no_internals(client: Client, role: str) -> None:
    client.force_login(team_member("ana", role=role))
    sections = _sections(client)
    assert "System" not in sections
    shown = [name.lower() for models in sections.values() for name in models]
    assert not any(internal in shown for internal in INTERNALS)
    assert sections["Campaigns & calls"] == ["Campaigns", "Calls"]
    assert "Leads" in sections["Leads"] and "Lead imports" in sections["Leads"]
    html = client.get(reverse("admin:index")).content.decode()
    assert not re.search(r"(?i)django[ _]celery[ _]beat|Authentication and Authorization", html)


def test_an_apps_own_page_still_lists_that_app(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:app_list", args=["calls"]))
    assert response.status_code == 200
    [app] = response.context["app_list"]
    assert app["app_label"] == "calls"
