"""Reads for the agent: open appointment slots, the scoring rules and a call's context."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from agents.models import Appointment, Broker, ConversationSnapshot, ScoringConfig
from agents.scoring import ScoringRules
from billing.selectors import budget_use_list, calls_cost_total, cost_report
from calls.models import Call, Campaign
from calls.selectors import calls_visible, campaigns_visible
from calls.stats import calls_figures
from common.access import Viewer
from leads.models import DoNotCall
from leads.selectors import leads_visible

ACTIVE_APPOINTMENT_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)


@dataclass(frozen=True)
class OpenSlot:
    """A time one broker can take an appointment, in UTC."""

    broker_id: int
    broker_name: str
    start: dt.datetime
    end: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "broker_id": self.broker_id,
            "broker_name": self.broker_name,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OpenSlot:
        return cls(
            broker_id=int(data["broker_id"]),
            broker_name=str(data["broker_name"]),
            start=dt.datetime.fromisoformat(data["start"]),
            end=dt.datetime.fromisoformat(data["end"]),
        )


def open_slots_list(*, start: dt.datetime, end: dt.datetime, broker_id: int | None = None) -> list[OpenSlot]:
    """Return every bookable slot between start and end: active brokers' working hours minus their appointments.

    Working hours are in each broker's own time zone; the slots come back in UTC,
    earliest first, each as long as the broker's appointment length. `broker_id` keeps one broker's.
    """
    brokers_qs = Broker.objects.filter(is_active=True)
    if broker_id is not None:
        brokers_qs = brokers_qs.filter(pk=broker_id)
    brokers = list(brokers_qs.prefetch_related("working_hours"))
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    appointments = Appointment.objects.filter(
        broker__in=brokers, status__in=ACTIVE_APPOINTMENT_STATUSES, start__lt=end, end__gt=start
    ).values_list("broker_id", "start", "end")
    for broker_id, a_start, a_end in appointments:
        busy.setdefault(broker_id, []).append((a_start, a_end))
    slots: list[OpenSlot] = []
    for broker in brokers:
        slots.extend(_broker_slots(broker, start, end, busy.get(broker.pk, [])))
    slots.sort(key=lambda s: (s.start, s.broker_name, s.broker_id))
    return slots


def _broker_slots(
    broker: Broker, start: dt.datetime, end: dt.datetime, busy: list[tuple[dt.datetime, dt.datetime]]
) -> list[OpenSlot]:
    tz = ZoneInfo(broker.timezone)
    length = dt.timedelta(minutes=broker.appointment_minutes)
    hours = list(broker.working_hours.all())
    day, last_day = start.astimezone(tz).date(), end.astimezone(tz).date()
    slots = []
    while day <= last_day:
        for block in (h for h in hours if h.weekday == day.weekday()):
            moment = dt.datetime.combine(day, block.start, tzinfo=tz)
            block_end = dt.datetime.combine(day, block.end, tzinfo=tz)
            while moment + length <= block_end:
                slot_end = moment + length
                if moment >= start and slot_end <= end and not any(b < slot_end and moment < e for b, e in busy):
                    slots.append(
                        OpenSlot(
                            broker_id=broker.pk,
                            broker_name=broker.name,
                            start=moment.astimezone(dt.UTC),
                            end=slot_end.astimezone(dt.UTC),
                        )
                    )
                moment = slot_end
        day += dt.timedelta(days=1)
    return slots


def broker_visibility(viewer: Viewer) -> Q:
    """Return the filter on Broker that keeps those `viewer` may see and book: all of them for any team member.

    Brokers are the team's shared calendar, not anyone's records; only a viewer who sees nothing sees none.
    """
    return Q() if viewer.sees_all or viewer.user_id is not None else Q(pk__in=[])


def broker_list(*, viewer: Viewer, active: bool | None = None) -> QuerySet[Broker]:
    """Return the brokers `viewer` may see, by name, with their working hours."""
    brokers = Broker.objects.filter(broker_visibility(viewer)).prefetch_related("working_hours").order_by("name", "pk")
    if active is not None:
        brokers = brokers.filter(is_active=active)
    return brokers


def broker_names_list(*, limit: int) -> list[str]:
    """Return the names of up to `limit` active brokers, the ones a lead may name on a call."""
    return list(Broker.objects.filter(is_active=True).order_by("name").values_list("name", flat=True)[:limit])


def scoring_rules_get() -> ScoringRules:
    """Return the weights and thresholds of the newest active ScoringConfig, or the defaults when there is none."""
    config = ScoringConfig.objects.filter(is_active=True).order_by("-updated_at", "-pk").first()
    if config is None:
        return ScoringRules()
    return ScoringRules(
        weights=config.weights(), hot_threshold=config.hot_threshold, warm_threshold=config.warm_threshold
    )


def call_get_for_conversation(*, call_id: int) -> Call:
    """Return the call with its lead and campaign loaded.

    Raises:
        Call.DoesNotExist: when there is no such call.
    """
    return Call.objects.select_related("lead", "campaign").get(pk=call_id)


def conversation_snapshot_unfinished_get(*, call_id: int) -> dict[str, Any] | None:
    """Return the conversation a call's voice session stored, or None when there is none or it was analysed already."""
    return (
        ConversationSnapshot.objects.filter(call_id=call_id, finished_at__isnull=True)
        .values_list("state", flat=True)
        .first()
    )


