"""The compliance gate that runs before every dial, and its audit log.

`dial_decide` is a pure function of the facts (`DialFacts`) and the time, so
each rule is tested without a database; `dial_check` gathers the facts for a
lead and campaign, and `dial_decision_record` writes the decision, allowed or
not, to the DialDecision audit table. The dialer calls the gate twice per
call: when it picks the lead (stage "schedule") and again right before it
calls Twilio (stage "dial"), because a queued call can wait (a paused
campaign, a full concurrency cap) while the window closes or the lead opts out.

This is a module of its own rather than a part of services.py: the rules are
the part of the dialer a compliance reviewer reads, and they read best alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calls.models import Call, Campaign, DialDecision, StateHoliday, Weekday
from leads.models import Lead
from leads.phones import phone_region, phone_timezones

Reason = DialDecision.Reason

# The TCPA's calling hours (47 CFR 64.1200(c)(1)), in the lead's local time.
DEFAULT_WINDOW = (dt.time(8, 0), dt.time(21, 0))
DAY = dt.timedelta(hours=24)


@dataclass(frozen=True)
class DayFacts:
    """One StateRuleDay: the weekday's own window, or (None, None) for no calls that day."""

    weekday: int  # 0 is Monday, as date.weekday()
    window_start: dt.time | None
    window_end: dt.time | None


@dataclass(frozen=True)
class HolidayFacts:
    """One StateHoliday; its kind says which of the other fields count."""

    name: str
    kind: str  # a StateHoliday.Kind value
    month: int | None = None
    day: int | None = None
    weekday: int | None = None
    nth: int | None = None  # 1 to 5, or -1 for the month's last such weekday
    easter_offset: int | None = None
    date: dt.date | None = None
    also_observed: bool = False


@dataclass(frozen=True)
class RuleFacts:
    """One StateRule, as the gate needs it."""

    state: str
    window_start: dt.time
    window_end: dt.time
    max_calls_per_24h: int | None
    all_party_consent: bool
    days: tuple[DayFacts, ...] = ()
    holidays: tuple[HolidayFacts, ...] = ()


@dataclass(frozen=True)
class DialFacts:
    """Everything the gate decides on; `dial_facts_get` reads it from the database."""

    campaign_active: bool
    campaign_window: tuple[dt.time, dt.time]
    require_consent: bool
    all_party_recording: str  # a Campaign.AllPartyRecording value
    max_attempts: int
    on_dnc: bool  # the number is blocked for this lead (leads.selectors.dnc_block_get)
    has_consent: bool
    attempts_made: int  # calls already placed to the lead in this campaign
    on_another_call: bool
    zones: tuple[str, ...]  # the lead's zone; two when its number and address disagree
    states: tuple[str, ...]  # from the address and from the number's area code
    rules: tuple[RuleFacts, ...]  # the StateRules of those states
    dials_last_24h: tuple[dt.datetime, ...]  # calls placed to the lead in any campaign
    # Read from the campaign and the lead's number by `dial_check`. The
    # defaults allow no country, so facts built without them are refused.
    countries: tuple[str, ...] = ()  # the campaign's Campaign.countries
    region: str = ""  # the number's ISO region; "" when it does not parse
    number_zones: tuple[str, ...] = ()  # every zone the number may ring in
    # Why the number is blocked, and whether only the national registry blocks
    # it (the lead has no consent to override it); read with on_dnc.
    dnc_detail: str = ""
    dnc_registry: bool = False


@dataclass(frozen=True)
class Decision:
    """The gate's answer, with what the audit log stores about it."""

    allowed: bool
    reason: str  # a DialDecision.Reason value
    detail: str
    timezone: str = ""
    local_time: str = ""
    states: tuple[str, ...] = ()
    recording_mode: str = ""  # a Call.RecordingMode value, when allowed
    # When the answer may change (the window opens, a call ages out of the
    # 24 hours); None when only a change of data can change it.
    retry_at: dt.datetime | None = None


