"""HTML fragments the admin shows cost figures with: a campaign's cost summary and a budget's use.

Apart from billing.admin because the dashboard's template filters format money with `usd` too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from billing.models import Component
from billing.selectors import BudgetUse, CostReport, budget_use_list, campaign_cost_by_day, cost_report
from calls.models import Call, Campaign


def usd(amount: Decimal | None, places: int = 4) -> str:
    """Return "$0.0123", or an em dash for no figure."""
    return "—" if amount is None else f"${amount:,.{places}f}"


def budget_use_html(use: BudgetUse) -> SafeString:
    """Return a progress bar of the budget's spending in its period, with the figures."""
    limit = use.budget.limit_usd
    return format_html(
        '<progress value="{}" max="{}" style="width: 8em"></progress> {}% &nbsp; {} of {}, {} left',
        f"{min(use.spent_usd, limit):.4f}",
        f"{limit:.2f}",
        use.percent,
        usd(use.spent_usd, 2),
        usd(limit, 2),
        usd(use.left_usd, 2),
    )


def campaign_cost_html(*, campaign: Campaign, now: dt.datetime) -> SafeString:
    """Return the campaign's cost per call, minute, qualified lead and booking; by component, day and budget."""
    report = cost_report(calls=Call.objects.filter(campaign=campaign, dialed_at__isnull=False))
    figures = [
        ("Calls with a cost", str(report.calls)),
        ("Total", usd(report.total_usd)),
        ("Per call (mean / p50 / p95)", " / ".join(map(usd, _per_call(report)))),
        ("Per minute of talk", usd(report.per_minute_usd)),
        (f"Per qualified lead ({report.qualified})", usd(report.per_qualified_usd)),
        (f"Per booked appointment ({report.booked})", usd(report.per_booked_usd)),
    ]
    labels = dict(Component.choices)
    components = [(labels.get(c, c), usd(amount)) for c, amount in sorted(report.by_component.items())]
    days = [
        (f"{day:%Y-%m-%d}", f"{calls} calls", usd(total))
        for day, calls, total in campaign_cost_by_day(campaign_id=campaign.pk)
    ]
    budgets = [(use.label, budget_use_html(use)) for use in budget_use_list(now=now, campaign_id=campaign.pk)]
    no_budget = format_html("<p>{}</p>", "No active budget applies to this campaign: its calls are not limited.")
    return format_html(
        "{}{}{}{}",
        _table("Cost", figures),
        _table("By component", components),
        _table("By day", days),
        _table("Budgets", budgets) if budgets else no_budget,
    )


def _per_call(report: CostReport) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    return report.per_call_usd, report.per_call_p50_usd, report.per_call_p95_usd


def _table(title: str, rows: Sequence[tuple[str, ...]]) -> SafeString:
    if not rows:
        return format_html("<p><strong>{}</strong>: none yet.</p>", title)
    cells = (format_html_join("", "<td>{}</td>", ((cell,) for cell in row)) for row in rows)
    body = format_html_join("", "<tr>{}</tr>", ((row,) for row in cells))
    return format_html('<table style="margin-bottom: 1em"><caption>{}</caption>{}</table>', title, body)
