from __future__ import annotations

import pytest

from leads.phones import phone_parse
from leads.timezones import STATE_TIMEZONES, TimezoneGuess, state_normalize, timezone_derive


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("CA", "CA"),
        ("ca", "CA"),
        (" Ca ", "CA"),
        ("California", "CA"),
        ("CALIFORNIA", "CA"),
        ("California.", "CA"),
        ("new  york", "NY"),
        ("N.Y.", "NY"),
        ("N. Y.", "NY"),
        ("D.C.", "DC"),
        ("District of Columbia", "DC"),
        ("Puerto Rico", "PR"),
    ],
)
def test_it_normalises_state_spellings(raw: str, code: str) -> None:
    assert state_normalize(raw) == code


@pytest.mark.parametrize("raw", ["", "  ", "Calif", "ZZ", "Ontario", "C", "New Yorkshire"])
def test_it_returns_none_for_unknown_states(raw: str) -> None:
    assert state_normalize(raw) is None


def test_it_knows_a_zone_for_every_state_name() -> None:
    assert all(state_normalize(name) in STATE_TIMEZONES for name in ("Alaska", "Hawaii", "Guam", "Wyoming"))


def test_it_uses_the_phone_zone_when_there_is_no_state() -> None:
    guess = timezone_derive(phone_timezones=("America/Los_Angeles",), state="")

    assert guess == TimezoneGuess("America/Los_Angeles", "phone", ("America/Los_Angeles",))


def test_it_uses_the_state_zone_when_the_phone_has_none() -> None:
    guess = timezone_derive(phone_timezones=(), state="TX")

    assert guess == TimezoneGuess("America/Chicago", "state", ("America/Chicago",))


def test_it_marks_agreement_between_phone_and_state() -> None:
    guess = timezone_derive(phone_timezones=("America/New_York",), state="NY")

    assert guess == TimezoneGuess("America/New_York", "both", ("America/New_York",))


def test_it_prefers_the_phone_on_conflict_and_keeps_both_candidates() -> None:
    # An El Paso number (Mountain time) for a Texas address (mostly Central).
    zones = phone_parse("(915) 555-0100").timezones

    guess = timezone_derive(phone_timezones=zones, state="TX")

    assert guess == TimezoneGuess("America/Denver", "conflict", ("America/Denver", "America/Chicago"))


def test_it_falls_back_on_the_state_when_the_phone_has_several_zones() -> None:
    # Alaska's area code covers two zones, so the number alone cannot decide.
    zones = phone_parse("(907) 555-0100").timezones
    assert len(zones) == 2

    guess = timezone_derive(phone_timezones=zones, state="AK")

    assert guess == TimezoneGuess("America/Anchorage", "state", ("America/Anchorage",))


@pytest.mark.parametrize(
    ("zones", "state"),
    [((), ""), ((), "ZZ"), (("America/Adak", "America/Anchorage"), "")],
)
def test_it_returns_an_unknown_zone_when_nothing_decides(zones: tuple[str, ...], state: str) -> None:
    assert timezone_derive(phone_timezones=zones, state=state) == TimezoneGuess("", "", ())
