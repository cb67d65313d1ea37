"""Field types and pagination shared by every router, so no input can make the database fail.

Fuzzing the API finds the inputs the database refuses rather than the
validator: ids past 2**63, NUL characters (PostgreSQL's text refuses them),
time-zone-aware times, naive datetimes and years that overflow when moved to
UTC. Each type here turns such input into a 422 or, for NUL, removes it as
the CSV import does.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase
from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

# The largest id a BigAutoField (and SQLite's INTEGER) can hold.
MAX_ID = 2**63 - 1
MAX_LIMIT = 200
MAX_OFFSET = 10**9

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _strip_nul(value: Any) -> Any:
    return value.replace("\x00", "") if isinstance(value, str) else value


# Give every string input a max_length with Field(...) as well.
CleanStr = Annotated[str, BeforeValidator(_strip_nul)]


def _aware(value: dt.datetime) -> dt.datetime:
    # A naive datetime means UTC. Years near the ends of the range would
    # overflow when moved to UTC or do not fit every database.
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    if not 1900 <= value.year <= 9000:
        raise ValueError("the year must be between 1900 and 9000")
    return value.astimezone(dt.UTC)


def _naive_time(value: dt.time) -> dt.time:
    if value.tzinfo is not None:
        raise ValueError("give a local time without a UTC offset: it is in each lead's own time zone")
    return value


AwareDatetime = Annotated[dt.datetime, AfterValidator(_aware)]
# JSON Schema's "time" format requires a UTC offset, and these times have
# none: each is read in the lead's own zone. So the schema gives a pattern.
LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
LocalTime = Annotated[
    dt.time,
    AfterValidator(_naive_time),
    WithJsonSchema({"type": "string", "pattern": LOCAL_TIME_PATTERN, "description": "Local time, HH:MM[:SS]"}),
]


def local_time_text(value: dt.time) -> str:
    """Return a local time as the API writes it, HH:MM:SS."""
    return value.strftime("%H:%M:%S")


def decimal_text(value: Decimal, *, places: int) -> str:
    """Return the number rounded half up to `places` decimals, with trailing zeros dropped down to two.

    Sums and ratios of ledger amounts carry up to 28 digits; a CRM wants "12.50" or "0.0142".
    """
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    whole, _, fraction = f"{abs(rounded):f}".partition(".")
    sign = "-" if rounded < 0 else ""  # and never "-0.00"
    return f"{sign}{whole}.{fraction.rstrip('0').ljust(2, '0')}"


def _decimal_schema(places: int, description: str) -> WithJsonSchema:
    # Strings, as Decimal always was here: a JSON number would lose cents in a float parser.
    pattern = rf"^-?[0-9]+\.[0-9]{{2,{places}}}$"
    return WithJsonSchema({"type": "string", "pattern": pattern, "description": description})


# US dollars, with two to four decimals: fractions of a cent still show on one call's cost.
Money = Annotated[
    Decimal,
    PlainSerializer(lambda value: decimal_text(value, places=4), return_type=str),
    _decimal_schema(4, "US dollars as a decimal string with 2 to 4 decimals, e.g. 12.50 or 0.0142"),
]
# Unit prices keep six decimals (billing.PriceItem): a second of CPU costs $0.00001.
UnitPrice = Annotated[
    Decimal,
    PlainSerializer(lambda value: decimal_text(value, places=6), return_type=str),
    _decimal_schema(6, "US dollars per unit as a decimal string with 2 to 6 decimals, e.g. 0.00018"),
]
Minutes = Annotated[
    Decimal,
    PlainSerializer(lambda value: decimal_text(value, places=2), return_type=str),
    _decimal_schema(2, "Minutes as a decimal string with 2 decimals, e.g. 12.50"),
]


class Pagination(PaginationBase):
    """limit/offset pagination with bounded values; the router orders the queryset (ending with the id)."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    class Output(Schema):
        items: list[Any]
        count: int
        limit: int
        offset: int

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: Input, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        offset, limit = pagination.offset, pagination.limit
        return {
            "items": list(queryset[offset : offset + limit]),
            "count": queryset.count(),
            "limit": limit,
            "offset": offset,
        }
