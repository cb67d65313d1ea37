"""One call's conversation, as the voice pipeline uses it: opening(), respond(text) per lead turn, close().

Per-call state lives in this object (the graph's output of the last turn is
the input of the next), not in a LangGraph checkpointer: a call is one
process's business for a few minutes, and its durable record is the Call row,
which is saved after every turn. That keeps checkpoint serialisation off the
critical path.

What is off the critical path:
- saving slots, score and transcript after each turn (a background task, in order);
- LLM slot extraction (a background task per turn; its results are checked against
  the lead's words and merged at the next turn or at finish());
- the post-call analysis (finish(): outcome, LLM summary, final save). On a phone
  call the media socket only stores the conversation (close(), a ConversationSnapshot)
  and a Celery worker runs finish() on it (call_conversation_finish), so a web
  server shutting down after the socket closed cannot lose the outcome or summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from langchain_core.messages import AIMessage, HumanMessage, messages_from_dict, messages_to_dict

from agents import prompts, selectors, services, tools
from agents.context import AgentContext
from agents.graph import invoke, qualification_json
from agents.llm import LLMBackend, LLMError, backend_from_settings
from agents.nlu import SLOT_NAMES, understand
from agents.services import ConversationRecord
from agents.state import ConversationState
from billing.services import call_post_call_cost_set
from calls.models import Call
from common.access import Viewer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """What to say, whether to hang up after saying it, and where the conversation stands."""

    text: str
    end_call: bool
    stage: str
    source: str = "template"


@dataclass
class LLMStats:
    """What the LLM did on this call, for the benchmark and the logs."""

    extractions: int = 0
    extraction_errors: int = 0
    candidates: int = 0
    extraction_ms: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Extraction:
    """One background LLM slot extraction: the question asked, the lead's answer, and the turn it came in."""

    slot: str
    question: str
    answer: str
    turn: int


