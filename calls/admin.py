"""Admin for campaigns, calls and transcripts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ShowFacets
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import SafeString

from calls.answers import ANSWERS
from calls.models import (
    ANSWER_MAX_LENGTH,
    AnswerTopic,
    Call,
    Campaign,
    CampaignDayStats,
    DialDecision,
    StateHoliday,
    StateRule,
    StateRuleDay,
    TranscriptTurn,
    validate_answers,
)
from calls.selectors import (
    call_visibility,
    calls_visible,
    campaign_day_stats_visibility,
    campaign_visibility,
    dial_decision_visibility,
    transcript_turn_visibility,
)
from calls.services import campaign_activate, campaign_complete, campaign_pause
from common.access import Viewer, VisibleRecordsAdmin
from leads.qualification import qualification_html
from leads.selectors import leads_visible

if TYPE_CHECKING:
    _CampaignAdmin = admin.ModelAdmin[Campaign]
    _CallAdmin = admin.ModelAdmin[Call]
    _TranscriptTurnAdmin = admin.ModelAdmin[TranscriptTurn]
    _StateRuleAdmin = admin.ModelAdmin[StateRule]
    _DialDecisionAdmin = admin.ModelAdmin[DialDecision]
    _CampaignDayStatsAdmin = admin.ModelAdmin[CampaignDayStats]
    _TranscriptTurnInline = admin.TabularInline[TranscriptTurn, Call]
    _StateRuleDayInline = admin.TabularInline[StateRuleDay, StateRule]
    _StateHolidayInline = admin.TabularInline[StateHoliday, StateRule]
    _Paginator = Paginator[Any]
    _CampaignModelForm = forms.ModelForm[Campaign]
else:
    # django-stubs makes these classes generic for mypy, but Django's own are
    # not subscriptable at run time (django_stubs_ext.monkeypatch() is not called).
    _CampaignAdmin = _CallAdmin = _TranscriptTurnAdmin = admin.ModelAdmin
    _StateRuleAdmin = _DialDecisionAdmin = _CampaignDayStatsAdmin = admin.ModelAdmin
    _CampaignModelForm = forms.ModelForm
    _TranscriptTurnInline = admin.TabularInline
    _StateRuleDayInline = _StateHolidayInline = admin.TabularInline
    _Paginator = Paginator


class CappedPaginator(_Paginator):
    """Count at most CAP rows, so a changelist over millions of rows never runs a full COUNT(*).

    Past the cap the changelist shows "10000 results" and pages up to there;
    narrow the list with a search or a filter to reach older rows.
    """

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        # Counting a sliced queryset becomes SELECT COUNT(*) FROM (... LIMIT CAP).
        queryset = cast("QuerySet[Any]", self.object_list)
        return queryset[: self.CAP].count()


def call_id_search(queryset: QuerySet[Any], search_term: str) -> tuple[QuerySet[Any], bool]:
    """Filter a table keyed by call on an exact call id; any other term matches nothing.

    Huge per-call tables search this way because a text search would scan every row.
    """
    term = search_term.strip().lstrip("#")
    if not term:
        return queryset, False
    if not term.isdigit():
        return queryset.none(), False
    return queryset.filter(call_id=int(term)), False


class HasRecordingFilter(admin.SimpleListFilter):
    title = "recording"
    parameter_name = "recording"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Has recording"), ("no", "No recording")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Call]) -> QuerySet[Call]:
        has_recording = ~Q(recording="") | ~Q(recording_url="")
        if self.value() == "yes":
            return queryset.filter(has_recording)
        if self.value() == "no":
            return queryset.exclude(has_recording)
        return queryset


CONSENT_OFF_WARNING = (
    'Campaign "{campaign}" dials leads without a consent record on file. Keep it that way only if '
    "consent is documented elsewhere: automated calls without prior express consent risk TCPA liability."
)


def _answer_field(topic: AnswerTopic) -> forms.CharField:
    default = ANSWERS[topic.value].format(business_name="{business}", callback="{callback number}")
    return forms.CharField(
        label=topic.label,
        required=False,
        max_length=ANSWER_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": default}),
        help_text="Empty: the default shown. {business_name} and {callback} are filled in. No prices, rates or "
        "figures the team can't stand behind: the agent's guardrails refuse them and the default is said instead.",
    )


class _CampaignAdminForm(_CampaignModelForm):
    """The campaign, with one box per answer in `Campaign.answers` instead of raw JSON."""

    class Meta:
        model = Campaign
        # The admin's fieldsets pick the fields; the answers are edited through the answer_* boxes.
        exclude = ["answers"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        answers = self.instance.answers or {}
        for topic in AnswerTopic:
            self.initial.setdefault(f"answer_{topic.value}", answers.get(topic.value, ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        boxes = {t.value: cleaned.get(f"answer_{t.value}", "").strip() for t in AnswerTopic}
        answers = {topic: text for topic, text in boxes.items() if text}
        try:
            validate_answers(answers)
        except ValidationError as error:
            raise ValidationError(error.messages) from error
        self.instance.answers = answers
        return cleaned


# Declared on the class, so the admin's form factory knows the boxes its fieldsets name.
CampaignAdminForm = type(
    "CampaignAdminForm", (_CampaignAdminForm,), {f"answer_{topic.value}": _answer_field(topic) for topic in AnswerTopic}
)


@admin.register(Campaign)
class CampaignAdmin(VisibleRecordsAdmin, _CampaignAdmin):
    visibility = campaign_visibility
    choices = {"leads": leads_visible}
    form = CampaignAdminForm
    list_display = [
        "name",
        "status",
        "pause_kind",
        "business_name",
        "agent_name",
        "consent_required",
        "leads_count",
        "calls_count",
        "created_at",
    ]
    list_filter = ["owner", "status", "pause_kind", "require_consent"]
    search_fields = ["name", "business_name"]
    # Campaigns hold thousands of leads: a select box or filter_horizontal would load them all.
    autocomplete_fields = ["leads", "owner"]
    # Status changes go through the actions so that campaign_activate & co. check them.
    readonly_fields = [
        "status",
        "status_reason",
        "pause_kind",
        "paused_until",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "owner", "status", "status_reason", "pause_kind", "paused_until"]}),
        (
            "The AI assistant",
            {
                "fields": ["agent_name", "business_name", "callback_number", "call_purpose", "script"],
                "description": "Every call opens by saying it is an AI assistant, with these names and purpose.",
            },
        ),
        (
            "Answers to questions leads ask",
            {"fields": [f"answer_{topic.value}" for topic in AnswerTopic], "classes": ["collapse"]},
        ),
        ("Leads", {"fields": ["leads"], "description": "Or upload a CSV into the campaign on its dashboard page."}),
        (
            "When and how often to call",
            {
                "fields": [
                    "countries",
                    "window_start",
                    "window_end",
                    "max_concurrent_calls",
                    "max_attempts",
                    "retry_delay_minutes",
                    "max_call_minutes",
                ]
            },
        ),
        ("Voicemail", {"fields": ["voicemail_action"]}),
        ("Consent and recording", {"fields": ["require_consent", "all_party_recording"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]
    actions = ["activate", "pause", "complete"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        # Subqueries rather than Count() over joins: joining both the leads and
        # the calls would multiply the rows before counting them.
        lead_links = Campaign.leads.through.objects.filter(campaign=OuterRef("pk"))
        calls = Call.objects.filter(campaign=OuterRef("pk"))
        campaigns: QuerySet[Campaign] = super().get_queryset(request)
        return campaigns.annotate(
            leads_total=_count_subquery(lead_links, "campaign"),
            calls_total=_count_subquery(calls, "campaign"),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Campaign | None = None) -> Any:
        # Only a manager hands campaigns out; an agent's own campaigns stay theirs.
        fields = super().get_readonly_fields(request, obj)
        return fields if Viewer.of(request.user).sees_all else [*fields, "owner"]

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        if not change and not Viewer.of(request.user).sees_all:
            obj.owner = request.user  # type: ignore[assignment]  # the admin's user is a signed-in User
        super().save_model(request, obj, form, change)
        if not obj.require_consent:
            self.message_user(request, CONSENT_OFF_WARNING.format(campaign=obj), messages.WARNING)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> Any:
        campaign = self.get_object(request, object_id)
        if request.method == "GET" and campaign is not None and not campaign.require_consent:
            self.message_user(request, CONSENT_OFF_WARNING.format(campaign=campaign), messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Consent required", boolean=True, ordering="require_consent")
    def consent_required(self, obj: Campaign) -> bool:
        return obj.require_consent

    @admin.display(description="Leads", ordering="leads_total")
    def leads_count(self, obj: Campaign) -> int:
        return int(obj.leads_total)  # type: ignore[attr-defined]

    @admin.display(description="Calls", ordering="calls_total")
    def calls_count(self, obj: Campaign) -> int:
        return int(obj.calls_total)  # type: ignore[attr-defined]

    @admin.action(description="Activate selected campaigns", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._apply(request, queryset, lambda c: campaign_activate(campaign=c), "activated")

    # Also holds a campaign a daily or monthly budget paused, so it does not resume when that budget starts over.
    @admin.action(description="Pause selected campaigns", permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        reason = f"Paused in the admin by {request.user}"
        self._apply(
            request,
            queryset,
            lambda c: campaign_pause(campaign=c, reason=reason, kind=Campaign.PauseKind.MANUAL),
            "paused",
        )

    @admin.action(description="Complete selected campaigns", permissions=["change"])
    def complete(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        reason = f"Completed in the admin by {request.user}"
        self._apply(request, queryset, lambda c: campaign_complete(campaign=c, reason=reason), "completed")

    def _apply(
        self, request: HttpRequest, queryset: QuerySet[Campaign], change: Callable[[Campaign], object], done: str
    ) -> None:
        changed = 0
        for campaign in queryset:
            try:
                change(campaign)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                changed += 1
        if changed:
            self.message_user(request, f"{changed} campaign{pluralize(changed)} {done}.", messages.SUCCESS)


class ReadOnlyInlineMixin:
    """Rows the pipeline writes (turns, costs): shown on the call, never edited there."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Call | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class TranscriptTurnInline(ReadOnlyInlineMixin, _TranscriptTurnInline):
    model = TranscriptTurn
    fields = readonly_fields = ("index", "speaker", "text", "started_ms", "latency_ms")
    ordering = ["index"]


