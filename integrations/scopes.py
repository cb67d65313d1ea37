"""Which Django model permissions each API key scope stands for, and who may grant it.

A key never does more than its creator may do in the admin: granting a scope
needs every permission below, and a key works only while its creator still
holds them. Each list follows what the scope's operations read and write
(the modules of reautomation/api/): a write also answers with the
record it wrote, so it needs the view permission too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied

from common.access import Viewer

SCOPE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "leads:read": ("leads.view_lead",),
    # Create, update, bulk upsert and delete.
    "leads:write": ("leads.view_lead", "leads.add_lead", "leads.change_lead", "leads.delete_lead"),
    "campaigns:read": ("calls.view_campaign",),
    # Create, add leads, start and pause.
    "campaigns:write": ("calls.view_campaign", "calls.add_campaign", "calls.change_campaign"),
    # A call comes with its transcript, recording and cost entries.
    "calls:read": ("calls.view_call", "calls.view_transcriptturn", "billing.view_costentry"),
    "appointments:read": ("agents.view_appointment",),
    # Book and cancel.
    "appointments:write": ("agents.view_appointment", "agents.add_appointment", "agents.change_appointment"),
    "dnc:read": ("leads.view_donotcall",),
    "dnc:write": ("leads.add_donotcall",),
    # Counts over each of these tables, and the budgets' use.
    "metrics:read": (
        "leads.view_lead",
        "calls.view_campaign",
        "calls.view_call",
        "agents.view_appointment",
        "leads.view_donotcall",
        "billing.view_budget",
    ),
    # A broker's slots are worked out from their hours.
    "brokers:read": ("agents.view_broker", "agents.view_workinghours"),
    # An endpoint receives the events of every agent's leads, so the API also asks for a key that sees the
    # whole team (reautomation.api.integrations); these are only managers' permissions.
    "webhooks:manage": (
        "integrations.view_webhookendpoint",
        "integrations.add_webhookendpoint",
        "integrations.change_webhookendpoint",
        "integrations.delete_webhookendpoint",
    ),
}


class ScopesNotHeld(PermissionDenied):
    """A user tried to grant API key scopes whose permissions they lack."""

    def __init__(self, missing: dict[str, list[str]]) -> None:
        self.missing = missing
        super().__init__(scopes_not_held_message(missing))


def scope_permissions_lacking(*, user: Any, scopes: Iterable[str]) -> dict[str, list[str]]:
    """Return each of these scopes the user may not use or grant, with the permissions they lack for it.

    An inactive user, or none at all, holds nothing; a superuser holds everything.
    """
    active = user is not None and getattr(user, "is_active", False)
    lacking: dict[str, list[str]] = {}
    for scope in sorted(set(scopes)):
        perms = SCOPE_PERMISSIONS[scope]
        missing = [p for p in perms if not (active and user.has_perm(p))]
        if missing:
            lacking[scope] = missing
    return lacking


def scopes_not_held_message(missing: dict[str, list[str]]) -> str:
    """Return the error naming each scope a user may not grant and the permissions it needs."""
    parts = [f"{scope} (needs {', '.join(perms)})" for scope, perms in missing.items()]
    return "You can only grant scopes whose permissions you hold yourself; you lack: " + "; ".join(parts) + "."


class ActsForNotAllowed(PermissionDenied):
    """A user tried to bind an API key to another agent whose records they do not see."""

    def __init__(self) -> None:
        super().__init__(ACTS_FOR_NOT_ALLOWED)


ACTS_FOR_NOT_ALLOWED = "Only a manager may bind a key to another agent; you may bind it to yourself."


def acts_for_allowed(*, user: Any, acts_for: Any) -> bool:
    """Return whether `user` may make a key that acts for `acts_for` (code, with no user, may)."""
    if user is None or acts_for is None or acts_for.pk == user.pk:
        return True
    return Viewer.of(user).sees_all