class Conversation:
    """The agent brain for one call.

    Args:
        context: the call's runtime configuration.
        extract: run background LLM slot extraction after each lead turn (needs context.llm).

    Slots, score, outcome, summary and transcript are stored on the call when the
    context names a call and a lead; without them the conversation runs in memory.
    """

    def __init__(self, *, context: AgentContext, extract: bool = True) -> None:
        self.context = context
        self._extract = extract and context.llm is not None
        self._save = context.call_id is not None and context.lead_id is not None
        self._state: dict[str, Any] = {}
        self._candidates: list[dict[str, Any]] = []
        self._extractions: dict[asyncio.Task[None], Extraction] = {}
        # Extractions a call stopped unfinished (close()), run by finish() on the restored conversation.
        self._resumed: list[Extraction] = []
        self._writes: asyncio.Task[None] | None = None
        self._finished = False
        # Silences in a row with no word from the lead between them.
        self._silences = 0
        self.llm_stats = LLMStats()
        # Seconds the graph and the background LLM jobs took on this call, for the cost ledger (billing).
        self.compute_s = 0.0

    @classmethod
    def restore(cls, *, context: AgentContext, snapshot: dict[str, Any], extract: bool = True) -> Conversation:
        """Rebuild a conversation from its snapshot(), to run finish() on it in another process.

        Args:
            context: the call's runtime configuration, built afresh where the conversation is restored.
            snapshot: what snapshot() returned when the call ended.
            extract: run the LLM extractions the call stopped unfinished (needs context.llm).
        """
        conversation = cls(context=context, extract=extract)
        state = dict(snapshot.get("state") or {})
        if state:
            state["messages"] = messages_from_dict(state.get("messages") or [])
        conversation._state = state
        conversation._candidates = list(snapshot.get("candidates") or [])
        if conversation._extract:
            conversation._resumed = [Extraction(**job) for job in snapshot.get("extractions") or []]
        return conversation

    @property
    def state(self) -> ConversationState:
        return ConversationState(**self._state) if self._state else ConversationState()

    @property
    def score(self) -> int | None:
        """Return the lead's score so far (0-100), rescored after each turn; None before the first."""
        score = self._state.get("score")
        return int(score) if score is not None else None

    @property
    def ended(self) -> bool:
        return self._state.get("stage") == "ended"

    async def opening(self) -> Reply:
        """Return the templated opening: persona, business, AI disclosure, purpose and how to opt out."""
        self._state = await self._run({"event": "start"})
        return self._reply()

    async def respond(self, text: str, *, hold: Callable[[str], Awaitable[None]] | None = None) -> Reply:
        """Answer one lead turn.

        Args:
            text: what the lead said, as speech-to-text gave it.
            hold: speaks a filler at once, while an LLM slow to take the turn is still thinking; the reply
                then goes on from it (it is in the transcript, not in the returned text).

        Returns:
            The reply; after `end_call` the caller should hang up once it is spoken.
        """
        if not self._state:
            await self.opening()
        if self.ended:
            return Reply(text="", end_call=True, stage="ended")
        self._silences = 0
        question, asked = str(self._state.get("reply", "")), self._state.get("pending")
        turn_input = {
            **self._state,
            "messages": [*self._state.get("messages", []), HumanMessage(content=text)],
            "event": "turn",
            "llm_slots": self._take_candidates(),
        }
        try:
            self._state = await self._run(turn_input, hold=hold)
        except Exception:
            # The lead still hears something sensible and the call goes on; the turn is kept.
            logger.exception("the agent failed on a turn", extra={"call": self.context.call_id})
            fallback = prompts.SAFE_FALLBACK
            self._state = {
                **self._state,
                "messages": [*turn_input["messages"], AIMessage(content=fallback)],
                "reply": fallback,
                "reply_source": "template",
            }
        self._after_turn(asked, question, text)
        return self._reply()

    async def silence(self) -> Reply:
        """Answer the lead's silence: ask whether they are there, then, silent again, say goodbye.

        Returns:
            The line to speak; after the second silence in a row `end_call` is set.
        """
        if self.ended:
            return Reply(text="", end_call=True, stage="ended")
        self._silences += 1
        if self._silences == 1:
            text, end_call = prompts.STILL_THERE, False
        else:
            ctx = self.context
            names = prompts.spoken_names(first_name="", agent_name="", business_name=ctx.business_name)
            text = prompts.SILENT_GOODBYE.format(
                business_name=names["business_name"] or "The team", callback=prompts.spoken_phone(ctx.callback_number)
            )
            end_call = True
        self._state = {
            **self._state,
            "messages": [*self._state.get("messages", []), AIMessage(content=text)],
            "reply": text,
            "reply_source": "template",
            **({"end_call": True, "stage": "ended", "pending": None, "went_silent": True} if end_call else {}),
        }
        if self._save:
            self._chain(self._write_progress())
        return self._reply()

    async def wrap_up(self) -> Reply:
        """End the conversation now with a polite goodbye (the call reached its per-call cost limit).

        Returns:
            The goodbye to speak before hanging up, or an empty reply when the conversation had already ended.
        """
        if self.ended:
            return Reply(text="", end_call=True, stage="ended")
        ctx = self.context
        text = prompts.wrap_up_message(
            business_name=ctx.business_name, callback_number=ctx.callback_number, first_name=ctx.lead_first_name
        )
        self._state = {
            **self._state,
            "messages": [*self._state.get("messages", []), AIMessage(content=text)],
            "reply": text,
            "reply_source": "template",
            "end_call": True,
            "stage": "ended",
            "pending": None,
        }
        if self._save:
            self._chain(self._write_progress())
        return self._reply()

    def snapshot(self) -> dict[str, Any]:
        """Return the conversation as JSON-ready data: graph state, slot candidates, extractions not yet done."""
        state = {**self._state, "messages": messages_to_dict(list(self._state.get("messages", [])))}
        unfinished = [asdict(job) for task, job in self._extractions.items() if not task.done()]
        return {"state": state, "candidates": list(self._candidates), "extractions": unfinished}

    async def close(self) -> None:
        """Stop the call's background work and store the conversation as it stands, for the post-call analysis.

        Quick and without the LLM, so it fits in the media socket's last seconds.
        The extractions still running are stopped and stored with the rest, and
        finish() runs them again wherever the conversation is restored.
        """
        snapshot = self.snapshot()
        # No await between the snapshot and the cancel: a stopped extraction adds no candidate after it.
        for task in self._extractions:
            task.cancel()
        if self._writes is not None:
            await self._writes
        if self._save:
            assert self.context.call_id is not None
            await database_sync_to_async(services.conversation_snapshot_save)(
                call_id=self.context.call_id, state=snapshot
            )

    async def finish(self) -> None:
        """Run the post-call analysis and store its outcome, score and summary; calling it twice does nothing.

        The transcript is not written again: each turn's background save has
        stored it, and on a phone call the voice session stores the timed one.
        """
        if self._finished:
            return
        self._finished = True
        for job in self._resumed:
            self._extraction_start(job)
        self._resumed = []
        if self._extractions:
            _, late = await asyncio.wait(list(self._extractions), timeout=self.context.llm_timeout_s)
            for task in late:
                task.cancel()
        if self._writes is not None:
            await self._writes
        finish_input = {**(self._state or {}), "event": "finish", "llm_slots": self._take_candidates()}
        self._state = await self._run(finish_input)

    async def _run(
        self, payload: dict[str, Any], *, hold: Callable[[str], Awaitable[None]] | None = None
    ) -> dict[str, Any]:
        started = time.perf_counter()
        context = replace(self.context, hold=hold) if hold is not None else self.context
        try:
            return await invoke(payload, context=context)
        finally:
            self.compute_s += time.perf_counter() - started

    # --- background work -------------------------------------------------------------------------------------------

    def _reply(self) -> Reply:
        state = self._state
        return Reply(
            text=str(state.get("reply", "")),
            end_call=bool(state.get("end_call")),
            stage=str(state.get("stage", "")),
            source=str(state.get("reply_source", "template")),
        )

    def _take_candidates(self) -> list[dict[str, Any]]:
        taken, self._candidates = self._candidates, []
        return taken

    def _after_turn(self, asked: str | None, question: str, text: str) -> None:
        if self._save:
            self._chain(self._write_progress())
        # The LLM only gets the answers the patterns could not read: the slot just asked for, still empty.
        if self._extract and asked in SLOT_NAMES and asked not in self._state.get("slots", {}) and text.strip():
            turn = int(self._state.get("turn", 0))
            self._extraction_start(Extraction(slot=str(asked), question=question, answer=text, turn=turn))

    def _extraction_start(self, job: Extraction) -> None:
        task = asyncio.create_task(self._extract_slot(job.slot, job.question, job.answer, job.turn))
        self._extractions[task] = job

    def _chain(self, work: Coroutine[Any, Any, None]) -> None:
        """Run database writes one after another in the background, so they land in order."""
        previous = self._writes

        async def run() -> None:
            if previous is not None:
                with contextlib.suppress(Exception):
                    await previous
            try:
                await work
            except Exception:
                logger.exception("could not save the conversation so far", extra={"call": self.context.call_id})

        self._writes = asyncio.create_task(run())

    async def _write_progress(self) -> None:
        state = self.state
        assert self.context.call_id is not None and self.context.lead_id is not None
        record = ConversationRecord(
            qualification=qualification_json(state),
            score=state.score,
            intent=str(state.slots.get("intent", {}).get("value", "")),
        )
        await tools.save_conversation(call_id=self.context.call_id, lead_id=self.context.lead_id, record=record)
        await self._write_transcript()

    async def _write_transcript(self) -> None:
        assert self.context.call_id is not None
        turns = [
            ("lead" if isinstance(m, HumanMessage) else "agent", str(m.content))
            for m in self.state.messages
            if m.content
        ]
        await tools.save_transcript(call_id=self.context.call_id, turns=turns)

    async def _extract_slot(self, slot: str, question: str, answer: str, turn: int) -> None:
        llm = self.context.llm
        assert llm is not None
        started = time.perf_counter()
        self.llm_stats.extractions += 1
        try:
            raw = await llm.complete(
                prompts.extract_messages(slot=slot, question=question, answer=answer),
                json_schema=prompts.extract_schema(slot),
                timeout_s=self.context.llm_timeout_s,
                max_tokens=80,
            )
            item = json.loads(raw)
            if not isinstance(item, dict):
                raise TypeError("the answer is not a JSON object")
        except (LLMError, ValueError, TypeError) as exc:
            self.llm_stats.extraction_errors += 1
            logger.info("LLM extraction failed", extra={"call": self.context.call_id, "error": str(exc)})
            return
        finally:
            elapsed = time.perf_counter() - started
            self.llm_stats.extraction_ms.append(elapsed * 1000)
            self.compute_s += elapsed
        if item.get("found") is True:
            self._candidates.append({**item, "name": slot, "utterance": answer, "turn": turn})
            self.llm_stats.candidates += 1


