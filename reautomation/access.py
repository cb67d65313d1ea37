"""Who may see the dashboard: signed-in staff (the brokers and agents who use the admin)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def dashboard_user(user: Any) -> bool:
    """Return whether this user may see the dashboard and its sockets (active staff)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_staff)


def dashboard_view(view: View) -> View:
    """Send anonymous visitors to the login page; refuse signed-in users who are not staff (403)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not dashboard_user(request.user):
            raise PermissionDenied("The dashboard is for staff users.")
        return view(request, *args, **kwargs)

    return wrapped  # type: ignore[return-value]
