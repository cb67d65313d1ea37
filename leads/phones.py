"""Phone number parsing with Google's libphonenumber port."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import phonenumbers
from django.conf import settings
from phonenumbers import geocoder, timezone

# Defined in common so that the API's error handlers answer it without importing leads.
from common.errors import InvalidPhoneNumber as InvalidPhoneNumber
from leads.timezones import state_normalize


class PhoneCountryNotAllowed(InvalidPhoneNumber):
    """The number is valid but in a country leads may not be in; the message names both."""


@dataclass(frozen=True)
class ParsedPhone:
    e164: str
    extension: str
    timezones: tuple[str, ...]
    number: phonenumbers.PhoneNumber = field(repr=False, compare=False)

    # Looked up only when read: the geocoder costs more than parsing the
    # number, and a lead import, which parses every row, reads neither.
    @cached_property
    def region(self) -> str:
        """ISO country code, e.g. "US"."""
        return phonenumbers.region_code_for_number(self.number) or ""

    @cached_property
    def location(self) -> str:
        """libphonenumber's description, e.g. "Florida" or "San Francisco, CA"."""
        return geocoder.description_for_number(self.number, "en")


def phone_parse(raw: str, *, region: str | None = None) -> ParsedPhone:
    """Parse free-form text such as "(415) 555-0123 ext 2" into E.164.

    Raises:
        InvalidPhoneNumber: with a reason a broker can act on.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("phone number is missing")
    try:
        number = phonenumbers.parse(text, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{text!r} is not a phone number ({exc._msg})") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhoneNumber(f"{text!r} has the wrong number of digits")
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(f"{text!r} is not an assigned number (bad area code or exchange)")
    zones = tuple(z for z in timezone.time_zones_for_number(number) if z != "Etc/Unknown")
    return ParsedPhone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        extension=number.extension or "",
        timezones=zones,
        number=number,
    )


def lead_phone_parse(raw: str) -> ParsedPhone:
    """Parse a lead's number, refusing one outside the countries leads may be in (LEAD_COUNTRIES).

    Leads are imported before any campaign picks them, so this is the
    product's list; each campaign then dials only its own `countries`.

    Raises:
        InvalidPhoneNumber: PhoneCountryNotAllowed for a valid number of another country.
    """
    parsed = phone_parse(raw)
    allowed: list[str] = settings.LEAD_COUNTRIES
    if parsed.region not in allowed:
        raise PhoneCountryNotAllowed(
            f"{raw.strip()!r} is a {parsed.region or 'non-geographic'} number; "
            f"leads may only have numbers in {', '.join(allowed)}"
        )
    return parsed


def phone_normalize(raw: str, *, region: str | None = None) -> str:
    """Return the E.164 form of a phone number, or raise InvalidPhoneNumber."""
    return phone_parse(raw, region=region).e164


@lru_cache(maxsize=8192)
def phone_state(e164: str) -> str:
    """Return the US state of the number's area code ("FL"), or "" for toll-free, non-US or unknown numbers.

    The state laws on calling hours follow the number as well as the address,
    so the compliance gate asks both. Cached: the geocoder is the slow part.
    """
    try:
        parsed = phone_parse(e164)
    except InvalidPhoneNumber:
        return ""
    if parsed.region != "US":
        return ""
    # libphonenumber describes a number as "Florida" or as "San Francisco, CA".
    return state_normalize(parsed.location.rsplit(",", 1)[-1]) or ""


@lru_cache(maxsize=8192)
def phone_region(e164: str) -> str:
    """Return the number's ISO region ("US", "GB"), or "" when it does not parse (fail closed)."""
    try:
        return phone_parse(e164).region
    except InvalidPhoneNumber:
        return ""


@lru_cache(maxsize=8192)
def phone_timezones(e164: str) -> tuple[str, ...]:
    """Return every zone the number may ring in: one, several for an area code across zones, or none."""
    try:
        return phone_parse(e164).timezones
    except InvalidPhoneNumber:
        return ()
