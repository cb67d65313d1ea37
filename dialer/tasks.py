"""Celery tasks for dialing, budget pauses and analytics: thin adapters around services.

Each is named `calls.tasks.<function>`: the name that beat schedules, `send_task`
callers and messages already in the queue know it by.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from billing import services as billing_services
from billing.selectors import calls_cost_total
from calls import stats
from dialer import services as dialer


# acks_late with reject_on_worker_lost: a worker that dies mid-task gives the
# message back to the broker, and the redelivery finds the call row already
# claimed (dialer.services), so it never dials twice.
@shared_task(name="calls.tasks.campaigns_dial_due", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def campaigns_dial_due() -> int:
    """Queue and enqueue the due calls of every active campaign (run by beat every DIALER_TICK_S)."""
    return sum(len(ids) for ids in dialer.campaigns_dial_due().values())


# Here rather than in billing: it is the campaign's lifecycle, beside the dialer
# that pauses campaigns for their budgets. A redelivery after a lost worker finds
# the campaigns it resumed already active (the service claims each row).
@shared_task(name="calls.tasks.campaigns_budget_resume", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def campaigns_budget_resume() -> int:
    """Resume campaigns paused for a daily or monthly budget that has started over (run by beat)."""
    return len(billing_services.campaigns_budget_resume())


@shared_task(name="calls.tasks.call_dial", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def call_dial(call_id: int) -> str:
    """Place one queued call; any redelivery of the same message is a no-op."""
    return dialer.call_dial(call_id=call_id).value


# Here rather than in calls: the rollup prices each day with billing's ledger, and calls sits below billing.
@shared_task(name="calls.tasks.campaign_stats_rollup", acks_late=True, ignore_result=True)
def campaign_stats_rollup(day: str | None = None) -> int:
    """Rewrite the per-campaign stats of `day` (ISO date), or of today and yesterday, in TIME_ZONE."""
    if day is not None:
        return stats.campaign_stats_rollup(day=dt.date.fromisoformat(day), cost_total=calls_cost_total)
    # Yesterday too: calls that ended after midnight finish their day's figures.
    today = timezone.localdate()
    return sum(
        stats.campaign_stats_rollup(day=d, cost_total=calls_cost_total) for d in (today - dt.timedelta(days=1), today)
    )
