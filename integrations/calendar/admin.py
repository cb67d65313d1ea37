"""Admin for brokers' private calendar feeds (their address, and rotating it), and the invite on an appointment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import pluralize
from django.utils.html import format_html

from agents.admin import AppointmentAdmin
from agents.models import Appointment
from integrations.calendar.models import CalendarFeed
from integrations.calendar.selectors import appointment_invite_url, calendar_feed_url
from integrations.calendar.services import calendar_feed_rotate

if TYPE_CHECKING:
    _CalendarFeedAdmin = admin.ModelAdmin[CalendarFeed]
else:
    # django-stubs makes these generic for mypy; Django's own are not subscriptable at run time.
    _CalendarFeedAdmin = admin.ModelAdmin


@admin.register(CalendarFeed)
class CalendarFeedAdmin(_CalendarFeedAdmin):
    list_display = ["broker", "feed_url", "rotated_at", "created_at"]
    list_select_related = ["broker"]
    search_fields = ["broker__name", "broker__email"]
    raw_id_fields = ["broker"]
    readonly_fields = ["feed_url", "rotated_at", "created_at"]
    actions = ["rotate"]

    @admin.display(description="Feed address (keep it private)")
    def feed_url(self, obj: CalendarFeed) -> str:
        return calendar_feed_url(feed=obj) if obj.pk else "Saved with a new secret address"

    @admin.action(description="Rotate the address of selected feeds (the old one stops)", permissions=["change"])
    def rotate(self, request: HttpRequest, queryset: QuerySet[CalendarFeed]) -> None:
        feeds = [calendar_feed_rotate(feed=feed) for feed in queryset.select_related("broker")]
        self.message_user(
            request,
            f"{len(feeds)} feed{pluralize(len(feeds))} have a new address; brokers must subscribe to it again.",
            messages.WARNING,
        )


# The invite is served from here, so this integration adds its link to the appointment's page.
admin.site.unregister(Appointment)


@admin.register(Appointment)
class AppointmentInviteAdmin(AppointmentAdmin):
    readonly_fields = [*AppointmentAdmin.readonly_fields, "invite"]

    @admin.display(description="Calendar invite")
    def invite(self, obj: Appointment) -> str:
        if obj.pk is None:
            return "—"
        url = appointment_invite_url(appointment_id=obj.pk)
        return format_html('<a href="{}">{}</a> (send it to the lead, or attach it to an e-mail)', url, url)