@admin.register(Call)
class CallAdmin(VisibleRecordsAdmin, _CallAdmin):
    visibility = call_visibility
    list_display = [
        "id",
        "lead",
        "campaign",
        "status",
        "answered_by",
        "outcome",
        "score",
        "duration",
        "queued_at",
    ]
    list_select_related = ["lead", "campaign"]
    list_filter = ["status", "outcome", "answered_by", HasRecordingFilter, "campaign"]
    search_fields = ["=twilio_sid", "lead__phone", "lead__first_name", "lead__last_name"]
    search_help_text = "Lead name or phone, or Twilio call SID"
    date_hierarchy = "queued_at"
    # Everything but the review fields is written by the dialer, Twilio's
    # callbacks and the post-call analysis; the lead and campaign are history.
    readonly_fields = [
        "lead",
        "campaign",
        "attempt",
        "twilio_sid",
        "status",
        "answered_by",
        "recording_mode",
        "voice_tier",
        "dial_error",
        "queued_at",
        "dialed_at",
        "started_at",
        "answered_at",
        "ended_at",
        "duration_seconds",
        "recording_player",
        "recording_url",
        "qualification_table",
    ]
    fieldsets = [
        (None, {"fields": ["lead", "campaign", "attempt", "twilio_sid", "status", "answered_by"]}),
        ("Dialing", {"fields": ["recording_mode", "voice_tier", "dial_error"]}),
        ("Timing", {"fields": ["queued_at", "dialed_at", "started_at", "answered_at", "ended_at", "duration_seconds"]}),
        ("Result", {"fields": ["outcome", "score", "summary", "qualification_table"]}),
        ("Recording", {"fields": ["recording_player", "recording_url"]}),
    ]
    inlines = [TranscriptTurnInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Calls are created by the dialer after its consent, do-not-call and
        # calling-hours checks; a row added here would skip them all.
        return False

    @admin.display(description="Duration", ordering="duration_seconds")
    def duration(self, obj: Call) -> str:
        if obj.duration_seconds is None:
            return "—"
        minutes, seconds = divmod(obj.duration_seconds, 60)
        return f"{minutes}:{seconds:02d}"

    @admin.display(description="What the call learned")
    def qualification_table(self, obj: Call) -> SafeString | str:
        return qualification_html(obj.qualification)

    @admin.display(description="Recording")
    def recording_player(self, obj: Call) -> str:
        # Through the dashboard's staff-only view: recordings are never public media files.
        if not obj.recording:
            return "-"
        src = reverse("dashboard:call_recording", args=[obj.pk])
        return format_html(
            '<audio controls preload="none" src="{}"></audio> <a href="{}" download>Download</a>', src, src
        )


@admin.register(TranscriptTurn)
class TranscriptTurnAdmin(VisibleRecordsAdmin, _TranscriptTurnAdmin):
    visibility = transcript_turn_visibility
    choices = {"call": calls_visible}
    list_display = ["call", "index", "speaker", "excerpt", "latency_ms"]
    list_select_related = ["call"]
    list_filter = ["speaker"]
    # Newest calls first, each call's turns in order. "call_id", not "call":
    # ordering by the relation would join Call to sort by its Meta.ordering.
    ordering = ["-call_id", "index"]
    search_fields = ["call__id"]
    search_help_text = "Call id"
    raw_id_fields = ["call"]
    paginator = CappedPaginator
    # Both would count the whole table on every page view.
    show_full_result_count = False
    show_facets = ShowFacets.NEVER

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TranscriptTurn | None = None) -> bool:
        # A transcript is evidence of what was said; it is written only by the call.
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[TranscriptTurn], search_term: str
    ) -> tuple[QuerySet[TranscriptTurn], bool]:
        return call_id_search(queryset, search_term)

    @admin.display(description="Text")
    def excerpt(self, obj: TranscriptTurn) -> str:
        return obj.text if len(obj.text) <= 100 else obj.text[:99] + "…"


