from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from reautomation.login_throttle import login_lockouts_lift
from reautomation.models import LoginLockout

if TYPE_CHECKING:
    _LoginLockoutAdmin = admin.ModelAdmin[LoginLockout]
else:
    # django-stubs makes ModelAdmin generic for mypy; Django's own is not subscriptable at run time.
    _LoginLockoutAdmin = admin.ModelAdmin


@admin.register(LoginLockout)
class LoginLockoutAdmin(_LoginLockoutAdmin):
    list_display = ["value", "kind", "failures", "locked_at", "locked_until", "state", "unlocked_by"]
    list_filter = ["kind"]
    search_fields = ["value"]
    date_hierarchy = "locked_at"
    readonly_fields = ["kind", "value", "failures", "locked_at", "locked_until", "unlocked_at", "unlocked_by"]
    actions = ["lift"]

    @admin.display(description="State")
    def state(self, lockout: LoginLockout) -> str:
        if lockout.unlocked_at is not None:
            return "Lifted by hand"
        return "Locked" if lockout.is_active else "Expired"

    @admin.action(description="Lift the selected lockouts (they may sign in again now)", permissions=["change"])
    def lift(self, request: HttpRequest, queryset: QuerySet[LoginLockout]) -> None:
        lifted = login_lockouts_lift(
            lockouts=list(queryset), by=request.user if request.user.is_authenticated else None
        )
        self.message_user(request, f"{lifted} lockout(s) lifted.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
