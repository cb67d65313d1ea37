"""Parse and validate lead files as brokers actually export them.

Real files come from Excel, CRMs and Google Sheets: with a BOM or in
Windows-1252, with semicolons, ragged rows, blank lines and headers such as
"Phone Number" or "ZIP Code". This module turns such a file into validated rows
and per-row problems; it never touches the database, so it can be tested and
benchmarked on its own.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone as djtz
from django.utils.dateparse import parse_date, parse_datetime

from leads.phones import InvalidPhoneNumber, phone_parse
from leads.timezones import state_normalize, timezone_derive

# Normalised header (lowercase, letters and digits only) -> Lead field.
HEADER_ALIASES: dict[str, str] = {
    **dict.fromkeys(["firstname", "first", "fname", "givenname"], "first_name"),
    **dict.fromkeys(["lastname", "last", "lname", "surname", "familyname"], "last_name"),
    **dict.fromkeys(["name", "fullname", "contactname", "leadname"], "full_name"),
    **dict.fromkeys(
        [
            "phone",
            "phonenumber",
            "phoneno",
            "mobile",
            "mobilephone",
            "cell",
            "cellphone",
            "telephone",
            "tel",
            "primaryphone",
            "contactnumber",
            "number",
        ],
        "phone",
    ),
    **dict.fromkeys(["email", "emailaddress", "mail"], "email"),
    **dict.fromkeys(["address", "street", "streetaddress", "propertyaddress", "address1", "addressline1"], "address"),
    **dict.fromkeys(["city", "town"], "city"),
    **dict.fromkeys(["state", "st", "province", "region"], "state"),
    **dict.fromkeys(["zip", "zipcode", "postalcode", "postcode"], "zip_code"),
    **dict.fromkeys(["source", "leadsource"], "source"),
    **dict.fromkeys(["notes", "note", "comments", "comment"], "notes"),
    **dict.fromkeys(["intent", "buyorsell", "buysell", "leadtype", "type"], "intent"),
    **dict.fromkeys(["crmid", "externalid", "crmleadid"], "crm_id"),
    **dict.fromkeys(["consentsource"], "consent_source"),
    **dict.fromkeys(["consentat", "consentdate", "consenttime", "consentgivenat", "optindate"], "consent_at"),
    **dict.fromkeys(["consenttext", "consentlanguage", "consentwording"], "consent_text"),
}

INTENT_WORDS: dict[str, str] = {
    **dict.fromkeys(["buy", "buyer", "buying", "purchase", "b"], "buy"),
    **dict.fromkeys(["sell", "seller", "selling", "listing", "list", "s"], "sell"),
    **dict.fromkeys(["both", "buyandsell", "buysell", "buyerseller"], "both"),
}

_MAX_LENGTHS = {
    "first_name": 100, "last_name": 100, "address": 255, "city": 100, "zip_code": 10,
    "source": 100, "crm_id": 100,
}  # fmt: skip
_ZIP_RE = re.compile(r"^\d{5}(-?\d{4})?$")


class ImportFileError(ValueError):
    """The whole file cannot be imported (no phone column, not a CSV, ...)."""


@dataclass
class LeadRow:
    """A row that passed validation, ready to become a Lead."""

    line: int
    fields: dict[str, Any]
    consent: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class RowProblem:
    line: int
    reason: str
    row: dict[str, str]
    level: str = "error"  # "error": row not imported; "warning": imported without the bad value


def decode(data: bytes) -> tuple[str, str]:
    """Return the text and the encoding name of an uploaded file.

    Excel writes UTF-8 with a BOM or Windows-1252, Numbers and Sheets write
    UTF-8, and some CRMs write UTF-16. Latin-1 is the last resort because it
    never fails, so a file is always readable and a name like "Zoë" survives.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _sniff_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _normalise_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.strip().lower())


@dataclass
class HeaderMap:
    columns: list[str | None]  # Lead field per column, None for ignored columns
    ignored: list[str]
    raw: list[str]


