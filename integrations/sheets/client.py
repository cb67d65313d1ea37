"""The one module that talks to Google Sheets: gspread's HTTP client, signed in as a service account.

A sync makes at most two Sheets API requests, one values.batchGet and one
values.batchUpdate, because the API allows 60 requests a minute per user and
a worker must not wait for quota. Every request, the OAuth token exchange
included, has a timeout, and nothing here retries or sleeps: a 429, a 5xx, a
timeout or a dropped connection raises SheetsError(retryable=True), and the
Celery task schedules the retry with backoff instead of holding the worker.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import google.auth.exceptions
import requests
from django.conf import settings
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2 import service_account
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from requests.adapters import BaseAdapter, HTTPAdapter

# Read and write cells; nothing in Drive.
SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
# Google answers these when it is overloaded or out of quota; anything else will fail the same way again.
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# Google's error bodies can be long; keep log lines and the sync log readable.
MESSAGE_LIMIT = 500
# The parts of a returned range such as "'My Leads'!A1:Z1000".
_RANGE_START = re.compile(r"!\$?([A-Z]+)\$?(\d+)")

T = TypeVar("T")


class SheetsError(RuntimeError):
    """Google refused or could not be reached; `retryable` says whether trying later may work.

    Attributes:
        status_code: the HTTP status, or None when no answer came.
        status: Google's error status, e.g. RESOURCE_EXHAUSTED or NOT_FOUND.
        retryable: True for quota (429), server errors, timeouts and lost connections.
    """

    def __init__(self, message: str, *, status_code: int | None = None, status: str = "", retryable: bool = False):
        super().__init__(message[:MESSAGE_LIMIT])
        self.status_code = status_code
        self.status = status
        self.retryable = retryable


@dataclass(frozen=True)
class ValueRange:
    """Cells of one range, row by row, as the API reads and writes them."""

    range: str
    values: list[list[str]]

    @property
    def first_row(self) -> int:
        """Return the sheet row of values[0] (1-based), from the range Google reports."""
        match = _RANGE_START.search(self.range)
        return int(match.group(2)) if match else 1


def is_configured() -> bool:
    """Return whether a service-account key is configured, i.e. whether sheets can sync at all."""
    return bool(settings.GOOGLE_SERVICE_ACCOUNT_FILE)


def http_adapter() -> BaseAdapter:
    """Return the transport every request to Google (token exchange and Sheets API) goes through.

    No urllib3 retries: a retry here would wait inside the worker; the task retries later instead.
    """
    return HTTPAdapter(max_retries=0)


def a1_range(worksheet: str, cells: str = "") -> str:
    """Return an A1 range on a tab, quoting the tab name as Sheets requires ("'O''Brien leads'!A1")."""
    quoted = "'" + worksheet.replace("'", "''") + "'"
    return f"{quoted}!{cells}" if cells else quoted


def column_letter(index: int) -> str:
    """Return the column letters of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


class SheetsClient:
    """Sheets API v4 over one authorised session; make one per sync."""

    def __init__(self, *, credentials_file: str, timeout_s: float) -> None:
        try:
            credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                credentials_file, scopes=SCOPES
            )
        except (OSError, ValueError) as exc:
            raise SheetsError(f"cannot read the service-account key {credentials_file!r}: {exc}") from exc
        adapter = http_adapter()
        token_session = requests.Session()
        token_session.mount("https://", adapter)
        session = AuthorizedSession(credentials, auth_request=Request(token_session))  # type: ignore[no-untyped-call]
        session.mount("https://", adapter)
        self._http = HTTPClient(auth=credentials, session=session)
        # (connect, read): both bounded, so a hung Google cannot hold a worker.
        self._http.set_timeout((min(timeout_s, 10.0), timeout_s))
        self.requests_made = 0
        self.service_account_email: str = credentials.service_account_email

    @classmethod
    def from_settings(cls) -> SheetsClient:
        """Return a client signed in with GOOGLE_SERVICE_ACCOUNT_FILE.

        Raises:
            SheetsError: when no key is configured or the key file cannot be read.
        """
        if not is_configured():
            raise SheetsError("Google Sheets sync is off: GOOGLE_SERVICE_ACCOUNT_FILE is not set")
        return cls(credentials_file=settings.GOOGLE_SERVICE_ACCOUNT_FILE, timeout_s=settings.GOOGLE_SHEETS_TIMEOUT_S)

    def values_batch_get(self, *, spreadsheet_id: str, ranges: Sequence[str]) -> list[ValueRange]:
        """Read several ranges in one request, as the sheet shows them (formatted values, rows first)."""
        params: dict[str, Any] = {
            "valueRenderOption": "FORMATTED_VALUE",
            "dateTimeRenderOption": "FORMATTED_STRING",
            "majorDimension": "ROWS",
        }
        body = self._call(lambda: self._http.values_batch_get(spreadsheet_id, list(ranges), params=params))
        return [
            ValueRange(range=item.get("range", ""), values=[[str(c) for c in row] for row in item.get("values", [])])
            for item in body.get("valueRanges", [])
        ]

    def values_batch_update(self, *, spreadsheet_id: str, data: Sequence[ValueRange]) -> int:
        """Write several ranges in one request; return how many cells Google updated.

        RAW input: a lead's name that starts with "=" is stored as text, never run as a formula.
        """
        if not data:
            return 0
        body = {"valueInputOption": "RAW", "data": [{"range": item.range, "values": item.values} for item in data]}
        reply = self._call(lambda: self._http.values_batch_update(spreadsheet_id, body))
        return int(reply.get("totalUpdatedCells", 0))

    def _call(self, request: Callable[[], T]) -> T:
        self.requests_made += 1
        try:
            return request()
        except APIError as exc:
            raise _api_error(exc) from exc
        except requests.Timeout as exc:
            raise SheetsError(f"Google did not answer in time: {exc}", retryable=True) from exc
        except requests.ConnectionError as exc:
            raise SheetsError(f"cannot reach Google: {exc}", retryable=True) from exc
        except google.auth.exceptions.RefreshError as exc:
            # A revoked or deleted key, or a token endpoint that is down (retryable then).
            raise SheetsError(f"the service account could not sign in: {exc}", retryable=exc.retryable) from exc
        except google.auth.exceptions.TransportError as exc:
            raise SheetsError(f"cannot reach Google's sign-in: {exc}", retryable=True) from exc


def _api_error(exc: APIError) -> SheetsError:
    status_code = exc.response.status_code
    status = str(exc.error.get("status", ""))
    message = str(exc.error.get("message", "")) or exc.response.text
    hint = {
        403: " (share the sheet with the service account's email address)",
        404: " (check the spreadsheet id)",
    }.get(status_code, "")
    return SheetsError(
        f"Google Sheets answered {status_code} {status}: {message}{hint}",
        status_code=status_code,
        status=status,
        retryable=status_code in RETRYABLE_STATUS,
    )
