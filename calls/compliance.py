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

from calls.models import Call, Campaign, DialDecision
from leads.models import Lead
from leads.phones import phone_region, phone_timezones

Reason = DialDecision.Reason

# The TCPA's calling hours (47 CFR 64.1200(c)(1)), in the lead's local time.
DEFAULT_WINDOW = (dt.time(8, 0), dt.time(21, 0))
DAY = dt.timedelta(hours=24)


@dataclass(frozen=True)
class RuleFacts:
    """One StateRule, as the gate needs it."""

    state: str
    window_start: dt.time
    window_end: dt.time
    max_calls_per_24h: int | None
    all_party_consent: bool


@dataclass(frozen=True)
class DialFacts:
    """Everything the gate decides on; `dial_facts_get` reads it from the database."""

    campaign_active: bool
    campaign_window: tuple[dt.time, dt.time]
    require_consent: bool
    all_party_recording: str  # a Campaign.AllPartyRecording value
    max_attempts: int
    on_dnc: bool
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
        return Decision(False, Reason.DO_NOT_CALL, "the number is on the do-not-call list", states=states)
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
    for reason, refused in (
        (Reason.OUTSIDE_WINDOW, _window_refusal(facts, zones, now)),
        (Reason.STATE_LIMIT, _daily_limit_refusal(facts, now)),
    ):
        if refused is not None:
            detail, retry_at = refused
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
    start, end, _ = _window(facts)
    if len(zones) < 2 or start >= end:
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


def _window(facts: DialFacts) -> tuple[dt.time, dt.time, list[str]]:
    """Return the narrowest window every rule allows, and the rules that set its bounds."""
    bounds = [("federal 8:00-21:00", *DEFAULT_WINDOW), ("campaign", *facts.campaign_window)]
    bounds += [(f"{rule.state} rule", rule.window_start, rule.window_end) for rule in facts.rules]
    start = max(b[1] for b in bounds)
    end = min(b[2] for b in bounds)
    setters = [name for name, s, e in bounds if s == start or e == end]
    return start, end, list(dict.fromkeys(setters))


def _window_refusal(facts: DialFacts, zones: list[ZoneInfo], now: dt.datetime) -> tuple[str, dt.datetime | None] | None:
    start, end, setters = _window(facts)
    span = f"{start:%H:%M}-{end:%H:%M} ({', '.join(setters)})"
    if start >= end:
        return f"the calling window {span} is empty", None
    # Every candidate zone must be in the window: when the number and the
    # address disagree we cannot know which one the lead is in.
    outside = [(zone, now.astimezone(zone)) for zone in zones if not start <= now.astimezone(zone).time() < end]
    if not outside:
        return None
    zone, local = outside[0]
    detail = f"local time {local:%H:%M %Z} in {zone.key} is outside {span}"
    return detail, max(_next_opening(now, z, start) for z, _ in outside)


def _next_opening(now: dt.datetime, zone: ZoneInfo, start: dt.time) -> dt.datetime:
    local = now.astimezone(zone)
    day = local.date() if local.time() < start else local.date() + dt.timedelta(days=1)
    # Wall-clock arithmetic in the zone, so the opening is at `start` on a DST change day too.
    return dt.datetime.combine(day, start, tzinfo=zone).astimezone(dt.UTC)


def _daily_limit_refusal(facts: DialFacts, now: dt.datetime) -> tuple[str, dt.datetime | None] | None:
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
    return detail, retry_at


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