_backends: dict[tuple[str, ...], LLMBackend | None] = {}


def llm_backend() -> LLMBackend | None:
    """Return the process-wide LLM backend for the current settings (built once per configuration)."""
    key = (settings.LLM_BACKEND, settings.OLLAMA_HOST, settings.OLLAMA_MODEL, settings.LLAMACPP_MODEL_PATH)
    if key not in _backends:
        _backends[key] = backend_from_settings()
    return _backends[key]


def llm_backend_or_none() -> LLMBackend | None:
    """Return llm_backend(), or None when it cannot be set up: the agent then speaks and summarises from templates."""
    try:
        return llm_backend()
    except Exception:
        # A missing package, a bad model file, a failing assembly: none of it may keep a call from being answered.
        logger.exception("could not set up the LLM backend; the agent speaks from templates")
        return None


def context_for_call(*, call_id: int, llm: LLMBackend | None) -> AgentContext:
    """Build the runtime configuration of a call from its lead and campaign (sync: reads the database)."""
    call = selectors.call_get_for_conversation(call_id=call_id)
    lead, campaign = call.lead, call.campaign
    return AgentContext(
        call_id=call.pk,
        lead_id=lead.pk,
        lead_first_name=lead.first_name,
        lead_phone=lead.phone,
        lead_email=lead.email,
        lead_address=lead.address,
        lead_source=lead.source,
        lead_timezone=selectors.lead_timezone_guess(lead_timezone=lead.timezone),
        agent_name=campaign.agent_name,
        business_name=campaign.business_name,
        callback_number=campaign.callback_number,
        call_purpose=campaign.call_purpose,
        answers=dict(campaign.answers or {}),
        announce_recording=call.recording_mode == Call.RecordingMode.ANNOUNCE,
        recorded=call.recording_mode != Call.RecordingMode.OFF,
        scoring=selectors.scoring_rules_get(),
        llm=llm,
        rephrase=settings.LLM_REPHRASE,
        rephrase_timeout_s=settings.LLM_REPHRASE_TIMEOUT_S,
        llm_timeout_s=settings.LLM_TIMEOUT_S,
        llm_fallback=settings.LLM_FALLBACK,
        llm_fallback_timeout_s=settings.LLM_FALLBACK_TIMEOUT_S,
        filler_after_s=settings.LLM_FILLER_AFTER_S,
    )