def map_headers(headers: list[str]) -> HeaderMap:
    """Map file headers to lead fields; raise ImportFileError when there is no phone column."""
    columns: list[str | None] = []
    ignored: list[str] = []
    seen: set[str] = set()
    for header in headers:
        target = HEADER_ALIASES.get(_normalise_header(header))
        if target is None or target in seen:
            columns.append(None)
            if header.strip():
                ignored.append(header.strip())
        else:
            columns.append(target)
            seen.add(target)
    if "phone" not in seen:
        raise ImportFileError(
            "no phone column found; expected a header such as 'phone', 'phone number' or 'mobile' "
            f"(headers were: {', '.join(h.strip() for h in headers) or 'none'})"
        )
    return HeaderMap(
        columns=columns, ignored=ignored, raw=[h.strip() or f"column {i + 1}" for i, h in enumerate(headers)]
    )


def iter_records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, cells) for each CSV record, skipping nothing."""
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_sniff_dialect(text[:65536]))
    previous = 0
    for cells in reader:
        yield previous + 1, cells
        previous = reader.line_num


def _clean(value: str | None) -> str:
    # Excel's "=""0123""" trick for keeping leading zeros, and stray whitespace.
    text = (value or "").strip()
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    return text


def validate_row(line: int, values: dict[str, str], raw: dict[str, str]) -> LeadRow | RowProblem:
    """Validate one record's mapped values; phone problems reject the row, others only warn."""
    try:
        phone = phone_parse(values.get("phone", ""))
    except InvalidPhoneNumber as exc:
        return RowProblem(line=line, reason=f"invalid phone: {exc}", row=raw)

    warnings: list[str] = []
    fields: dict[str, Any] = {"phone": phone.e164, "phone_extension": phone.extension[:10]}

    first, last = values.get("first_name", ""), values.get("last_name", "")
    if not (first or last) and values.get("full_name"):
        first, _, last = values["full_name"].partition(" ")
    fields["first_name"], fields["last_name"] = first, last.strip()

    for name in ("address", "city", "source", "notes", "crm_id"):
        fields[name] = values.get(name, "")

    email = values.get("email", "")
    if email:
        try:
            validate_email(email)
            fields["email"] = email.lower()
        except ValidationError:
            warnings.append(f"email {email!r} is not valid and was left blank")

    state = values.get("state", "")
    code = state_normalize(state) if state else None
    if state and code is None:
        warnings.append(f"state {state!r} is not a US state and was left blank")
    fields["state"] = code or ""

    zip_code = values.get("zip_code", "")
    if zip_code and len(zip_code) == 4 and zip_code.isdigit():
        zip_code = "0" + zip_code  # Excel drops the leading zero of New England ZIPs.
    if zip_code and not _ZIP_RE.match(zip_code):
        warnings.append(f"ZIP {zip_code!r} is not a US ZIP code and was left blank")
        zip_code = ""
    fields["zip_code"] = zip_code

    intent = values.get("intent", "")
    fields["intent"] = INTENT_WORDS.get(_normalise_header(intent), "unknown")
    if intent and fields["intent"] == "unknown":
        warnings.append(f"intent {intent!r} is not buy, sell or both and was left unknown")

    for name, limit in _MAX_LENGTHS.items():
        if len(fields[name]) > limit:
            warnings.append(f"{name} was longer than {limit} characters and was cut")
            fields[name] = fields[name][:limit]
    fields["crm_id"] = fields["crm_id"] or None

    guess = timezone_derive(phone_timezones=phone.timezones, state=fields["state"])
    fields["timezone"], fields["timezone_source"] = guess.timezone, guess.source

    return LeadRow(line=line, fields=fields, consent=_consent(values, warnings), warnings=warnings)


def _consent(values: dict[str, str], warnings: list[str]) -> dict[str, Any] | None:
    source, at_text, text = (
        values.get("consent_source", ""),
        values.get("consent_at", ""),
        values.get("consent_text", ""),
    )
    if not (source or at_text or text):
        return None
    given_at = None
    if at_text:
        given_at = parse_datetime(at_text)
        if given_at is None and (day := parse_date(at_text)) is not None:
            given_at = dt.datetime.combine(day, dt.time.min)
        if given_at is not None and djtz.is_naive(given_at):
            given_at = djtz.make_aware(given_at, dt.UTC)
    if given_at is None:
        warnings.append(f"consent date {at_text!r} is missing or not a date (use YYYY-MM-DD); no consent was recorded")
        return None
    return {"source": source or "import", "given_at": given_at, "text": text}
