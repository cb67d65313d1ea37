"""One emulated outbound call, from the REST request to the completed status callback.

Twilio's order of events for an answered outbound-api call, reproduced here:
status callback `initiated`, `ringing`, then on answer `answered` (sent with
CallStatus=in-progress) and the voice webhook fetch; the returned TwiML runs
(`<Connect><Stream>` opens the media stream); async AMD reports who answered;
when the call ends, the `completed` callback carries CallDuration. Every
request is signed with X-Twilio-Signature exactly as Twilio signs it.

The emulator plays Twilio, so the requests it makes are Twilio's to our app,
not the app's outbound traffic; that is why it has its own HTTP client here
instead of going through integrations/twilio/client.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import enum
import logging
import math
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from emulator import audio
from emulator.lead import Lead, VoicemailBox
from emulator.persona import Persona
from emulator.recording import call_outputs_write
from emulator.stream import MediaStream
from emulator.timeline import Timeline
from integrations.twilio.client import signature_compute

logger = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
WEBHOOK_TIMEOUT_S = 15  # Twilio waits 15 s for a webhook before giving up
PLAY_LOOP_FOREVER = 1000  # <Play loop="0"> repeats until hang-up, or 1000 times
MEDIA_TYPES = ("audio/wav", "audio/wave", "audio/x-wav")  # what <Play> decodes here; Twilio also takes MP3
SIP_CODES = {"completed": "200", "busy": "486", "no-answer": "487", "failed": "500", "canceled": "487"}
FINAL_STATUSES = frozenset(SIP_CODES)
DEFAULT_TIME_LIMIT_S = 14400  # Twilio's TimeLimit when the request names none: four hours


class Flow(enum.Enum):
    """What happens after a TwiML verb, other than fetching a new document."""

    NEXT = "next"
    HANGUP = "hangup"


@dataclass(frozen=True)
class CallRequest:
    """The form fields of POST /Calls.json that the emulator acts on (already validated)."""

    to: str
    from_: str
    url: str = ""
    method: str = "POST"
    twiml: str = ""
    status_callback: str = ""
    status_callback_method: str = "POST"
    status_callback_events: frozenset[str] = frozenset({"completed"})
    machine_detection: str = ""
    async_amd: bool = False
    amd_callback: str = ""
    amd_callback_method: str = "POST"
    timeout_s: int = 60
    time_limit_s: int = DEFAULT_TIME_LIMIT_S  # Twilio hangs up once the call has been connected this long


def _rfc2822(moment: dt.datetime | None) -> str | None:
    return email.utils.format_datetime(moment) if moment else None


def _formatted(number: str) -> str:
    if number.startswith("+1") and len(number) == 12:
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number


def _loops(verb: ET.Element) -> int:
    """Return how often <Play> or <Say> repeats: `loop`, default 1, with 0 meaning "until hang-up"."""
    try:
        loops = int(verb.get("loop", "1"))
    except ValueError:
        return 1
    return PLAY_LOOP_FOREVER if loops == 0 else max(1, loops)


@dataclass
class Twiml:
    """The parts of a TwiML document the emulator executes."""

    verbs: list[ET.Element] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> Twiml:
        """Parse a <Response> document.

        Raises:
            ValueError: when it is not XML or its root is not <Response>.
        """
        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            raise ValueError(f"TwiML is not well-formed XML: {exc}") from exc
        if root.tag != "Response":
            raise ValueError(f"TwiML root must be <Response>, got <{root.tag}>")
        return cls(verbs=list(root))


class EmulatedCall:
    """One call: its REST resource, its state machine and its recording."""

    def __init__(
        self,
        *,
        request: CallRequest,
        account_sid: str,
        auth_token: str,
        persona: Persona,
        http: aiohttp.ClientSession,
        output_root: Path,
    ) -> None:
        self.request, self.persona = request, persona
        self.account_sid, self.auth_token = account_sid, auth_token
        self.http = http
        self.sid = "CA" + uuid.uuid4().hex
        self.output_dir = output_root / self.sid
        self.status = "queued"
        self.answered_by: str | None = None
        self.created = dt.datetime.now(dt.UTC)
        self.started: dt.datetime | None = None
        self.ended: dt.datetime | None = None
        self.duration_s: int | None = None
        self.timeline = Timeline()
        self.lead_track, self.agent_track = bytearray(), bytearray()
        self.voicemail = VoicemailBox(self.agent_track)
        self.finished = asyncio.Event()
        self._answered_at = 0.0
        self._callbacks_sent = 0
        self._stop = asyncio.Event()  # REST update asked to end the call
        self._stop_status = ""
        self._redirect: str | None = None
        self._stream: MediaStream | None = None
        self._amd_sent = False
        self._task: asyncio.Task[None] | None = None
        self.timeline.add("created", to=request.to, from_=request.from_, persona=persona.name)

    def start(self) -> None:
        """Run the call in the background."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def wait(self, timeout: float) -> None:
        """Wait until the call has ended and its files are written."""
        await asyncio.wait_for(self.finished.wait(), timeout)

    # --- REST ---------------------------------------------------------------------

    def resource(self) -> dict[str, Any]:
        """Return the call as Twilio's REST API renders it."""
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        subresources = [
            "notifications", "recordings", "payments", "events", "siprec", "streams", "transcriptions",
            "user_defined_message_subscriptions", "user_defined_messages",
        ]  # fmt: skip
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": _rfc2822(self.created),
            "date_updated": _rfc2822(self.ended or self.started or self.created),
            "direction": "outbound-api",
            "duration": None if self.duration_s is None else str(self.duration_s),
            "end_time": _rfc2822(self.ended),
            "forwarded_from": None,
            "from": self.request.from_,
            "from_formatted": _formatted(self.request.from_),
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "start_time": _rfc2822(self.started),
            "status": self.status,
            "subresource_uris": {
                name: f"{base}/{''.join(w.title() for w in name.split('_'))}.json" for name in subresources
            },
            "to": self.request.to,
            "to_formatted": _formatted(self.request.to),
            "trunk_sid": None,
            "uri": f"{base}.json",
            "queue_time": "0",
        }

    async def update(self, *, status: str = "", twiml: str = "", url: str = "", method: str = "POST") -> None:
        """Apply POST /Calls/{Sid}.json: end the call, or run new TwiML on it."""
        self.timeline.add("rest_update", status=status or None, url=url or None, twiml=bool(twiml))
        if status:
            # canceled only ends a call that has not been answered; completed ends any call.
            if status == "completed" or self.status in ("queued", "initiated", "ringing"):
                self._stop_status = status
                self._stop.set()
                if self._stream is not None:
                    await self._stream.end("api")
            return
        if twiml or url:
            self._redirect = twiml or await self._fetch_twiml(url, method, label="redirect_fetched")
            if self._stream is not None:
                await self._stream.end("redirect")

    # --- The call -------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            final = await self._dial()
            if final is None:
                await self._answer()
                final = "completed"
            await self._finish(final)
        except Exception as exc:
            logger.exception("emulated call crashed", extra={"call_sid": self.sid})
            self.timeline.add("error", message=f"emulator failure: {exc!r}")
            await self._finish("failed")

    async def _dial(self) -> str | None:
        """Initiate and ring; return a final status if the call is never answered."""
        lines = asyncio.get_running_loop().create_task(self._synthesize_lines())
        self.started = dt.datetime.now(dt.UTC)
        self.status = "initiated"
        await self._status_callback("initiated")
        self.status = "ringing"
        await self._status_callback("ringing")
        ring_s = min(self.persona.ring_s, float(self.request.timeout_s))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), ring_s)
        await lines
        if self._stop.is_set():
            return "canceled"
        if self.persona.pickup != "answer":
            return self.persona.pickup
        return None

    async def _synthesize_lines(self) -> None:
        # While the phone rings: the lead answers without Piper on the critical path.
        loop = asyncio.get_running_loop()
        began = loop.time()
        results = [await asyncio.to_thread(audio.synthesize, line) for line in self.persona.lines()]
        self.timeline.add(
            "lines_synthesized",
            lines=len(results),
            synth_ms=[r.ms for r in results],
            wall_ms=round((loop.time() - began) * 1000),
        )

    async def _answer(self) -> None:
        self.status = "in-progress"
        self._answered_at = asyncio.get_running_loop().time()
        self.timeline.add("answered")
        await self._status_callback("answered")
        amd = self._schedule_amd()
        limit = asyncio.get_running_loop().create_task(self._time_limit())
        try:
            await self._execute(await self._first_twiml())
        finally:
            limit.cancel()
            if amd is not None and not self._amd_sent:
                amd.cancel()  # the call ended before detection finished
            elif amd is not None:
                await asyncio.gather(amd, return_exceptions=True)  # a callback in flight is delivered

    async def _first_twiml(self) -> str | None:
        if self.request.twiml:
            return self.request.twiml
        params = self._base_params("in-progress")
        if self.request.machine_detection and not self.request.async_amd:
            # Synchronous AMD: Twilio detects first, then fetches the webhook with AnsweredBy.
            await asyncio.sleep(self.persona.amd_after_s)
            self.answered_by = self.persona.answered_by
            params["AnsweredBy"] = self.answered_by
        return await self._fetch_twiml(self.request.url, self.request.method, label="webhook_fetched", params=params)

    async def _execute(self, document: str | None) -> None:
        """Run TwiML until the call ends; <Redirect>, a REST update or <Connect action> chain documents."""
        while document is not None and not self._stop.is_set():
            try:
                verbs = Twiml.parse(document).verbs
            except ValueError as exc:
                # Twilio says "an application error has occurred" and hangs up (error 12100).
                self.timeline.add("error", code=12100, message=str(exc))
                return
            document = None
            for verb in verbs:
                if self._stop.is_set():
                    return
                outcome = await self._verb(verb)
                if outcome is Flow.HANGUP:
                    return
                if self._redirect is not None:  # a REST update replaced the TwiML
                    document, self._redirect = self._redirect, None
                    break
                if outcome is not Flow.NEXT:
                    document = outcome  # the next document, or None when fetching it failed
                    break

    async def _verb(self, verb: ET.Element) -> Flow | str | None:
        """Execute one verb; return what comes next: a flow step or a TwiML document (None: none)."""
        self.timeline.add("twiml_verb", verb=verb.tag)
        if verb.tag == "Hangup":
            return Flow.HANGUP
        if verb.tag == "Pause":
            await self._interruptible_sleep(float(verb.get("length", "1")))
            return Flow.NEXT
        if verb.tag == "Redirect" and (verb.text or "").strip():
            url = (verb.text or "").strip()
            return await self._fetch_twiml(url, verb.get("method", "POST"), label="redirect_fetched")
        if verb.tag == "Connect":
            return await self._connect(verb)
        if verb.tag == "Play" and (verb.text or "").strip():
            await self._play(verb)
            return Flow.NEXT
        if verb.tag == "Say" and (verb.text or "").strip():
            await self._say(verb)
            return Flow.NEXT
        self.timeline.add("error", message=f"<{verb.tag}> is not emulated; skipped")
        return Flow.NEXT

    async def _connect(self, connect: ET.Element) -> Flow | str | None:
        stream_el = connect.find("Stream")
        if stream_el is None or not stream_el.get("url"):
            self.timeline.add("error", code=12100, message="<Connect> without a <Stream url=...>")
            return Flow.HANGUP
        parameters = {p.get("name", ""): p.get("value", "") for p in stream_el.findall("Parameter")}
        url = str(stream_el.get("url"))
        self.timeline.add("twiml_stream", url=url, parameters=parameters)
        self._stream = MediaStream(
            url=url,
            parameters=parameters,
            account_sid=self.account_sid,
            auth_token=self.auth_token,
            call_sid=self.sid,
            http=self.http,
            timeline=self.timeline,
            lead_track=self.lead_track,
            agent_track=self.agent_track,
            turn_end_s=self.persona.turn_end_s,
        )
        lead = Lead(self.persona, on_beep=self._machine_detected, voicemail=self.voicemail)
        elapsed = asyncio.get_running_loop().time() - self._answered_at
        reason = await self._stream.run(lead=lead, max_s=max(0.0, self.persona.max_call_s - elapsed))
        self._stream = None
        if reason in ("hung_up", "api", "max_call_s", "time_limit"):
            return Flow.HANGUP
        action = connect.get("action")
        if reason != "redirect" and action:
            # The app ended the stream: Twilio asks the action URL what to do next.
            return await self._fetch_twiml(action, connect.get("method", "POST"), label="action_fetched")
        return Flow.NEXT

    async def _play(self, verb: ET.Element) -> None:
        """<Play>: fetch the file (GET), decode it and play it to the lead in real time."""
        url = (verb.text or "").strip()
        fetched = await self._fetch_media(url)
        if fetched is None:
            return  # Twilio logs the failure and goes on with the next verb
        content_type, body = fetched
        if content_type not in MEDIA_TYPES:
            self.timeline.add("error", code=13420, message=f"Play: Content-Type {content_type!r} is not emulated")
            return
        try:
            line = audio.ulaw_encode(audio.wav_decode(body))
        except ValueError as exc:
            self.timeline.add("error", code=13420, message=f"Play: {exc}", url=url)
            return
        await self._play_line(line, _loops(verb), "play", url=url)

    async def _say(self, verb: ET.Element) -> None:
        """<Say>: speak the text with the emulator's Piper voice (Twilio would use its own TTS voice)."""
        text = " ".join((verb.text or "").split())
        spoken = await asyncio.to_thread(audio.synthesize, text)
        await self._play_line(spoken.value, _loops(verb), "say", text=text)

    async def _play_line(self, ulaw: bytes, loops: int, kind: str, **facts: Any) -> None:
        """Play mu-law audio `loops` times at the real-time rate; a hang-up or new TwiML stops it."""
        frames = audio.frames(ulaw)
        at_ms = len(self.agent_track) * 1000 // audio.LINE_RATE
        self.timeline.add(kind, duration_ms=len(frames) * audio.FRAME_MS, loop=loops, line_ms=at_ms, **facts)
        clock = asyncio.get_running_loop()
        began, played, total = clock.time(), 0, len(frames) * loops
        while played < total and not (self._stop.is_set() or self._redirect is not None):
            delay = began + played * audio.FRAME_MS / 1000 - clock.time()
            if delay > 0:
                await asyncio.sleep(delay)
            # Both tracks grow together, so lead.wav and agent.wav stay on one clock.
            self.agent_track += frames[played % len(frames)]
            self.lead_track += audio.SILENCE_FRAME
            played += 1
        self.timeline.add(f"{kind}_ended", played_ms=played * audio.FRAME_MS, interrupted=played < total)

    async def _time_limit(self) -> None:
        """End the call once it has been connected for its TimeLimit, as Twilio does."""
        await asyncio.sleep(self.request.time_limit_s)
        if self._stop.is_set():
            return
        self.timeline.add("time_limit", time_limit_s=self.request.time_limit_s)
        self._stop_status = "completed"
        self._stop.set()
        if self._stream is not None:
            await self._stream.end("time_limit")

    async def _interruptible_sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _finish(self, final: str) -> None:
        if self._stop_status == "canceled" or final == "canceled":
            final = "canceled"
        self.ended = dt.datetime.now(dt.UTC)
        answered = self._answered_at > 0 and final == "completed"
        elapsed = asyncio.get_running_loop().time() - self._answered_at if answered else 0.0
        # Twilio bills and reports whole seconds, rounded up.
        self.duration_s = math.ceil(elapsed)
        self.status = final
        self.timeline.add("ended", status=final, duration_s=self.duration_s)
        await self._status_callback("completed")
        try:
            await self._voicemail_transcribe()
            await asyncio.to_thread(
                call_outputs_write,
                folder=self.output_dir,
                lead=bytes(self.lead_track),
                agent=bytes(self.agent_track),
                summary=self.summary(),
                voicemail=self.voicemail.message(),
            )
        finally:
            self.finished.set()

    async def _voicemail_transcribe(self) -> None:
        # After the call, like a voicemail box: the recording may span the media
        # stream and whatever a REST update played after it.
        if self.voicemail.start is None:
            return
        message = self.voicemail.message()
        heard = await asyncio.to_thread(audio.transcribe, message) if message else audio.Timed("", 0)
        self.timeline.add(
            "voicemail_recorded",
            text=heard.value,
            line_ms=self.voicemail.start * 1000 // audio.LINE_RATE,
            duration_ms=len(message) * 1000 // audio.LINE_RATE,
            stt_ms=heard.ms,
        )

    def summary(self) -> dict[str, Any]:
        """Return the call's facts and timeline, as written to timeline.json."""
        return {
            "call_sid": self.sid,
            "account_sid": self.account_sid,
            "to": self.request.to,
            "from": self.request.from_,
            "persona": self.persona.name,
            "status": self.status,
            "answered_by": self.answered_by,
            "duration_s": self.duration_s,
            "created_at": self.created.isoformat(),
            "events": self.timeline.events,
        }

    # --- Answering-machine detection ------------------------------------------------

    def _schedule_amd(self) -> asyncio.Task[None] | None:
        if not (self.request.machine_detection and self.request.async_amd and self.request.amd_callback):
            return None
        if self.persona.answered_by != "human":
            return None  # a machine is reported when its beep has played (DetectMessageEnd)
        return asyncio.get_running_loop().create_task(self._amd_after(self.persona.amd_after_s, "human"))

    def _machine_detected(self) -> None:
        if self.request.machine_detection and self.request.async_amd and self.request.amd_callback:
            asyncio.get_running_loop().create_task(self._amd_after(0.0, self.persona.answered_by))

    async def _amd_after(self, delay_s: float, answered_by: str) -> None:
        await asyncio.sleep(delay_s)
        if self._amd_sent or self.status != "in-progress":
            return
        self._amd_sent, self.answered_by = True, answered_by
        detection_ms = round((asyncio.get_running_loop().time() - self._answered_at) * 1000)
        params = {
            "AccountSid": self.account_sid,
            "CallSid": self.sid,
            "AnsweredBy": answered_by,
            "MachineDetectionDuration": str(detection_ms),
        }
        await self._request(self.request.amd_callback, self.request.amd_callback_method, params, label="amd_callback")

    # --- Requests to the app ----------------------------------------------------------

    def _base_params(self, call_status: str) -> dict[str, str]:
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": self.sid,
            "CallStatus": call_status,
            "Called": self.request.to,
            "Caller": self.request.from_,
            "Direction": "outbound-api",
            "From": self.request.from_,
            "To": self.request.to,
        }

    async def _status_callback(self, event: str) -> None:
        if not self.request.status_callback or event not in self.request.status_callback_events:
            return
        params = self._base_params(self.status)
        params.update(
            Timestamp=email.utils.format_datetime(dt.datetime.now(dt.UTC)),
            CallbackSource="call-progress-events",
            SequenceNumber=str(self._callbacks_sent),
        )
        if event == "completed":
            params.update(
                CallDuration=str(self.duration_s or 0),
                Duration=str(math.ceil((self.duration_s or 0) / 60)),
                SipResponseCode=SIP_CODES[self.status],
            )
        self._callbacks_sent += 1
        url, method = self.request.status_callback, self.request.status_callback_method
        await self._request(url, method, params, label="status_callback", call_status=self.status)

    async def _fetch_twiml(
        self, url: str, method: str, *, label: str, params: dict[str, str] | None = None
    ) -> str | None:
        response = await self._request(url, method, params or self._base_params(self.status), label=label)
        if response is None:
            return None
        status, body = response
        if status >= 400:
            # Twilio error 11200: the webhook failed; the caller hears an application error.
            self.timeline.add("error", code=11200, message=f"{label}: HTTP {status}", body=body[:200])
            return None
        return body

    async def _fetch_media(self, url: str) -> tuple[str, bytes] | None:
        """GET a <Play> file; return (Content-Type, body), or None after logging why it failed."""
        began = self.timeline.now_ms()
        try:
            async with self.http.get(url, headers={"User-Agent": "TwilioProxy/1.1"}) as response:
                body = await response.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            self.timeline.add("media_fetched", url=url, error=str(exc) or type(exc).__name__)
            self.timeline.add("error", code=11200, message=f"Play: could not fetch {url}")
            return None
        content_type = response.content_type
        took = self.timeline.now_ms() - began
        self.timeline.add(
            "media_fetched", url=url, http_status=response.status, content_type=content_type, bytes=len(body), ms=took
        )
        if response.status >= 400:
            self.timeline.add("error", code=11200, message=f"Play: HTTP {response.status} for {url}")
            return None
        return content_type, body

    async def _request(
        self, url: str, method: str, params: dict[str, str], *, label: str, **facts: Any
    ) -> tuple[int, str] | None:
        """Make one signed request to the app; record it in the timeline; return (status, body) or None."""
        form = {key: [value] for key, value in params.items()}
        headers = {"User-Agent": "TwilioProxy/1.1", "X-Twilio-Signature": ""}
        if method.upper() == "GET":
            url = url + ("&" if "?" in url else "?") + urlencode(params)
            headers["X-Twilio-Signature"] = signature_compute(url=url, params={}, auth_token=self.auth_token)
            request = self.http.get(url, headers=headers)
        else:
            headers["X-Twilio-Signature"] = signature_compute(url=url, params=form, auth_token=self.auth_token)
            request = self.http.post(url, data=params, headers=headers)
        began = self.timeline.now_ms()
        try:
            async with request as response:
                body = await response.text()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            self.timeline.add(label, url=url, error=str(exc) or type(exc).__name__, **facts)
            return None
        took = self.timeline.now_ms() - began
        self.timeline.add(label, url=url, http_status=response.status, ms=took, **facts)
        return response.status, body
