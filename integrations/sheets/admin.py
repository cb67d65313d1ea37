"""Admin for Google Sheets: the sheets and their column mapping, a "Sync now" action, and the sync log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from integrations.sheets.client import is_configured
from integrations.sheets.models import SheetSync, SheetSyncRun
from integrations.sheets.services import SheetSyncUnavailable, sheet_sync_enqueue

if TYPE_CHECKING:
    _SheetSyncAdmin = admin.ModelAdmin[SheetSync]
    _SheetSyncRunAdmin = admin.ModelAdmin[SheetSyncRun]
else:
    # django-stubs makes these generic for mypy; Django's own are not subscriptable at run time.
    _SheetSyncAdmin = _SheetSyncRunAdmin = admin.ModelAdmin

NOT_CONFIGURED = (
    "Google Sheets sync is off: GOOGLE_SERVICE_ACCOUNT_FILE is not set. Set it to a service-account key "
    "file and share each sheet with that service account's e-mail address; until then nothing is synced."
)


@admin.register(SheetSync)
class SheetSyncAdmin(_SheetSyncAdmin):
    list_display = ["name", "worksheet", "write_back", "campaign", "is_active", "last_synced_at", "last_status"]
    list_filter = ["is_active", "write_back"]
    search_fields = ["name", "spreadsheet_id"]
    list_select_related = ["campaign"]
    raw_id_fields = ["campaign"]
    readonly_fields = ["last_synced_at", "created_at", "recent_runs"]
    actions = ["sync_now"]
    fieldsets = [
        (None, {"fields": ["name", "spreadsheet_id", "worksheet", "is_active", "campaign", "source"]}),
        ("Columns", {"fields": ["header_row", "column_map"]}),
        ("Write-back", {"fields": ["write_back", "output_worksheet", "result_columns"]}),
        (None, {"fields": ["last_synced_at", "created_at", "recent_runs"]}),
    ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if not is_configured() and request.method == "GET":
            self.message_user(request, NOT_CONFIGURED, messages.WARNING)
        return super().changelist_view(request, extra_context)

    @admin.display(description="Latest syncs")
    def recent_runs(self, obj: SheetSync) -> str:
        if obj.pk is None:
            return "—"
        runs = obj.runs.order_by("-started_at")[:10]
        log = reverse("admin:integrations_sheetsyncrun_changelist") + f"?sheet_sync__id__exact={obj.pk}"
        return format_html(
            "<table><tr><th>Started</th><th>Status</th><th>Imported</th><th>Rejected</th><th>Cells written</th>"
            '<th>Error</th></tr>{}</table><a href="{}">Whole sync log</a>',
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        f"{r.started_at:%Y-%m-%d %H:%M}",
                        r.get_status_display(),
                        r.imported_count,
                        r.rejected_count,
                        r.cells_written,
                        r.error or "",
                    )
                    for r in runs
                ),
            ),
            log,
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[SheetSync]:
        latest = SheetSyncRun.objects.filter(sheet_sync=OuterRef("pk")).order_by("-started_at")
        return super().get_queryset(request).annotate(last_run_status=Subquery(latest.values("status")[:1]))

    @admin.display(description="Last sync")
    def last_status(self, obj: SheetSync) -> str:
        status = getattr(obj, "last_run_status", None)
        return str(SheetSyncRun.Status(status).label) if status else "—"

    @admin.action(description="Sync selected sheets now", permissions=["change"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet[SheetSync]) -> None:
        try:
            queued = sheet_sync_enqueue(sheet_syncs=queryset, trigger="admin")
        except SheetSyncUnavailable as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(
            request, f"{queued} sheet{pluralize(queued)} queued; the sync log shows the result.", messages.SUCCESS
        )


class RunStatusFilter(admin.SimpleListFilter):
    title = "problems"
    parameter_name = "problems"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("rows", "Has rejected rows"), ("failed", "Failed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[SheetSyncRun]) -> QuerySet[SheetSyncRun]:
        if self.value() == "rows":
            return queryset.filter(rejected_count__gt=0)
        if self.value() == "failed":
            return queryset.filter(status__in=[SheetSyncRun.Status.FAILED, SheetSyncRun.Status.RETRYING])
        return queryset


@admin.register(SheetSyncRun)
class SheetSyncRunAdmin(_SheetSyncRunAdmin):
    list_display = [
        "started_at", "sheet_sync", "trigger", "attempt", "status", "rows_read", "already_imported",
        "imported_count", "rejected_count", "cells_written", "requests_made",
    ]  # fmt: skip
    list_filter = ["status", RunStatusFilter, "trigger", "sheet_sync"]
    list_select_related = ["sheet_sync"]
    date_hierarchy = "started_at"
    readonly_fields = [
        "sheet_sync", "status", "trigger", "attempt", "started_at", "finished_at", "next_retry_at", "rows_read",
        "already_imported", "imported_count", "rejected_count", "cells_written", "requests_made", "error",
        "lead_import_link", "row_problems",
    ]  # fmt: skip
    exclude = ["lead_import", "row_errors"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SheetSyncRun | None = None) -> bool:
        return False

    @admin.display(description="Import report")
    def lead_import_link(self, obj: SheetSyncRun) -> str:
        if obj.lead_import_id is None:
            return "—"
        url = reverse("admin:leads_leadimport_change", args=[obj.lead_import_id])
        return format_html('<a href="{}">Lead import #{}</a>', url, obj.lead_import_id)

    @admin.display(description="Rows with problems")
    def row_problems(self, obj: SheetSyncRun) -> str:
        if not obj.row_errors:
            return "—"
        rows = sorted(obj.row_errors, key=lambda p: p.get("line", 0))
        return format_html(
            "<table><tr><th>Row</th><th>Level</th><th>Reason</th></tr>{}</table>",
            format_html_join(
                "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", ((p["line"], p["level"], p["reason"]) for p in rows)
            ),
        )
