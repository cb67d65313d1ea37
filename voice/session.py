"""One live call: runs its pipeline beside the consumer and records what happened."""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import time
import wave
from collections.abc import Awaitable, Callable
from typing import TypeVar

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, transaction
from pipecat.frames.frames import OutputTransportMessageUrgentFrame
from pipecat.workers.runner import WorkerRunner

from agents.brain import conversation_for_call
from agents.selectors import broker_names_list
from agents.tasks import call_conversation_finish
from billing.services import CallMeter, CallUsage, call_costs_update, call_voice_tier_escalate
from calls.live import LiveCallFeed, live_call_card
from calls.models import Call
from calls.selectors import call_get
from calls.services import TurnRecord, call_recording_save, call_stream_ended, call_transcript_save
from integrations.twilio.client import TwilioError, call_hangup
from voice.bot import TWILIO_RATE, CallPipeline, build_pipeline
from voice.brain import CallWrapUpFrame, Conversation, FallbackConversation, TurnTiming, outcome_of
from voice.latency import TurnLatency
from voice.speech import PremiumTTSService
from voice.transport import SocketBridge

logger = logging.getLogger(__name__)

T = TypeVar("T")
ConversationFactory = Callable[[int], Awaitable[Conversation]]
GOODBYE_MARK = "goodbye"
# A reply pushed this recently may not be audible yet (Piper is still making it).
WRAP_UP_SETTLE_S = 1.5
# How long after a reply's text its first audio may take to leave before its latency is given up on.
LATENCY_WAIT_S = 10.0
# Daphne cancels a socket's application ten seconds after the socket closes, and the record must be saved by then.
LAST_WORDS_TIMEOUT_S = 4.0


