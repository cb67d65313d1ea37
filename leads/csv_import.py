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
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone as djtz
from django.utils.dateparse import parse_date, parse_datetime

from leads.names import person_name_checked
from leads.phones import InvalidPhoneNumber, PhoneCountryNotAllowed, lead_phone_parse
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
            "homephone",
            "mobilenumber",
            "cellnumber",
            "phone1",
            "phonenumber1",
        ],
        "phone",
    ),
    **dict.fromkeys(["email", "emailaddress", "mail"], "email"),
    **dict.fromkeys(["address", "street", "streetaddress", "propertyaddress", "address1", "addressline1"], "address"),
    **dict.fromkeys(["city", "town"], "city"),
    **dict.fromkeys(["state", "st", "province", "region", "stateprovince"], "state"),
    **dict.fromkeys(["zip", "zipcode", "postalcode", "postcode", "zippostalcode"], "zip_code"),
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
# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...), +cmd|...).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FREE_TEXT = ("address", "city", "source", "notes", "crm_id")
_ZIP_RE = re.compile(r"^\d{5}(-?\d{4})?$")
_EMAIL_MAX_LENGTH = 254  # Lead.email; the validator alone allows 320
_EXTENSION_MAX_LENGTH = 10  # Lead.phone_extension
_CONSENT_SOURCE_MAX_LENGTH = 100  # Consent.source
_DELIMITERS = (",", ";", "\t", "|")
# PHONE_DEFAULT_REGION is US, and US Excel writes dates as it shows them.
_US_DATETIME_FORMATS = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p", "%m/%d/%y")
# Workbooks uploaded by mistake; decoded as text they give a baffling "no phone column".
_WORKBOOK_MAGIC = {b"PK\x03\x04": ".xlsx", b"\xd0\xcf\x11\xe0": ".xls"}


class ImportFileError(ValueError):
    """The whole file cannot be imported (no phone column, not a CSV, ...)."""


@dataclass
class LeadRow:
    """A row that passed validation, ready to become a Lead."""

    line: int
    fields: dict[str, Any]
    consent: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    # The cells as read, so a row that fails at insert time is still reported in full.
    raw: dict[str, str] = field(default_factory=dict)


class RejectCode(StrEnum):
    """Why a lead was refused, for a program to act on; a sentence for people always comes with it."""

    INVALID_PHONE = "invalid_phone"
    PHONE_NOT_ALLOWED = "phone_not_allowed"  # a real number, outside LEAD_COUNTRIES
    INVALID_EMAIL = "invalid_email"
    INVALID_VALUE = "invalid_value"
    MISSING_EXTERNAL_ID = "missing_external_id"
    EXTERNAL_ID_TOO_LONG = "external_id_too_long"
    REPEATED_IN_REQUEST = "repeated_in_request"  # the same external id in an earlier row
    DUPLICATE = "duplicate"  # the phone or external id is another lead's
    ON_DNC = "on_dnc"
    CONFLICT = "conflict"  # another request saved the same phone or external id meanwhile


@dataclass
class RowProblem:
    line: int
    reason: str
    row: dict[str, str]
    level: str = "error"  # "error": row not imported; "warning": imported without the bad value
    code: RejectCode = RejectCode.INVALID_PHONE


def decode(data: bytes) -> tuple[str, str]:
    """Return the text and the encoding name of an uploaded file.

    Excel writes UTF-8 with a BOM or Windows-1252, Numbers and Sheets write
    UTF-8, and some CRMs write UTF-16. Latin-1 is the last resort because it
    never fails, so a file is always readable and a name like "Zoë" survives.
    NUL characters are removed: PostgreSQL refuses them in text and JSON.

    Raises:
        ImportFileError: when the upload is an Excel workbook rather than a CSV.
    """
    for magic, extension in _WORKBOOK_MAGIC.items():
        if data.startswith(magic):
            raise ImportFileError(f"this is an Excel workbook ({extension}), not a CSV file; save it as CSV and retry")
    text, encoding = _decode_text(data)
    return text.replace("\x00", ""), encoding


def _decode_text(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # errors="replace": a truncated upload has an odd byte count.
        return data.decode("utf-16", errors="replace"), "utf-16"
    # UTF-16 without a BOM is valid UTF-8 (every other byte is NUL), so it has
    # to be recognised by where its NULs fall before UTF-8 is tried.
    head = data[:4096]
    if len(head) >= 4 and head.count(0) * 4 > len(head):
        encoding = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        return data.decode(encoding, errors="replace"), encoding
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def detect_delimiter(sample: str) -> str:
    """Return the delimiter that splits the header widest and keeps the next rows that wide.

    csv.Sniffer is not used: it guesses the quote character and the quote
    doubling as well, and gets them wrong on ordinary Excel files (a note in
    'single quotes' makes it split "Smith, Jr" in two; a doubled quote at the
    end of a field is kept doubled). Every spreadsheet program quotes the
    Excel way, so only the delimiter varies.
    """
    best, best_score = ",", (0, 0)
    for delimiter in _DELIMITERS:
        rows = _sample_rows(sample, delimiter)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(cells) == width for cells in rows[1:]), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _sample_rows(sample: str, delimiter: str, limit: int = 50) -> list[list[str]]:
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    try:
        for cells in itertools.islice(reader, limit):
            if not is_blank(cells):
                rows.append(cells)
    except csv.Error:
        pass  # a broken record; iter_records reports it, the rows before it still count
    return rows


