"""The gate's weekday windows and holidays, and the seeded state statutes."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from calls.compliance import HolidayFacts, dial_check, easter_sunday, holiday_falls_on
from calls.models import Campaign, DialDecision, StateHoliday, StateRule, StateRuleDay, Weekday
from leads.models import Lead
from tests.factories import CampaignFactory, ConsentFactory, LeadFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("state_rules")]

UTC = dt.UTC
Reason = DialDecision.Reason


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def _campaign(**fields: Any) -> Campaign:
    # 7:00-22:00 so the federal window and the state rules are what bind.
    values = {"status": Campaign.Status.ACTIVE, "window_start": dt.time(7), "window_end": dt.time(22), **fields}
    return CampaignFactory.create(**values)


def _lead(phone: str, state: str, zone: str) -> Lead:
    lead = LeadFactory.create(phone=phone, state=state, timezone=zone)
    ConsentFactory.create(lead=lead, given_at=_at(2026, 1, 1))
    return lead


# --- Weekdays -------------------------------------------------------------------------------------------


def test_it_refuses_a_sunday_call_in_a_state_with_no_sunday_calls() -> None:
    lead = _lead("+16015550110", "MS", "America/Chicago")
    sunday_noon = _at(2026, 6, 7, 17, 0)  # 12:00 CDT, Sunday 7 June

    decision = dial_check(lead=lead, campaign=_campaign(), now=sunday_noon)

    assert (decision.allowed, decision.reason) == (False, Reason.NO_CALL_DAY)
    assert decision.detail == "local time Sun 12:00 CDT in America/Chicago: the MS rule allows no calls on Sundays"
    assert decision.retry_at == _at(2026, 6, 8, 13, 0)  # Monday 8:00 CDT
    assert dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 8, 17, 0)).allowed


def test_it_allows_a_sunday_afternoon_call_where_sunday_starts_at_noon() -> None:
    lead = _lead("+15125550110", "TX", "America/Chicago")

    morning = dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 7, 16, 0))  # Sunday 11:00 CDT
    afternoon = dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 7, 19, 0))  # Sunday 14:00 CDT

    assert (morning.allowed, morning.reason) == (False, Reason.OUTSIDE_WINDOW)
    assert morning.detail.endswith("is outside 12:00-21:00 (federal 8:00-21:00, TX rule on Sundays)")
    assert morning.retry_at == _at(2026, 6, 7, 17, 0)
    assert afternoon.allowed


def test_it_uses_the_everyday_window_on_the_other_days() -> None:
    lead = _lead("+15125550111", "TX", "America/Chicago")
    saturday_830 = dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 6, 13, 30))
    assert saturday_830.reason == Reason.OUTSIDE_WINDOW
    assert saturday_830.detail.endswith("outside 09:00-21:00 (federal 8:00-21:00, TX rule)")
    assert dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 6, 14, 0)).allowed  # Saturday 9:00


def test_it_waits_past_a_closed_sunday_for_the_next_opening() -> None:
    # Rhode Island: Saturday 10:00-17:00, no Sunday calls, weekdays from 9:00.
    lead = _lead("+14015550110", "RI", "America/New_York")
    decision = dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 6, 22, 0))  # Saturday 18:00 EDT
    assert decision.detail.endswith("outside 10:00-17:00 (RI rule on Saturdays)")
    assert decision.retry_at == _at(2026, 6, 8, 13, 0)  # Monday 9:00 EDT


def test_it_reads_the_weekday_in_the_leads_zone_not_in_utc() -> None:
    lead = _lead("+16015550111", "MS", "America/Chicago")
    # Sunday 00:30 UTC is still Saturday 19:30 in Mississippi: inside its 8:00-20:00.
    assert dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 7, 0, 30)).allowed
    saturday_late = dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 7, 1, 30))  # Sat 20:30 CDT
    assert saturday_late.reason == Reason.OUTSIDE_WINDOW
    assert saturday_late.retry_at == _at(2026, 6, 8, 13, 0)  # Sunday is skipped


# --- Holidays -------------------------------------------------------------------------------------------


def test_it_refuses_a_call_on_a_state_holiday() -> None:
    lead = _lead("+15045550110", "LA", "America/Chicago")
    thanksgiving_noon = _at(2026, 11, 26, 18, 0)  # Thursday 26 November, 12:00 CST

    decision = dial_check(lead=lead, campaign=_campaign(), now=thanksgiving_noon)

    assert (decision.allowed, decision.reason) == (False, Reason.STATE_HOLIDAY)
    assert decision.detail == (
        "local time Thu 12:00 CST in America/Chicago: Thursday 2026-11-26 is Thanksgiving Day, "
        "a holiday with no calls under the LA rule"
    )
    assert decision.retry_at == _at(2026, 11, 27, 14, 0)  # Friday 8:00 CST
    assert dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 11, 27, 18, 0)).allowed


def test_it_refuses_an_easter_holiday_and_an_observed_one() -> None:
    louisiana = _lead("+15045550111", "LA", "America/Chicago")
    good_friday_2027 = _at(2027, 3, 26, 17, 0)
    assert dial_check(lead=louisiana, campaign=_campaign(), now=good_friday_2027).reason == Reason.STATE_HOLIDAY
    # 4 July 2026 is a Saturday, so Utah observes it on Friday 3 July.
    utah = _lead("+18015550110", "UT", "America/Denver")
    decision = dial_check(lead=utah, campaign=_campaign(), now=_at(2026, 7, 3, 18, 0))
    assert (decision.reason, "Independence Day" in decision.detail) == (Reason.STATE_HOLIDAY, True)


def test_it_calls_on_a_holiday_in_a_state_without_holiday_rules() -> None:
    lead = _lead("+12125550110", "NY", "America/New_York")
    assert dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 11, 26, 17, 0)).allowed


@pytest.mark.parametrize(
    ("holiday", "day", "falls"),
    [
        (HolidayFacts("Thanksgiving", "nth_weekday", month=11, weekday=Weekday.THURSDAY, nth=4), (2026, 11, 26), True),
        (HolidayFacts("Thanksgiving", "nth_weekday", month=11, weekday=Weekday.THURSDAY, nth=4), (2026, 11, 19), False),
        (HolidayFacts("Memorial Day", "nth_weekday", month=5, weekday=Weekday.MONDAY, nth=-1), (2026, 5, 25), True),
        (HolidayFacts("Memorial Day", "nth_weekday", month=5, weekday=Weekday.MONDAY, nth=-1), (2026, 5, 18), False),
        (HolidayFacts("Christmas", "fixed", month=12, day=25), (2026, 12, 25), True),
        (HolidayFacts("Christmas", "fixed", month=12, day=25), (2027, 12, 24), False),
        # 25 December 2027 is a Saturday: observed on Friday the 24th.
        (HolidayFacts("Christmas", "fixed", month=12, day=25, also_observed=True), (2027, 12, 24), True),
        # 1 January 2028 is a Saturday: observed on Friday 31 December 2027.
        (HolidayFacts("New Year", "fixed", month=1, day=1, also_observed=True), (2027, 12, 31), True),
        (HolidayFacts("Mardi Gras", "easter", easter_offset=-47), (2026, 2, 17), True),
        (HolidayFacts("One year", "date", date=dt.date(2026, 3, 3)), (2026, 3, 3), True),
        (HolidayFacts("One year", "date", date=dt.date(2026, 3, 3)), (2027, 3, 3), False),
    ],
)
def test_it_knows_when_each_kind_of_holiday_falls(
    holiday: HolidayFacts, day: tuple[int, int, int], falls: bool
) -> None:
    assert holiday_falls_on(holiday=holiday, day=dt.date(*day)) is falls


def test_it_computes_easter() -> None:
    assert [easter_sunday(y) for y in (2026, 2027, 2028)] == [
        dt.date(2026, 4, 5),
        dt.date(2027, 3, 28),
        dt.date(2028, 4, 16),
    ]


# --- Seeds and the admin ------------------------------------------------------------------------------


def test_it_seeds_every_stricter_state_with_its_statute() -> None:
    rules = {rule.state: rule for rule in StateRule.objects.prefetch_related("days", "holidays")}
    stricter = {"FL", "OK", "MD", "WA", "TX", "LA", "AL", "MS", "UT", "RI", "MA", "CT", "KY", "MN"}
    assert stricter <= set(rules)
    assert [state for state, rule in rules.items() if not rule.statute] == []
    assert (rules["MD"].window_end, rules["MD"].max_calls_per_24h) == (dt.time(20), 3)
    assert "§301.051" in rules["TX"].statute
    sundays = {r.state: (d.window_start, d.window_end) for r in rules.values() for d in r.days.all() if d.weekday == 6}
    assert sundays["TX"] == (dt.time(12), dt.time(21))
    assert {s for s, window in sundays.items() if window == (None, None)} == {"LA", "AL", "MS", "UT", "RI"}
    assert {h.name for h in rules["LA"].holidays.all()} >= {"Thanksgiving Day", "Mardi Gras", "Good Friday"}
    # Seeding again adds nothing.
    count = StateHoliday.objects.count()
    StateRuleDay.objects.filter(rule__state="TX").update(window_start=dt.time(13))
    _seed_again()
    assert StateHoliday.objects.count() == count
    assert StateRuleDay.objects.get(rule__state="TX").window_start == dt.time(13)  # a broker's edit is kept


def _seed_again() -> None:
    importlib.import_module("calls.migrations.0012_state_rules_statutes_seed").state_rules_statutes_seed(apps, None)


def _inline_forms(prefix: str, rows: list[dict[str, str]]) -> dict[str, str]:
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0"}
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


def test_it_edits_weekday_windows_and_holidays_in_the_admin(admin_client: Client) -> None:
    data = {
        "state": "ga",
        "window_start": "08:00",
        "window_end": "21:00",
        "statute": "House policy",
        **_inline_forms("days", [{"weekday": "6", "window_start": "", "window_end": ""}]),
        **_inline_forms(
            "holidays", [{"name": "Thanksgiving", "kind": "nth_weekday", "month": "11", "weekday": "3", "nth": "4"}]
        ),
    }
    response = admin_client.post(reverse("admin:calls_staterule_add"), data)
    assert response.status_code == 302
    rule = StateRule.objects.get(state="GA")
    assert [(d.weekday, d.window_start) for d in rule.days.all()] == [(6, None)]
    assert [(h.name, h.nth) for h in rule.holidays.all()] == [("Thanksgiving", 4)]
    lead = _lead("+14045550110", "GA", "America/New_York")
    assert dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 7, 17, 0)).reason == Reason.NO_CALL_DAY
    assert dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 11, 26, 17, 0)).reason == Reason.STATE_HOLIDAY
    assert admin_client.get(reverse("admin:calls_staterule_changelist")).status_code == 200


def test_it_refuses_a_holiday_without_the_fields_its_kind_needs(admin_client: Client) -> None:
    data = {
        "state": "GA",
        "window_start": "08:00",
        "window_end": "21:00",
        **_inline_forms("days", [{"weekday": "6", "window_start": "12:00", "window_end": ""}]),
        **_inline_forms("holidays", [{"name": "Thanksgiving", "kind": "nth_weekday", "month": "11"}]),
    }
    response = admin_client.post(reverse("admin:calls_staterule_add"), data)
    assert response.status_code == 200
    assert not StateRule.objects.filter(state="GA").exists()
    errors = str(response.context["inline_admin_formsets"][1].formset.errors)
    assert "Required for a weekday of a month" in errors