def campaign_for_test_call_get(*, viewer: Viewer, campaign_id: int) -> Campaign:
    """Return the campaign a broker is trying out from the dashboard.

    Raises:
        Campaign.DoesNotExist: when there is no such campaign, or `viewer` may not see it.
    """
    return campaigns_visible(viewer=viewer).get(pk=campaign_id)


def lead_timezone_guess(*, lead_timezone: str) -> str:
    """Return the lead's time zone, or the first active broker's, or the site's, in that order."""
    if lead_timezone:
        return lead_timezone
    broker_tz = Broker.objects.filter(is_active=True).order_by("pk").values_list("timezone", flat=True).first()
    return broker_tz or settings.TIME_ZONE


def appointment_visibility(viewer: Viewer) -> Q:
    """Return the filter on Appointment that keeps those `viewer` may see: of leads they see, or booked with them."""
    if viewer.sees_all:
        return Q()
    if viewer.user_id is None:
        return Q(pk__in=[])
    return Q(broker__user_id=viewer.user_id) | Q(lead__in=leads_visible(viewer=viewer).values("pk"))


def appointments_visible(*, viewer: Viewer) -> QuerySet[Appointment]:
    """Return the appointments `viewer` may see."""
    return Appointment.objects.filter(appointment_visibility(viewer))


def appointment_list(
    *,
    viewer: Viewer,
    status: str | None = None,
    lead_id: int | None = None,
    broker_id: int | None = None,
    start_after: dt.datetime | None = None,
    start_before: dt.datetime | None = None,
) -> QuerySet[Appointment]:
    """Return the appointments matching every given filter, soonest first, with their brokers."""
    appointments = appointments_visible(viewer=viewer).select_related("broker").order_by("start", "pk")
    if status:
        appointments = appointments.filter(status=status)
    if lead_id is not None:
        appointments = appointments.filter(lead_id=lead_id)
    if broker_id is not None:
        appointments = appointments.filter(broker_id=broker_id)
    if start_after is not None:
        appointments = appointments.filter(start__gte=start_after)
    if start_before is not None:
        appointments = appointments.filter(start__lt=start_before)
    return appointments


# The API's reports (a campaign's results, the account's metrics) count appointments, so they sit here, the
# lowest layer that sees leads, calls, billing and appointments.
def campaign_stats_get(*, campaign: Campaign) -> dict[str, Any]:
    """Return the campaign's leads by status, calls by status, booked appointments and its placed calls' figures."""
    calls = Call.objects.filter(campaign=campaign)
    placed = calls.filter(dialed_at__isnull=False)
    leads_by_status = dict(campaign.leads.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    return {
        "campaign_id": campaign.pk,
        "status": campaign.status,
        "leads": sum(leads_by_status.values()),
        "leads_by_status": leads_by_status,
        "calls_by_status": dict(calls.values("status").annotate(n=Count("pk")).values_list("status", "n")),
        "appointments": Appointment.objects.filter(call__campaign=campaign)
        .exclude(status=Appointment.Status.CANCELED)
        .count(),
        "figures": {**calls_figures(placed), "cost_usd": calls_cost_total(calls=placed)},
        "cost": cost_report(calls=placed),
        "budgets": budget_use_list(now=timezone.now(), campaign_id=campaign.pk),
    }


def metrics_get(*, viewer: Viewer, since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    """Return the figures of what `viewer` sees: leads and campaigns by status now, and what happened between
    since and until. The do-not-call count and the budgets are the account's, shared by everyone."""
    placed = calls_visible(viewer=viewer).filter(dialed_at__gte=since, dialed_at__lt=until)
    appointments = Appointment.objects.all()
    if not viewer.sees_all:
        # As agents.selectors.appointment_visibility: of leads they see, or booked with them.
        booked_with = Q(broker__user_id=viewer.user_id) if viewer.user_id is not None else Q(pk__in=[])
        appointments = appointments.filter(Q(lead__in=leads_visible(viewer=viewer).values("pk")) | booked_with)
    return {
        "since": since,
        "until": until,
        "leads_by_status": dict(
            leads_visible(viewer=viewer).values("status").annotate(n=Count("pk")).values_list("status", "n")
        ),
        "campaigns_by_status": dict(
            campaigns_visible(viewer=viewer).values("status").annotate(n=Count("pk")).values_list("status", "n")
        ),
        "appointments_booked": appointments.filter(created_at__gte=since, created_at__lt=until).count(),
        "dnc_added": DoNotCall.objects.filter(created_at__gte=since, created_at__lt=until).count(),
        "figures": {**calls_figures(placed), "cost_usd": calls_cost_total(calls=placed)},
        "budgets": budget_use_list(now=timezone.now()),
    }
