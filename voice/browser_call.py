"""A broker's test call from the dashboard: the browser's microphone into the same pipeline as a phone call.

The audio goes through voice.bot.build_pipeline, the one phone calls use
(Silero VAD, the turn strategy, Whisper, the agent brain, Piper), with the
browser's wire format (voice.serializers) instead of Twilio's. The brain runs
the campaign's persona and purpose as a dry run (agents.brain.
conversation_for_test_call): there is no lead, nothing is stored, and a
booking is confirmed without writing an appointment. The page gets each line
of the transcript, each reply's latency, and the brain's verdict at the end,
as JSON text messages on the same socket.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from pipecat.workers.runner import WorkerRunner

from calls.live import outcome_label
from voice.bot import CallPipeline, build_pipeline
from voice.brain import Conversation, TurnTiming, outcome_of
from voice.serializers import BROWSER_RATE, BrowserAudioSerializer
from voice.transport import SocketBridge

logger = logging.getLogger(__name__)

TestConversationFactory = Callable[[int, str], Awaitable[Conversation]]
# How long after a reply's text its first audio may take to leave before its latency is given up on.
LATENCY_WAIT_S = 10.0


async def conversation_for_test_call(campaign_id: int, caller_name: str) -> Conversation:
    """Build the dry-run brain for a campaign (imported late: agents is heavier than the socket layer)."""
    from agents.brain import conversation_for_test_call as build

    return await build(campaign_id=campaign_id, caller_name=caller_name)


class BrowserTestCall:
    """Run one test call until the broker hangs up, the agent says goodbye, or TEST_CALL_MAX_SECONDS pass.

    Args:
        campaign_id: the campaign whose agent the broker talks to.
        caller_name: the broker's first name, used where the agent would greet the lead.
        bridge: the consumer's side of the websocket.
        conversation_factory: builds the brain (the dry-run campaign brain unless a test gives another).
    """

    def __init__(
        self,
        *,
        campaign_id: int,
        caller_name: str,
        bridge: SocketBridge,
        conversation_factory: TestConversationFactory = conversation_for_test_call,
    ) -> None:
        self.campaign_id = campaign_id
        self.caller_name = caller_name
        self.bridge = bridge
        self._factory = conversation_factory
        self._pipeline: CallPipeline | None = None
        self._conversation: Conversation | None = None
        self._started = time.monotonic()
        self._tasks: set[asyncio.Task[None]] = set()
        self.end_reason = "hung up"

    async def run(self) -> None:
        try:
            self._conversation = await self._factory(self.campaign_id, self.caller_name)
            self._pipeline = build_pipeline(
                bridge=self.bridge,
                stream_sid="",
                conversation=self._conversation,
                on_end_call=self._end_after_goodbye,
                on_turn=self._on_turn,
                serializer=BrowserAudioSerializer(),
                out_rate=BROWSER_RATE,
                # The page plays the agent's audio well after it was sent, so the server cannot tell when the
                # broker has heard it out; the broker ends a test call by hanging up.
                silence_prompt_s=0.0,
            )
            self._wire_events(self._pipeline)
            self._spawn(self._time_limit())
            runner = WorkerRunner(handle_sigint=False)
            await runner.add_workers(self._pipeline.worker)
            await runner.run()
        except Exception:
            logger.exception("test call failed", extra={"campaign": self.campaign_id})
            self.end_reason = "error"
            await self.send({"type": "error", "message": "The test call failed on the server; see its log."})
        finally:
            for task in self._tasks:
                task.cancel()
            await self._finish()
            await self.bridge.disconnect()

    async def stop(self, reason: str = "hung up") -> None:
        """The broker hung up or closed the page: end the pipeline now."""
        self.end_reason = reason
        self.bridge.end_of_input()
        if self._pipeline is not None:
            await self._pipeline.worker.cancel(reason=reason)

    async def send(self, message: dict[str, Any]) -> None:
        await self.bridge.send(json.dumps(message))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _wire_events(self, pipeline: CallPipeline) -> None:
        @pipeline.transport.event_handler("on_client_connected")
        async def _connected(_transport: object) -> None:
            self._spawn(self._speak_opening(pipeline))

        @pipeline.transport.event_handler("on_client_disconnected")
        async def _disconnected(_transport: object) -> None:
            await pipeline.worker.cancel(reason="browser disconnected")

    async def _speak_opening(self, pipeline: CallPipeline) -> None:
        await self.send({"type": "status", "state": "connected", "sample_rate": BROWSER_RATE})
        await pipeline.brain.speak_opening()
        await self.send({"type": "transcript", "speaker": "agent", "text": pipeline.brain.opening_text})

    def _on_turn(self, timing: TurnTiming) -> None:
        self._spawn(self._send_turn(timing))

    async def _send_turn(self, timing: TurnTiming) -> None:
        if timing.lead_text:  # a goodbye or "are you still there?" answers no words
            await self.send({"type": "transcript", "speaker": "lead", "text": timing.lead_text})
        await self.send({"type": "transcript", "speaker": "agent", "text": timing.reply_text})
        if not timing.lead_text:
            return
        assert self._pipeline is not None
        latency = await self._pipeline.latency.breakdown_of(timing.lead_text, timeout_s=LATENCY_WAIT_S)
        if latency is not None:
            await self.send({"type": "latency", "text": timing.reply_text, **latency})

    async def _end_after_goodbye(self) -> None:
        self.end_reason = "the agent ended the call"
        self._spawn(self._close_when_spoken())

    async def _close_when_spoken(self) -> None:
        assert self._pipeline is not None
        # The browser has its own playback queue: once the farewell is handed
        # over, the page plays it out after the socket closes.
        await self._pipeline.speaking.span_done(timeout_s=settings.GOODBYE_MARK_TIMEOUT_S)
        self.bridge.end_of_input()
        await self._pipeline.worker.cancel(reason="agent ended the call")

    async def _time_limit(self) -> None:
        await asyncio.sleep(settings.TEST_CALL_MAX_SECONDS)
        logger.info("test call reached TEST_CALL_MAX_SECONDS", extra={"campaign": self.campaign_id})
        await self.stop(reason=f"the test call limit of {settings.TEST_CALL_MAX_SECONDS} s")

    async def _finish(self) -> None:
        """Run the brain's post-call analysis (in memory) and tell the page how the call came out."""
        summary: dict[str, Any] = {"type": "ended", "reason": self.end_reason}
        if self._conversation is not None:
            try:
                await self._conversation.finish()
                summary.update(outcome_of(self._conversation))
                summary["outcome_label"] = outcome_label(summary["outcome"])
            except Exception:
                logger.exception("the brain could not finish the test call", extra={"campaign": self.campaign_id})
        summary["seconds"] = round(time.monotonic() - self._started)
        await self.send(summary)
