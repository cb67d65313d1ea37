"""One bidirectional Twilio Media Stream, played from Twilio's side.

Twilio opens the websocket to the URL in `<Connect><Stream>`, sends
`connected` and `start`, then a `media` frame of 20 ms of 8 kHz mu-law every
20 ms in real time for as long as the call lasts, and `stop` when the call
hangs up. Audio the app sends back is queued and played at the same real-time
rate; a `mark` is echoed once everything queued before it has played, and
`clear` drops what has not played yet and echoes pending marks at once.

One 20 ms tick drives both directions, so the lead's audio, the agent's audio
as the lead hears it, and the two recorded tracks share one clock.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import uuid
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp

from emulator import audio
from emulator.timeline import Timeline
from integrations.twilio.client import signature_compute

logger = logging.getLogger(__name__)

TICK_S = audio.FRAME_MS / 1000


@dataclass(frozen=True)
class AgentTurn:
    """One stretch of agent speech as the lead heard it, with its transcript."""

    start_ms: int  # stream time of the first loud frame played
    end_ms: int  # stream time of the last loud frame played
    text: str
    stt_ms: int


class AgentListener:
    """Cuts the agent's played-out audio into turns by energy and transcribes each with Whisper."""

    def __init__(self, *, timeline: Timeline, turn_end_s: float) -> None:
        self.timeline = timeline
        self.turn_end_ms = round(turn_end_s * 1000)
        self.turns: list[AgentTurn] = []
        self.speaking = False
        self.ended_count = 0  # turns ended so far; len(turns) catches up once transcribed
        self._speech = bytearray()
        self._quiet = bytearray()
        self._start_ms = 0
        self._last_loud_ms = 0
        self._changed = asyncio.Event()
        self._pending: asyncio.Queue[tuple[int, int, bytes]] = asyncio.Queue()
        self._worker = asyncio.get_running_loop().create_task(self._transcribe_turns())

    def feed(self, frame: bytes, stream_ms: int) -> None:
        """Take one played 20 ms frame of agent audio."""
        if audio.frame_rms(frame) > audio.SPEECH_RMS:
            if not self.speaking:
                self.speaking, self._start_ms = True, stream_ms
                self._speech.clear()
                self.timeline.add("agent_speech_start", stream_ms=stream_ms)
                self._notify()
            self._speech += self._quiet + frame
            self._quiet.clear()
            self._last_loud_ms = stream_ms
        elif self.speaking:
            self._quiet += frame
            if stream_ms - self._last_loud_ms >= self.turn_end_ms:
                self._end_turn()

    def flush(self) -> None:
        """End the turn in progress (the call is ending)."""
        if self.speaking:
            self._end_turn()

    def _end_turn(self) -> None:
        self.speaking = False
        self.ended_count += 1
        end_ms = self._last_loud_ms + audio.FRAME_MS
        self.timeline.add("agent_speech_end", stream_ms=end_ms, duration_ms=end_ms - self._start_ms)
        self._pending.put_nowait((self._start_ms, end_ms, bytes(self._speech)))
        self._quiet.clear()
        self._notify()

    async def _transcribe_turns(self) -> None:
        # One at a time and in order, so turns[] is in the order they were spoken.
        while True:
            start_ms, end_ms, speech = await self._pending.get()
            result = await asyncio.to_thread(audio.transcribe, speech)
            turn = AgentTurn(start_ms=start_ms, end_ms=end_ms, text=str(result.value), stt_ms=result.ms)
            self.turns.append(turn)
            self.timeline.add("agent_turn", stream_ms=end_ms, start_ms=start_ms, text=turn.text, stt_ms=turn.stt_ms)
            self._pending.task_done()
            self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until `predicate()` holds (checked on every change); return False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True

    async def next_turn(self, *, ended_after_ms: int, index_from: int, timeout: float) -> tuple[int, AgentTurn] | None:
        """Return the first transcribed turn at or after `index_from` whose speech ended after `ended_after_ms`."""

        def found() -> tuple[int, AgentTurn] | None:
            for i in range(index_from, len(self.turns)):
                if self.turns[i].end_ms > ended_after_ms:
                    return i, self.turns[i]
            return None

        await self.wait_for(lambda: found() is not None, timeout)
        return found()

    async def settled(self, timeout: float) -> bool:
        """Wait until every ended turn has been transcribed."""
        return await self.wait_for(lambda: len(self.turns) >= self.ended_count, timeout)

    async def close(self) -> None:
        """Transcribe what is still pending, then stop the worker."""
        self.flush()
        try:
            await asyncio.wait_for(self._pending.join(), timeout=30)
        finally:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)


