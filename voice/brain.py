"""The bridge between Pipecat frames and the agent brain (agents/).

Modelled on Pipecat's LangchainProcessor: it takes the context the user
aggregator pushes at the end of each lead turn, hands the lead's latest words
to the conversation, and pushes the reply as one LLM response so the TTS and
the assistant aggregator treat it like any LLM's output.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from pipecat.frames.frames import (
    ControlFrame,
    Frame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from voice.latency import SpeakingObserver

logger = logging.getLogger(__name__)


class BrainReply(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def end_call(self) -> bool: ...


class Conversation(Protocol):
    """What the voice layer needs from the agent brain for one call."""

    async def opening(self) -> BrainReply: ...

    async def respond(self, text: str, *, hold: Callable[[str], Awaitable[None]] | None = None) -> BrainReply:
        """Answer one lead turn; `hold` speaks a filler at once while a slow LLM still thinks it over."""
        ...

    async def wrap_up(self) -> BrainReply: ...

    async def silence(self) -> BrainReply: ...

    async def close(self) -> None:
        """The phone call is over: stop background work and store the conversation for its post-call analysis.

        Quick and without the LLM: it runs in the media socket's last seconds.
        """
        ...

    async def finish(self) -> None:
        """Run the post-call analysis here and now (the browser test call shows its verdict on the open socket)."""
        ...

    @property
    def compute_s(self) -> float: ...

    @property
    def score(self) -> int | None:
        """The lead's score so far (0-100), rescored after each turn; None before the first."""
        ...


def outcome_of(conversation: Conversation) -> dict[str, Any]:
    """Return how the brain saw the call: outcome, score and summary.

    The protocol promises only the score; the agents brain keeps the outcome
    and summary on its `state` (a scripted test brain may have none).
    """
    state = getattr(conversation, "state", None)
    return {
        "outcome": str(getattr(state, "outcome", "") or ""),
        "score": conversation.score,
        "summary": str(getattr(state, "summary", "") or ""),
    }


@dataclass(frozen=True)
class FallbackReply:
    text: str
    end_call: bool = True


# Said when no brain could be built for the call (the database or the agent failed to load): the lead hears who
# calls and that we will call back, never silence. No name or business, since those come from the database.
FALLBACK_LINE = (
    "Hello, this is an AI assistant calling for a local real estate team. I'm sorry, we're having a technical "
    "problem right now, so we'll call you back another time. Goodbye."
)


class FallbackConversation:
    """The brain of last resort: one apology that ends the call, and nothing stored."""

    compute_s: float = 0.0
    score: int | None = None

    async def opening(self) -> FallbackReply:
        return FallbackReply(FALLBACK_LINE)

    async def respond(self, text: str, *, hold: Callable[[str], Awaitable[None]] | None = None) -> FallbackReply:
        return FallbackReply("")

    async def wrap_up(self) -> FallbackReply:
        return FallbackReply("")

    async def silence(self) -> FallbackReply:
        return FallbackReply("")

    async def close(self) -> None:
        return None

    async def finish(self) -> None:
        return None


@dataclass
class TurnTiming:
    """When the brain got a lead turn and when its reply text was ready (time.monotonic())."""

    lead_text: str
    received_at: float
    reply_at: float
    reply_text: str


@dataclass
class CallWrapUpFrame(ControlFrame):
    """End the call politely now: the session queues it when the call's cost reaches its per-call limit.

    A frame in the brain's own queue rather than a direct call, so it never
    lands in the middle of answering a turn, and (uninterruptible) the lead
    speaking cannot drop it. A turn being answered when it arrives ends with
    the goodbye in the same reply: two replies back to back would let the
    hang-up (CallSession._wait_bot_done) take the first one's end for the goodbye's.
    """

    interruptible: bool = field(default=False, init=False)


@dataclass
class LeadSilentFrame(ControlFrame):
    """The lead has said nothing for a while after the agent spoke (the user aggregator's idle event).

    In the brain's queue, like CallWrapUpFrame, so it never lands in the middle of a turn.
    """


