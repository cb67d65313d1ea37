"""Admin for brokers, their working hours and appointments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import pluralize
from django.utils import timezone

from agents.models import Appointment, Broker, ScoringConfig, WorkingHours
from agents.selectors import appointment_visibility
from agents.services import appointment_cancel
from calls.selectors import calls_visible
from common.access import VisibleRecordsAdmin
from common.zones import format_in_zone
from leads.selectors import leads_visible

if TYPE_CHECKING:
    _BrokerAdmin = admin.ModelAdmin[Broker]
    _AppointmentAdmin = admin.ModelAdmin[Appointment]
    _ScoringConfigAdmin = admin.ModelAdmin[ScoringConfig]
    _WorkingHoursInline = admin.TabularInline[WorkingHours, Broker]
else:
    # django-stubs makes these classes generic for mypy, but Django's own are
    # not subscriptable at run time (django_stubs_ext.monkeypatch() is not called).
    _BrokerAdmin = _AppointmentAdmin = _ScoringConfigAdmin = admin.ModelAdmin
    _WorkingHoursInline = admin.TabularInline


class WorkingHoursInline(_WorkingHoursInline):
    model = WorkingHours
    extra = 0


@admin.register(Broker)
class BrokerAdmin(_BrokerAdmin):
    list_display = [
        "name",
        "email",
        "phone",
        "timezone",
        "is_active",
        "notify_bookings",
        "notify_hot_leads",
        "upcoming_appointments",
    ]
    list_filter = ["is_active", "notify_bookings", "notify_hot_leads", "timezone"]
    search_fields = ["name", "email"]
    autocomplete_fields = ["user"]
    readonly_fields = ["created_at"]
    inlines = [WorkingHoursInline]
    # Django drops Meta.ordering from aggregate queries, and get_queryset
    # annotates a Count; without this the autocomplete list comes unordered.
    ordering = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Broker]:
        upcoming = Q(
            appointments__start__gte=timezone.now(),
            appointments__status__in=[Appointment.Status.BOOKED, Appointment.Status.CONFIRMED],
        )
        return super().get_queryset(request).annotate(upcoming_total=Count("appointments", filter=upcoming))

    @admin.display(description="Upcoming appointments", ordering="upcoming_total")
    def upcoming_appointments(self, obj: Broker) -> int:
        return int(obj.upcoming_total)  # type: ignore[attr-defined]


@admin.register(Appointment)
class AppointmentAdmin(VisibleRecordsAdmin, _AppointmentAdmin):
    visibility = appointment_visibility
    choices = {"lead": leads_visible, "call": calls_visible}
    list_display = ["lead", "broker", "lead_time", "broker_time", "status", "call"]
    list_filter = ["status", "broker"]
    list_select_related = ["lead", "broker", "call"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__phone", "broker__name"]
    search_help_text = "Lead name or phone, or broker name"
    date_hierarchy = "start"
    autocomplete_fields = ["lead", "broker", "call"]
    readonly_fields = ["lead_time", "broker_time", "created_at"]
    actions = ["cancel"]

    @admin.display(description="Lead's time", ordering="start")
    def lead_time(self, obj: Appointment) -> str:
        return format_in_zone(obj.start, obj.lead.timezone) if obj.pk else "—"

    @admin.display(description="Broker's time", ordering="start")
    def broker_time(self, obj: Appointment) -> str:
        return format_in_zone(obj.start, obj.broker.timezone) if obj.pk else "—"

    @admin.action(description="Cancel appointments", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        canceled = 0
        for appointment in queryset:
            try:
                appointment_cancel(appointment=appointment)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                canceled += 1
        if canceled:
            self.message_user(request, f"{canceled} appointment{pluralize(canceled)} canceled.", messages.SUCCESS)


@admin.register(ScoringConfig)
class ScoringConfigAdmin(_ScoringConfigAdmin):
    """Edit how leads are scored; calls that start after a save use the newest active row."""

    list_display = ["name", "is_active", "hot_threshold", "warm_threshold", "weight_summary", "updated_at"]
    list_filter = ["is_active"]
    readonly_fields = ["updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "is_active", "updated_at"]}),
        (
            "Weights",
            {
                "description": "Relative weights; financing does not count for leads who only sell.",
                "fields": [
                    "weight_intent",
                    "weight_timeline",
                    "weight_motivation",
                    "weight_price",
                    "weight_financing",
                    "weight_agent",
                    "weight_address",
                ],
            },
        ),
        ("Buckets (score 0-100)", {"fields": ["hot_threshold", "warm_threshold"]}),
    ]

    @admin.display(description="Weights")
    def weight_summary(self, obj: ScoringConfig) -> str:
        return ", ".join(f"{name.replace('_', ' ')} {weight}" for name, weight in obj.weights().items())
