"""Campaigns paused for a daily or monthly budget resume by themselves when it starts over; others stay paused."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections

from billing.models import Budget
from billing.services import campaign_budget_enforce, campaigns_budget_resume
from calls.models import Call, Campaign
from calls.services import campaign_activate, campaign_pause
from dialer import services as dialer
from dialer import tasks
from tests.factories import BudgetFactory, CallFactory, CampaignFactory, CostEntryFactory, LeadFactory

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
# Tuesday 2 June 2026 at noon in New York, where the budgets' days are counted.
NOON = dt.datetime(2026, 6, 2, 12, 0, tzinfo=NEW_YORK)
NEXT_MIDNIGHT = dt.datetime(2026, 6, 3, 0, 0, tzinfo=NEW_YORK)
NEXT_MONTH = dt.datetime(2026, 7, 1, 0, 0, tzinfo=NEW_YORK)
MINUTE = dt.timedelta(minutes=1)
Capture = Callable[..., Any]


@pytest.fixture(autouse=True)
def _new_york(settings: Any) -> None:
    # Not UTC, so that "the next day" is midnight in TIME_ZONE, not in UTC (04:00 UTC here).
    settings.TIME_ZONE = "America/New_York"
    settings.BILLING_EXPECTED_CALL_COST_USD = "0.05"


def _campaign(**fields: Any) -> Campaign:
    campaign = CampaignFactory.create(status=Campaign.Status.ACTIVE, **fields)
    campaign.leads.add(LeadFactory.create())
    return campaign


def _spend(campaign: Campaign, amount: str, *, dialed_at: dt.datetime = NOON) -> None:
    call = CallFactory.create(campaign=campaign, dialed_at=dialed_at, status=Call.Status.COMPLETED)
    CostEntryFactory.create(call=call, amount_usd=Decimal(amount))


def _paused_for_the_day(**budget: Any) -> Campaign:
    campaign = _campaign()
    BudgetFactory.create(scope=Budget.Scope.DAILY, campaign=campaign, limit_usd=Decimal("0.10"), **budget)
    _spend(campaign, "0.10")
    assert campaign_budget_enforce(campaign=campaign, now=NOON)
    return _reloaded(campaign)


def _paused_for_the_month() -> Campaign:
    campaign = _campaign()
    BudgetFactory.create(scope=Budget.Scope.MONTHLY, campaign=None, limit_usd=Decimal("1.00"))
    _spend(campaign, "1.00")
    assert campaign_budget_enforce(campaign=campaign, now=NOON)
    return _reloaded(campaign)


def _reloaded(campaign: Campaign) -> Campaign:
    campaign.refresh_from_db()
    return campaign


# --- what a pause records -----------------------------------------------------------------------------------------


def test_it_records_a_daily_budget_pause_and_when_the_day_ends_in_time_zone(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    campaign = _campaign()
    BudgetFactory.create(scope=Budget.Scope.DAILY, campaign=None, limit_usd=Decimal("0.10"))
    _spend(campaign, "0.10")

    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks():
        assert dialer.campaigns_dial_due() == {campaign.pk: []}

    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_kind) == (Campaign.Status.PAUSED, Campaign.PauseKind.DAILY_BUDGET)
    assert campaign.paused_until == NEXT_MIDNIGHT
    assert campaign.status_reason == "Daily budget for all campaigns (2026-06-02) spent: $0.10 of $0.10"


def test_it_records_monthly_campaign_and_manual_pauses() -> None:
    monthly = _paused_for_the_month()
    assert (monthly.pause_kind, monthly.paused_until) == (Campaign.PauseKind.MONTHLY_BUDGET, NEXT_MONTH)

    own = _campaign()
    BudgetFactory.create(campaign=own, limit_usd=Decimal("0.10"))
    _spend(own, "0.10")
    campaign_budget_enforce(campaign=own, now=NOON)
    assert (_reloaded(own).pause_kind, _reloaded(own).paused_until) == (Campaign.PauseKind.CAMPAIGN_BUDGET, None)

    by_hand = campaign_pause(campaign=_campaign(), reason="Holidays")
    assert (_reloaded(by_hand).pause_kind, _reloaded(by_hand).paused_until) == (Campaign.PauseKind.MANUAL, None)


# --- resuming -------------------------------------------------------------------------------------------------------


def test_it_resumes_a_daily_budget_pause_the_next_day_not_the_same_day() -> None:
    campaign = _paused_for_the_day()

    # 23:59 in New York is already 03:59 the next day in UTC.
    assert campaigns_budget_resume(now=NEXT_MIDNIGHT - MINUTE) == []
    assert _reloaded(campaign).status == Campaign.Status.PAUSED

    assert campaigns_budget_resume(now=NEXT_MIDNIGHT + MINUTE) == [campaign.pk]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_kind, campaign.paused_until) == (Campaign.Status.ACTIVE, "", None)
    assert campaign.status_reason == "Resumed: new day's budget (2026-06-03)"


def test_it_resumes_a_monthly_budget_pause_in_the_new_month() -> None:
    campaign = _paused_for_the_month()

    assert campaigns_budget_resume(now=NEXT_MIDNIGHT + MINUTE) == []
    assert campaigns_budget_resume(now=NEXT_MONTH - MINUTE) == []
    assert _reloaded(campaign).status == Campaign.Status.PAUSED

    assert campaigns_budget_resume(now=NEXT_MONTH + MINUTE) == [campaign.pk]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE
    assert campaign.status_reason == "Resumed: new month's budget (2026-07)"


def test_it_leaves_campaigns_paused_by_hand_or_for_their_own_budget() -> None:
    by_hand = campaign_pause(campaign=_campaign(), reason="Holidays")
    own = _campaign()
    BudgetFactory.create(campaign=own, limit_usd=Decimal("0.10"))
    _spend(own, "0.10")
    campaign_budget_enforce(campaign=own, now=NOON)
    # Raised since: the campaign has room again, but a lifetime budget never starts over, so a person decides.
    Budget.objects.filter(campaign=own).update(limit_usd=Decimal("5.00"))

    assert campaigns_budget_resume(now=NEXT_MONTH + MINUTE) == []
    assert (_reloaded(by_hand).status, _reloaded(by_hand).status_reason) == (Campaign.Status.PAUSED, "Holidays")
    assert _reloaded(own).status == Campaign.Status.PAUSED


def test_it_keeps_a_daily_budget_pause_that_was_paused_again_by_hand() -> None:
    campaign = campaign_pause(campaign=_paused_for_the_day(), reason="Paused in the admin by broker")

    assert campaigns_budget_resume(now=NEXT_MIDNIGHT + MINUTE) == []
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_kind) == (Campaign.Status.PAUSED, Campaign.PauseKind.MANUAL)


def test_it_forgets_the_pause_kind_when_a_person_activates_the_campaign() -> None:
    campaign = campaign_activate(campaign=_paused_for_the_day())
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_kind, campaign.paused_until) == (Campaign.Status.ACTIVE, "", None)


def test_it_keeps_paused_a_campaign_whose_new_days_budget_is_still_too_small() -> None:
    campaign = _paused_for_the_day()
    Budget.objects.filter(campaign=campaign).update(limit_usd=Decimal("0.00"))

    assert campaigns_budget_resume(now=NEXT_MIDNIGHT + MINUTE) == []

    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_kind) == (Campaign.Status.PAUSED, Campaign.PauseKind.DAILY_BUDGET)
    # Looked at again the day after, not on every run of today.
    assert campaign.paused_until == NEXT_MIDNIGHT + dt.timedelta(days=1)
    assert campaign.status_reason == f'Daily budget of campaign "{campaign}" (2026-06-03) spent: $0.00 of $0.00'


def test_it_keeps_paused_a_campaign_whose_month_is_spent_when_its_day_starts_over() -> None:
    campaign = _paused_for_the_day()
    BudgetFactory.create(scope=Budget.Scope.MONTHLY, campaign=None, limit_usd=Decimal("0.10"))

    assert campaigns_budget_resume(now=NEXT_MIDNIGHT + MINUTE) == []

    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_kind) == (Campaign.Status.PAUSED, Campaign.PauseKind.MONTHLY_BUDGET)
    assert campaign.paused_until == NEXT_MONTH
    assert campaign.status_reason == "Monthly budget for all campaigns (2026-06) spent: $0.10 of $0.10"
    assert campaigns_budget_resume(now=NEXT_MONTH + MINUTE) == [campaign.pk]


def test_it_acts_once_however_often_it_runs() -> None:
    campaign = _paused_for_the_day()
    later = NEXT_MIDNIGHT + MINUTE

    assert campaigns_budget_resume(now=later) == [campaign.pk]
    assert campaigns_budget_resume(now=later) == []
    assert campaigns_budget_resume(now=later + MINUTE) == []

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE
    assert campaign.status_reason == "Resumed: new day's budget (2026-06-03)"


def test_it_stops_retrying_a_campaign_it_cannot_activate() -> None:
    campaign = _paused_for_the_day()
    campaign.leads.clear()

    assert campaigns_budget_resume(now=NEXT_MIDNIGHT + MINUTE) == []

    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_kind, campaign.paused_until) == (Campaign.Status.PAUSED, "", None)
    assert campaign.status_reason == (
        f'Not resumed after its budget started over: Campaign "{campaign}" has no leads; '
        "add leads before activating it."
    )


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_runs_resume_a_campaign_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks, and serialises writers anyway")
    campaign = _paused_for_the_day()
    start = threading.Barrier(2)
    results: list[list[int]] = []

    def run() -> None:
        start.wait()
        try:
            results.append(campaigns_budget_resume(now=NEXT_MIDNIGHT + MINUTE))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [[], [campaign.pk]]


# --- the task --------------------------------------------------------------------------------------------------------


def test_the_task_resumes_the_campaigns_whose_budget_started_over() -> None:
    campaign = _paused_for_the_day()

    with time_machine.travel(NEXT_MIDNIGHT + MINUTE, tick=False):
        assert tasks.campaigns_budget_resume() == 1

    assert _reloaded(campaign).status == Campaign.Status.ACTIVE


def test_beat_runs_the_task_every_billing_resume_interval() -> None:
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from reautomation.celery import app

    # What `celery beat` does with the settings' schedule when it starts.
    for name, entry in app.conf.beat_schedule.items():
        DatabaseScheduler.Entry.from_entry(name, app=app, **entry)

    tasks_by_name = dict(PeriodicTask.objects.values_list("task", "interval__every"))
    assert tasks_by_name["calls.tasks.campaigns_budget_resume"] == 60
    assert "calls.tasks.campaigns_budget_resume" in app.tasks