class StateRuleDayInline(_StateRuleDayInline):
    model = StateRuleDay
    extra = 0
    fields = ["weekday", "window_start", "window_end"]
    verbose_name_plural = "Weekday windows (replace the everyday window on that day; both times empty = no calls)"


class StateHolidayInline(_StateHolidayInline):
    model = StateHoliday
    extra = 0
    fields = ["name", "kind", "month", "day", "weekday", "nth", "easter_offset", "date", "also_observed"]
    verbose_name_plural = "Holidays (no calls all day, in the lead's local date)"


@admin.register(StateRule)
class StateRuleAdmin(_StateRuleAdmin):
    list_display = [
        "state",
        "window_start",
        "window_end",
        "weekday_windows",
        "holiday_count",
        "max_calls_per_24h",
        "all_party_consent",
        "statute",
    ]
    list_filter = ["all_party_consent"]
    search_fields = ["state", "statute", "notes"]
    ordering = ["state"]
    fields = ["state", "window_start", "window_end", "max_calls_per_24h", "all_party_consent", "statute", "notes"]
    inlines = [StateRuleDayInline, StateHolidayInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[StateRule]:
        return super().get_queryset(request).prefetch_related("days").annotate(_holidays=Count("holidays"))

    @admin.display(description="Weekdays")
    def weekday_windows(self, obj: StateRule) -> str:
        return "; ".join(str(day) for day in obj.days.all()) or "—"

    @admin.display(description="Holidays", ordering="_holidays")
    def holiday_count(self, obj: StateRule) -> int:
        return int(getattr(obj, "_holidays", 0))

    def save_model(self, request: HttpRequest, obj: StateRule, form: Any, change: bool) -> None:
        # The gate compares with upper-case codes from leads.timezones.
        obj.state = obj.state.upper()
        super().save_model(request, obj, form, change)


class DialAllowedFilter(admin.SimpleListFilter):
    title = "decision"
    parameter_name = "allowed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Allowed"), ("no", "Refused")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[DialDecision]) -> QuerySet[DialDecision]:
        if self.value() in ("yes", "no"):
            return queryset.filter(allowed=self.value() == "yes")
        return queryset