def dial_decide(*, facts: DialFacts, now: dt.datetime) -> Decision:
    """Decide whether the lead may be dialed at `now` (an aware datetime), checking the rules in a fixed order."""
    states = facts.states
    if not facts.campaign_active:
        return Decision(False, Reason.CAMPAIGN_INACTIVE, "the campaign is not active", states=states)
    if facts.region not in facts.countries:
        detail = (
            f"the number is in {facts.region or 'no known country'}; "
            f"the campaign calls only {', '.join(facts.countries) or 'no country'}"
        )
        return Decision(False, Reason.COUNTRY_NOT_ALLOWED, detail, states=states)
    if facts.on_dnc:
        listed = Reason.DNC_REGISTRY if facts.dnc_registry else Reason.DO_NOT_CALL
        return Decision(False, listed, facts.dnc_detail or "the number is on the do-not-call list", states=states)
    if facts.require_consent and not facts.has_consent:
        return Decision(False, Reason.NO_CONSENT, "no unrevoked consent record for this lead", states=states)
    if facts.attempts_made >= facts.max_attempts:
        detail = f"{facts.attempts_made} of {facts.max_attempts} attempts already made in this campaign"
        return Decision(False, Reason.MAX_ATTEMPTS, detail, states=states)
    if facts.on_another_call:
        return Decision(False, Reason.ON_ANOTHER_CALL, "the lead has another call queued or live", states=states)
    # A lead with no zone of its own has a number whose area code spans zones
    # (and no state to choose): it may be in any of them, so all are checked.
    zones = _zones(facts.zones or facts.number_zones)
    if not zones:
        detail = f"no valid time zone for the lead ({', '.join(facts.zones) or 'none'}), so its local time is unknown"
        return Decision(False, Reason.TIMEZONE_UNKNOWN, detail, states=states)
    apart = _zones_apart_refusal(facts, zones, now)
    if apart is not None:
        return Decision(False, Reason.TIMEZONE_UNKNOWN, apart, states=states)
    zone = zones[0].key
    local_time = f"{now.astimezone(zones[0]):%Y-%m-%d %H:%M %Z}"
    for refused in (_window_refusal(facts, zones, now), _daily_limit_refusal(facts, now)):
        if refused is not None:
            reason, detail, retry_at = refused
            return Decision(False, reason, detail, zone, local_time, states, retry_at=retry_at)
    mode, why = _recording_mode(facts)
    detail = f"within the calling window at {local_time}; {why}"
    return Decision(True, Reason.ALLOWED, detail, zone, local_time, states, recording_mode=mode)


def _zones(names: tuple[str, ...]) -> list[ZoneInfo]:
    zones = []
    for name in dict.fromkeys(n for n in names if n):
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            # A zone we cannot resolve is a zone we cannot check: fail closed.
            return []
    return zones


def _zones_apart_refusal(facts: DialFacts, zones: list[ZoneInfo], now: dt.datetime) -> str | None:
    """Say why the zones are never all inside the window at once (a toll-free number's), or None."""
    window = _day_window(facts, now.astimezone(zones[0]).date())
    start, end = window.start, window.end
    if len(zones) < 2 or window.closed or start >= end:
        return None
    # All zones are in the window together only while the window is longer
    # than the spread of their UTC offsets; otherwise no retry would ever pass.
    offsets = sorted((now.astimezone(zone).utcoffset() or dt.timedelta(), zone.key) for zone in zones)
    spread = offsets[-1][0] - offsets[0][0]
    length = dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start)
    if spread < length:
        return None
    return (
        f"the lead may be in {len(zones)} zones, from {offsets[0][1]} to {offsets[-1][1]} "
        f"({spread.total_seconds() / 3600:g} hours apart), never all inside {start:%H:%M}-{end:%H:%M} at once; "
        "set the lead's state"
    )


@dataclass(frozen=True)
class _Window:
    """The calling window of one local date, or why that date has none."""

    start: dt.time
    end: dt.time
    setters: tuple[str, ...]  # the rules that set its bounds
    closed: tuple[str, str] | None = None  # (reason, detail) when a rule allows no calls that day


