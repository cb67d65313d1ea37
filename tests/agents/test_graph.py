"""The agent graph with scripted fake models: what the LLM may change, and what it never can."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage

from agents.brain import Conversation, conversation_for_call
from agents.context import AgentContext
from agents.graph import graph, invoke, route_turn
from agents.llm import ChatModelBackend, LLMError, Messages
from agents.state import ConversationState
from leads.models import DoNotCall
from tests.agents.personas import NOW, PERSONAS, persona_setup


class ScriptedLLM:
    """A fake of our LLM interface: answers from a list; an Exception in the list is raised, a float sleeps."""

    name = "scripted"

    def __init__(self, answers: list[Any]) -> None:
        self.answers = list(answers)
        self.calls: list[list[dict[str, str]]] = []

    async def complete(
        self, messages: Messages, *, timeout_s: float, json_schema: dict[str, Any] | None = None, max_tokens: int = 256
    ) -> str:
        self.calls.append([dict(m) for m in messages])
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, float):
            try:
                async with asyncio.timeout(timeout_s):
                    await asyncio.sleep(answer)
            except TimeoutError as exc:
                raise LLMError("scripted timeout") from exc
            return "too late"
        return str(answer)

    async def stream(self, messages: Messages, *, timeout_s: float, max_tokens: int = 256) -> AsyncIterator[str]:
        yield await self.complete(messages, timeout_s=timeout_s)


def _fake(*answers: str) -> ChatModelBackend:
    return ChatModelBackend(GenericFakeChatModel(messages=iter([AIMessage(a) for a in answers])), name="fake")


def _context(llm: Any = None, **overrides: Any) -> AgentContext:
    values: dict[str, Any] = {
        "call_id": None,
        "lead_id": None,
        "lead_first_name": "Jane",
        "lead_address": "12 Oak Street",
        "business_name": "Bayside Realty",
        "callback_number": "+14155550100",
        "llm": llm,
        "rephrase": llm is not None,
        **overrides,
    }
    return AgentContext(**values)


async def _turns(context: AgentContext, *lines: str) -> dict[str, Any]:
    state = await invoke({"event": "start"}, context=context)
    for line in lines:
        messages = [*state["messages"], HumanMessage(line)]
        state = await invoke({**state, "event": "turn", "messages": messages}, context=context)
    return state


def test_it_opens_with_the_compliance_template_and_never_asks_the_llm() -> None:
    llm = ScriptedLLM(["No, I'm a real person from the office."])

    state = asyncio.run(_turns(_context(llm)))

    assert state["reply"] == (
        "Hi Jane, this is Alex, an AI assistant calling for Bayside Realty. I'm calling to see if you're thinking "
        "about buying or selling a home. If you'd rather not get these calls, just say stop calling and I'll take "
        "you off our list. Do you have a quick minute?"
    )
    assert llm.calls == []


def test_it_speaks_the_fake_models_rephrasing_when_it_passes_the_guardrails() -> None:
    state = asyncio.run(_turns(_context(_fake("Okay! So are you hoping to buy, sell, or both?")), "yeah sure"))

    assert state["reply"] == "Okay! So are you hoping to buy, sell, or both?"
    assert state["reply_source"] == "llm"
    assert isinstance(state["messages"][-1], AIMessage)
    assert state["messages"][-1].content == state["reply"]


@pytest.mark.parametrize(
    ("rephrased", "violation"),
    [
        ("No, I'm a real person. Are you buying or selling?", "denies_ai"),
        ("We guarantee top dollar for your home. Buying or selling?", "promise"),
        ("Our 40 agents sold 300 homes last year. Buying or selling?", "invented_number"),
        ("Our agent Sarah wants to know: buying or selling?", "invented_name"),
        ("You said you wanted to sell, right?", "lead_claim"),
    ],
)
def test_it_speaks_the_template_when_the_rephrasing_breaks_a_rule(rephrased: str, violation: str) -> None:
    state = asyncio.run(_turns(_context(_fake(rephrased)), "yeah sure"))

    assert state["reply"] == "Great. Are you thinking about buying, selling, or both?"
    assert state["reply_source"] == "template"
    assert violation in state["guard_violations"]


@pytest.mark.parametrize("failure", [LLMError("HTTP 500"), 5.0], ids=["error", "timeout"])
def test_it_speaks_the_template_and_goes_on_when_the_llm_fails(failure: Any) -> None:
    llm = ScriptedLLM([failure, "So, what's your timeline?"])

    state = asyncio.run(_turns(_context(llm, rephrase_timeout_s=0.05), "yeah sure", "selling"))

    assert [m.content for m in state["messages"] if isinstance(m, AIMessage)][1:] == [
        "Great. Are you thinking about buying, selling, or both?",
        "So, what's your timeline?",
    ]
    assert state["slots"]["intent"]["value"] == "sell"


def test_the_robot_answer_is_the_truthful_disclosure_whatever_the_llm_would_say() -> None:
    llm = ScriptedLLM(["No, I'm a human being, promise!"] * 3)

    state = asyncio.run(_turns(_context(llm), "hold on are you a real person"))

    assert state["reply"].startswith("I'm an AI assistant calling for Bayside Realty.")
    # A reply that carries a compliance line is never sent to the LLM to reword.
    assert llm.calls == []


@pytest.mark.parametrize(
    ("nlu", "stage", "expected"),
    [
        ({"opt_out": True, "objections": ["not_interested"]}, "scheduling", "opt_out"),
        ({"wrong_number": True}, "opening", "opt_out"),
        ({"asks": ["robot"]}, "qualifying", "objection"),
        ({"objections": ["call_later"], "when": {"day": "2026-11-25"}}, "callback", "scheduling"),
        ({"declines_meeting": True, "objections": ["not_interested"]}, "scheduling", "scheduling"),
        ({"slots": {"intent": {}}}, "qualifying", "qualification"),
        ({}, "scheduling", "scheduling"),
    ],
)
def test_the_router_sends_each_turn_to_the_right_role(nlu: dict[str, Any], stage: str, expected: str) -> None:
    assert route_turn(ConversationState(nlu=nlu, stage=stage)) == expected  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_fallback(settings: Any) -> None:
    # These tests script the LLM's answers to extraction and the summary, in order; a turn the rules can't
    # read would take one of them (tests/agents/test_llm_ollama.py tests the fallback).
    settings.LLM_FALLBACK = False


async def _call_with(call_id: int, llm: Any, lines: list[str]) -> Conversation:
    conversation = await conversation_for_call(call_id=call_id, llm=llm)
    await conversation.opening()
    for line in lines:
        await conversation.respond(line)
    await conversation.finish()
    return conversation


@pytest.mark.django_db(transaction=True)
def test_it_keeps_an_llm_slot_only_when_its_evidence_quotes_the_lead(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)
    call = persona_setup(PERSONAS[0])
    extraction = {"found": True, "value": "6 months", "evidence": "after the kids are done with their stuff"}
    llm = _fake(json.dumps(extraction), "Jane wants to sell; she did not say when.")

    async_to_sync(_call_with)(call.pk, llm, ["sure", "selling", "uh after the kids are done with their stuff i guess"])

    call.refresh_from_db()
    slot = call.qualification["slots"]["timeline"]
    assert slot == {"value": 6, "evidence": "after the kids are done with their stuff", "source": "llm", "turn": 3}
    assert call.qualification["llm"] == {"accepted": 1}
    assert call.summary.startswith("Jane wants to sell; she did not say when.")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "extraction",
    [
        {"found": True, "value": "3 months", "evidence": "we want to move by march"},  # never said
        {"found": True, "value": "2 months", "evidence": "i guess"},  # says nothing about time
        {
            "found": True,
            "value": "after school",
            "evidence": "after the kids are done with their stuff",
        },  # not a timeline
    ],
    ids=["evidence-not-said", "evidence-off-topic", "value-invalid"],
)
def test_it_rejects_an_llm_slot_the_leads_words_do_not_support(extraction: dict[str, Any], time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)
    call = persona_setup(PERSONAS[0])
    llm = _fake(json.dumps(extraction), "Summary.")

    async_to_sync(_call_with)(call.pk, llm, ["sure", "selling", "uh after the kids are done with their stuff i guess"])

    call.refresh_from_db()
    assert "timeline" not in call.qualification["slots"]
    assert call.qualification["llm"] == {"rejected": 1}


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_template_summary_when_the_llm_summary_invents_numbers(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)
    call = persona_setup(PERSONAS[0])
    llm = ScriptedLLM(["Jane will sell for $900,000 within 30 days, guaranteed."])

    async_to_sync(_call_with)(call.pk, llm, ["sure", "selling"])

    call.refresh_from_db()
    assert call.summary.startswith("Outcome: hung up; score")
    assert "900" not in call.summary


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "summary",
    [
        "Jane, I'm sorry to hear that you're not ready to make a move at this time.",  # written to the lead
        "I called Jane and she wants to buy within two months.",  # written as the assistant
        "Jane is not ready to move and has no plans to buy.",  # against her two-month timeline
    ],
    ids=["to-the-lead", "as-the-assistant", "against-the-facts"],
)
def test_an_llm_summary_not_written_for_the_broker_gives_way_to_the_template(summary: str, time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)
    call = persona_setup(PERSONAS[0])

    async_to_sync(_call_with)(call.pk, ScriptedLLM([summary]), ["sure", "buying", "in like two months"])

    call.refresh_from_db()
    assert call.summary.startswith("Outcome: hung up; score")


@pytest.mark.django_db(transaction=True)
def test_an_llm_summary_about_the_lead_for_the_broker_is_kept(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)
    call = persona_setup(PERSONAS[0])
    summary = 'Jane wants to buy "in like two months" and hung up before the next question.'

    async_to_sync(_call_with)(call.pk, ScriptedLLM([summary]), ["sure", "buying", "in like two months"])

    call.refresh_from_db()
    assert call.summary.startswith(summary)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("lines", "phrase"),
    [
        ([], "dont ever call this number again"),
        (["yeah", "selling"], "can you remove my number please"),
        (["yeah", "buying", "soon", "first home", "four fifty", "yes", "no", "yes"], "just stop calling me ok"),
        (["call me later"], "actually put me on your do not call list"),
        (["just email me"], "no unsubscribe me"),
    ],
    ids=["opening", "qualifying", "scheduling", "callback", "email"],
)
def test_an_opt_out_ends_the_call_within_one_turn_in_every_stage(
    lines: list[str], phrase: str, time_machine: Any
) -> None:
    time_machine.move_to(NOW, tick=False)
    call = persona_setup(PERSONAS[0])
    # No email on file, so "just email me" asks for one and the call reaches the email stage.
    call.lead.email = ""
    call.lead.save()

    async def talk() -> tuple[list[bool], Any]:
        conversation = await conversation_for_call(call_id=call.pk, use_settings_llm=False)
        await conversation.opening()
        ended_before = [(await conversation.respond(line)).end_call for line in lines]
        reply = await conversation.respond(phrase)
        await conversation.finish()
        return [*ended_before, reply.end_call], reply

    ended, reply = async_to_sync(talk)()

    assert ended == [False] * len(lines) + [True]
    assert "taken your number off our call list" in reply.text
    assert DoNotCall.objects.filter(phone=call.lead.phone, source=DoNotCall.Source.LEAD_REQUEST).exists()
    call.refresh_from_db()
    assert call.outcome == "opted_out"


def test_a_failing_turn_still_gets_a_reply_and_keeps_the_lead_words(monkeypatch: pytest.MonkeyPatch) -> None:
    conversation = Conversation(context=_context())

    async def talk() -> tuple[str, ConversationState]:
        await conversation.opening()

        async def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("database went away")

        monkeypatch.setattr(graph, "ainvoke", broken)
        reply = await conversation.respond("yeah sure")
        return reply.text, conversation.state

    text, state = asyncio.run(talk())

    assert text == "Sorry, could you say that again?"
    assert [m.content for m in state.messages][-2:] == ["yeah sure", "Sorry, could you say that again?"]


@pytest.mark.parametrize(
    ("second", "goes_on"),
    [
        ("ok ok a little english is ok. we want buy a house yes", True),
        ("si esta bien", True),
        ("no no espanol por favor", False),
    ],
)
def test_a_lead_with_some_english_is_asked_once_whether_english_will_do(second: str, goes_on: bool) -> None:
    context = _context()
    asked = asyncio.run(_turns(context, "perdon no hablo mucho ingles. habla espanol?"))
    state = asyncio.run(_turns(context, "perdon no hablo mucho ingles. habla espanol?", second))

    assert "Is it okay to go on in English?" in asked["reply"] and not asked["end_call"]
    assert state["end_call"] is not goes_on
    assert ("Una persona de Bayside Realty le va a llamar" in state["reply"]) is not goes_on


def test_a_lead_with_no_english_is_not_asked_to_go_on_in_it() -> None:
    state = asyncio.run(_turns(_context(), "no hablo ingles lo siento"))

    assert state["end_call"] and "Una persona de Bayside Realty le va a llamar" in state["reply"]


def test_a_seller_going_it_alone_up_front_hears_one_offer_then_is_taken_at_their_word() -> None:
    offered = asyncio.run(_turns(_context(), "we figured we'd sell the place ourselves this time"))
    assert "free valuation" in offered["reply"] and not offered["end_call"]
    assert offered["pending"] == "timeline"

    later = asyncio.run(_turns(_context(), "sure", "selling", "in the spring", "honestly we're doing it by owner"))
    assert later["end_call"] and "free valuation" not in later["reply"]


def test_leave_to_go_on_answers_the_opt_out_check_with_a_no() -> None:
    state = asyncio.run(_turns(_context(), "is this a robot calling me", "ok whatever, keep going"))

    assert not state["end_call"] and not state.get("dnc")
    assert "buying, selling, or both" in state["reply"]


def test_a_callback_asked_for_by_season_is_booked_on_its_first_weekday() -> None:
    context = _context(clock=lambda: NOW, lead_timezone="America/Los_Angeles")
    state = asyncio.run(_turns(context, "not really right now", "yeah try me in the summer"))

    assert state["end_call"] and state["outcome"] == "callback"
    assert state["callback_at"].startswith("2027-06-01T10:00")


@pytest.mark.parametrize("yes", ["yeah", "yes please", "mhm"])
def test_yes_to_the_opt_out_check_opts_out_whatever_question_was_open(yes: str) -> None:
    # Asked "are you working with an agent?", the lead's maybe-opt-out is checked; "yeah" answers the check,
    # not the agent question.
    lines = ("sure", "selling", "in the spring", "too big for us now", "no idea")
    state = asyncio.run(_turns(_context(), *lines, "you people have called me like four times this week", yes))

    assert state["end_call"] and state.get("dnc")
    assert state["outcome"] == "opted_out"


def test_naming_the_business_back_is_heard_and_the_question_asked_again() -> None:
    state = asyncio.run(_turns(_context(), "yeah", "oh bayside, my sister used them a few years back"))

    assert "catch that" not in state["reply"] and "missed that" not in state["reply"]
    assert "buying a home, selling one, or both" in state["reply"]


def test_a_no_that_is_only_the_timing_goes_straight_to_when_to_call_back() -> None:
    lines = ("sure", "buying", "we'd love to someday, its just not the right time with the new job")
    state = asyncio.run(_turns(_context(), *lines))

    assert not state["end_call"] and state["pending"] == "callback_time"
    assert "When would be a better time to call you back?" in state["reply"]
    assert "not the right time?" not in state["reply"]
