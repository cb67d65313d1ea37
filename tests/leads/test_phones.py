from __future__ import annotations

from typing import Any

import pytest

from leads.phones import InvalidPhoneNumber, phone_normalize, phone_parse, phone_state


@pytest.mark.parametrize(
    "raw",
    ["(415) 555-0123", "415-555-0123", "415.555.0123", "+1 415 555 0123", "1-415-555-0123", " 4155550123 "],
)
def test_it_normalises_us_formats_to_e164(raw: str) -> None:
    assert phone_normalize(raw) == "+14155550123"


def test_it_parses_a_valid_number_with_its_zone_and_place() -> None:
    parsed = phone_parse("(212) 555-0187")

    assert parsed.e164 == "+12125550187"
    assert parsed.extension == ""
    assert parsed.timezones == ("America/New_York",)
    assert parsed.region == "US"
    assert parsed.location == "New York, NY"


@pytest.mark.parametrize(
    ("raw", "extension"),
    [("(415) 555-0123 ext 2", "2"), ("(415) 555-0123 ext. 204", "204"), ("415.555.0123 x7", "7")],
)
def test_it_keeps_the_extension_apart_from_the_number(raw: str, extension: str) -> None:
    parsed = phone_parse(raw)

    assert parsed.e164 == "+14155550123"
    assert parsed.extension == extension


def test_it_parses_international_numbers_written_with_a_plus() -> None:
    parsed = phone_parse("+44 20 7946 0958")

    assert parsed.e164 == "+442079460958"
    assert parsed.region == "GB"
    assert parsed.timezones == ("Europe/London",)


def test_it_reads_national_numbers_in_the_given_region() -> None:
    assert phone_parse("020 7946 0958", region="GB").e164 == "+442079460958"


def test_it_uses_the_default_region_setting(settings: Any) -> None:
    settings.PHONE_DEFAULT_REGION = "GB"

    assert phone_normalize("020 7946 0958") == "+442079460958"


def test_it_leaves_zones_empty_for_a_number_that_spans_all_of_them() -> None:
    # Toll-free numbers ring anywhere in North America; the zone must come from the state.
    assert len(phone_parse("(800) 555-0100").timezones) > 10


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "phone number is missing"),
        ("   ", "phone number is missing"),
        ("(555) 123-4567", "is not an assigned number"),  # 555 is not an area code
        ("12345", "wrong number of digits"),
        ("(415) 555-01234", "wrong number of digits"),
        ("call me", "is not a phone number"),
    ],
)
def test_it_rejects_invalid_numbers_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhoneNumber, match=reason):
        phone_parse(raw)


def test_it_drops_the_unknown_zone_placeholder() -> None:
    # libphonenumber answers "Etc/Unknown" for numbers it cannot place.
    assert "Etc/Unknown" not in phone_parse("+1 415 555 0123").timezones


@pytest.mark.parametrize(
    ("e164", "state"),
    [
        ("+14155550123", "CA"),  # "San Francisco, CA"
        ("+13055550123", "FL"),  # "Florida"
        ("+14055550123", "OK"),
        ("+18005550123", ""),  # toll-free: no state
        ("+442079460958", ""),  # not a US number
        ("not a number", ""),
    ],
)
def test_it_finds_the_state_of_a_numbers_area_code(e164: str, state: str) -> None:
    assert phone_state(e164) == state
