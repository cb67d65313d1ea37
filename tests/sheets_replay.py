"""Replay recorded Google API exchanges (vcrpy cassettes, as gspread's own tests use) at the requests transport.

The adapter stands where the network would: google-auth really signs a JWT
with the test's service-account key and posts it to the token endpoint, and
gspread really builds each Sheets request; each request is answered by the
next unused recorded exchange with the same method and URL (query parameters
in any order), and kept in `received` for the test to assert on. A request
with no recording raises NotRecorded, which no client code catches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from tests.conftest import FIXTURES

SHEETS = FIXTURES / "sheets"
ACCESS_TOKEN = "ya29.c.replayed-access-token"


class NotRecorded(AssertionError):
    """The code under test made a request that the cassette does not have."""


@dataclass
class Received:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    timeout: Any

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.url).query)


def _key(method: str, url: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(url)
    return method.upper(), f"{parts.scheme}://{parts.netloc}{parts.path}", tuple(sorted(parse_qsl(parts.query)))


class CassetteAdapter(BaseAdapter):
    def __init__(self, *names: str) -> None:
        super().__init__()
        self.interactions: list[dict[str, Any]] = []
        for name in names:
            self.interactions += json.loads((SHEETS / name).read_text(encoding="utf-8"))["interactions"]
        self.used = [False] * len(self.interactions)
        self.received: list[Received] = []

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, **kwargs: Any) -> Any:
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        method, url = request.method or "GET", request.url or ""
        self.received.append(Received(method, url, dict(request.headers), body, timeout))
        key = _key(method, url)
        for index, interaction in enumerate(self.interactions):
            recorded = interaction["request"]
            if not self.used[index] and _key(recorded["method"], recorded["uri"]) == key:
                self.used[index] = True
                return self._response(request, interaction["response"])
        raise NotRecorded(f"no recorded exchange for {method} {url}")

    def _response(self, request: requests.PreparedRequest, recorded: dict[str, Any]) -> requests.Response:
        response = requests.Response()
        response.status_code = recorded["status"]["code"]
        response.reason = recorded["status"]["message"]
        # requests would have decoded a chunked body already; a stale length would confuse nothing here.
        response.headers = CaseInsensitiveDict(
            {k: ", ".join(v) for k, v in recorded["headers"].items() if k.lower() not in ("transfer-encoding",)}
        )
        response._content = recorded["body"]["string"].encode()
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass

    @property
    def unused(self) -> list[str]:
        return [i["request"]["uri"] for i, used in zip(self.interactions, self.used, strict=True) if not used]

    def sheets_requests(self) -> list[Received]:
        return [r for r in self.received if "sheets.googleapis.com" in r.url]
