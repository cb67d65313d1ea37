"""The two roles a brokerage gives its people, as Django groups kept in step with the code on every migrate.

- Agents work their own leads: those assigned to them and those of the campaigns
  they run (common.access.Viewer). They add leads, run campaigns, book
  appointments, follow their calls and make API keys for their own CRM.
- Managers see and manage the whole team's records and the shared settings
  (do-not-call list, brokers' hours, budgets, integrations).

Superusers see everything and manage users. A permission added here by hand in
the admin stays; one removed from ROLES must be removed there too.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from common.access import TEAM_PERMISSION

AGENTS, MANAGERS = "Agents", "Managers"

_AGENT_PERMISSIONS = {
    # The do-not-call list is the whole brokerage's: every agent checks it and adds to it.
    "leads": {
        "lead": "view add change delete",
        "consent": "view add change",
        "leadimport": "view add",
        "donotcall": "view add",
    },
    "calls": {
        "campaign": "view add change",
        "call": "view",
        "transcriptturn": "view",
        "dialdecision": "view",
        "campaigndaystats": "view",
    },
    "agents": {"appointment": "view add change", "broker": "view", "workinghours": "view"},
    "billing": {"costentry": "view"},
    "integrations": {"apikey": "view add change"},
}
# Every permission of these apps, and the team's records.
_MANAGER_APPS = ("leads", "calls", "agents", "billing", "integrations")


def _codenames(spec: dict[str, dict[str, str]]) -> Q:
    wanted = Q(pk__in=[])
    for app, models in spec.items():
        for model, actions in models.items():
            names = [f"{action}_{model}" for action in actions.split()]
            wanted |= Q(content_type__app_label=app, content_type__model=model, codename__in=names)
    return wanted


def roles_sync(**_: Any) -> None:
    """Create the Agents and Managers groups and give each the permissions of its role (idempotent).

    Connected to the post_migrate signal of the last app (reautomation.apps), when every app's
    permissions exist.
    """
    agent_permissions = Permission.objects.filter(_codenames(_AGENT_PERMISSIONS))
    app, codename = TEAM_PERMISSION.split(".")
    manager_permissions = Permission.objects.filter(
        Q(content_type__app_label__in=_MANAGER_APPS) | Q(content_type__app_label=app, codename=codename)
    )
    for name, permissions in ((AGENTS, agent_permissions), (MANAGERS, manager_permissions)):
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)