def _day_window(facts: DialFacts, day: dt.date) -> _Window:
    """Return the narrowest window every rule allows on `day` (a date in the lead's zone)."""
    bounds = [("federal 8:00-21:00", *DEFAULT_WINDOW), ("campaign", *facts.campaign_window)]
    holiday_closed: tuple[str, str] | None = None
    day_closed: tuple[str, str] | None = None
    weekday = Weekday(day.weekday()).label
    for rule in facts.rules:
        holiday = next((h for h in rule.holidays if holiday_falls_on(holiday=h, day=day)), None)
        if holiday is not None and holiday_closed is None:
            detail = f"{weekday} {day:%Y-%m-%d} is {holiday.name}, a holiday with no calls under the {rule.state} rule"
            holiday_closed = (Reason.STATE_HOLIDAY, detail)
        own = next((d for d in rule.days if d.weekday == day.weekday()), None)
        if own is None:
            bounds.append((f"{rule.state} rule", rule.window_start, rule.window_end))
        elif own.window_start is None or own.window_end is None:
            day_closed = day_closed or (Reason.NO_CALL_DAY, f"the {rule.state} rule allows no calls on {weekday}s")
        else:
            bounds.append((f"{rule.state} rule on {weekday}s", own.window_start, own.window_end))
    start = max(b[1] for b in bounds)
    end = min(b[2] for b in bounds)
    setters = tuple(dict.fromkeys(name for name, s, e in bounds if s == start or e == end))
    return _Window(start, end, setters, holiday_closed or day_closed)


def _window_refusal(
    facts: DialFacts, zones: list[ZoneInfo], now: dt.datetime
) -> tuple[str, str, dt.datetime | None] | None:
    # Every candidate zone must be in the window: when the number and the
    # address disagree we cannot know which one the lead is in. Each zone is
    # checked on its own local date, which decides weekday rules and holidays.
    outside = [(zone, why) for zone in zones if (why := _zone_refusal(facts, zone, now)) is not None]
    if not outside:
        return None
    reason, detail = outside[0][1]
    openings = [_next_opening(facts, now, zone) for zone, _ in outside]
    retry_at = None if None in openings else max(o for o in openings if o is not None)
    return reason, detail, retry_at


def _zone_refusal(facts: DialFacts, zone: ZoneInfo, now: dt.datetime) -> tuple[str, str] | None:
    local = now.astimezone(zone)
    window = _day_window(facts, local.date())
    span = f"{window.start:%H:%M}-{window.end:%H:%M} ({', '.join(window.setters)})"
    if window.closed is not None:
        reason, detail = window.closed
        return reason, f"local time {local:%a %H:%M %Z} in {zone.key}: {detail}"
    if window.start >= window.end:
        return Reason.OUTSIDE_WINDOW, f"the calling window {span} is empty"
    if not window.start <= local.time() < window.end:
        return Reason.OUTSIDE_WINDOW, f"local time {local:%H:%M %Z} in {zone.key} is outside {span}"
    return None


# How far ahead to look for the next day with a window; a year covers any
# combination of weekday rules and holidays.
_OPENING_HORIZON_DAYS = 370


