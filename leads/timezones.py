"""Derive a lead's time zone from its phone number and its address's state."""

from __future__ import annotations

from dataclasses import dataclass

# The zone where most of each state's population lives. States split across
# zones (e.g. TX's El Paso, FL's panhandle) fall back on the phone number's
# own zone when it has one, which is why the number is consulted first.
STATE_TIMEZONES: dict[str, str] = {
    "AL": "America/Chicago", "AK": "America/Anchorage", "AZ": "America/Phoenix",
    "AR": "America/Chicago", "CA": "America/Los_Angeles", "CO": "America/Denver",
    "CT": "America/New_York", "DE": "America/New_York", "DC": "America/New_York",
    "FL": "America/New_York", "GA": "America/New_York", "HI": "Pacific/Honolulu",
    "ID": "America/Boise", "IL": "America/Chicago", "IN": "America/Indiana/Indianapolis",
    "IA": "America/Chicago", "KS": "America/Chicago", "KY": "America/New_York",
    "LA": "America/Chicago", "ME": "America/New_York", "MD": "America/New_York",
    "MA": "America/New_York", "MI": "America/Detroit", "MN": "America/Chicago",
    "MS": "America/Chicago", "MO": "America/Chicago", "MT": "America/Denver",
    "NE": "America/Chicago", "NV": "America/Los_Angeles", "NH": "America/New_York",
    "NJ": "America/New_York", "NM": "America/Denver", "NY": "America/New_York",
    "NC": "America/New_York", "ND": "America/Chicago", "OH": "America/New_York",
    "OK": "America/Chicago", "OR": "America/Los_Angeles", "PA": "America/New_York",
    "RI": "America/New_York", "SC": "America/New_York", "SD": "America/Chicago",
    "TN": "America/Chicago", "TX": "America/Chicago", "UT": "America/Denver",
    "VT": "America/New_York", "VA": "America/New_York", "WA": "America/Los_Angeles",
    "WV": "America/New_York", "WI": "America/Chicago", "WY": "America/Denver",
    "PR": "America/Puerto_Rico", "GU": "Pacific/Guam", "VI": "America/St_Thomas",
}  # fmt: skip

STATE_NAMES: dict[str, str] = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL",
    "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN",
    "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY",
    "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR",
    "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
    "washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
    "puerto rico": "PR", "guam": "GU", "virgin islands": "VI",
}  # fmt: skip


def state_normalize(raw: str) -> str | None:
    """Return the two-letter code for "CA", "ca", "N.Y.", "California" or "California."; None if unknown."""
    text = " ".join((raw or "").replace(".", " ").split()).lower()
    if not text:
        return None
    # "N.Y." and "D.C." become "n y" above; the code is the letters run together.
    code = text.replace(" ", "").upper()
    if len(code) == 2 and code in STATE_TIMEZONES:
        return code
    return STATE_NAMES.get(text)


@dataclass(frozen=True)
class TimezoneGuess:
    timezone: str
    source: str  # a Lead.TimezoneSource value
    candidates: tuple[str, ...]


def timezone_derive(*, phone_timezones: tuple[str, ...], state: str) -> TimezoneGuess:
    """Pick the lead's zone from its number's zones and its state.

    The number wins when it maps to exactly one zone, because that is where the
    phone is presumed to ring (the TCPA's presumption). When the number and the
    state disagree the guess is marked as a conflict and both zones are kept as
    candidates, so the calling-hours gate can require both to be in window.
    """
    by_phone = phone_timezones[0] if len(phone_timezones) == 1 else ""
    by_state = STATE_TIMEZONES.get(state, "") if state else ""
    if by_phone and by_state:
        if by_phone == by_state:
            return TimezoneGuess(by_phone, "both", (by_phone,))
        return TimezoneGuess(by_phone, "conflict", (by_phone, by_state))
    if by_phone:
        return TimezoneGuess(by_phone, "phone", (by_phone,))
    if by_state:
        return TimezoneGuess(by_state, "state", (by_state,))
    return TimezoneGuess("", "", ())
