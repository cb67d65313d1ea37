"""Admin for leads, their consents, the do-not-call list and lead imports."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from common.access import Viewer, VisibleRecordsAdmin
from common.zones import format_in_zone
from leads.forms import LeadImportUploadForm
from leads.models import Consent, DoNotCall, Lead, LeadImport, LeadNote
from leads.phones import InvalidPhoneNumber, lead_phone_parse, phone_normalize
from leads.qualification import qualification_html
from leads.selectors import consent_visibility, lead_import_visibility, lead_visibility, leads_visible
from leads.services import (
    consent_revoke,
    consent_revoke_for_leads,
    dnc_add,
    dnc_add_for_leads,
    lead_import_create,
    lead_import_report_csv,
    lead_save,
)
from leads.tasks import lead_import_process
from leads.timezones import state_normalize
from leads.uploads import LeadFileLimitHandler

if TYPE_CHECKING:
    _LeadForm = forms.ModelForm[Lead]
    _DoNotCallForm = forms.ModelForm[DoNotCall]
    _LeadAdmin = admin.ModelAdmin[Lead]
    _ConsentAdmin = admin.ModelAdmin[Consent]
    _DoNotCallAdmin = admin.ModelAdmin[DoNotCall]
    _LeadImportAdmin = admin.ModelAdmin[LeadImport]
    _ConsentInline = admin.TabularInline[Consent, Lead]
    _LeadNoteInline = admin.TabularInline[LeadNote, Lead]
else:
    # django-stubs makes these classes generic for mypy, but Django's own are
    # not subscriptable at run time (django_stubs_ext.monkeypatch() is not called).
    _LeadForm = _DoNotCallForm = forms.ModelForm
    _LeadAdmin = _ConsentAdmin = _DoNotCallAdmin = _LeadImportAdmin = admin.ModelAdmin
    _ConsentInline = _LeadNoteInline = admin.TabularInline

# The change page shows this many row problems; the downloadable report has them all.
ROW_ERRORS_SHOWN = 50


def _clean_phone(raw: str) -> str:
    # Numbers are stored in E.164, so the form's unique check must compare
    # E.164 too: "(415) 555-0123" would otherwise slip past "+14155550123".
    try:
        return phone_normalize(raw)
    except InvalidPhoneNumber as exc:
        raise ValidationError(str(exc)) from exc


def _search_phone(queryset: QuerySet[Any], results: QuerySet[Any], search_term: str, field: str) -> QuerySet[Any]:
    """Add the rows whose number is the search term, however the term was formatted."""
    try:
        e164 = phone_normalize(search_term)
    except InvalidPhoneNumber:
        return results
    return results | queryset.filter(**{field: e164})


class HasConsentFilter(admin.SimpleListFilter):
    title = "consent"
    parameter_name = "consent"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Has consent"), ("no", "No consent")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        # A revoked consent is no consent: such a lead must not be auto-dialed.
        active = Exists(Consent.objects.filter(lead=OuterRef("pk"), revoked_at__isnull=True))
        if self.value() == "yes":
            return queryset.filter(active)
        if self.value() == "no":
            return queryset.filter(~active)
        return queryset


class NextAttemptFilter(admin.SimpleListFilter):
    title = "next attempt"
    parameter_name = "next_attempt"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("due", "Due now"), ("later", "Scheduled later"), ("none", "Not scheduled")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        now = timezone.now()
        if self.value() == "due":
            return queryset.filter(next_attempt_at__lte=now)
        if self.value() == "later":
            return queryset.filter(next_attempt_at__gt=now)
        if self.value() == "none":
            return queryset.filter(next_attempt_at__isnull=True)
        return queryset


class LeadAdminForm(_LeadForm):
    # Longer than the stored E.164 so a number typed with spaces and an extension fits.
    phone = forms.CharField(max_length=40, help_text="Any format, e.g. (415) 555-0123 ext 2; saved as E.164")
    _typed_extension = ""

    def clean_phone(self) -> str:
        try:
            parsed = lead_phone_parse(self.cleaned_data["phone"])
        except InvalidPhoneNumber as exc:
            raise ValidationError(str(exc)) from exc
        # "415-555-0123 ext 12" typed in the phone box keeps its extension.
        self._typed_extension = parsed.extension
        return parsed.e164

    def clean_state(self) -> str:
        raw: str = self.cleaned_data["state"]
        if not raw:
            return ""
        code = state_normalize(raw)
        if code is None:
            raise ValidationError(f"{raw!r} is not a US state or territory code.")
        return code

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self._typed_extension and not cleaned.get("phone_extension"):
            cleaned["phone_extension"] = self._typed_extension
        return cleaned


class ConsentInline(_ConsentInline):
    model = Consent
    extra = 0
    fields = ["source", "text", "given_at", "revoked_at"]


class LeadNoteInline(_LeadNoteInline):
    """The notes written on the dashboard's lead page, shown here to read: a note is added there, with its author,
    and never edited."""

    model = LeadNote
    extra = 0
    fields = ["created_at", "author", "text"]
    readonly_fields = ["created_at", "author", "text"]

    # Whoever sees the lead sees its notes, as on the dashboard; no role holds LeadNote's own permissions.
    # Left out when a lead is saved: nothing here is posted back, so saving a lead needs no formset data for
    # its notes (a script posting the form need not know of them).
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.method in ("GET", "HEAD") and request.user.has_perm("leads.view_lead")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Lead)
class LeadAdmin(VisibleRecordsAdmin, _LeadAdmin):
    visibility = lead_visibility
    form = LeadAdminForm
    list_display = [
        "name",
        "phone",
        "state",
        "timezone",
        "status",
        "intent",
        "score",
        "attempt_count",
        "next_call",
        "owner",
    ]
    list_filter = [
        "owner",
        "status",
        "intent",
        HasConsentFilter,
        NextAttemptFilter,
        ("human_follow_up", admin.EmptyFieldListFilter),
        "state",
        "timezone_source",
        "source",
    ]
    search_fields = ["first_name", "last_name", "phone", "email", "crm_id", "address"]
    search_help_text = "Name, phone (any format), email, CRM id or address"
    date_hierarchy = "created_at"
    # The time zone is derived from the phone and state on every save, and the
    # attempt fields belong to the dialer; editing them here would be overwritten.
    readonly_fields = [
        "timezone",
        "timezone_source",
        "attempt_count",
        "last_attempt_at",
        "lead_import",
        "created_at",
        "updated_at",
        "qualification_table",
        "next_call",
    ]
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "phone", "phone_extension", "email"]}),
        ("Address", {"fields": ["address", "city", "state", "zip_code", "timezone", "timezone_source"]}),
        ("Qualification", {"fields": ["status", "intent", "score", "qualification_table", "source", "notes"]}),
        (
            "Dialing",
            {"fields": ["human_follow_up", "attempt_count", "last_attempt_at", "next_attempt_at", "next_call"]},
        ),
        ("Origin", {"fields": ["owner", "crm_id", "sheet_row", "lead_import", "created_at", "updated_at"]}),
    ]
    autocomplete_fields = ["owner"]
    inlines = [ConsentInline, LeadNoteInline]
    actions = ["add_to_do_not_call", "revoke_consent"]

    @admin.display(description="Name", ordering="last_name")
    def name(self, obj: Lead) -> str:
        return obj.full_name or "—"

    @admin.display(description="What the calls learned")
    def qualification_table(self, obj: Lead) -> SafeString | str:
        return qualification_html(obj.qualification)

    @admin.display(description="Next call (lead's time)", ordering="next_attempt_at")
    def next_call(self, obj: Lead) -> str:
        # A callback the lead asked for "at 10" reads as 10 in their zone, whoever looks.
        return format_in_zone(obj.next_attempt_at, obj.timezone)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Lead], search_term: str
    ) -> tuple[QuerySet[Lead], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return _search_phone(queryset, results, search_term, "phone"), may_have_duplicates

    def get_readonly_fields(self, request: HttpRequest, obj: Lead | None = None) -> Any:
        # Only a manager hands leads out; an agent's own leads stay theirs.
        fields = super().get_readonly_fields(request, obj)
        return fields if Viewer.of(request.user).sees_all else [*fields, "owner"]

    def save_model(self, request: HttpRequest, obj: Lead, form: Any, change: bool) -> None:
        if not change and not Viewer.of(request.user).sees_all:
            obj.owner = request.user  # type: ignore[assignment]  # the admin's user is a signed-in User
        lead_save(lead=obj)

    @admin.action(description="Add to do-not-call list", permissions=["change"])
    def add_to_do_not_call(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        count = dnc_add_for_leads(
            leads=queryset, reason=f"Added in the admin by {request.user}", source=DoNotCall.Source.ADMIN
        )
        self.message_user(request, f"Added {count} number{pluralize(count)} to the do-not-call list.", messages.SUCCESS)

    @admin.action(description="Record that the lead revoked consent (stops every campaign)", permissions=["change"])
    def revoke_consent(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        count = consent_revoke_for_leads(leads=queryset, reason=_revoked_in_admin(request))
        self.message_user(
            request,
            f"Revoked the consent of {count} lead{pluralize(count)}; no campaign will call them again.",
            messages.SUCCESS,
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is Consent:
            _revocations_apply(request, formset.forms)


def _revocations_apply(request: HttpRequest, forms_: list[Any]) -> None:
    """Run consent_revoke for every consent form whose revoked_at was just filled in."""
    for consent_form in forms_:
        consent = consent_form.instance
        if consent.pk and consent.revoked_at is not None and "revoked_at" in consent_form.changed_data:
            # A revocation covers every campaign and every other consent on file, not this record alone.
            consent_revoke(lead=consent.lead, reason=_revoked_in_admin(request), at=consent.revoked_at)


def _revoked_in_admin(request: HttpRequest) -> str:
    return f"consent revoked, recorded in the admin by {request.user}"


@admin.register(Consent)
class ConsentAdmin(VisibleRecordsAdmin, _ConsentAdmin):
    visibility = consent_visibility
    choices = {"lead": leads_visible}
    list_display = ["lead", "source", "given_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "source"]
    list_select_related = ["lead"]
    search_fields = ["lead__phone", "lead__first_name", "lead__last_name", "source"]
    autocomplete_fields = ["lead"]
    date_hierarchy = "given_at"
    readonly_fields = ["created_at"]
    actions = ["revoke"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Consent], search_term: str
    ) -> tuple[QuerySet[Consent], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return _search_phone(queryset, results, search_term, "lead__phone"), may_have_duplicates

    def save_model(self, request: HttpRequest, obj: Consent, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        _revocations_apply(request, [form])

    @admin.action(description="Revoke (the lead withdrew consent: stops every campaign)", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Consent]) -> None:
        leads = Lead.objects.filter(pk__in=queryset.values("lead_id"))
        count = consent_revoke_for_leads(leads=leads, reason=_revoked_in_admin(request))
        self.message_user(
            request,
            f"Revoked the consent of {count} lead{pluralize(count)}; no campaign will call them again.",
            messages.SUCCESS,
        )


class DoNotCallAdminForm(_DoNotCallForm):
    phone = forms.CharField(max_length=40, help_text="Any format, e.g. (415) 555-0123; saved as E.164")

    def clean_phone(self) -> str:
        return _clean_phone(self.cleaned_data["phone"])


@admin.register(DoNotCall)
class DoNotCallAdmin(_DoNotCallAdmin):
    form = DoNotCallAdminForm
    list_display = ["phone", "source", "reason", "created_at"]
    list_filter = ["source"]
    search_fields = ["phone", "reason"]
    search_help_text = "Phone (any format) or reason"
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: DoNotCall | None = None) -> list[str]:
        # A changed number would leave the old one callable and the new one's
        # leads unmarked; remove the entry and add the new number instead.
        return ["phone", "created_at"] if obj else ["created_at"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[DoNotCall], search_term: str
    ) -> tuple[QuerySet[DoNotCall], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return _search_phone(queryset, results, search_term, "phone"), may_have_duplicates

    def save_model(self, request: HttpRequest, obj: DoNotCall, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # dnc_add also marks the number's leads do-not-call.
        entry = dnc_add(phone=obj.phone, reason=obj.reason, source=obj.source)
        obj.pk = entry.pk
        obj.refresh_from_db()


@admin.register(LeadImport)
class LeadImportAdmin(VisibleRecordsAdmin, _LeadImportAdmin):
    visibility = lead_import_visibility
    list_display = [
        "file_name",
        "status",
        "source",
        "total_rows",
        "imported_count",
        "rejected",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "source"]
    list_select_related = ["created_by"]
    search_fields = ["file_name", "source"]
    date_hierarchy = "created_at"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "file_name",
                    "file",
                    "file_removed_at",
                    "source",
                    "status",
                    "progress",
                    "error",
                    "encoding",
                    "warning_list",
                ]
            },
        ),
        (
            "Rows",
            {"fields": ["total_rows", "imported_count", "invalid_count", "duplicate_count", "dnc_count"]},
        ),
        ("Rejected rows and warnings", {"fields": ["problems_table"]}),
        ("History", {"fields": ["created_by", "created_at", "finished_at"]}),
    ]
    readonly_fields = [
        "file_name",
        "file",
        "file_removed_at",
        "source",
        "status",
        "progress",
        "error",
        "encoding",
        "warning_list",
        "total_rows",
        "imported_count",
        "invalid_count",
        "duplicate_count",
        "dnc_count",
        "problems_table",
        "created_by",
        "created_at",
        "finished_at",
    ]

    def has_change_permission(self, request: HttpRequest, obj: LeadImport | None = None) -> bool:
        # An import is a record of what happened to a file; nothing in it is editable.
        return False

    def get_urls(self) -> list[URLPattern]:
        report = path(
            "<path:object_id>/report/",
            self.admin_site.admin_view(self.report_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_report",
        )
        # Before the default URLs, whose "<path:object_id>/" would swallow it.
        return [report, *super().get_urls()]

    @admin.display(description="Progress")
    def progress(self, obj: LeadImport) -> SafeString | str:
        if obj.status == LeadImport.Status.PENDING:
            return "Waiting for a worker"
        if obj.status != LeadImport.Status.RUNNING:
            return f"{obj.processed_rows} rows read"
        if not obj.rows_expected:
            return f"{obj.processed_rows} rows read so far"
        return format_html(
            '<progress max="{}" value="{}"></progress> {} of {} rows',
            obj.rows_expected,
            obj.processed_rows,
            obj.processed_rows,
            obj.rows_expected,
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        lead_import = self.get_object(request, unquote(object_id))
        # The page reloads itself while a worker imports the file, so the bar moves.
        waiting = lead_import is not None and lead_import.status in {
            LeadImport.Status.PENDING,
            LeadImport.Status.RUNNING,
        }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "refresh": waiting})

    @admin.display(description="Rejected")
    def rejected(self, obj: LeadImport) -> int:
        return obj.rejected_count

    @admin.display(description="Warnings")
    def warning_list(self, obj: LeadImport) -> SafeString | str:
        if not obj.warnings:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((w,) for w in obj.warnings)))

    @admin.display(description="Problems")
    def problems_table(self, obj: LeadImport) -> SafeString | str:
        if not obj.row_errors:
            return "None"
        problems = sorted(obj.row_errors, key=lambda p: p["line"])[:ROW_ERRORS_SHOWN]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((p["line"], p["level"], p["kind"], p["reason"], _row_summary(p.get("row", {}))) for p in problems),
        )
        more = len(obj.row_errors) - len(problems)
        note = format_html("<p>{} more in the downloadable report.</p>", more) if more > 0 else ""
        return format_html(
            "<table><thead><tr><th>Line</th><th>Level</th><th>Kind</th><th>Reason</th><th>Row</th></tr>"
            "</thead><tbody>{}</tbody></table>{}",
            rows,
            note,
        )

    # CSRF is checked in _upload instead, after the size limit's handler is installed: the check reads the
    # body, and handlers cannot be added once it is read (Django's "Modifying upload handlers on the fly").
    @method_decorator(csrf_exempt)
    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Upload a CSV, queue it for a worker to import, and show its progress, then its result, on its page."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        size_limit = LeadFileLimitHandler(request)
        # Set, not inserted into: the setter fails loudly if anything has read the body already.
        request.upload_handlers = [size_limit, *request.upload_handlers]
        return self._upload(request, size_limit, extra_context)

    @method_decorator(csrf_protect)
    def _upload(
        self, request: HttpRequest, size_limit: LeadFileLimitHandler, extra_context: dict[str, Any] | None
    ) -> HttpResponse:
        posted = request.method == "POST"
        # Bound on every POST, even one whose only part was the refused file, so that the refusal shows.
        form = LeadImportUploadForm(
            request.POST if posted else None, request.FILES if posted else None, refusal=size_limit.refusal
        )
        if posted and form.is_valid():
            upload = form.cleaned_data["file"]
            lead_import = lead_import_create(
                file_name=upload.name, data=upload.read(), source=form.cleaned_data["source"], user=request.user
            )
            self.log_addition(request, lead_import, [{"added": {}}])
            transaction.on_commit(functools.partial(lead_import_process.delay, lead_import.pk))
            # The embedded default's eager Celery has imported it by now; a worker reports on the page.
            lead_import.refresh_from_db()
            if lead_import.finished_at is not None:
                self._message_result(request, lead_import)
            else:
                self.message_user(request, f"{lead_import.file_name} is queued for import.", messages.INFO)
            return HttpResponseRedirect(reverse("admin:leads_leadimport_change", args=[lead_import.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload leads",
            "opts": self.opts,
            "form": form,
            "has_view_permission": self.has_view_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/leads/leadimport/upload.html", context)

    def report_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Return every rejected row and warning as a CSV attachment."""
        lead_import = self.get_object(request, unquote(object_id))
        if lead_import is None:
            raise Http404("No such lead import.")
        if not self.has_view_permission(request, lead_import):
            raise PermissionDenied
        # The BOM makes Excel, which most brokers open this in, read UTF-8 rather than guess.
        body = "\ufeff" + lead_import_report_csv(lead_import=lead_import)
        file_name = lead_import.file_name.rsplit(".", 1)[0] + "-report.csv"
        return HttpResponse(
            body,
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": content_disposition_header(as_attachment=True, filename=file_name)},
        )

    def _message_result(self, request: HttpRequest, lead_import: LeadImport) -> None:
        if lead_import.status == LeadImport.Status.FAILED:
            self.message_user(request, f"{lead_import.file_name} was not imported: {lead_import.error}", messages.ERROR)
            return
        text = f"Imported {lead_import.imported_count} of {lead_import.total_rows} rows from {lead_import.file_name}."
        if not lead_import.rejected_count:
            self.message_user(request, text, messages.SUCCESS)
            return
        self.message_user(
            request,
            f"{text} {lead_import.rejected_count} rejected: {lead_import.invalid_count} invalid, "
            f"{lead_import.duplicate_count} duplicate, {lead_import.dnc_count} on the do-not-call list. "
            "Each is listed below and in the downloadable report.",
            messages.WARNING,
        )


def _row_summary(row: dict[str, str], limit: int = 120) -> str:
    text = "; ".join(f"{key}: {value}" for key, value in row.items() if value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
