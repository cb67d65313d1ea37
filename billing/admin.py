"""Admin for prices, budgets and the cost ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.contrib.admin import ShowFacets
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString

from billing.display import budget_use_html, usd
from billing.models import Budget, CostEntry, PriceItem
from billing.selectors import BudgetUse, budget_use_get, cost_entry_visibility
from calls.admin import CappedPaginator, call_id_search
from reautomation.access import VisibleRecordsAdmin

if TYPE_CHECKING:
    _PriceItemAdmin = admin.ModelAdmin[PriceItem]
    _BudgetAdmin = admin.ModelAdmin[Budget]
    _CostEntryAdmin = admin.ModelAdmin[CostEntry]
else:
    # django-stubs makes ModelAdmin generic for mypy, but Django's own is not
    # subscriptable at run time (django_stubs_ext.monkeypatch() is not called).
    _PriceItemAdmin = _BudgetAdmin = _CostEntryAdmin = admin.ModelAdmin


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