@admin.register(DialDecision)
class DialDecisionAdmin(VisibleRecordsAdmin, _DialDecisionAdmin):
    visibility = dial_decision_visibility
    """The compliance audit log: every decision of the gate, never edited."""

    list_display = ["decided_at", "lead", "campaign", "stage", "allowed", "reason", "local_time", "states", "call"]
    list_select_related = ["lead", "campaign", "call"]
    list_filter = [DialAllowedFilter, "reason", "stage", "campaign"]
    search_fields = ["=lead__phone", "=call__id"]
    search_help_text = "Exact lead phone (E.164) or call id"
    date_hierarchy = "decided_at"
    raw_id_fields = ["lead", "campaign", "call"]
    paginator = CappedPaginator
    show_full_result_count = False
    show_facets = ShowFacets.NEVER

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DialDecision | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: DialDecision | None = None) -> bool:
        # An audit log that can be edited or pruned from the admin proves nothing.
        return False


@admin.register(CampaignDayStats)
class CampaignDayStatsAdmin(VisibleRecordsAdmin, _CampaignDayStatsAdmin):
    visibility = campaign_day_stats_visibility
    list_display = [
        "day",
        "campaign",
        "calls",
        "reached",
        "voicemail",
        "no_answer",
        "hot",
        "warm",
        "cold",
        "booked",
        "opted_out",
        "refused_by_gate",
        "latency_turns",
        "latency_p50_ms",
        "latency_p95_ms",
        "cost_usd",
    ]
    list_select_related = ["campaign"]
    list_filter = ["campaign"]
    date_hierarchy = "day"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CampaignDayStats | None = None) -> bool:
        # Written by the campaign_stats_rollup task from the calls themselves.
        return False


def _count_subquery(queryset: QuerySet[Any], group_by: str) -> Coalesce:
    counted = queryset.order_by().values(group_by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), 0, output_field=IntegerField())
