"""Admin for prices, budgets and the cost ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.contrib.admin import ShowFacets
from django.db.models import QuerySet
from django.http import HttpRequest

from billing.models import Budget, CostEntry, PriceItem
from calls.admin import CappedPaginator, call_id_search

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
    list_display = ["__str__", "scope", "campaign", "limit_usd", "per_call_limit_usd", "is_active"]
    list_filter = ["scope", "is_active"]
    list_select_related = ["campaign"]
    search_fields = ["campaign__name"]
    autocomplete_fields = ["campaign"]
    readonly_fields = ["created_at"]


@admin.register(CostEntry)
class CostEntryAdmin(_CostEntryAdmin):
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