class CallSession:
    """Drive one call's pipeline from its media stream's `start` to its end.

    Args:
        call_id: our Call's primary key.
        call_sid: Twilio's Call SID (for the REST hang-up).
        stream_sid: Twilio's Stream SID.
        bridge: the consumer's side of the websocket.
        conversation_factory: builds the agent brain for the call.
    """

    def __init__(
        self,
        *,
        call_id: int,
        call_sid: str,
        stream_sid: str,
        bridge: SocketBridge,
        conversation_factory: ConversationFactory,
    ) -> None:
        self.call_id = call_id
        self.call_sid = call_sid
        self.stream_sid = stream_sid
        self.bridge = bridge
        self._conversation_factory = conversation_factory
        self._pipeline: CallPipeline | None = None
        self._conversation: Conversation | None = None
        self._started = time.time()
        self._timings: list[tuple[float, TurnTiming]] = []
        self._marks: dict[str, asyncio.Event] = {}
        self._audio = bytearray()
        self.hung_up_by_lead = False
        self.ended_by_agent = False
        self.wrapped_up = False
        self._meter_task: asyncio.Task[None] | None = None
        self.live = LiveCallFeed(call_id=call_id)
        self._live_tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Run the call until the lead hangs up or the brain ends it, save the record, and enqueue the analysis."""
        try:
            self._conversation = await self._build_conversation()
            voice_tier, vocabulary = await self._speech_setup()
            self._pipeline = build_pipeline(
                voice_tier=voice_tier,
                stt_vocabulary=vocabulary,
                bridge=self.bridge,
                stream_sid=self.stream_sid,
                conversation=self._conversation,
                on_end_call=self._end_after_goodbye,
                on_turn=self._record_turn,
            )
            self._wire_events(self._pipeline)
            await self._go_live()
            self._meter_task = asyncio.create_task(self._meter())
            runner = WorkerRunner(handle_sigint=False)
            await runner.add_workers(self._pipeline.worker)
            await runner.run()
        except Exception:
            logger.exception("call pipeline failed", extra={"call": self.call_id})
        finally:
            if self._meter_task is not None:
                self._meter_task.cancel()
            # However the pipeline ended, the socket goes too; Twilio then
            # runs out of TwiML and ends the call.
            await self.bridge.disconnect()
            await self._take_last_words()
            await self._save()
            for task in self._live_tasks:
                task.cancel()
            await self.live.end(outcome=self._outcome_so_far())
            await self._analyse_later()

    async def _build_conversation(self) -> Conversation:
        """Return the call's brain; if it cannot be built, the template brain, and failing that an apology.

        Whatever breaks (the LLM backend, the model files, the database), the lead is never left in silence.
        """
        try:
            return await self._conversation_factory(self.call_id)
        except Exception:
            logger.exception("could not build the call's brain; using the template brain", extra={"call": self.call_id})
        try:
            return await conversation_for_call(call_id=self.call_id, use_settings_llm=False)
        except Exception:
            logger.exception("could not build the template brain; apologising", extra={"call": self.call_id})
        return FallbackConversation()

    async def _speech_setup(self) -> tuple[str, list[str]]:
        """Return the call's voice tier and the names the lead may say, or the standard voice and none."""
        try:
            setup: tuple[str, list[str]] = await database_sync_to_async(_reconnecting)(
                functools.partial(_speech_setup, self.call_id)
            )
            return setup
        except Exception:
            logger.exception("could not read the call's voice settings; using defaults", extra={"call": self.call_id})
            return Call.VoiceTier.STANDARD, []

    def _outcome_so_far(self) -> str:
        outcome = outcome_of(self._conversation)["outcome"] if self._conversation is not None else ""
        # The worker decides the final outcome later; until then a call the lead ended reads as hung up.
        return outcome or (Call.Outcome.HUNG_UP if self.hung_up_by_lead else "")

    def _wire_events(self, pipeline: CallPipeline) -> None:
        @pipeline.transport.event_handler("on_client_connected")
        async def _connected(_transport: object) -> None:
            await pipeline.recorder.start_recording()
            asyncio.get_running_loop().create_task(self._speak_opening(pipeline))

        @pipeline.transport.event_handler("on_client_disconnected")
        async def _disconnected(_transport: object) -> None:
            self.hung_up_by_lead = not self.ended_by_agent
            await pipeline.worker.cancel(reason="lead hung up")

        @pipeline.recorder.event_handler("on_audio_data")
        async def _audio(_processor: object, audio: bytes, _rate: int, _channels: int) -> None:
            self._audio.extend(audio)

    async def _speak_opening(self, pipeline: CallPipeline) -> None:
        await pipeline.brain.speak_opening()
        self.live.turn(speaker="agent", text=pipeline.brain.opening_text)

    def _record_turn(self, timing: TurnTiming) -> None:
        self._timings.append((time.time(), timing))
        if timing.lead_text:  # a goodbye or "are you still there?" answers no words
            self.live.turn(speaker="lead", text=timing.lead_text)
        index = self.live.turn(speaker="agent", text=timing.reply_text)
        if index is not None:
            task = asyncio.get_running_loop().create_task(self._publish_latency(index, timing.lead_text))
            self._live_tasks.add(task)
            task.add_done_callback(self._live_tasks.discard)

    # --- the live monitor (calls.live) ---------------------------------------------------------------------------

    async def _go_live(self) -> None:
        try:
            card = await database_sync_to_async(_reconnecting)(functools.partial(live_call_card, call_id=self.call_id))
        except Exception:
            # The monitor is for watching; a call goes on without it.
            logger.exception("could not put the call on the live monitor", extra={"call": self.call_id})
            return
        self.live.start(card)

    async def _publish_latency(self, index: int, lead_text: str) -> None:
        assert self._pipeline is not None
        breakdown = await self._pipeline.latency.breakdown_of(lead_text, timeout_s=LATENCY_WAIT_S)
        if breakdown is not None and breakdown["latency_ms"] is not None:
            self.live.latency(index=index, latency_ms=breakdown["latency_ms"])

    def on_mark(self, name: str) -> None:
        """Twilio played everything sent before the mark called `name`."""
        self._marks.setdefault(name, asyncio.Event()).set()

    async def stop(self) -> None:
        """The lead hung up (stop event or closed socket): end the pipeline now."""
        if not self.ended_by_agent:
            self.hung_up_by_lead = True
        self.bridge.end_of_input()
        if self._pipeline is not None:
            await self._pipeline.worker.cancel(reason="stream stopped")

    async def _end_after_goodbye(self) -> None:
        """Let the goodbye play out, then hang up through Twilio's REST API.

        Twilio buffers audio ahead of playback, so "sent" is not "heard": a
        mark sent after the last audio comes back only once the lead has
        heard everything before it (pipecat#1461).
        """
        self.ended_by_agent = True
        asyncio.get_running_loop().create_task(self._hang_up_when_heard())

    async def _hang_up_when_heard(self) -> None:
        assert self._pipeline is not None
        mark = {"event": "mark", "streamSid": self.stream_sid, "mark": {"name": GOODBYE_MARK}}
        heard = self._marks.setdefault(GOODBYE_MARK, asyncio.Event())
        # Wait for the farewell's audio to be handed to Twilio before marking.
        await self._pipeline.speaking.span_done(timeout_s=settings.GOODBYE_MARK_TIMEOUT_S)
        await self._pipeline.worker.queue_frame(OutputTransportMessageUrgentFrame(message=mark))
        try:
            await asyncio.wait_for(heard.wait(), timeout=settings.GOODBYE_MARK_TIMEOUT_S)
        except TimeoutError:
            logger.warning("goodbye mark never came back; hanging up anyway", extra={"call": self.call_id})
        try:
            await call_hangup(sid=self.call_sid)
        except TwilioError as exc:
            logger.warning("REST hang-up failed", extra={"call": self.call_id, "error": str(exc)})
        self.bridge.end_of_input()
        await self._pipeline.worker.cancel(reason="agent ended the call")

    async def _take_last_words(self) -> None:
        """Transcribe what the lead said as the line went dead, and give the brain the words no turn answered.

        A lead often says the last thing and hangs up at once ("just take me off
        your list", click): the stop event cuts the pipeline before a pause ends
        the turn, so without this those words would be neither heard nor kept.
        """
        pipeline = self._pipeline
        if pipeline is None:
            return
        try:
            await asyncio.wait_for(pipeline.stt.transcribe_unheard(), timeout=LAST_WORDS_TIMEOUT_S)
            said = await asyncio.wait_for(
                pipeline.brain.take_last_words(pipeline.stt.transcripts), timeout=LAST_WORDS_TIMEOUT_S
            )
        except Exception:
            logger.exception("could not take the lead's last words", extra={"call": self.call_id})
            return
        if said:
            logger.info("lead's last words taken after the line went dead", extra={"call": self.call_id})

    async def _save(self) -> None:
        """Store what only this process holds: the conversation, the timed transcript, the recording, the costs.

        Nothing slow: daphne cancels the socket's application a few seconds
        after the socket closes. The post-call analysis runs in a worker
        (_analyse_later) from the conversation stored here.
        """
        turns = self._transcript()
        wav = _wav(bytes(self._audio))
        # Each step on its own: a failing brain or meter must not lose the
        # transcript and recording of a call that really happened.
        if self._conversation is not None:
            try:
                await self._conversation.close()
            except Exception:
                logger.exception("could not store the conversation for its analysis", extra={"call": self.call_id})
        usage: CallUsage | None = None
        try:
            usage = self.usage(recording_bytes=len(wav) if wav else 0)
        except Exception:
            logger.exception("could not measure the call's usage", extra={"call": self.call_id})
        try:
            await database_sync_to_async(self._persist)(turns, wav, usage)
        except Exception:
            logger.exception("could not save the call record", extra={"call": self.call_id})

    def _persist(self, turns: list[TurnRecord], wav: bytes | None, usage: CallUsage | None) -> None:
        call_id = self.call_id
        _reconnecting(functools.partial(call_transcript_save, call_id=call_id, turns=turns))
        if wav is not None:
            _reconnecting(functools.partial(call_recording_save, call_id=call_id, wav=wav))
        _reconnecting(functools.partial(call_stream_ended, call_id=call_id, hung_up_by_lead=self.hung_up_by_lead))
        if usage is not None:
            _reconnecting(functools.partial(call_costs_update, call_id=call_id, usage=usage))

    async def _analyse_later(self) -> None:
        try:
            # Not thread-sensitive: under eager Celery (the embedded default) the analysis runs right here, LLM
            # summary and all, and must not hold up the one thread every other call's database work goes through.
            await sync_to_async(_analysis_enqueue, thread_sensitive=False)(call_id=self.call_id)
        except Exception:
            logger.exception("the post-call analysis failed to start", extra={"call": self.call_id})

    # --- cost -----------------------------------------------------------------------------------------------------

    def usage(self, *, recording_bytes: int = 0) -> CallUsage:
        """Return what the call has used so far: its length, each engine's busy seconds, ElevenLabs' characters."""
        pipeline, conversation = self._pipeline, self._conversation
        tts = pipeline.tts if pipeline is not None else None
        return CallUsage(
            call_seconds=time.time() - self._started,
            stt_compute_s=pipeline.stt.compute_s if pipeline is not None else 0.0,
            llm_compute_s=conversation.compute_s if conversation is not None else 0.0,
            tts_compute_s=float(getattr(tts, "compute_s", 0.0)),
            elevenlabs_characters=tts.elevenlabs_characters if isinstance(tts, PremiumTTSService) else 0,
            # Two 16-bit tracks at Twilio's rate.
            recording_seconds=len(self._audio) / (4 * TWILIO_RATE),
            recording_bytes=recording_bytes,
        )

    async def _meter(self) -> None:
        """Price the call every BILLING_METER_INTERVAL_S while it runs, and act on what it has cost."""
        while True:
            await asyncio.sleep(settings.BILLING_METER_INTERVAL_S)
            await self.meter_once()

    async def meter_once(self) -> None:
        """Price the call's usage so far and act on its cost."""
        try:
            meter = await database_sync_to_async(call_costs_update)(call_id=self.call_id, usage=self.usage())
        except Exception:
            # The call goes on; the next tick, or the final update, prices it.
            logger.exception("could not price the call so far", extra={"call": self.call_id})
            return
        await self.apply_meter(meter)

    async def apply_meter(self, meter: CallMeter) -> None:
        """Switch the voice tier as the score and the budget allow, and wrap the call up at its per-call limit.

        The premium voice is left when the budget no longer allows it, and
        taken once the lead's running score reaches
        PREMIUM_SCORE_THRESHOLD while the budget allows it.

        Args:
            meter: the call's cost so far, from billing.services.call_costs_update.
        """
        pipeline = self._pipeline
        if pipeline is None:
            return
        if isinstance(pipeline.tts, PremiumTTSService):
            if not meter.premium_allowed:
                pipeline.tts.downgrade(reason=f"the budget no longer allows ElevenLabs (call at ${meter.cost_usd:.4f})")
            elif pipeline.tts.can_upgrade and not (self.wrapped_up or self.ended_by_agent):
                # Not for the goodbye: it would only add ElevenLabs characters to the bill.
                await self._upgrade_if_scored(pipeline.tts)
        if not meter.over_limit or self.wrapped_up or self.ended_by_agent:
            return
        if pipeline.speaking.speaking or time.monotonic() - pipeline.brain.replied_at < WRAP_UP_SETTLE_S:
            # A goodbye queued behind speech in flight would be cut off: the hang-up waits
            # for the end of the bot's next speaking span, which would be this speech's.
            # The next tick wraps up instead.
            return
        self.wrapped_up = True
        logger.warning(
            "call reached its per-call cost limit; wrapping up",
            extra={"call": self.call_id, "cost_usd": str(meter.cost_usd), "limit_usd": str(meter.limit_usd)},
        )
        # Into the brain's own queue: it says goodbye (after any turn it is answering) and
        # ends the call the usual way (_end_after_goodbye).
        await pipeline.brain.queue_frame(CallWrapUpFrame())

    async def _upgrade_if_scored(self, tts: PremiumTTSService) -> None:
        score = self._conversation.score if self._conversation is not None else None
        threshold = settings.PREMIUM_SCORE_THRESHOLD
        if score is None or score < threshold:
            return
        try:
            # The ledger and the admin show the tier; the budgets must also pay for the rest in ElevenLabs' voice.
            premium = await database_sync_to_async(call_voice_tier_escalate)(call_id=self.call_id)
        except Exception:
            # The call goes on with Piper; the next tick tries again.
            logger.exception("could not move the call to the premium voice", extra={"call": self.call_id})
            return
        if premium:
            tts.upgrade(reason=f"the lead scored {score}, at least PREMIUM_SCORE_THRESHOLD={threshold}")

    def _transcript(self) -> list[TurnRecord]:
        latencies = self._pipeline.latency.completed() if self._pipeline else []
        records: list[TurnRecord] = []
        opening = self._pipeline.brain.opening_text if self._pipeline else ""
        if opening:
            records.append(TurnRecord(speaker="agent", text=opening, started_ms=0))
        for at, timing in self._timings:
            offset = round((at - self._started) * 1000)
            records.append(TurnRecord(speaker="lead", text=timing.lead_text, ended_ms=offset))
            match = _latency_for(latencies, timing.lead_text)
            stages = match.breakdown() if match else {}
            records.append(TurnRecord(speaker="agent", text=timing.reply_text, started_ms=offset, **stages))
        return records