async def conversation_for_call(
    *, call_id: int, llm: LLMBackend | None = None, use_settings_llm: bool = True
) -> Conversation:
    """Build the brain for a call, with the LLM backend from settings unless one is given (templates if it fails)."""
    if llm is None and use_settings_llm:
        llm = await sync_to_async(llm_backend_or_none, thread_sensitive=False)()
    context = await database_sync_to_async(context_for_call)(call_id=call_id, llm=llm)
    return Conversation(context=context, extract=settings.LLM_EXTRACT)


def context_for_test_call(*, campaign_id: int, caller_name: str, llm: LLMBackend | None) -> AgentContext:
    """Build the configuration of a broker's test call: the campaign's persona and purpose, no lead, a dry run.

    Raises:
        Campaign.DoesNotExist: when there is no such campaign.
    """
    # The socket checked that its user sees the campaign (voice.consumers).
    campaign = selectors.campaign_for_test_call_get(viewer=Viewer.everyone(), campaign_id=campaign_id)
    return AgentContext(
        call_id=None,
        lead_id=None,
        lead_first_name=caller_name,
        lead_timezone=selectors.lead_timezone_guess(lead_timezone=""),
        agent_name=campaign.agent_name,
        business_name=campaign.business_name,
        callback_number=campaign.callback_number,
        call_purpose=campaign.call_purpose,
        answers=dict(campaign.answers or {}),
        scoring=selectors.scoring_rules_get(),
        llm=llm,
        rephrase=settings.LLM_REPHRASE,
        rephrase_timeout_s=settings.LLM_REPHRASE_TIMEOUT_S,
        llm_timeout_s=settings.LLM_TIMEOUT_S,
        llm_fallback=settings.LLM_FALLBACK,
        llm_fallback_timeout_s=settings.LLM_FALLBACK_TIMEOUT_S,
        filler_after_s=settings.LLM_FILLER_AFTER_S,
        dry_run=True,
    )