def _normalise_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.strip().lower())


@dataclass
class HeaderMap:
    columns: list[str | None]  # Lead field per column, None for ignored columns
    ignored: list[str]
    raw: list[str]


def map_headers(headers: list[str], overrides: Mapping[str, str] | None = None) -> HeaderMap:
    """Map file headers to lead fields; raise ImportFileError when there is no phone column.

    `overrides` maps a header, as written, to a field name (a Google Sheet's
    column mapping from the admin); headers it does not name are recognised
    by their usual aliases.
    """
    explicit = {_normalise_header(header): field for header, field in (overrides or {}).items()}
    columns: list[str | None] = []
    ignored: list[str] = []
    seen: set[str] = set()
    for header in headers:
        key = _normalise_header(header)
        target = explicit[key] if key in explicit else HEADER_ALIASES.get(key)
        if target is None or target in seen:
            columns.append(None)
            if header.strip():
                ignored.append(header.strip())
        else:
            columns.append(target)
            seen.add(target)
    if "phone" not in seen:
        found = ", ".join(h.strip() for h in headers) or "none"
        raise ImportFileError(
            "no phone column found; expected a header such as 'phone', 'phone number' or 'mobile' "
            f"(headers were: {found[:300]})"
        )
    return HeaderMap(columns=columns, ignored=ignored, raw=_report_names(headers))


def _report_names(headers: list[str]) -> list[str]:
    # Each column needs its own key in the report's row dict; two "Notes"
    # columns or two blank headers would otherwise drop one value.
    names: list[str] = []
    for i, header in enumerate(headers):
        name = header.strip() or f"column {i + 1}"
        if name in names:
            name = f"{name} (column {i + 1})"
        names.append(name)
    return names


class Record(NamedTuple):
    """One CSV record and the line it starts on (a quoted field may span lines)."""

    line: int
    cells: list[str]
    problem: str = ""  # why the CSV itself is broken here; the record must be rejected

    @property
    def blank(self) -> bool:
        """Return True for an empty line or a row of only delimiters, as Excel writes for cleared rows."""
        return not self.problem and is_blank(self.cells)


def iter_records(text: str) -> Iterator[Record]:
    """Yield every CSV record with the line it starts on, skipping nothing.

    A quote that is never closed makes the csv module read the rest of the
    file as one field. The record where that happens is yielded with a
    problem, so the lines it swallowed are reported rather than lost.
    """
    delimiter = detect_delimiter(text[:65536])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous = 0
    # One record of look-ahead: only the last record can run into the end of
    # the file with its quote open, and that is known only once it is last.
    held: Record | None = None
    try:
        for cells in reader:
            if held is not None:
                yield held
            held = Record(previous + 1, cells)
            previous = reader.line_num
    except csv.Error as exc:
        # The open quote ran past csv.field_size_limit(); nothing after it can be read.
        if held is not None:
            yield held
        yield Record(
            previous + 1,
            [],
            f"a quote opened on line {previous + 1} is never closed ({exc}); "
            "this line and every line after it were not imported",
        )
        return
    if held is not None and previous > held.line and _quote_left_open(text, held.line, delimiter):
        held = held._replace(
            problem=f"a quote opened on line {held.line} is never closed, so lines {held.line}-{previous} "
            "were read as one row; close the quote and import those lines again"
        )
    if held is not None:
        yield held


def _quote_left_open(text: str, line: int, delimiter: str) -> bool:
    tail = "".join(itertools.islice(io.StringIO(text, newline=""), line - 1, None))
    try:
        for _cells in csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        # Strict mode also refuses text after a closing quote ("a"b), which
        # Excel's rules read fine; only the end-of-data error means "open".
        return "end of data" in str(exc)
    return False


def check_row_count(text: str, *, limit: int) -> None:
    """Refuse a file with more than `limit` rows below its header before any row is imported.

    A pass of its own over the text, so the records need not all be held at once.

    Raises:
        ImportFileError: naming the limit, when the file has more rows.
    """
    rows = sum(1 for record in iter_records(text) if not record.blank) - 1
    if rows > limit:
        raise ImportFileError(
            f"the file has {rows:,} rows, more than the {limit:,} one import takes (LEAD_IMPORT_MAX_ROWS); "
            "split it into smaller files and import each"
        )


def is_blank(cells: list[str]) -> bool:
    """Return True when no cell has anything but whitespace."""
    return not any(cell.strip() for cell in cells)


def read_header(records: Iterable[Record]) -> list[str]:
    """Return the first non-blank record's cells; some exports start with empty lines.

    Raises:
        ImportFileError: when the file has no non-blank line at all.
    """
    for record in records:
        if not record.blank:
            return record.cells
    raise ImportFileError("the file is empty: there is no header row and no leads")


