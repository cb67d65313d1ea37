"""The Twilio emulator's HTTP side: the slice of Twilio's REST API this project uses.

    POST /2010-04-01/Accounts/{AccountSid}/Calls.json          create a call (201); TimeLimit ends it
    GET  /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json fetch it
    POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json update it: Status=completed|canceled,
                                                               or Twiml / Url to run new TwiML

Requests authenticate with HTTP Basic (account SID, auth token) like Twilio's,
and errors come back in Twilio's JSON shape with Twilio's error codes, so the
official `twilio` library behaves against it as it does against Twilio.

Start it in-process with `async with EmulatorServer() as emulator:` (an
ephemeral port by default) or from a synchronous caller with
`emulator_in_thread()`; `manage.py twilio_emulator` runs it standalone.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
import re
import socket
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from django.conf import settings
from multidict import MultiDictProxy

from emulator.call import API_VERSION, DEFAULT_TIME_LIMIT_S, CallRequest, EmulatedCall
from emulator.persona import Persona, PersonaRegistry, registry_load

logger = logging.getLogger(__name__)

T = TypeVar("T")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
STATUS_EVENTS = frozenset({"initiated", "ringing", "answered", "completed"})
PREFIX = f"/{API_VERSION}/Accounts/{{account}}"


class RestError(Exception):
    """A request Twilio would refuse; rendered as Twilio's error JSON."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> web.Response:
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if self.status == 401 else None
        return web.json_response(body, status=self.status, headers=headers)


def _url(form: MultiDictProxy[Any], key: str, code: int, *, required: bool = False) -> str:
    value = str(form.get(key, "")).strip()
    if not value:
        if required:
            raise RestError(400, code, f"{key} parameter is required.")
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RestError(400, code, f"{key} is not a valid URL: {value}")
    return value


def _method(form: MultiDictProxy[Any], key: str) -> str:
    value = str(form.get(key, "POST")).upper() or "POST"
    if value not in ("GET", "POST"):
        raise RestError(400, 21209, f"{key} must be GET or POST, got {form.get(key)!r}")
    return value