def _reconnecting(work: Callable[[], T]) -> T:
    """Run `work` (sync database work); if the connection is lost under it, run it once more on a new connection.

    A call lasts minutes, and its record is written once, at its end: a database
    restart or failover, or a proxy dropping the connection, in that moment
    must not lose it. Django's health check only catches a connection that died
    between two uses; one cut while a query runs raises. Everything run through
    here replaces what it writes, so running it twice doubles nothing.
    """
    # The connection may have sat idle for minutes of audio.
    close_old_connections()
    try:
        return work()
    except (OperationalError, InterfaceError):
        logger.warning("database connection lost; trying once more on a new one", exc_info=True)
        # The error marked the connection; this closes it, and the retry opens a new one.
        close_old_connections()
        return work()


def _analysis_enqueue(*, call_id: int) -> None:
    close_old_connections()
    try:
        # The conversation's snapshot is committed by now (Conversation.close()); on_commit keeps it so if
        # this ever runs inside a transaction.
        transaction.on_commit(functools.partial(call_conversation_finish.delay, call_id))
    finally:
        close_old_connections()


def _voice_tier(call_id: int) -> str:
    call = call_get(call_id=call_id)
    return call.voice_tier if call is not None else Call.VoiceTier.STANDARD


# Whisper's prompt has room for about 220 tokens; a long broker roster must not crowd out the rest.
MAX_BROKER_NAMES = 12


def _stt_vocabulary(call_id: int) -> list[str]:
    """Return the names the lead may say: the campaign's business and agent, the active brokers, the lead's own."""
    call = call_get(call_id=call_id)
    if call is None:
        return []
    brokers = broker_names_list(limit=MAX_BROKER_NAMES)
    return [call.campaign.business_name, call.campaign.agent_name, *brokers, call.lead.first_name, call.lead.last_name]


def _speech_setup(call_id: int) -> tuple[str, list[str]]:
    return _voice_tier(call_id), _stt_vocabulary(call_id)


def _latency_for(latencies: list[TurnLatency], lead_text: str) -> TurnLatency | None:
    for turn in latencies:
        if turn.lead_text.strip() and turn.lead_text.strip() in lead_text:
            return turn
    return None


def _wav(stereo_pcm: bytes) -> bytes | None:
    if not stereo_pcm:
        return None
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(TWILIO_RATE)
        wav.writeframes(stereo_pcm)
    return out.getvalue()