def _clean(value: str | None) -> str:
    # Excel's "=""0123""" trick for keeping leading zeros, and stray whitespace.
    text = (value or "").strip()
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    return text


def validate_row(line: int, values: dict[str, str], raw: dict[str, str]) -> LeadRow | RowProblem:
    """Validate one record's mapped values; phone problems reject the row, others only warn."""
    try:
        phone = lead_phone_parse(values.get("phone", ""))
    except PhoneCountryNotAllowed as exc:
        return RowProblem(line=line, reason=f"phone not allowed: {exc}", row=raw, code=RejectCode.PHONE_NOT_ALLOWED)
    except InvalidPhoneNumber as exc:
        return RowProblem(line=line, reason=f"invalid phone: {exc}", row=raw, code=RejectCode.INVALID_PHONE)

    warnings: list[str] = []
    fields: dict[str, Any] = {"phone": phone.e164, "phone_extension": phone.extension[:10]}

    first, last = values.get("first_name", ""), values.get("last_name", "")
    if not (first or last) and values.get("full_name"):
        first, last = _split_name(values["full_name"])
    for name, value in (("first_name", first), ("last_name", last)):
        cleaned = person_name_checked(value, field=name.replace("_", " "))
        fields[name] = cleaned.value
        if cleaned.note:
            warnings.append(cleaned.note)

    for name in _FREE_TEXT:
        fields[name] = values.get(name, "")

    if len(phone.extension) > _EXTENSION_MAX_LENGTH:
        warnings.append(f"extension {phone.extension!r} is longer than {_EXTENSION_MAX_LENGTH} digits and was cut")

    email = values.get("email", "")
    if email and _email_is_valid(email):
        fields["email"] = email.lower()
    elif email:
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
    for name in _FREE_TEXT:
        if fields[name].startswith(FORMULA_START):
            # Kept as the text it is; every export neutralises it (leads.services.spreadsheet_safe).
            warnings.append(f"{name} starts like a spreadsheet formula and is kept as text")
    fields["crm_id"] = fields["crm_id"] or None

    guess = timezone_derive(phone_timezones=phone.timezones, state=fields["state"])
    fields["timezone"], fields["timezone_source"] = guess.timezone, guess.source

    return LeadRow(line=line, fields=fields, consent=_consent(values, warnings), warnings=warnings, raw=raw)


def _email_is_valid(email: str) -> bool:
    # The validator accepts up to 320 characters but the column holds 254;
    # PostgreSQL would refuse the whole batch over one long address.
    if len(email) > _EMAIL_MAX_LENGTH:
        return False
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


def _split_name(full_name: str) -> tuple[str, str]:
    # CRMs export either "Jane Smith" or "Smith, Jane".
    if "," in full_name:
        last, _, first = full_name.partition(",")
    else:
        first, _, last = full_name.partition(" ")
    return first.strip(), last.strip()


def _consent(values: dict[str, str], warnings: list[str]) -> dict[str, Any] | None:
    source, at_text, text = (
        values.get("consent_source", ""),
        values.get("consent_at", ""),
        values.get("consent_text", ""),
    )
    if not (source or at_text or text):
        return None
    given_at = _parse_consent_at(at_text) if at_text else None
    if given_at is None:
        warnings.append(
            f"consent date {at_text!r} is missing or not a date (use YYYY-MM-DD or MM/DD/YYYY); no consent was recorded"
        )
        return None
    if len(source) > _CONSENT_SOURCE_MAX_LENGTH:
        warnings.append(f"consent source was longer than {_CONSENT_SOURCE_MAX_LENGTH} characters and was cut")
        source = source[:_CONSENT_SOURCE_MAX_LENGTH]
    return {"source": source or "import", "given_at": given_at, "text": text}


def _parse_consent_at(text: str) -> dt.datetime | None:
    """Parse ISO dates and times, and the M/D/YYYY that US Excel writes; naive values are taken as UTC."""
    try:
        given_at = parse_datetime(text)
        if given_at is None and (day := parse_date(text)) is not None:
            given_at = dt.datetime.combine(day, dt.time.min)
    except ValueError:  # well-formed but impossible, e.g. 2024-02-30
        given_at = None
    if given_at is None:
        given_at = _parse_us_datetime(text)
    if given_at is not None and djtz.is_naive(given_at):
        given_at = djtz.make_aware(given_at, dt.UTC)
    return given_at


def _parse_us_datetime(text: str) -> dt.datetime | None:
    for fmt in _US_DATETIME_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def count_rows(data: bytes) -> int | None:
    """Count the rows the import will read, so the bar has a total; None when the whole file will fail.

    Counting CSV records rather than newlines keeps the total right for quoted
    fields that span lines and for UTF-16 files. It parses the file twice, which
    costs a fraction of what validating and inserting the rows does.
    """
    try:
        text, _encoding = decode(data)
        records = iter_records(text)
        map_headers(read_header(records))
        return sum(1 for record in records if not record.blank)
    except ImportFileError:
        return None