def call_request_parse(form: MultiDictProxy[Any]) -> CallRequest:
    """Validate the form of POST /Calls.json the way Twilio does.

    Raises:
        RestError: with Twilio's error code for the first problem found.
    """
    to, from_ = str(form.get("To", "")).strip(), str(form.get("From", "")).strip()
    if not to:
        raise RestError(400, 21201, "No 'To' number is specified")
    if not _E164.match(to):
        raise RestError(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if not from_:
        raise RestError(400, 21603, "A 'From' phone number is required.")
    if not _E164.match(from_):
        raise RestError(400, 21212, f"Invalid 'From' Phone Number: {from_}")
    twiml = str(form.get("Twiml", "")).strip()
    url = _url(form, "Url", 21205, required=not twiml)
    events = frozenset(str(e).strip().lower() for e in form.getall("StatusCallbackEvent", []))
    if unknown := events - STATUS_EVENTS:
        raise RestError(400, 21626, f"Invalid 'StatusCallbackEvent': {', '.join(sorted(unknown))}")
    try:
        timeout_s = int(form.get("Timeout", "60"))
    except ValueError:
        raise RestError(400, 21216, f"Timeout must be a number of seconds, got {form.get('Timeout')!r}") from None
    try:
        time_limit_s = int(form.get("TimeLimit", str(DEFAULT_TIME_LIMIT_S)))
    except ValueError:
        raise RestError(400, 21216, f"TimeLimit must be a number of seconds, got {form.get('TimeLimit')!r}") from None
    if time_limit_s < 1:
        raise RestError(400, 21216, f"TimeLimit must be at least 1 second, got {time_limit_s}")
    return CallRequest(
        to=to,
        from_=from_,
        url=url,
        method=_method(form, "Method"),
        twiml=twiml,
        status_callback=_url(form, "StatusCallback", 21609),
        status_callback_method=_method(form, "StatusCallbackMethod"),
        # Without StatusCallbackEvent, Twilio reports only the final status.
        status_callback_events=events or frozenset({"completed"}),
        machine_detection=str(form.get("MachineDetection", "")),
        async_amd=str(form.get("AsyncAmd", "false")).lower() == "true",
        amd_callback=_url(form, "AsyncAmdStatusCallback", 21609),
        amd_callback_method=_method(form, "AsyncAmdStatusCallbackMethod"),
        timeout_s=max(1, min(timeout_s, 600)),
        time_limit_s=time_limit_s,
    )


class EmulatorServer:
    """The emulator: REST API plus the calls it is running.

    Args:
        host, port: where to listen; port 0 picks a free one (see base_url).
        account_sid, auth_token: the account it plays; default TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN.
        output_dir: where each call's folder goes; default EMULATOR_OUTPUT_DIR.
        registry: personas and their numbers; default the built-ins with EMULATOR_DEFAULT_PERSONA.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account_sid: str | None = None,
        auth_token: str | None = None,
        output_dir: Path | None = None,
        registry: PersonaRegistry | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.account_sid = settings.TWILIO_ACCOUNT_SID if account_sid is None else account_sid
        self.auth_token = settings.TWILIO_AUTH_TOKEN if auth_token is None else auth_token
        if not re.fullmatch(r"AC[0-9a-f]{32}", self.account_sid) or not self.auth_token:
            raise ValueError(
                "the emulator needs an account SID (AC + 32 hex digits) and an auth token: "
                "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to the values the app uses"
            )
        self.output_dir = Path(output_dir or settings.EMULATOR_OUTPUT_DIR)
        self.registry = registry or registry_load(default=settings.EMULATOR_DEFAULT_PERSONA)
        self.calls: dict[str, EmulatedCall] = {}
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    @property
    def base_url(self) -> str:
        """Return the URL to put in TWILIO_API_BASE_URL."""
        return f"http://{self.host}:{self.port}"

    def assign(self, number: str, persona: Persona | str) -> None:
        """Make `persona` answer calls to `number`."""
        self.registry.assign(number, persona)

    async def start(self) -> None:
        """Listen for REST requests."""
        app = web.Application()
        app.router.add_post(PREFIX + "/Calls.json", self._create)
        app.router.add_get(PREFIX + "/Calls/{sid}.json", self._fetch)
        app.router.add_post(PREFIX + "/Calls/{sid}.json", self._update)
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=15))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.create_server((self.host, self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        logger.info("twilio emulator listening", extra={"url": self.base_url})

    async def close(self) -> None:
        """Hang up every live call, wait for their files, and stop listening."""
        live = [c for c in self.calls.values() if not c.finished.is_set()]
        for call in live:
            await call.update(status="completed")
        await asyncio.gather(*(c.wait(timeout=60) for c in live), return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def wait_call(self, sid: str, timeout: float) -> EmulatedCall:
        """Wait until call `sid` has ended and its files are written, and return it.

        Raises:
            KeyError: for a call this emulator did not create.
            TimeoutError: when it is still going after `timeout` seconds.
        """
        call = self.calls[sid]
        await call.wait(timeout)
        return call

    # --- Handlers -------------------------------------------------------------------

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        try:
            user, _, password = base64.b64decode(header.removeprefix("Basic "), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        ok_user = hmac.compare_digest(user.encode(), self.account_sid.encode())
        if not (header.startswith("Basic ") and ok_user and hmac.compare_digest(password, self.auth_token)):
            raise RestError(401, 20003, "Authentication Error - invalid username")
        if request.match_info["account"] != self.account_sid:
            raise RestError(404, 20404, f"The requested resource {request.path} was not found")

    def _call(self, request: web.Request) -> EmulatedCall:
        call = self.calls.get(request.match_info["sid"])
        if call is None:
            raise RestError(404, 20404, f"The requested resource {request.path} was not found")
        return call

    async def _create(self, request: web.Request) -> web.Response:
        try:
            self._authenticate(request)
            call_request = call_request_parse(await request.post())
        except RestError as exc:
            return exc.response()
        assert self._http is not None
        call = EmulatedCall(
            request=call_request,
            account_sid=self.account_sid,
            auth_token=self.auth_token,
            persona=self.registry.for_number(call_request.to),
            http=self._http,
            output_root=self.output_dir,
        )
        self.calls[call.sid] = call
        body = call.resource()
        call.start()
        logger.info("emulated call created", extra={"call_sid": call.sid, "persona": call.persona.name})
        return web.json_response(body, status=201)

    async def _fetch(self, request: web.Request) -> web.Response:
        try:
            self._authenticate(request)
            return web.json_response(self._call(request).resource())
        except RestError as exc:
            return exc.response()

    async def _update(self, request: web.Request) -> web.Response:
        try:
            self._authenticate(request)
            call = self._call(request)
            form = await request.post()
            status = str(form.get("Status", "")).strip()
            if status and status not in ("completed", "canceled"):
                raise RestError(400, 21218, f"Invalid Status: {status}; use completed or canceled")
            twiml, url = str(form.get("Twiml", "")).strip(), _url(form, "Url", 21205)
            if (twiml or url) and call.finished.is_set():
                raise RestError(400, 21220, "Call is not in-progress. Cannot redirect.")
            await call.update(status=status, twiml=twiml, url=url, method=_method(form, "Method"))
        except RestError as exc:
            return exc.response()
        return web.json_response(call.resource())


class EmulatorThread:
    """An EmulatorServer on its own event loop in a daemon thread, for synchronous callers."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="twilio-emulator", daemon=True)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the emulator's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self) -> None:
        self._thread.start()
        self.run(self.server.start(), timeout=30)

    def stop(self) -> None:
        try:
            self.run(self.server.close(), timeout=90)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
            self.loop.close()


@contextmanager
def emulator_in_thread(**kwargs: Any) -> Iterator[EmulatorThread]:
    """Run an EmulatorServer(**kwargs) in a background thread for the duration of the block."""
    thread = EmulatorThread(EmulatorServer(**kwargs))
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()
