"""A call whose brain cannot be built still speaks: the template brain, or at least an apology and a goodbye."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from agents import brain
from agents.brain import Conversation
from tests.factories import CallFactory
from voice.brain import FALLBACK_LINE, FallbackConversation, unanswered_words
from voice.session import CallSession
from voice.transport import SocketBridge

pytestmark = pytest.mark.django_db(transaction=True)


async def _nothing(*_args: Any) -> None:
    return None


def _session(call_id: int, factory: Any) -> CallSession:
    return CallSession(
        call_id=call_id,
        call_sid="CA" + "3" * 32,
        stream_sid="MZ" + "3" * 32,
        bridge=SocketBridge(send=_nothing, close=_nothing),
        conversation_factory=factory,
    )


async def _broken(call_id: int) -> Conversation:
    raise OSError("model file truncated")


def test_a_brain_that_fails_to_build_falls_back_to_the_template_brain(caplog: pytest.LogCaptureFixture) -> None:
    call = CallFactory(campaign__business_name="Bayside Realty")
    session = _session(call.pk, _broken)

    with caplog.at_level(logging.ERROR, logger="voice.session"):
        conversation = async_to_sync(session._build_conversation)()
        opening = async_to_sync(conversation.opening)()

    assert isinstance(conversation, Conversation) and conversation.context.llm is None
    assert "Bayside Realty" in opening.text and not opening.end_call
    assert "using the template brain" in caplog.text and "model file truncated" in caplog.text


def test_a_call_the_database_cannot_give_a_brain_apologises_and_ends(caplog: pytest.LogCaptureFixture) -> None:
    # No such call row: neither the factory nor the template brain can read the campaign.
    session = _session(987_654, _broken)

    with caplog.at_level(logging.ERROR, logger="voice.session"):
        conversation = async_to_sync(session._build_conversation)()
        opening = async_to_sync(conversation.opening)()

    assert isinstance(conversation, FallbackConversation)
    assert (opening.text, opening.end_call) == (FALLBACK_LINE, True)
    assert "apologising" in caplog.text


def test_an_llm_backend_that_fails_to_load_leaves_the_template_brain(
    monkeypatch: pytest.MonkeyPatch, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.LLM_BACKEND = "llamacpp"
    call = CallFactory(campaign__business_name="Bayside Realty")

    def corrupt() -> None:
        raise RuntimeError("llama_model_load: tensor data is not within the file bounds")

    # agents.brain builds every backend through backend_from_settings, once per process and configuration.
    monkeypatch.setattr(brain, "_backends", {})
    monkeypatch.setattr(brain, "backend_from_settings", corrupt)

    with caplog.at_level(logging.ERROR, logger="agents.brain"):
        conversation = async_to_sync(brain.conversation_for_call)(call_id=call.pk)

    assert conversation.context.llm is None
    assert "not within the file bounds" in caplog.text


def test_the_apology_never_asks_the_lead_anything() -> None:
    conversation = FallbackConversation()

    replies = [
        async_to_sync(conversation.respond)("hello?"),
        async_to_sync(conversation.silence)(),
        async_to_sync(conversation.wrap_up)(),
    ]

    assert all(reply.text == "" and reply.end_call for reply in replies)


def test_the_last_words_are_the_transcripts_no_turn_answered() -> None:
    transcripts = ["yeah hi.", "we're thinking of selling", "in the spring", "take me off your list"]
    answered = "yeah hi.   we're thinking of selling in the spring"

    assert unanswered_words(transcripts, answered=answered) == "take me off your list"
    assert unanswered_words(transcripts, answered="yeah hi. take me off your list") == (
        "we're thinking of selling in the spring"
    )
    assert unanswered_words(transcripts[:2], answered=answered) == ""
    assert unanswered_words(["hello", "hello"], answered="hello") == "hello"