class BrainProcessor(FrameProcessor):
    """Answer each completed lead turn with the conversation's reply.

    Args:
        conversation: the per-call brain.
        on_end_call: awaited once the brain decides the call is over, after
            the farewell has been pushed towards TTS.
        on_turn: called with each turn's timing, for the latency record.
        speaking: the pipeline's speaking spans, so a goodbye after a filler is a span of its own.
    """

    def __init__(
        self,
        *,
        conversation: Conversation,
        on_end_call: Callable[[], Awaitable[None]],
        on_turn: Callable[[TurnTiming], None] | None = None,
        speaking: SpeakingObserver | None = None,
    ) -> None:
        super().__init__()
        self._conversation = conversation
        self._on_end_call = on_end_call
        self._on_turn = on_turn
        self._speaking = speaking
        # The speaking spans ended before this turn's filler was pushed, and the filler; None and "" without one.
        self._held_at: int | None = None
        self._held = ""
        self._ended = False
        self.opening_text = ""
        # How much of the lead's words (all user messages, joined) the brain has answered.
        self._heard = ""
        # When the last reply was pushed (time.monotonic()): its audio may not have started yet.
        self.replied_at = 0.0

    async def speak_opening(self) -> None:
        """Push the templated opening (identity, AI disclosure, purpose, opt-out)."""
        reply = await self._conversation.opening()
        self.opening_text = reply.text
        await self._push_reply(reply.text)
        if reply.end_call:
            await self._end()

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, CallWrapUpFrame):
            await self._wrap_up()
            return
        if isinstance(frame, LeadSilentFrame):
            await self._answer_silence()
            return
        if not isinstance(frame, LLMContextFrame):
            await self.push_frame(frame, direction)
            return
        said = _user_messages(frame)
        heard = " ".join(said)
        text = _unanswered(said, answered=self._heard)
        if not text or self._ended:
            return
        received = time.monotonic()
        self._held_at, self._held = None, ""
        reply = await self._conversation.respond(text, hold=self._hold)
        # Set before anything else is awaited: an interruption may cancel this task from here on,
        # and the words it answered must not be answered twice.
        self._heard = heard
        spoken, end_call = reply.text, reply.end_call
        if not end_call and self.has_queued_frame(CallWrapUpFrame):
            # The lead was answered first (an opt-out is confirmed, slots are kept); then the goodbye.
            goodbye = await self._conversation.wrap_up()
            spoken, end_call = f"{spoken} {goodbye.text}".strip(), True
        if end_call and self._held_at is not None and self._speaking is not None:
            await self._speaking.span_ended_since(self._held_at, timeout_s=settings.GOODBYE_MARK_TIMEOUT_S)
        await self._push_reply(spoken)
        if self._on_turn is not None:
            self._on_turn(TurnTiming(text, received, time.monotonic(), f"{self._held} {spoken}".strip()))
        if end_call:
            await self._end()

    async def _hold(self, words: str) -> None:
        """Speak a filler now, while the brain is still working out the turn's reply."""
        self._held_at = self._speaking.stopped_count if self._speaking is not None else 0
        self._held = f"{self._held} {words}".strip()
        await self._push_reply(words)

    async def take_last_words(self, transcripts: list[str]) -> str:
        """Give the conversation what the lead said that no turn answered before the line went dead; return it.

        For after the pipeline has stopped: nobody hears a reply, but the words
        count (a "take me off your list" said as the lead hangs up is an opt-out)
        and the transcript keeps them.

        Args:
            transcripts: every text transcribed on the call, in order.
        """
        text = unanswered_words(transcripts, answered=self._heard)
        if not text:
            return ""
        received = time.monotonic()
        await self._conversation.respond(text)
        self._heard = f"{self._heard} {text}".strip()
        if self._on_turn is not None:
            self._on_turn(TurnTiming(text, received, time.monotonic(), ""))
        return text

    async def _wrap_up(self) -> None:
        if self._ended:
            return  # already saying goodbye
        at = time.monotonic()
        reply = await self._conversation.wrap_up()
        await self._push_reply(reply.text)
        if self._on_turn is not None:
            # A turn with no words from the lead, so the call's transcript has the goodbye.
            self._on_turn(TurnTiming("", at, time.monotonic(), reply.text))
        await self._end()

    async def _answer_silence(self) -> None:
        if self._ended:
            return
        at = time.monotonic()
        reply = await self._conversation.silence()
        await self._push_reply(reply.text)
        if self._on_turn is not None:
            self._on_turn(TurnTiming("", at, time.monotonic(), reply.text))
        if reply.end_call:
            await self._end()

    async def _push_reply(self, text: str) -> None:
        self.replied_at = time.monotonic()
        await self.push_frame(LLMFullResponseStartFrame())
        await self.push_frame(LLMTextFrame(text))
        await self.push_frame(LLMFullResponseEndFrame())

    async def _end(self) -> None:
        self._ended = True
        await self._on_end_call()


def _user_messages(frame: LLMContextFrame) -> list[str]:
    """Return what the lead has said in the call so far, message by message, as the user aggregator recorded it."""
    parts = []
    for message in frame.context.get_messages():
        if isinstance(message, dict) and message.get("role") == "user" and isinstance(message.get("content"), str):
            parts.append(str(message["content"]).strip())
    return [p for p in parts if p]


def _unanswered(said: list[str], *, answered: str) -> str:
    """Return the lead's words the brain has not answered yet.

    Usually the latest turn. When the lead went on talking while a reply was
    being worked out, and the lead's new words interrupted that reply before it
    was answered, the interrupted turn and the new one come together, so no
    sentence (a late "put me on your do-not-call list") is lost.
    """
    heard = " ".join(said)
    if heard.startswith(answered):
        return heard[len(answered) :].strip()
    return said[-1] if said else ""


def unanswered_words(transcripts: list[str], *, answered: str) -> str:
    """Return the transcripts that are not part of `answered` (the lead's words the brain has answered), joined.

    The user aggregator joins transcripts into turns, so each answered one is
    found in `answered`, in order, after the one before it.
    """
    answered = " ".join(answered.split())
    position, missed = 0, []
    for transcript in transcripts:
        text = " ".join(transcript.split())
        found = answered.find(text, position)
        if found < 0:
            missed.append(text)
        else:
            position = found + len(text)
    return " ".join(missed)
