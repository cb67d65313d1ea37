"""Who may see the dashboard (signed-in staff), and whose records each user sees (Viewer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseBase

View = TypeVar("View", bound=Callable[..., HttpResponseBase])

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    _AdminBase = ModelAdmin[Any]
else:
    # A mixin at run time; typed as the ModelAdmin it is mixed into.
    _AdminBase = object


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


# A manager sees the whole team's records; the permission is declared on
# leads.Lead because the lead is the record every other one hangs from.
TEAM_PERMISSION = "leads.view_team_records"


@dataclass(frozen=True)
class Viewer:
    """Whose leads, calls, recordings and appointments a request may see.

    One installation is one team. Superusers and holders of TEAM_PERMISSION
    (managers) see all of it; anyone else sees only what is theirs: the leads
    assigned to them, the leads of campaigns they own, what hangs from those,
    and the appointments booked with them. Each app turns this into a filter
    on its own records (its selectors' *_visibility functions).
    """

    user_id: int | None
    sees_all: bool

    @classmethod
    def of(cls, user: Any) -> Viewer:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return cls(user_id=None, sees_all=False)
        return cls(user_id=user.pk, sees_all=bool(user.is_superuser or user.has_perm(TEAM_PERMISSION)))

    def within(self, other: Viewer) -> Viewer:
        """Return what both this viewer and `other` see (an API key bound to an agent sees no more than its
        creator, whatever either's role becomes)."""
        if self.sees_all:
            return other
        if other.sees_all or other.user_id == self.user_id:
            return self
        return Viewer(user_id=None, sees_all=False)

    @classmethod
    def everyone(cls) -> Viewer:
        """The system itself: the dialer, the workers, and keys that no user made."""
        return cls(user_id=None, sees_all=True)


class VisibleRecordsAdmin(_AdminBase):
    """A ModelAdmin mixin: the rows listed, opened, edited and acted on are those the user sees, and so are the
    choices of its related-record fields (a lead picked for an appointment, the leads added to a campaign).

    Subclasses set `visibility` to their app's *_visibility selector, and `choices` to the selectors
    (viewer -> queryset) of the related fields that must be narrowed, by field name.
    """

    visibility: ClassVar[Callable[[Viewer], Q]]
    choices: ClassVar[dict[str, Callable[..., QuerySet[Any]]]] = {}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(type(self).visibility(Viewer.of(request.user)))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        self._narrow(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        self._narrow(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _narrow(self, db_field: Any, request: HttpRequest, kwargs: dict[str, Any]) -> None:
        selector = self.choices.get(db_field.name)
        if selector is not None:
            kwargs["queryset"] = selector(viewer=Viewer.of(request.user))
