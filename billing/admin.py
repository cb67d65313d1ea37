"""Admin for prices, budgets and the cost ledger."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin import ShowFacets
from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString

from billing.display import budget_use_html, campaign_cost_html, usd
from billing.models import Budget, CostEntry, PriceItem
from billing.selectors import BudgetUse, budget_use_get, cost_entry_visibility
from calls.admin import CallAdmin, CampaignAdmin, CappedPaginator, ReadOnlyInlineMixin, call_id_search
from calls.models import Call, Campaign
from common.access import VisibleRecordsAdmin

if TYPE_CHECKING:
    _PriceItemAdmin = admin.ModelAdmin[PriceItem]
    _BudgetAdmin = admin.ModelAdmin[Budget]
    _CostEntryAdmin = admin.ModelAdmin[CostEntry]
    _CostEntryInline = admin.TabularInline[CostEntry, Call]
else:
    # django-stubs makes ModelAdmin generic for mypy, but Django's own is not
    # subscriptable at run time (django_stubs_ext.monkeypatch() is not called).
    _PriceItemAdmin = _BudgetAdmin = _CostEntryAdmin = admin.ModelAdmin
    _CostEntryInline = admin.TabularInline


@admin.register(PriceItem)
class PriceItemAdmin(_PriceItemAdmin):
    list_display = ["component", "unit", "unit_price", "effective_from", "notes"]
    list_filter = ["component", "unit"]
    search_fields = ["notes"]
    date_hierarchy = "effective_from"


@admin.register(Budget)
class BudgetAdmin(_BudgetAdmin):
    list_display = ["__str__", "scope", "campaign", "limit_usd", "per_call_limit_usd", "period", "use", "is_active"]
    list_filter = ["scope", "is_active"]
    list_select_related = ["campaign"]
    search_fields = ["campaign__name"]
    autocomplete_fields = ["campaign"]
    readonly_fields = ["period", "use", "created_at"]

    def _use(self, obj: Budget) -> BudgetUse:
        # One query per budget and page view, shared by the columns; budgets are a handful of rows.
        cached: BudgetUse | None = getattr(obj, "_budget_use", None)
        if cached is None:
            cached = budget_use_get(budget=obj, now=timezone.now())
            obj._budget_use = cached  # type: ignore[attr-defined]
        return cached

    @admin.display(description="Period")
    def period(self, obj: Budget) -> str:
        return self._use(obj).period if obj.pk else "—"

    @admin.display(description="Spent in this period")
    def use(self, obj: Budget) -> SafeString | str:
        return budget_use_html(self._use(obj)) if obj.pk else usd(None)


@admin.register(CostEntry)
class CostEntryAdmin(VisibleRecordsAdmin, _CostEntryAdmin):
    visibility = cost_entry_visibility
    list_display = ["call", "component", "quantity", "unit", "unit_price", "amount_usd", "updated_at"]
    list_filter = ["component"]
    list_select_related = ["call"]
    search_fields = ["call__id"]
    search_help_text = "Call id"
    raw_id_fields = ["call"]
    # "call_id", not Meta's "call", which would join Call to sort by its Meta.ordering.
    ordering = ["-call_id", "component"]
    # Several rows per call: the ledger grows as fast as the calls table does.
    paginator = CappedPaginator
    show_full_result_count = False
    show_facets = ShowFacets.NEVER

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CostEntry | None = None) -> bool:
        # The meter writes the ledger from measured usage; a hand edit would make it disagree.
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[CostEntry], search_term: str
    ) -> tuple[QuerySet[CostEntry], bool]:
        return call_id_search(queryset, search_term)


# --- What campaigns and calls cost, on their pages in calls' admin ----------------------------------------------------
# Billing's ledger sits above calls, so billing adds its columns to calls' admins rather than calls reading billing.


def _after(names: Sequence[Any], anchor: str, name: str) -> list[Any]:
    """Return `names` with `name` inserted right after `anchor`."""
    at = list(names).index(anchor) + 1
    return [*names[:at], name, *names[at:]]


def _cost_total(owner: str, *, digits: int) -> Coalesce:
    """The sum of the cost entries whose `owner` ("call", "call__campaign") is the annotated row, 0 without any."""
    costs = CostEntry.objects.filter(**{owner: OuterRef("pk")}).order_by().values(owner)
    total = Subquery(costs.annotate(total=Sum("amount_usd")).values("total"))
    return Coalesce(total, Decimal(0), output_field=DecimalField(max_digits=digits, decimal_places=6))


admin.site.unregister(Campaign)
admin.site.unregister(Call)


@admin.register(Campaign)
class CampaignCostAdmin(CampaignAdmin):
    list_display = _after(CampaignAdmin.list_display, "calls_count", "cost")
    readonly_fields = _after(CampaignAdmin.readonly_fields, "paused_until", "cost_summary")
    fieldsets = [CampaignAdmin.fieldsets[0], ("Cost", {"fields": ["cost_summary"]}), *CampaignAdmin.fieldsets[1:]]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        campaigns: QuerySet[Campaign] = super().get_queryset(request)
        return campaigns.annotate(cost_total=_cost_total("call__campaign", digits=12))

    @admin.display(description="Cost (USD)", ordering="cost_total")
    def cost(self, obj: Campaign) -> str:
        return f"{obj.cost_total:.2f}"  # type: ignore[attr-defined]

    @admin.display(description="Cost so far")
    def cost_summary(self, obj: Campaign) -> SafeString | str:
        # Per call, minute, qualified lead and booking, by component and day, and each budget's use.
        return campaign_cost_html(campaign=obj, now=timezone.now()) if obj.pk else "—"


class CostEntryInline(ReadOnlyInlineMixin, _CostEntryInline):
    model = CostEntry
    fields = readonly_fields = ("component", "quantity", "unit", "unit_price", "amount_usd", "updated_at")
    ordering = ["component"]


@admin.register(Call)
class CallCostAdmin(CallAdmin):
    list_display = _after(CallAdmin.list_display, "duration", "total_cost")
    readonly_fields = _after(CallAdmin.readonly_fields, "duration_seconds", "total_cost")
    fieldsets = [
        (title, {**options, "fields": [*options["fields"], "total_cost"]}) if title == "Result" else (title, options)
        for title, options in CallAdmin.fieldsets
    ]
    inlines = [*CallAdmin.inlines, CostEntryInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Call]:
        calls: QuerySet[Call] = super().get_queryset(request)
        return calls.annotate(cost_total=_cost_total("call", digits=10))

    @admin.display(description="Cost (USD)", ordering="cost_total")
    def total_cost(self, obj: Call) -> str:
        total = getattr(obj, "cost_total", None)
        if total is None:  # a fresh object, not from get_queryset
            total = obj.cost_entries.aggregate(total=Sum("amount_usd"))["total"] or Decimal(0)
        return f"{total:.4f}"
