"""Plays a persona's script on a live media stream: speaks, listens, interrupts, hangs up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from emulator import audio
from emulator.persona import Persona, Step
from emulator.stream import MediaStream

logger = logging.getLogger(__name__)

# How long a barge-in step waits for the agent to start talking before giving up.
BARGE_IN_WAIT_S = 15.0


class VoicemailBox:
    """What an answering machine records: the caller's side of the line, from its beep on.

    It belongs to the call, not to a media stream: when a REST update replaces
    the stream with <Play>, the machine goes on recording what the call plays,
    as a real one would, until the call ends or its time limit.

    Args:
        line: the call's agent track (8 kHz mu-law, as the lead hears it), which grows as audio plays.
    """

    def __init__(self, line: bytearray) -> None:
        self._line = line
        self.start: int | None = None  # offsets into the line, in bytes (= samples)
        self.end: int | None = None
        self._limit = 0

    def record(self, *, limit_s: float) -> None:
        """Start recording from what plays next."""
        self.start, self.end, self._limit = len(self._line), None, round(limit_s * audio.LINE_RATE)

    def stop(self) -> None:
        """Stop recording (the machine heard the message end)."""
        if self.start is not None and self.end is None:
            self.end = len(self._line)

    def message(self) -> bytes:
        """Return what was recorded, as mu-law, at most the time limit of it."""
        if self.start is None:
            return b""
        end = len(self._line) if self.end is None else self.end
        return bytes(self._line[self.start : min(end, self.start + self._limit)])


class Lead:
    """The simulated person (or answering machine) on the line.

    Args:
        persona: the script to play.
        on_beep: called when a voicemail beep has played (async AMD reports the machine then).
        voicemail: where a `record` step records; the call's, so it outlives the media stream.
    """

    def __init__(
        self, persona: Persona, *, on_beep: Callable[[], None] = lambda: None, voicemail: VoicemailBox | None = None
    ) -> None:
        self.persona = persona
        self.on_beep = on_beep
        self.voicemail = voicemail or VoicemailBox(bytearray())
        self.heard = ""  # the agent turn the lead last listened to
        self._next_turn = 0

    async def __call__(self, stream: MediaStream) -> None:
        """Run the script on `stream` (MediaStream.run calls this once the stream has started)."""
        timeline = stream.timeline
        try:
            for number, step in enumerate(self.persona.steps, start=1):
                if not step.applies(self.heard):
                    timeline.add("step_skipped", step=number, kind=step.kind)
                    continue
                if await self._do(step, stream):
                    return
            timeline.add("script_finished", stream_ms=stream.stream_ms)
        except Exception as exc:
            # A broken persona must show up in the timeline, not vanish in a task.
            logger.exception("persona script failed", extra={"persona": self.persona.name})
            timeline.add("error", message=f"persona script failed: {exc!r}")
            await stream.end("hung_up")

    async def _do(self, step: Step, stream: MediaStream) -> bool:
        """Perform one step; return True when the lead has hung up."""
        if step.kind == "say":
            await stream.say(audio.synthesize(step.text).value, text=step.text, cut_after_s=step.cut_after_s)
            if step.cut_after_s is not None:
                await stream.end("hung_up")
                return True
        elif step.kind == "listen":
            await self._listen(stream, timeout=step.seconds)
        elif step.kind == "silence":
            await asyncio.sleep(step.seconds)
        elif step.kind == "barge_in":
            await self._barge_in(step, stream)
        elif step.kind == "dtmf":
            await stream.dtmf(step.text)
        elif step.kind == "beep":
            await stream.say(audio.tone(seconds=step.seconds), text="<beep>")
            self.on_beep()
        elif step.kind == "record":
            await self._record(step, stream)
        elif step.kind == "hang_up":
            await stream.end("hung_up")
            return True
        return False

    async def _listen(self, stream: MediaStream, *, timeout: float) -> None:
        """Wait for the agent's next turn; the timeout only runs while the agent is silent."""
        listener = stream.listener
        assert listener is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = await listener.next_turn(
                ended_after_ms=stream.last_lead_line_end_ms,
                index_from=self._next_turn,
                timeout=max(0.0, deadline - loop.time()),
            )
            if found is not None:
                index, turn = found
                self._next_turn = index + 1
                if turn.text.strip():
                    self.heard = turn.text
                    stream.timeline.add("lead_heard", stream_ms=stream.stream_ms, text=turn.text)
                    return
                # A blip without words (a cut-off syllable, a click): a person waits for more.
                stream.timeline.add("lead_ignored_noise", stream_ms=stream.stream_ms, start_ms=turn.start_ms)
            elif listener.speaking or listener.ended_count > len(listener.turns):
                deadline = loop.time() + 1.0  # the agent is still talking (or being transcribed)
            else:
                stream.timeline.add("listen_timeout", stream_ms=stream.stream_ms, waited_s=timeout)
                self.heard = ""
                return

    async def _barge_in(self, step: Step, stream: MediaStream) -> None:
        listener = stream.listener
        assert listener is not None
        if not await listener.wait_for(lambda: listener.speaking, BARGE_IN_WAIT_S):
            stream.timeline.add("barge_in_skipped", reason="the agent never spoke")
            return
        await asyncio.sleep(step.after_s)
        playing = listener.speaking or stream.agent_audio_queued
        stream.timeline.add("barge_in", stream_ms=stream.stream_ms, text=step.text, agent_playing=playing)
        await stream.say(audio.synthesize(step.text).value, text=step.text)

    async def _record(self, step: Step, stream: MediaStream) -> None:
        """Record like a voicemail box: until the agent has spoken and gone quiet, or the limit.

        The call transcribes the recording when it ends ("voicemail_recorded").
        """
        listener = stream.listener
        assert listener is not None
        loop = asyncio.get_running_loop()
        deadline, started = loop.time() + step.seconds, listener.ended_count
        self.voicemail.record(limit_s=step.seconds)
        stream.timeline.add("recording_started", stream_ms=stream.stream_ms)
        while (remaining := deadline - loop.time()) > 0:
            if await listener.wait_for(lambda: listener.speaking, min(step.end_silence_s, remaining)):
                await listener.wait_for(lambda: not listener.speaking, deadline - loop.time())
            elif listener.ended_count > started:
                break  # the agent spoke, then stayed quiet: the message is over
        self.voicemail.stop()
        stream.timeline.add("recording_stopped", stream_ms=stream.stream_ms)