async def conversation_for_test_call(*, campaign_id: int, caller_name: str = "") -> Conversation:
    """Build the brain for a test call of a campaign: the same graph as a real call, keeping nothing."""
    llm = await sync_to_async(llm_backend_or_none, thread_sensitive=False)()
    context = await database_sync_to_async(context_for_test_call)(
        campaign_id=campaign_id, caller_name=caller_name, llm=llm
    )
    return Conversation(context=context, extract=settings.LLM_EXTRACT)


def call_conversation_finish(*, call_id: int) -> bool:
    """Run the post-call analysis on the conversation the call's voice session stored; return whether it ran.

    Rebuilds the brain around the stored conversation and runs finish(): the
    LLM extractions the call did not wait for, the outcome, the summary, and
    the final save of slots, score, outcome and summary (services.conversation_save).
    Once stored, running it again does nothing. Cut off midway, it runs again
    from the start: every write it makes can be repeated (the lead's status
    only moves up, and its webhooks go out on a change only).
    """
    snapshot = selectors.conversation_snapshot_unfinished_get(call_id=call_id)
    if snapshot is None:
        logger.info("no conversation waiting for its post-call analysis", extra={"call": call_id})
        return False
    context = context_for_call(call_id=call_id, llm=llm_backend_or_none())
    conversation = Conversation.restore(context=context, snapshot=snapshot, extract=settings.LLM_EXTRACT)
    async_to_sync(conversation.finish)()
    # Priced before the snapshot is marked finished: a retry after a failure between the two prices it again
    # (the entry is replaced), where the other order would leave the analysis unbilled.
    call_post_call_cost_set(call_id=call_id, compute_s=conversation.compute_s)
    services.conversation_snapshot_finished(call_id=call_id)
    logger.info("post-call analysis stored", extra={"call": call_id, "compute_s": round(conversation.compute_s, 3)})
    return True


def warm_up() -> None:
    """Load the date parser's and number parser's data now, not on a lead's first "tuesday at 3"."""
    now = dt.datetime.now(dt.UTC)
    for text, pending, stage in (
        ("tuesday at three or tomorrow afternoon", None, "scheduling"),
        ("about four fifty in the spring pre approved", "price", "qualifying"),
        ("call me back tomorrow at five", None, "qualifying"),
        ("its john at gmail dot com", None, "email"),
    ):
        understand(text, pending=pending, stage=stage, now=now)
