"""The compliance gate: calling windows across zones and DST, state rules, DNC, consent, attempts, recording."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from agents.services import lead_opt_out
from calls.compliance import DialFacts, RuleFacts, dial_check, dial_decide, dial_decision_record
from calls.models import Call, Campaign, DialDecision, StateRule
from leads.models import Lead
from leads.services import lead_create
from tests.factories import (
    CallFactory,
    CampaignFactory,
    ConsentFactory,
    DoNotCallFactory,
    LeadFactory,
)

pytestmark = pytest.mark.usefixtures("state_rules")

UTC = dt.UTC
Reason = DialDecision.Reason


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def _campaign(**fields: Any) -> Campaign:
    # 7:00-22:00 so the federal 8:00-21:00 window and the state rules are what bind.
    values = {"status": Campaign.Status.ACTIVE, "window_start": dt.time(7), "window_end": dt.time(22), **fields}
    return CampaignFactory.create(**values)


def _lead(phone: str, state: str, zone: str, **fields: Any) -> Lead:
    lead = LeadFactory.create(phone=phone, state=state, timezone=zone, **fields)
    ConsentFactory.create(lead=lead, given_at=_at(2026, 1, 1))
    return lead


def _placed(lead: Lead, at: dt.datetime, campaign: Campaign | None = None, attempt: int = 1) -> Call:
    campaign = campaign or _campaign()
    return CallFactory.create(
        lead=lead, campaign=campaign, attempt=attempt, status=Call.Status.COMPLETED, dialed_at=at, ended_at=at
    )


# --- Calling windows ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("phone", "state", "zone", "now", "allowed", "local"),
    [
        # San Francisco 8:30 PDT, New York 11:30 EDT: both in.
        ("+14155550140", "CA", "America/Los_Angeles", _at(2026, 6, 2, 15, 30), True, "2026-06-02 08:30 PDT"),
        ("+12125550140", "NY", "America/New_York", _at(2026, 6, 2, 15, 30), True, "2026-06-02 11:30 EDT"),
        # 12:30 UTC is 8:30 in New York but 5:30 in San Francisco.
        ("+12125550141", "NY", "America/New_York", _at(2026, 6, 2, 12, 30), True, "2026-06-02 08:30 EDT"),
        ("+14155550141", "CA", "America/Los_Angeles", _at(2026, 6, 2, 12, 30), False, "2026-06-02 05:30 PDT"),
        # 21:00 sharp is too late; 20:59 is not.
        ("+12125550142", "NY", "America/New_York", _at(2026, 6, 3, 0, 59), True, "2026-06-02 20:59 EDT"),
        ("+12125550143", "NY", "America/New_York", _at(2026, 6, 3, 1, 0), False, "2026-06-02 21:00 EDT"),
        # Arizona keeps MST all summer: 15:00 UTC is 8:00 there (9:00 in Denver).
        ("+16025550140", "AZ", "America/Phoenix", _at(2026, 6, 2, 14, 59), False, "2026-06-02 07:59 MST"),
        ("+16025550141", "AZ", "America/Phoenix", _at(2026, 6, 2, 15, 0), True, "2026-06-02 08:00 MST"),
        ("+18085550140", "HI", "Pacific/Honolulu", _at(2026, 6, 2, 18, 0), True, "2026-06-02 08:00 HST"),
    ],
)
def test_it_calls_only_between_8_and_21_in_the_leads_own_zone(
    phone: str, state: str, zone: str, now: dt.datetime, allowed: bool, local: str
) -> None:
    lead = _lead(phone, state, zone)
    decision = dial_check(lead=lead, campaign=_campaign(), now=now)
    assert (decision.allowed, decision.local_time, decision.timezone) == (allowed, local, zone)
    assert decision.reason == (Reason.ALLOWED if allowed else Reason.OUTSIDE_WINDOW)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("now", "allowed", "local"),
    [
        # Spring forward, Sunday 8 March 2026: 8:00 comes an hour earlier in UTC than the day before.
        (_at(2026, 3, 7, 12, 30), False, "2026-03-07 07:30 EST"),
        (_at(2026, 3, 8, 12, 30), True, "2026-03-08 08:30 EDT"),
        (_at(2026, 3, 9, 0, 59), True, "2026-03-08 20:59 EDT"),
        (_at(2026, 3, 9, 1, 0), False, "2026-03-08 21:00 EDT"),
        # Fall back, Sunday 1 November 2026: 8:00 comes an hour later in UTC.
        (_at(2026, 10, 31, 12, 30), True, "2026-10-31 08:30 EDT"),
        (_at(2026, 11, 1, 12, 30), False, "2026-11-01 07:30 EST"),
        (_at(2026, 11, 1, 13, 0), True, "2026-11-01 08:00 EST"),
        (_at(2026, 11, 2, 1, 30), True, "2026-11-01 20:30 EST"),
        (_at(2026, 11, 2, 2, 0), False, "2026-11-01 21:00 EST"),
    ],
)
def test_it_follows_the_leads_clock_across_dst_changes(now: dt.datetime, allowed: bool, local: str) -> None:
    lead = _lead("+12125550150", "NY", "America/New_York")
    with time_machine.travel(now, tick=False):
        decision = dial_check(lead=lead, campaign=_campaign(), now=timezone.now())
    assert (decision.allowed, decision.local_time) == (allowed, local)


@pytest.mark.django_db
def test_it_waits_for_the_window_to_open_at_8_local_even_on_the_night_clocks_change() -> None:
    lead = _lead("+12125550151", "NY", "America/New_York")
    # 1:00 EST on 8 March; at 2:00 the clocks jump to 3:00 EDT, so 8:00 is 12:00 UTC, not 13:00.
    decision = dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 3, 8, 6, 0))
    assert decision.reason == Reason.OUTSIDE_WINDOW
    assert decision.retry_at == _at(2026, 3, 8, 12, 0)
    # After the window closes the next opening is the next morning.
    decision = dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 11, 2, 2, 30))
    assert decision.retry_at == _at(2026, 11, 2, 13, 0)


@pytest.mark.django_db
def test_it_narrows_the_window_to_the_campaigns() -> None:
    lead = _lead("+12125550152", "NY", "America/New_York")
    campaign = _campaign(window_start=dt.time(10), window_end=dt.time(18))
    decision = dial_check(lead=lead, campaign=campaign, now=_at(2026, 6, 2, 13, 30))  # 9:30 EDT
    assert decision.reason == Reason.OUTSIDE_WINDOW
    assert decision.detail == "local time 09:30 EDT in America/New_York is outside 10:00-18:00 (campaign)"


@pytest.mark.django_db
def test_it_requires_both_zones_to_be_in_window_when_number_and_address_disagree() -> None:
    # A San Francisco number with a New York address: the lead may be in either place.
    lead = _lead("+14155550153", "NY", "America/Los_Angeles", timezone_source=Lead.TimezoneSource.CONFLICT)
    early = dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 2, 13, 0))  # 9:00 NY, 6:00 SF
    assert early.reason == Reason.OUTSIDE_WINDOW
    assert "America/Los_Angeles" in early.detail
    late = dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 3, 1, 30))  # 21:30 NY, 18:30 SF
    assert late.reason == Reason.OUTSIDE_WINDOW
    assert "America/New_York" in late.detail
    assert dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 2, 17, 0)).allowed  # 13:00 NY, 10:00 SF


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["", "Mars/Olympus_Mons"])
def test_it_never_dials_a_lead_whose_time_zone_is_unknown(zone: str) -> None:
    lead = _lead("+18005550154", "", zone)
    decision = dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 2, 17, 0))
    assert (decision.allowed, decision.reason) == (False, Reason.TIMEZONE_UNKNOWN)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("now", "allowed", "outside"),
    [
        # 8:30 MDT in Boise is 7:30 PDT in the panhandle: too early there.
        (_at(2026, 6, 2, 14, 30), False, "America/Los_Angeles"),
        (_at(2026, 6, 2, 15, 0), True, ""),  # 9:00 MDT, 8:00 PDT
        (_at(2026, 6, 3, 2, 59), True, ""),  # 20:59 MDT, 19:59 PDT
        (_at(2026, 6, 3, 3, 0), False, "America/Boise"),  # 21:00 MDT: too late in Boise
    ],
)
def test_it_dials_an_area_code_across_zones_only_when_every_zone_is_in_window(
    now: dt.datetime, allowed: bool, outside: str
) -> None:
    # Idaho's 208 rings in Mountain and Pacific time; with no state, the lead may be in either.
    lead = lead_create(phone="(208) 555-0123")
    ConsentFactory.create(lead=lead, given_at=_at(2026, 1, 1))
    assert (lead.timezone, lead.timezone_source) == ("", Lead.TimezoneSource.UNKNOWN)

    decision = dial_check(lead=lead, campaign=_campaign(), now=now)

    assert (decision.allowed, decision.reason) == (allowed, Reason.ALLOWED if allowed else Reason.OUTSIDE_WINDOW)
    assert outside in decision.detail
    if not allowed:
        assert decision.retry_at is not None  # never refused for good: asked again when the window opens


@pytest.mark.django_db
def test_it_retries_an_area_code_across_zones_when_the_last_zone_opens() -> None:
    lead = _lead("+12085550124", "", "")
    decision = dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 2, 14, 30))  # 8:30 MDT, 7:30 PDT
    assert decision.detail == "local time 07:30 PDT in America/Los_Angeles is outside 08:00-21:00 (federal 8:00-21:00)"
    assert decision.retry_at == _at(2026, 6, 2, 15, 0)  # 8:00 PDT
    assert dial_check(lead=lead, campaign=_campaign(), now=decision.retry_at).allowed


@pytest.mark.django_db
def test_it_says_why_a_number_whose_zones_never_share_the_window_is_not_dialed() -> None:
    # A toll-free number rings from Guam to Alaska's Aleutians: no hour is inside 8:00-21:00 everywhere.
    lead = _lead("+18005550155", "", "")
    decision = dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 2, 17, 0))
    assert (decision.allowed, decision.reason) == (False, Reason.TIMEZONE_UNKNOWN)
    assert decision.detail.endswith("never all inside 08:00-21:00 at once; set the lead's state")


# --- Countries ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_a_number_outside_the_campaigns_countries_and_dials_it_once_the_campaign_names_it() -> None:
    # A London number at noon in London: inside any calling window, but not a US number.
    lead = _lead("+442079460958", "", "Europe/London", timezone_source=Lead.TimezoneSource.PHONE)
    noon_london = _at(2026, 6, 2, 11, 0)

    refused = dial_check(lead=lead, campaign=_campaign(), now=noon_london)
    allowed = dial_check(lead=lead, campaign=_campaign(countries=["US", "GB"]), now=noon_london)

    assert (refused.allowed, refused.reason) == (False, Reason.COUNTRY_NOT_ALLOWED)
    assert refused.detail == "the number is in GB; the campaign calls only US"
    assert refused.retry_at is None  # only a change to the campaign can change the answer
    assert (allowed.allowed, allowed.local_time) == (True, "2026-06-02 12:00 BST")


@pytest.mark.django_db
def test_it_refuses_a_number_it_cannot_place_in_any_country() -> None:
    lead = _lead("+15555550100", "CA", "America/Los_Angeles")  # 555 is not an assigned area code
    decision = dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 2, 18, 0))
    assert (decision.reason, decision.detail) == (
        Reason.COUNTRY_NOT_ALLOWED,
        "the number is in no known country; the campaign calls only US",
    )


def test_it_refuses_facts_that_name_no_country() -> None:
    # Facts built without the number's country fail closed.
    facts = DialFacts(**{name: value for name, value in vars(_facts()).items() if name not in ("countries", "region")})
    assert dial_decide(facts=facts, now=_at(2026, 6, 2, 18, 0)).reason == Reason.COUNTRY_NOT_ALLOWED


@pytest.mark.django_db
@pytest.mark.parametrize("countries", [[], ["UK"], ["us"], "US"])
def test_it_validates_the_campaigns_countries_as_iso_region_codes(countries: Any) -> None:
    with pytest.raises(ValidationError):
        _campaign(countries=countries).full_clean()


# --- State rules -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_seeds_florida_oklahoma_and_the_all_party_consent_states() -> None:
    rules = {r.state: r for r in StateRule.objects.all()}
    for state in ("FL", "OK"):
        rule = rules[state]
        assert (rule.window_start, rule.window_end, rule.max_calls_per_24h) == (dt.time(8), dt.time(20), 3)
    assert {s for s, r in rules.items() if r.all_party_consent} == {
        "CA", "DE", "FL", "IL", "MD", "MA", "MT", "NV", "NH", "PA", "WA",
    }  # fmt: skip
    assert (rules["CA"].window_end, rules["CA"].max_calls_per_24h) == (dt.time(21), None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("phone", "state", "zone", "now"),
    [
        ("+13055550160", "FL", "America/New_York", _at(2026, 6, 3, 0, 30)),  # 20:30 EDT in Miami
        ("+14055550160", "OK", "America/Chicago", _at(2026, 6, 3, 1, 30)),  # 20:30 CDT in Oklahoma City
        # The number is from Florida though the address is in Georgia: Florida's rule still applies.
        ("+13055550161", "GA", "America/New_York", _at(2026, 6, 3, 0, 30)),
    ],
)
def test_it_stops_calling_florida_and_oklahoma_at_20(phone: str, state: str, zone: str, now: dt.datetime) -> None:
    lead = _lead(phone, state, zone)
    decision = dial_check(lead=lead, campaign=_campaign(), now=now)
    assert decision.reason == Reason.OUTSIDE_WINDOW
    assert "08:00-20:00" in decision.detail
    assert decision.local_time.endswith("20:30 " + ("EDT" if zone == "America/New_York" else "CDT"))
    assert dial_check(lead=lead, campaign=_campaign(), now=now - dt.timedelta(hours=1)).allowed


@pytest.mark.django_db
def test_it_lets_georgia_be_called_until_21() -> None:
    lead = _lead("+14045550160", "GA", "America/New_York")
    assert dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 3, 0, 30)).allowed  # 20:30 EDT


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("phone", "state", "zone"), [("+13055550170", "FL", "America/New_York"), ("+14055550170", "OK", "America/Chicago")]
)
def test_it_allows_florida_and_oklahoma_3_calls_in_24_hours_across_campaigns(phone: str, state: str, zone: str) -> None:
    lead = _lead(phone, state, zone)
    campaign = _campaign()
    now = _at(2026, 6, 2, 18, 0)
    first = now - dt.timedelta(hours=23)
    _placed(lead, first)  # another campaign
    _placed(lead, now - dt.timedelta(hours=5), campaign)
    assert dial_check(lead=lead, campaign=campaign, now=now).allowed
    _placed(lead, now - dt.timedelta(hours=1), campaign, attempt=2)

    decision = dial_check(lead=lead, campaign=_campaign(max_attempts=5), now=now)

    assert (decision.allowed, decision.reason) == (False, Reason.STATE_LIMIT)
    assert decision.detail == f"3 calls in the last 24 hours; the {state} rule allows 3"
    # The oldest of the three ages out 24 hours after it was placed.
    assert decision.retry_at == first + dt.timedelta(hours=24)
    assert dial_check(lead=lead, campaign=_campaign(), now=first + dt.timedelta(hours=24, seconds=1)).allowed


@pytest.mark.django_db
def test_it_puts_no_daily_limit_on_states_without_one() -> None:
    lead = _lead("+12125550171", "NY", "America/New_York")
    now = _at(2026, 6, 2, 18, 0)
    for hours in (1, 2, 3, 4):
        _placed(lead, now - dt.timedelta(hours=hours))
    assert dial_check(lead=lead, campaign=_campaign(), now=now).allowed


@pytest.mark.django_db
def test_it_applies_a_state_rule_added_in_the_table() -> None:
    lead = _lead("+14045550172", "GA", "America/New_York")
    now = _at(2026, 6, 2, 13, 0)  # 9:00 EDT
    assert dial_check(lead=lead, campaign=_campaign(), now=now).allowed
    StateRule.objects.create(state="GA", window_start=dt.time(9, 30), window_end=dt.time(20))
    decision = dial_check(lead=lead, campaign=_campaign(), now=now)
    assert decision.reason == Reason.OUTSIDE_WINDOW
    assert decision.detail.endswith("outside 09:30-20:00 (GA rule)")


# --- Do-not-call, consent, attempts ------------------------------------------------------------------


@pytest.mark.django_db
def test_it_honours_an_opt_out_from_one_campaign_in_every_other() -> None:
    lead = _lead("+12125550180", "NY", "America/New_York")
    first, second = _campaign(), _campaign()
    now = _at(2026, 6, 2, 15, 0)
    assert dial_check(lead=lead, campaign=second, now=now).allowed
    lead_opt_out(phone=lead.phone, reason=f"asked on a call in {first}")
    lead.refresh_from_db()
    decision = dial_check(lead=lead, campaign=second, now=now)
    assert (decision.allowed, decision.reason) == (False, Reason.DO_NOT_CALL)


@pytest.mark.django_db
def test_it_refuses_a_number_on_the_list_even_when_the_lead_was_not_marked() -> None:
    lead = _lead("+12125550181", "NY", "America/New_York")
    DoNotCallFactory.create(phone=lead.phone)  # e.g. an entry written to the table without dnc_add
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.NEW
    decision = dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 2, 15, 0))
    assert decision.reason == Reason.DO_NOT_CALL


@pytest.mark.django_db
def test_it_requires_an_unrevoked_consent_unless_the_campaign_turns_that_off() -> None:
    now = _at(2026, 6, 2, 15, 0)
    without = LeadFactory.create(phone="+12125550182", state="NY", timezone="America/New_York")
    revoked = _lead("+12125550183", "NY", "America/New_York")
    revoked.consents.update(revoked_at=_at(2026, 5, 1))

    for lead in (without, revoked):
        decision = dial_check(lead=lead, campaign=_campaign(), now=now)
        assert (decision.allowed, decision.reason) == (False, Reason.NO_CONSENT)
    assert dial_check(lead=without, campaign=_campaign(require_consent=False), now=now).allowed


@pytest.mark.django_db
def test_it_stops_at_the_campaigns_max_attempts_counting_only_its_own_calls() -> None:
    lead = _lead("+12125550184", "NY", "America/New_York")
    campaign = _campaign(max_attempts=2)
    now = _at(2026, 6, 2, 15, 0)
    _placed(lead, now - dt.timedelta(days=3))  # another campaign's call
    _placed(lead, now - dt.timedelta(days=2), campaign)
    assert dial_check(lead=lead, campaign=campaign, now=now).allowed
    _placed(lead, now - dt.timedelta(days=1), campaign, attempt=2)
    decision = dial_check(lead=lead, campaign=campaign, now=now)
    assert (decision.reason, decision.detail) == (Reason.MAX_ATTEMPTS, "2 of 2 attempts already made in this campaign")


@pytest.mark.django_db
def test_it_never_calls_a_lead_already_on_a_call() -> None:
    lead = _lead("+12125550185", "NY", "America/New_York")
    CallFactory.create(lead=lead, status=Call.Status.RINGING)
    decision = dial_check(lead=lead, campaign=_campaign(), now=_at(2026, 6, 2, 15, 0))
    assert decision.reason == Reason.ON_ANOTHER_CALL


@pytest.mark.django_db
def test_it_refuses_for_an_inactive_campaign() -> None:
    lead = _lead("+12125550186", "NY", "America/New_York")
    decision = dial_check(lead=lead, campaign=_campaign(status=Campaign.Status.PAUSED), now=_at(2026, 6, 2, 15, 0))
    assert decision.reason == Reason.CAMPAIGN_INACTIVE


# --- Recording notice --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("phone", "state", "zone", "policy", "mode"),
    [
        ("+14155550190", "CA", "America/Los_Angeles", "announce", Call.RecordingMode.ANNOUNCE),
        ("+14155550191", "CA", "America/Los_Angeles", "off", Call.RecordingMode.OFF),
        ("+15125550190", "TX", "America/Chicago", "off", Call.RecordingMode.RECORD),
        # A Texas address with a California number: California's all-party rule applies.
        ("+14155550192", "TX", "America/Los_Angeles", "announce", Call.RecordingMode.ANNOUNCE),
        # A toll-free number and no address: the state is unknown, so assume all-party consent.
        ("+18005550190", "", "America/Chicago", "announce", Call.RecordingMode.ANNOUNCE),
    ],
)
def test_it_announces_or_skips_the_recording_in_all_party_consent_states(
    phone: str, state: str, zone: str, policy: str, mode: str
) -> None:
    lead = _lead(phone, state, zone)
    decision = dial_check(lead=lead, campaign=_campaign(all_party_recording=policy), now=_at(2026, 6, 2, 18, 0))
    assert decision.allowed
    assert decision.recording_mode == mode


# --- The pure decision and the audit log -------------------------------------------------------------


def _facts(**overrides: Any) -> DialFacts:
    values: dict[str, Any] = {
        "campaign_active": True,
        "campaign_window": (dt.time(9), dt.time(20)),
        "require_consent": True,
        "all_party_recording": "announce",
        "max_attempts": 3,
        "on_dnc": False,
        "has_consent": True,
        "attempts_made": 0,
        "on_another_call": False,
        "zones": ("America/Chicago",),
        "states": ("OK",),
        "rules": (RuleFacts("OK", dt.time(8), dt.time(20), 3, False),),
        "dials_last_24h": (),
        "countries": ("US",),
        "region": "US",
        **overrides,
    }
    return DialFacts(**values)


def test_it_reports_the_first_rule_that_refuses_in_a_fixed_order() -> None:
    now = _at(2026, 6, 2, 4, 0)  # 23:00 CDT: outside the window as well
    everything_wrong = _facts(on_dnc=True, has_consent=False, attempts_made=3, zones=())
    assert dial_decide(facts=everything_wrong, now=now).reason == Reason.DO_NOT_CALL
    assert dial_decide(facts=_facts(has_consent=False, attempts_made=3), now=now).reason == Reason.NO_CONSENT
    assert dial_decide(facts=_facts(attempts_made=3), now=now).reason == Reason.MAX_ATTEMPTS
    assert dial_decide(facts=_facts(), now=now).reason == Reason.OUTSIDE_WINDOW


def test_it_refuses_when_the_rules_leave_no_window_at_all() -> None:
    facts = _facts(rules=(RuleFacts("OK", dt.time(21), dt.time(22), None, False),))
    decision = dial_decide(facts=facts, now=_at(2026, 6, 2, 18, 0))
    assert decision.reason == Reason.OUTSIDE_WINDOW
    assert decision.detail.startswith("the calling window 21:00-20:00")
    assert decision.retry_at is None


@pytest.mark.django_db
def test_it_logs_every_decision_with_its_reason_and_the_leads_local_time() -> None:
    campaign = _campaign()
    allowed_lead = _lead("+13055550195", "FL", "America/New_York")
    refused_lead = LeadFactory.create(phone="+13055550196", state="FL", timezone="America/New_York")
    now = _at(2026, 6, 2, 15, 0)

    for lead in (allowed_lead, refused_lead):
        decision = dial_check(lead=lead, campaign=campaign, now=now)
        dial_decision_record(
            lead=lead,
            campaign=campaign,
            decision=decision,
            stage="schedule",
            now=now,
            recheck_after=dt.timedelta(hours=1),
        )

    log = {d.lead_id: d for d in DialDecision.objects.all()}
    allowed, refused = log[allowed_lead.pk], log[refused_lead.pk]
    assert (allowed.allowed, allowed.reason, allowed.stage) == (True, Reason.ALLOWED, "schedule")
    assert (allowed.timezone, allowed.local_time, allowed.states) == ("America/New_York", "2026-06-02 11:00 EDT", "FL")
    assert allowed.recording_mode == Call.RecordingMode.ANNOUNCE
    assert allowed.detail == (
        "within the calling window at 2026-06-02 11:00 EDT; all-party-consent state FL: the recording is announced"
    )
    assert (allowed.decided_at, allowed.retry_at, allowed.call) == (now, None, None)
    assert (refused.allowed, refused.reason, refused.detail) == (
        False,
        Reason.NO_CONSENT,
        "no unrevoked consent record for this lead",
    )
    # Refused with no known end: looked at again after the recheck interval.
    assert refused.retry_at == now + dt.timedelta(hours=1)