class MediaStream:
    """Twilio's end of one `<Connect><Stream>` websocket."""

    def __init__(
        self,
        *,
        url: str,
        parameters: dict[str, str],
        account_sid: str,
        auth_token: str,
        call_sid: str,
        http: aiohttp.ClientSession,
        timeline: Timeline,
        lead_track: bytearray,
        agent_track: bytearray,
        turn_end_s: float,
    ) -> None:
        self.url, self.parameters = url, parameters
        self.account_sid, self.auth_token, self.call_sid = account_sid, auth_token, call_sid
        self.stream_sid = "MZ" + uuid.uuid4().hex
        self.http, self.timeline = http, timeline
        self.lead_track, self.agent_track = lead_track, agent_track
        self.turn_end_s = turn_end_s
        self.listener: AgentListener | None = None
        self.stream_ms = 0
        self.last_lead_line_end_ms = -1
        self.end_reason = ""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._sequence = 0
        self._send_lock = asyncio.Lock()
        self._stop_sent = False
        self._ended = asyncio.Event()
        self._mouth: deque[bytes] = deque()
        self._mouth_done: asyncio.Future[None] | None = None
        self._playout = bytearray()
        self._enqueued = 0  # agent bytes received, in total
        self._played = 0  # agent bytes played or dropped, in total
        self._marks: deque[tuple[int, str]] = deque()

    # --- Lifecycle ------------------------------------------------------------------

    async def run(self, *, lead: Callable[[MediaStream], Coroutine[Any, Any, None]], max_s: float) -> str:
        """Connect, stream until the call or the app ends it, and return why it ended.

        Returns:
            "app_closed" (the app closed the socket), "failed" (no connection), or the
            reason given to end(): "hung_up", "api", "redirect", "max_call_s", "time_limit".
        """
        if not await self._connect():
            return "failed"
        self.listener = AgentListener(timeline=self.timeline, turn_end_s=self.turn_end_s)
        await self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"}, numbered=False)
        await self._send({"event": "start", "start": self._start_payload()})
        self.timeline.add("stream_started", stream_sid=self.stream_sid, url=self.url)
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(self._tick()), loop.create_task(self._receive()), loop.create_task(lead(self))]
        ended = loop.create_task(self._ended.wait())
        try:
            await asyncio.wait([tasks[0], tasks[1], ended], timeout=max_s, return_when=asyncio.FIRST_COMPLETED)
            if not self._ended.is_set():
                await self.end("app_closed" if tasks[1].done() or tasks[0].done() else "max_call_s")
        finally:
            # Close while the receiver still reads, so the close handshake completes (code 1000).
            if self._ws is not None and not self._ws.closed:
                await self._ws.close()
            for task in [*tasks, ended]:
                task.cancel()
            await asyncio.gather(*tasks, ended, return_exceptions=True)
            await self._close()
        return self.end_reason

    async def end(self, reason: str) -> None:
        """End the stream: send `stop` (unless the app closed it) and let run() close the socket."""
        if self._ended.is_set():
            return
        self.end_reason = reason
        self.timeline.add("stream_ending", stream_ms=self.stream_ms, reason=reason)
        if reason != "app_closed":
            stop = {"accountSid": self.account_sid, "callSid": self.call_sid}
            await self._send({"event": "stop", "stop": stop})
        self._ended.set()

    async def _connect(self) -> bool:
        # Twilio signs the websocket handshake too: the URL, with no parameters.
        headers = {"X-Twilio-Signature": signature_compute(url=self.url, params={}, auth_token=self.auth_token)}
        try:
            self._ws = await self.http.ws_connect(
                self.url, headers=headers, autoping=True, timeout=aiohttp.ClientWSTimeout(ws_close=10)
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # Twilio logs 31920 (handshake error) and moves on to the next verb.
            self.timeline.add("error", code=31920, message=f"media stream handshake failed: {exc}", url=self.url)
            return False
        return True

    async def _close(self) -> None:
        if self.listener is not None:
            await self.listener.close()
        code = self._ws.close_code if self._ws is not None else None
        self.timeline.add("stream_closed", stream_ms=self.stream_ms, reason=self.end_reason, close_code=code)

    def _start_payload(self) -> dict[str, Any]:
        return {
            "accountSid": self.account_sid,
            "streamSid": self.stream_sid,
            "callSid": self.call_sid,
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": audio.LINE_RATE, "channels": 1},
            "customParameters": dict(self.parameters),
        }

    async def _send(self, message: dict[str, Any], *, numbered: bool = True) -> bool:
        # The tick, the receiver (mark echoes) and the lead all send; the lock
        # keeps sequence numbers in the order the messages go out.
        async with self._send_lock:
            # A sender that was waiting on the lock while `stop` went out must not follow it: Twilio never does.
            if self._ws is None or self._ws.closed or self._stop_sent:
                return False
            if numbered:
                self._sequence += 1
                # Twilio sends these numbers as strings.
                message = {"event": message["event"], "sequenceNumber": str(self._sequence), **message}
                message["streamSid"] = self.stream_sid
            self._stop_sent = message["event"] == "stop"
            try:
                await self._ws.send_str(json.dumps(message))
            except (ConnectionError, aiohttp.ClientError):
                return False
            return True

    # --- The 20 ms clock ------------------------------------------------------------

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        began, chunk = loop.time(), 0
        while not self._ended.is_set():
            delay = began + chunk * TICK_S - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.stream_ms = chunk * audio.FRAME_MS
            chunk += 1
            frame = self._mouth.popleft() if self._mouth else audio.SILENCE_FRAME
            if not self._mouth and self._mouth_done is not None and not self._mouth_done.done():
                self._mouth_done.set_result(None)
            media = {
                "track": "inbound",
                "chunk": str(chunk),
                "timestamp": str(self.stream_ms),
                "payload": base64.b64encode(frame).decode(),
            }
            if not await self._send({"event": "media", "media": media}):
                return
            self.lead_track += frame
            await self._play_one()

    async def _play_one(self) -> None:
        played = bytes(self._playout[: audio.FRAME_BYTES])
        del self._playout[: audio.FRAME_BYTES]
        self._played += len(played)
        frame = played + bytes([audio.SILENCE_BYTE]) * (audio.FRAME_BYTES - len(played))
        self.agent_track += frame
        if self.listener is not None:
            self.listener.feed(frame, self.stream_ms)
        while self._marks and self._marks[0][0] <= self._played:
            await self._echo_mark(self._marks.popleft()[1], cleared=False)

    async def _echo_mark(self, name: str, *, cleared: bool) -> None:
        self.timeline.add("mark_echoed", stream_ms=self.stream_ms, name=name, cleared=cleared)
        await self._send({"event": "mark", "mark": {"name": name}})

    # --- What the app sends -----------------------------------------------------------

    async def _receive(self) -> None:
        assert self._ws is not None
        async for msg in self._ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                self.timeline.add("error", message=f"non-text websocket message ignored: {msg.type.name}")
                continue
            try:
                message = json.loads(msg.data)
                event = message["event"]
            except (ValueError, KeyError, TypeError):
                self.timeline.add("error", message="malformed message from the app", sample=str(msg.data)[:80])
                continue
            if message.get("streamSid") != self.stream_sid:
                self.timeline.add("error", message=f"{event} with a wrong streamSid ignored")
                continue
            await self._on_app_message(event, message)

    async def _on_app_message(self, event: str, message: dict[str, Any]) -> None:
        if event == "media":
            self._on_media(message.get("media") or {})
        elif event == "mark":
            name = str((message.get("mark") or {}).get("name", ""))
            self.timeline.add("mark_received", stream_ms=self.stream_ms, name=name)
            self._marks.append((self._enqueued, name))
        elif event == "clear":
            dropped = len(self._playout)
            self._playout.clear()
            self._played = self._enqueued
            self.timeline.add("clear", stream_ms=self.stream_ms, dropped_ms=dropped // (audio.LINE_RATE // 1000))
            while self._marks:
                await self._echo_mark(self._marks.popleft()[1], cleared=True)
        else:
            self.timeline.add("error", message=f"unknown event {event!r} from the app ignored")

    def _on_media(self, media: dict[str, Any]) -> None:
        try:
            payload = base64.b64decode(str(media["payload"]), validate=True)
        except (KeyError, binascii.Error):
            self.timeline.add("error", message="media without a valid base64 payload ignored")
            return
        if not self._playout and not (self.listener and self.listener.speaking):
            latency = self.stream_ms - self.last_lead_line_end_ms if self.last_lead_line_end_ms >= 0 else None
            self.timeline.add("agent_audio_received", stream_ms=self.stream_ms, after_lead_line_ms=latency)
        self._playout += payload
        self._enqueued += len(payload)

    # --- What the lead does -------------------------------------------------------------

    @property
    def agent_audio_queued(self) -> bool:
        """Whether agent audio is waiting to play (the agent is mid-utterance)."""
        return bool(self._playout)

    async def say(self, ulaw: bytes, *, text: str, cut_after_s: float | None = None) -> None:
        """Speak mu-law audio into the call in real time; return when it has all been sent."""
        chunks = audio.frames(ulaw)
        if cut_after_s is not None:
            chunks = chunks[: max(1, round(cut_after_s * 1000 / audio.FRAME_MS))]
        self._mouth.extend(chunks)
        self._mouth_done = asyncio.get_running_loop().create_future()
        start_ms = self.stream_ms + audio.FRAME_MS
        self.timeline.add("lead_line_start", stream_ms=start_ms, text=text, duration_ms=len(chunks) * audio.FRAME_MS)
        await self._mouth_done
        self.last_lead_line_end_ms = self.stream_ms + audio.FRAME_MS
        self.timeline.add("lead_line_end", stream_ms=self.last_lead_line_end_ms, text=text, cut=cut_after_s is not None)

    async def dtmf(self, digit: str) -> None:
        """Press a key, as Twilio reports it on the inbound track."""
        self.timeline.add("dtmf", stream_ms=self.stream_ms, digit=digit)
        await self._send({"event": "dtmf", "dtmf": {"track": "inbound_track", "digit": digit}})