def _next_opening(facts: DialFacts, now: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
    """Return when the zone's window next opens after `now`, or None when no day in a year has one."""
    today = now.astimezone(zone).date()
    for offset in range(_OPENING_HORIZON_DAYS):
        day = today + dt.timedelta(days=offset)
        window = _day_window(facts, day)
        if window.closed is not None or window.start >= window.end:
            continue
        # Wall-clock arithmetic in the zone, so the opening is at `start` on a DST change day too.
        opening = dt.datetime.combine(day, window.start, tzinfo=zone).astimezone(dt.UTC)
        if opening > now:
            return opening
    return None


def holiday_falls_on(*, holiday: HolidayFacts, day: dt.date) -> bool:
    """Return whether the holiday (or, with also_observed, the weekday it is observed on) is `day`."""
    Kind = StateHoliday.Kind
    if holiday.kind == Kind.DATE:
        return holiday.date == day
    if holiday.kind == Kind.EASTER:
        offset = holiday.easter_offset
        return offset is not None and easter_sunday(day.year) + dt.timedelta(days=offset) == day
    if holiday.month != day.month and not (holiday.kind == Kind.FIXED and holiday.also_observed):
        return False
    if holiday.kind == Kind.NTH_WEEKDAY:
        return holiday.weekday == day.weekday() and holiday.nth is not None and _nth_weekday_matches(holiday.nth, day)
    if holiday.kind == Kind.FIXED and holiday.month is not None and holiday.day is not None:
        return day in _fixed_days(holiday.month, holiday.day, day.year, observed=holiday.also_observed)
    return False


def _nth_weekday_matches(nth: int, day: dt.date) -> bool:
    if nth == -1:
        return (day + dt.timedelta(days=7)).month != day.month
    return (day.day - 1) // 7 + 1 == nth


def _fixed_days(month: int, day: int, year: int, *, observed: bool) -> set[dt.date]:
    """Return the dates a fixed holiday bars near `year`: the date itself, and its weekday stand-in when observed."""
    dates = set()
    # The year before and after too: 1 January on a Saturday is observed on 31 December.
    for y in (year - 1, year, year + 1):
        try:
            date = dt.date(y, month, day)
        except ValueError:  # 29 February outside a leap year
            continue
        dates.add(date)
        if observed and date.weekday() == Weekday.SATURDAY:
            dates.add(date - dt.timedelta(days=1))
        elif observed and date.weekday() == Weekday.SUNDAY:
            dates.add(date + dt.timedelta(days=1))
    return dates


def easter_sunday(year: int) -> dt.date:
    """Return Western Easter Sunday of `year` (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weeks = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weeks) // 451
    month, day = divmod(h + weeks - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _daily_limit_refusal(facts: DialFacts, now: dt.datetime) -> tuple[str, str, dt.datetime | None] | None:
    limits = [(rule.max_calls_per_24h, rule.state) for rule in facts.rules if rule.max_calls_per_24h is not None]
    if not limits:
        return None
    limit, state = min(limits)
    recent = sorted(t for t in facts.dials_last_24h if t > now - DAY)
    if len(recent) < limit:
        return None
    # The lead can be called again once enough of those calls are 24 hours old.
    retry_at = recent[len(recent) - limit] + DAY if limit else None
    detail = f"{len(recent)} calls in the last 24 hours; the {state} rule allows {limit}"
    return Reason.STATE_LIMIT, detail, retry_at


def _recording_mode(facts: DialFacts) -> tuple[str, str]:
    all_party = [rule.state for rule in facts.rules if rule.all_party_consent]
    if not all_party and facts.states:
        return Call.RecordingMode.RECORD, "one-party-consent state: recorded"
    why = f"all-party-consent state {', '.join(all_party)}" if all_party else "state unknown, so all-party consent"
    if facts.all_party_recording == Campaign.AllPartyRecording.OFF:
        return Call.RecordingMode.OFF, f"{why}: not recorded"
    return Call.RecordingMode.ANNOUNCE, f"{why}: the recording is announced"


def dial_check(*, lead: Lead, campaign: Campaign, now: dt.datetime, call_id: int | None = None) -> Decision:
    """Run the gate for the lead in the campaign; `call_id` is the call being dialed, left out of the counts."""
    from calls.selectors import dial_facts_get  # the selectors module imports this one's types

    facts = replace(
        dial_facts_get(lead=lead, campaign=campaign, now=now, call_id=call_id),
        countries=tuple(campaign.countries),
        region=phone_region(lead.phone),
        number_zones=phone_timezones(lead.phone),
    )
    return dial_decide(facts=facts, now=now)


def dial_decision_record(
    *,
    lead: Lead,
    campaign: Campaign,
    decision: Decision,
    stage: str,
    now: dt.datetime,
    call: Call | None = None,
    recheck_after: dt.timedelta | None = None,
) -> DialDecision:
    """Write the decision to the audit log.

    Args:
        recheck_after: for a refusal with no known end (no consent, do-not-call), when the
            dialer may ask again; stored as `retry_at` so the lead is not re-checked on every tick.
    """
    retry_at = decision.retry_at
    if not decision.allowed and retry_at is None and recheck_after is not None:
        retry_at = now + recheck_after
    return DialDecision.objects.create(
        lead=lead,
        campaign=campaign,
        call=call,
        stage=stage,
        allowed=decision.allowed,
        reason=decision.reason,
        detail=decision.detail[:255],
        decided_at=now,
        timezone=decision.timezone,
        local_time=decision.local_time,
        states=",".join(decision.states),
        recording_mode=decision.recording_mode,
        retry_at=retry_at,
    )
