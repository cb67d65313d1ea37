"""A local HTTP server that replays recorded Twilio REST responses and records requests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.conftest import FIXTURES

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "test-auth-token"


class TwilioReplay(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.responses: list[tuple[int, str]] = []
        # While set to an unset Event, requests are recorded but not answered until it is set:
        # the client's timeout runs out with the request already received.
        self.hold: threading.Event | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: TwilioReplay

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self._reply(parse_qs(body, keep_blank_values=True))

    def do_GET(self) -> None:
        self._reply({})

    def _reply(self, form: dict[str, list[str]]) -> None:
        self.server.requests.append(
            {"method": self.command, "path": self.path, "auth": self.headers["Authorization"], "form": form}
        )
        if self.server.hold is not None:
            self.server.hold.wait(timeout=30)
            return  # the client gave up long ago; nothing is answered
        status, fixture = self.server.responses.pop(0)
        payload = (FIXTURES / "twilio" / fixture).read_bytes()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def twilio_replay_server(settings: Any) -> Iterator[TwilioReplay]:
    """Run a replay server and point the project's Twilio settings at it."""
    server = TwilioReplay()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT, TOKEN
    settings.TWILIO_API_BASE_URL = server.base_url
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
