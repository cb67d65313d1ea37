"""The leads worklist's reads: the filter form, the filtered leads, their CSV export, and a lead's notes.

Every list starts from leads_visible, so an agent's worklist, export and bulk actions only ever hold the
leads they see (common.access.Viewer). Days are in TIME_ZONE, like the rest of the dashboard's.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from agents.scoring import ScoringRules
from agents.selectors import scoring_rules_get
from calls.models import Campaign
from calls.selectors import campaign_visibility, campaigns_visible
from common.access import Viewer
from leads.models import DoNotCall, Lead, LeadNote
from leads.selectors import leads_visible
from leads.services import spreadsheet_safe

# A search term with this many digits, and nothing but phone punctuation besides, is matched against phones.
_PHONE_TERM = re.compile(r"^[\d\s()+.\-]+$")
_MIN_PHONE_DIGITS = 3


class WorklistFilterForm(forms.Form):
    """The worklist's filters, read from the query string; a blank field does not filter."""

    BUCKETS = [("", "Any score"), ("hot", "Hot"), ("warm", "Warm"), ("cold", "Cold"), ("unscored", "Not scored")]
    NEXT_ATTEMPT = [
        ("", "Any next attempt"),
        ("by_today", "Due by end of today"),
        ("overdue", "Overdue"),
        ("today", "Due later today"),
        ("later", "After today"),
        ("none", "Not scheduled"),
    ]
    DATE_FIELDS = [("created", "Created"), ("last_call", "Last call")]
    SORTS = [("newest", "Newest first"), ("next_attempt", "Next attempt first"), ("score", "Highest score first")]

    q = forms.CharField(required=False, max_length=100, label="Search", strip=True)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Lead.Status.choices])
    bucket = forms.ChoiceField(required=False, choices=BUCKETS, label="Score")
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), required=False, empty_label="Any campaign")
    next_attempt = forms.ChoiceField(required=False, choices=NEXT_ATTEMPT)
    date_field = forms.ChoiceField(required=False, choices=DATE_FIELDS, label="Date")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(required=False, choices=SORTS)

    def __init__(self, *args: Any, viewer: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only campaigns the viewer sees: another agent's campaign is no filter, and its name is not shown.
        field = self.fields["campaign"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = campaigns_visible(viewer=viewer).order_by("name", "pk")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned


@dataclass(frozen=True)
class WorklistFilters:
    """What the worklist is narrowed to; the defaults list every lead the viewer sees, newest first."""

    q: str = ""
    status: str = ""
    bucket: str = ""
    campaign_id: int | None = None
    next_attempt: str = ""
    date_field: str = "created"
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "newest"

    @classmethod
    def of(cls, form: WorklistFilterForm) -> WorklistFilters:
        """Return the filters of a form; an invalid field (a campaign the viewer may not see) is left out."""
        form.is_valid()  # an invalid field is missing from cleaned_data; the others still filter
        data = form.cleaned_data
        campaign = data.get("campaign")
        return cls(
            q=data.get("q") or "",
            status=data.get("status") or "",
            bucket=data.get("bucket") or "",
            campaign_id=campaign.pk if campaign is not None else None,
            next_attempt=data.get("next_attempt") or "",
            date_field=data.get("date_field") or "created",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            sort=data.get("sort") or "newest",
        )


def worklist_leads(*, viewer: Viewer, filters: WorklistFilters, now: dt.datetime) -> QuerySet[Lead]:
    """Return the leads `viewer` sees that pass every filter, in the filters' order, each with the campaigns
    the viewer sees prefetched as `visible_campaigns`."""
    leads = leads_visible(viewer=viewer).filter(
        _search_q(filters.q),
        _bucket_q(filters.bucket, scoring_rules_get()),
        _next_attempt_q(filters.next_attempt, now),
        _date_q(filters.date_field, filters.date_from, filters.date_to),
    )
    if filters.status:
        leads = leads.filter(status=filters.status)
    if filters.campaign_id is not None:
        # A subquery, so a lead is listed once however its campaigns are joined.
        in_campaign = Lead.objects.filter(campaigns__id=filters.campaign_id).values("pk")
        leads = leads.filter(pk__in=in_campaign)
    visible_campaigns = Campaign.objects.filter(campaign_visibility(viewer)).order_by("-created_at", "-pk")
    return leads.prefetch_related(
        Prefetch("campaigns", queryset=visible_campaigns, to_attr="visible_campaigns")
    ).order_by(*_ORDER[filters.sort if filters.sort in _ORDER else "newest"])


_ORDER: dict[str, tuple[Any, ...]] = {
    "newest": ("-created_at", "-pk"),
    "next_attempt": (F("next_attempt_at").asc(nulls_last=True), "-created_at", "-pk"),
    "score": (F("score").desc(nulls_last=True), "-created_at", "-pk"),
}


def _search_q(q: str) -> Q:
    # Every word must match a name, the e-mail or the phone ("ann 415" finds Ann whose number has 415 in it).
    match = Q()
    for term in q.split():
        words = Q(first_name__icontains=term) | Q(last_name__icontains=term) | Q(email__icontains=term)
        digits = re.sub(r"\D", "", term)
        if _PHONE_TERM.match(term) and len(digits) >= _MIN_PHONE_DIGITS:
            words |= Q(phone__contains=digits)
        match &= words
    return match


def _bucket_q(bucket: str, rules: ScoringRules) -> Q:
    # The bucket of the lead's latest score, by the thresholds in force now (the agent's ScoringConfig).
    if bucket == "hot":
        return Q(score__gte=rules.hot_threshold)
    if bucket == "warm":
        return Q(score__gte=rules.warm_threshold, score__lt=rules.hot_threshold)
    if bucket == "cold":
        return Q(score__lt=rules.warm_threshold)
    if bucket == "unscored":
        return Q(score__isnull=True)
    return Q()


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _next_attempt_q(when: str, now: dt.datetime) -> Q:
    tomorrow = _day_start(timezone.localdate(now) + dt.timedelta(days=1))
    if when == "by_today":
        return Q(next_attempt_at__lt=tomorrow)
    if when == "overdue":
        return Q(next_attempt_at__lte=now)
    if when == "today":
        return Q(next_attempt_at__gt=now, next_attempt_at__lt=tomorrow)
    if when == "later":
        return Q(next_attempt_at__gte=tomorrow)
    if when == "none":
        return Q(next_attempt_at__isnull=True)
    return Q()


def _date_q(field: str, start: dt.date | None, end: dt.date | None) -> Q:
    column = "last_attempt_at" if field == "last_call" else "created_at"
    span = Q()
    if start is not None:
        span &= Q(**{f"{column}__gte": _day_start(start)})
    if end is not None:
        span &= Q(**{f"{column}__lt": _day_start(end + dt.timedelta(days=1))})
    return span


def lead_bucket(*, score: int | None, rules: ScoringRules) -> str:
    """Return "hot", "warm" or "cold" for a score, or "" for a lead not scored yet."""
    return "" if score is None else rules.bucket(score)


# --- CSV export ------------------------------------------------------------------------------------

EXPORT_HEADER = [
    "id",
    "first_name",
    "last_name",
    "phone",
    "phone_extension",
    "email",
    "status",
    "score",
    "bucket",
    "campaigns",
    "next_attempt_at",
    "last_attempt_at",
    "attempts",
    "city",
    "state",
    "source",
    "created_at",
]


class _Echo:
    """A file whose write returns the line, for csv.writer feeding a streaming response."""

    def write(self, value: str) -> str:
        return value


def worklist_csv_rows(*, leads: QuerySet[Lead]) -> Iterator[str]:
    """Yield the CSV lines of these leads (header first), every text cell safe to open in a spreadsheet."""
    writer = csv.writer(_Echo())
    rules = scoring_rules_get()
    yield writer.writerow(EXPORT_HEADER)
    for lead in leads.iterator(chunk_size=1000):
        yield writer.writerow([spreadsheet_safe(cell) for cell in _export_cells(lead, rules)])


def _export_cells(lead: Lead, rules: ScoringRules) -> Iterable[object]:
    campaigns: list[Campaign] = getattr(lead, "visible_campaigns", [])
    return [
        lead.pk,
        lead.first_name,
        lead.last_name,
        lead.phone,
        lead.phone_extension,
        lead.email,
        lead.status,
        "" if lead.score is None else lead.score,
        lead_bucket(score=lead.score, rules=rules),
        "; ".join(c.name for c in campaigns),
        _iso(lead.next_attempt_at),
        _iso(lead.last_attempt_at),
        lead.attempt_count,
        lead.city,
        lead.state,
        lead.source,
        _iso(lead.created_at),
    ]


def _iso(value: dt.datetime | None) -> str:
    return "" if value is None else timezone.localtime(value).isoformat(timespec="seconds")


# --- Bulk add to a campaign, and notes ---------------------------------------------------------------

# "All filtered leads" adds at most this many in one request; narrow the filters for more.
BULK_ADD_LIMIT = 10_000


def leads_not_dialable_count(*, lead_ids: Iterable[int]) -> int:
    """Return how many of these leads no campaign will dial: marked do-not-call, or on our own do-not-call list.

    A number only on the national registry is left out: a lead's consent lets the dialer call it.
    """
    own_list = DoNotCall.objects.exclude(source=DoNotCall.Source.REGISTRY).values("phone")
    blocked = Q(status=Lead.Status.DO_NOT_CALL) | Q(phone__in=own_list)
    return Lead.objects.filter(blocked, pk__in=list(lead_ids)).count()


def lead_notes_list(*, lead: Lead) -> list[LeadNote]:
    """Return the lead's notes, newest first, with their authors (whoever sees the lead sees its notes)."""
    return list(LeadNote.objects.filter(lead=lead).select_related("author"))
