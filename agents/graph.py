"""The agent: one LangGraph graph that runs a call one turn at a time.

Each invocation handles one event: "start" speaks the opening, "turn" answers
what the lead just said, "finish" runs the post-call analysis. Each role is a
node:

    START -> conversation (opening) ------------------------------> guard -> END
    START -> understand -> opt_out --------------------------------> guard
                        -> objection -> qualification | scheduling -> guard
                        -> qualification -> scheduling ------------> guard
                        -> scheduling -----------------------------> guard
    START -> analytics -> END

Understanding is deterministic (agents.nlu) and every reply starts as a
template, so a turn never waits on the LLM unless LLM_REPHRASE is on; `guard`
checks every reply before it is spoken.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import json
import logging
import re
from typing import Any, Literal, cast

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from agents import prompts, tools
from agents.context import AgentContext
from agents.guardrails import GuardFacts, check_reply, summary_problems
from agents.llm import LLMError
from agents.nlu import (
    SLOT_NAMES,
    UNSURE,
    Slot,
    Understanding,
    about_timing,
    months_to_call_back,
    names_a_side_only,
    no_left_open,
    no_time_to_give,
    read_slot,
    refuses_outright,
    says_not_the_time,
    slot_from_llm,
    some_other_time,
    speaks_some_english,
    understand,
)
from agents.scheduling import callback_time, decide, pick_offers, reachable, search_window
from agents.scoring import score_slots
from agents.selectors import OpenSlot
from agents.services import ConversationRecord
from agents.state import ConversationState
from agents.text import normalize, price_text
from agents.when import When
from common.zones import format_in_zone

logger = logging.getLogger(__name__)

# Acts handled beside the script: questions from the answer bank, and the person on the line not being the lead.
SIDE_ACTS = frozenset(
    {*prompts.ANSWERS, "hold_on", "text_me", "not_the_lead_available", "child", "non_english", "goodbye"}
)
# Parts of a reply the LLM may never reword: the disclosure, facts and confirmations.
FIXED_KINDS = frozenset({"compliance", "fact"})
_HOME = re.compile(r"\b(house|home|place|condo|townhouse|property|apartment|ours|one)\b")
# "I'd have to sell this one first. Oh dear, so I'm selling too": the other side said in so many words.
_BOTH_SIDES = re.compile(r"\b(selling|sell|buying|buy) (\w+ )?(too|as well)\b|\balso (selling|buying|sell|buy)\b")
# Money declined as a whole ("money, loans, all of that, I'll go over in person") puts financing aside too.
_MONEY_TALK = re.compile(r"\b(loan|loans|financing|mortgage|lender|all (of )?that|money stuff)\b")


def _part(text: str, kind: str = "question", fixed: str = "") -> dict[str, str]:
    """Return one piece of a reply; a compliance piece carries the fixed text the guard says if it fails."""
    part = {"text": text, "kind": kind}
    if fixed:
        part["fixed"] = fixed
    return part


def _names(ctx: AgentContext) -> dict[str, str]:
    return prompts.spoken_names(
        first_name=ctx.lead_first_name, agent_name=ctx.agent_name, business_name=ctx.business_name
    )


def _fmt(ctx: AgentContext, template: str, **extra: Any) -> str:
    names = _names(ctx)
    values = {
        "agent_name": names["agent_name"],
        "business_name": names["business_name"],
        "call_purpose": ctx.call_purpose,
        "callback": prompts.spoken_phone(ctx.callback_number),
        "name": f", {names['first_name']}" if names["first_name"] else "",
        **extra,
    }
    return template.format(**values)


def _compliance(ctx: AgentContext, template: str, fixed: str) -> dict[str, str]:
    # A campaign saved before its names were checked may have none left to speak; the fixed line still discloses.
    names = _names(ctx)
    text = _fmt(ctx, template) if names["agent_name"] and names["business_name"] else fixed
    return _part(text, "compliance", fixed=fixed)


def _last_lead_text(state: ConversationState) -> str:
    for message in reversed(state.messages):
        if isinstance(message, HumanMessage):
            return str(message.content)
    return ""


def _lead_texts(state: ConversationState) -> list[str]:
    return [str(m.content) for m in state.messages if isinstance(m, HumanMessage)]


# --- opening ---------------------------------------------------------------------------------------------------------


async def conversation(state: ConversationState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Speak the templated opening: who is calling, that it is an AI, why, and how to opt out."""
    ctx = runtime.context
    first_name = _names(ctx)["first_name"]
    part = _compliance(
        ctx, prompts.OPENING.replace("{name}", f" {first_name}" if first_name else ""), prompts.OPENING_FIXED
    )
    if ctx.announce_recording:
        for key in ("text", "fixed"):
            first, _, rest = part[key].partition(". ")
            part[key] = f"{first}. {prompts.RECORDING_NOTICE}{rest}"
    return {"stage": "opening", "pending": "permission", "reply_parts": [part], "end_call": False}


# --- understanding ---------------------------------------------------------------------------------------------------


async def understand_turn(state: ConversationState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Read the lead's words, merge the slots (and any checked LLM candidates) and rescore."""
    # The classifiers and the sentence encoder take tens of milliseconds of CPU: off the event loop, the
    # other calls' audio keeps flowing meanwhile.
    return await asyncio.to_thread(_understood, state, runtime.context)


# "Fine, go on" to "take your number off our list?" is leave to carry on talking, not a yes to the list.
# "Oh the open house, yeah, I did sign that thing, okay fine": the lead places us and lets the call go on.
_GO_ON = re.compile(
    r"\b(go on|keep going|carry on|continue|what (were|was) you saying|i (do |did )?remember|that was me|"
    r"i (did )?sign(ed)? (up|in|that|it|the)|i (guess |think )?i did (go|sign|fill|register|ask|put)|"
    r"(ok|okay|alright) fine( then| quick| real quick| make it quick)?$)"
)


def _understood(state: ConversationState, ctx: AgentContext) -> dict[str, Any]:
    now = ctx.now()
    checking = state.pending == "opt_out_check"
    pending = state.pending_before if checking else state.pending
    # The check is a question of its own: "yeah" to "take your number off our list?", asked while "are you
    # working with an agent?" was open, answers the check, and says nothing of an agent.
    nlu = understand(
        _last_lead_text(state),
        pending=None if checking else pending,
        stage=state.stage,
        now=now,
        address_on_file=ctx.lead_address,
    )
    if not checking:
        _late_answer(state, nlu, now=now)
    go_on = _GO_ON.search(nlu.text) or nlu.goes_ahead
    if checking and ((nlu.answer is True and not nlu.slots and not go_on) or nlu.opt_out_unsure):
        # "Yes" to "take you off our list?", or another maybe: the lead wants off the list. "Ok, I mean we
        # might sell" answers something else.
        nlu.opt_out, nlu.opt_out_unsure = True, False
    if state.asked.get("english") and pending == "permission" and (nlu.answer is True or nlu.slots):
        # "Ok ok, a little English is ok, we want buy a house": yes to going on in English, however it is said.
        nlu.acts = [act for act in nlu.acts if act != "non_english"]
    answered = sum(1 for s in state.slots.values() if s.get("source") != "llm")
    if "child" in nlu.acts and answered >= 2:
        # Whoever has answered our questions is no child: "my grandma left me some money, so cash".
        nlu.acts = [act for act in nlu.acts if act != "child"]
    if "not_the_lead_available" in nlu.acts and answered and pending in nlu.slots:
        # "Not before spring, he won't move in the cold" answers the question about the lead's own move: the
        # husband it speaks of is no sign that someone else has the phone.
        nlu.acts = [act for act in nlu.acts if act != "not_the_lead_available"]
    if _the_lead_speaks(nlu.text, ctx.lead_first_name):
        # "Hang on, she's right here. Babe, phone! Hi, this is Jane": whoever answered has handed the phone over.
        nlu.acts = [act for act in nlu.acts if act not in {"not_the_lead_available", "child", "hold_on"}]
        nlu.objections = [o for o in nlu.objections if o != "call_later"]
    if _puts_off(nlu, pending=pending):
        nlu.objections.append("call_later")
    if state.follow_up == "email" and nlu.email and not nlu.slots and "email_me" not in nlu.objections:
        # "Yeah it's r dot garcia 61 at hotmail dot com", once an e-mail was promised: where to send it, which is
        # what this lead wanted from the call.
        nlu.objections.append("email_me")
    if not checking and _places_us(nlu, ctx.business_name):
        # "Oh Bayside, ok, that's Dana's company, I met her at a party": the lead knows who is calling, and the
        # question still stands. Nothing was missed, so the agent doesn't say it didn't catch that.
        nlu.goes_ahead = True
    if "sells_themselves" in nlu.objections:
        if pending in {"permission", "intent"} and not state.asked.get("sells_themselves"):
            # Said up front, before the lead has heard what an agent does for a seller on their own: that is
            # offered once (the objection node), and the questions go on. Said later, it is their answer.
            nlu.objections = [o for o in nlu.objections if o != "not_interested"]
        else:
            nlu.objections.remove("sells_themselves")
    wants_it_written = {"email_me", "text_me"} & set(nlu.acts) or "email_me" in nlu.objections
    if wants_it_written and "not_interested" in nlu.objections and not refuses_outright(nlu.text):
        # "I mostly just want you to send me listings, I don't wanna do a whole phone thing": how they want to
        # hear from us, not that they want nothing.
        nlu.objections.remove("not_interested")
    if "no_machines" in nlu.objections:
        if not state.asked.get("no_machines"):
            # The first time, the lead hears that a person can take over (the objection node); the second is a no.
            nlu.objections = [o for o in nlu.objections if o != "not_interested"]
        else:
            nlu.objections.remove("no_machines")
    agent = nlu.slots.get("has_agent")
    if agent is not None and agent.value is True and "has_agent" not in nlu.objections:
        # A lead who has an agent is theirs: the call closes politely, however the lead put it.
        nlu.objections.append("has_agent")
    slots = _merge_slots(state, nlu)
    slots, report = _merge_llm(state, slots, now)
    asked_to_meet = state.asked_to_meet or nlu.wants_meeting
    score = score_slots(slots, ctx.scoring, asked_to_meet=asked_to_meet)
    objections = [*state.objections, *(o for o in nlu.objections if o not in state.objections)]
    return {
        "nlu": nlu.as_dict(),
        "slots": slots,
        "score": score.value,
        "bucket": score.bucket,
        "factors": score.factors,
        "score_reasons": score.reasons,
        "asked_to_meet": asked_to_meet,
        "objections": objections,
        "turn": state.turn + 1,
        "reply_parts": [_part(prompts.OPT_OUT_DECLINED)] if checking and not nlu.opt_out else [],
        "resume": checking and not nlu.opt_out,
        "pending": pending,
        "llm_slots": [],
        "llm_report": report,
    }


# Words of a business's name that name no business in particular.
_GENERIC_NAME_WORDS = frozenset(
    {"real", "estate", "realty", "realtors", "homes", "home", "group", "team", "properties", "property", "the", "and"}
)


def _places_us(nlu: Understanding, business_name: str) -> bool:
    """Whether a line that answers nothing and asks nothing only says the lead knows who is calling: it names the
    business back, or remembers signing up."""
    said_more = nlu.slots or nlu.acts or nlu.objections or nlu.asks or nlu.question or nlu.when
    if said_more or nlu.opt_out or nlu.opt_out_unsure or nlu.wrong_number:
        return False
    own_words = set(normalize(business_name).split()) - _GENERIC_NAME_WORDS
    return bool(own_words & set(nlu.text.split())) or bool(_GO_ON.search(nlu.text))


def _the_lead_speaks(text: str, first_name: str) -> bool:
    """Whether the line ends with the lead saying who they are ("hi this is jane", "jane speaking")."""
    name = normalize(first_name)
    if not name:
        return False
    said = re.search(rf"\b(this is|its|it is|im|i am) {re.escape(name)}\b|\b{re.escape(name)} (here|speaking)\b", text)
    # Only at the end: "this is Jane's husband" and "Jane's not here" name her without being her.
    return said is not None and len(text) - said.end() <= 25


# A "no" to "do you have a minute?" says no, and means later rather than never, unless it goes with
# something that says more: "no, wrong number", "no he's not here", "no english", "no, text me".
_NO_MEANS_MORE = frozenset(
    {"not_the_lead_available", "child", "non_english", "text_me", "email_me", "not_interested", "has_agent_objection"}
)


def _puts_off(nlu: Understanding, *, pending: str | None) -> bool:
    """Return whether a "no" to the opening's question puts the call off."""
    says_more = set(nlu.acts) & _NO_MEANS_MORE or nlu.objections or nlu.opt_out or nlu.wrong_number
    return pending == "permission" and nlu.answer is False and not says_more


# Slots a lead names in so many words ("selling", "cash", "no agent"). A reason to move is told in passing as
# often as in answer ("we got an inheritance" pays for the house; it is not why they move), so a later mention
# doesn't replace the model's reading of the answer to "why are you moving?".
_SAID_OUTRIGHT = frozenset({"intent", "financing", "has_agent"})


def _late_answer(state: ConversationState, nlu: Understanding, *, now: dt.datetime) -> None:
    """Read a line that says nothing to the question asked as the answer to one asked before and left open.

    "Ok fair enough, maybe like six hundred then", said once the price was let go and the agent has moved on
    to the agent question, answers the price: a bare figure is read as a price only where one was asked for.
    """
    guessed_only = all(slot.source == "model" for slot in nlu.slots.values())
    if state.stage != "qualifying" or state.pending not in SLOT_NAMES or not guessed_only or nlu.acts or nlu.asks:
        return
    if nlu.opt_out or nlu.objections:
        return
    earlier = [s for s in (*reversed(state.skipped), *state.asked) if s in SLOT_NAMES and s != state.pending]
    for name in dict.fromkeys(earlier):
        if name in state.slots or name == "address":
            continue
        late = read_slot(_last_lead_text(state), name, now=now)
        if late is not None:
            # Read in so many words as the earlier answer, it beats the model's guess at the current one.
            nlu.slots.clear()
            nlu.slots[name] = late
            return


def _merge_slots(state: ConversationState, nlu: Understanding) -> dict[str, dict[str, Any]]:
    slots = dict(state.slots)
    for name, slot in nlu.slots.items():
        old = slots.get(name)
        if old is not None and old.get("value") == slot.value and old.get("source") == slot.source:
            continue  # Said again: nothing new to take, or to thank the lead for.
        guessed = old is not None and old.get("source") == "model" and name in _SAID_OUTRIGHT
        if old is not None and guessed and slot.source == "nlu" and old["value"] != slot.value:
            # "Oh ok bay side, yeah sure" was heard as buying by the model alone; "uh selling maybe in a couple
            # months" says the side in so many words, and words beat a guess.
            slots[name] = {**slot.as_dict(), "turn": state.turn + 1}
            continue
        both = name == "intent" and old is not None and {old["value"], slot.value} == {"buy", "sell"}
        if both and (names_a_side_only(nlu.text) or _takes_back(nlu.text, slot.evidence)):
            # "Selling", said alone after "buying" was heard, or "wait no, I meant buying", puts right what was heard.
            slots[name] = {**slot.as_dict(), "turn": state.turn + 1}
            continue
        pays_for_it = state.pending == "financing" or not _HOME.search(nlu.text)
        if both and state.pending != "intent" and pays_for_it and not _BOTH_SIDES.search(nlu.text):
            # "Cash, I'm selling my business" or "cash, we're selling our house back east" pays for the purchase;
            # it puts no home on this market.
            continue
        if both and old is not None:
            slots[name] = {"value": "both", "evidence": f"{old['evidence']} ... {slot.evidence}", "source": "nlu"}
        elif (
            name == "intent"
            and slot.value == "both"
            and slot.source != "model"
            and old is not None
            and old["value"] in {"buy", "sell"}
        ):
            # "Both, we're selling ours and buying in marin" says more than the side heard before.
            slots[name] = {**slot.as_dict(), "turn": state.turn + 1}
        elif (
            old is None
            or old.get("source") == "llm"
            or state.pending in {name, "address_fix"}
            or _firmer(old, slot)
            or _corrects(nlu.text, slot.evidence)
        ):
            slots[name] = {**slot.as_dict(), "turn": state.turn + 1}
    return slots


# "Oh wait sorry, I meant five fifty": the lead puts right an answer given before, whatever was asked since.
_CORRECTION = re.compile(
    r"\b(i meant|i mean|actually|sorry|scratch that|correction|make that|wait no|no wait|or rather|more like|"
    r"let me correct|i misspoke|i said \w+(?: \w+)? but)\b"
)


# "Wait no, I meant buying": the side said before was wrong, not half of "both".
_SIDE_TAKEN_BACK = re.compile(r"\b(i meant|meant to say|wait no|no wait|scratch that|i misspoke|correction)\b")


def _takes_back(text: str, evidence: str) -> bool:
    """Whether the lead takes back what they said before, ahead of the words a slot was read from."""
    return _said_ahead(_SIDE_TAKEN_BACK, text, evidence)


def _corrects(text: str, evidence: str) -> bool:
    """Whether the lead corrects themselves ahead of the words a slot was read from."""
    return _said_ahead(_CORRECTION, text, evidence)


def _said_ahead(pattern: re.Pattern[str], text: str, evidence: str) -> bool:
    at = f" {text} ".find(f" {normalize(evidence)} ") if evidence else -1
    return at > 0 and bool(pattern.search(text[:at]))


def _firmer(old: dict[str, Any], new: Slot) -> bool:
    """Whether a vague answer gives way to a definite one said later ("depends on the market" ... "spring then")."""
    was, value = old.get("value"), new.value
    if was == "unsure":
        return isinstance(value, int | float)
    if new.name != "motivation":
        return False
    # "Just browsing" says why as little as "other" does: "it'd be our first place", said later, says more.
    if was in ("other", "curious") and value not in (None, "other", "unsure", "curious"):
        return True
    # "Something bigger", then "third kid on the way"; "something of our own", then "we just relocated for work":
    # what the lead wants gives way to why they move, when they say why later.
    return was in _WHAT_THEY_WANT and value in _WHY_THEY_MOVE


_WHAT_THEY_WANT = frozenset({"upgrade", "first_home"})
_WHY_THEY_MOVE = frozenset({"relocation", "growing_family", "financial"})


def _merge_llm(
    state: ConversationState, slots: dict[str, dict[str, Any]], now: dt.datetime
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Add the LLM's slot candidates that quote the lead and fill a slot the patterns left empty."""
    report = dict(state.llm_report)
    for item in state.llm_slots:
        slot = slot_from_llm(item, utterance=str(item.get("utterance", "")), now=now)
        if slot is None:
            report["rejected"] = report.get("rejected", 0) + 1
        elif slot.name in slots:
            report["redundant"] = report.get("redundant", 0) + 1
        else:
            slots = {**slots, slot.name: {**slot.as_dict(), "turn": item.get("turn", state.turn)}}
            report["accepted"] = report.get("accepted", 0) + 1
    return slots, report


_ENDS_WITH_NO = re.compile(r"\b(so )?(no thanks|no thank you|not interested|ill pass|im good|were good)\W*$")


def route_turn(state: ConversationState) -> Literal["opt_out", "objection", "scheduling", "qualification"]:
    nlu = state.nlu
    # A lead saying goodbye can't answer "take you off our list?": a maybe is left to the rest of the line.
    unsure = nlu.get("opt_out_unsure") and "goodbye" not in nlu.get("acts", [])
    if nlu.get("opt_out") or nlu.get("wrong_number") or unsure:
        return "opt_out"
    other_objections = [o for o in nlu.get("objections", []) if o != "call_later"]
    if state.stage == "callback":
        side = set(nlu.get("acts", [])) & (SIDE_ACTS - {"not_the_lead_available"})
        return "objection" if other_objections or nlu.get("asks") or side else "scheduling"
    if state.stage == "email" or state.pending == "not_interested_probe":
        return "objection"
    # Once the questions are answered, "no thanks" or "I'm good" to the offered times turns down the meeting.
    asking = bool(set(nlu.get("acts", [])) & set(prompts.ANSWERS)) and bool(nlu.get("question"))
    # "Not now" to the offered times, with no other time named, turns the meeting down for now.
    later = "call_later" in nlu.get("objections", []) and state.stage == "scheduling" and bool(state.offered)
    # "...then it's not really free is it. So no thanks": the question was rhetorical; the no is the answer.
    decided = bool(_ENDS_WITH_NO.search(nlu.get("text", "")))
    declines = (
        (nlu.get("declines_meeting") or "not_interested" in other_objections or later)
        and set(other_objections) <= {"not_interested"}
        and (decided or (not nlu.get("asks") and not asking))  # "is meeting her gonna cost me" asks first
        and not _names_time(nlu)  # "not this week" moves the meeting; it doesn't refuse it
    )
    if state.stage == "scheduling" and declines:
        return "scheduling"  # "no thanks" to a meeting turns down the meeting, not the lead's plans
    side = set(nlu.get("acts", [])) & SIDE_ACTS
    if state.stage == "scheduling" and _names_time(nlu):
        side.discard("hold_on")  # "the second one" to two offered times is an answer, not "one second"
    if _names_time(nlu) and (state.stage == "scheduling" or nlu.get("wants_meeting")):
        # "Thursday at three works, bye": the time is booked, then the goodbye said; "ok the eighth at 2
        # then" asks nothing, whatever the classifier makes of "then".
        side = {a for a in side if a not in prompts.ANSWERS or nlu.get("question")}
        if _bookable(nlu):
            side.discard("goodbye")  # "maybe tomorrow i guess, gotta run, bye" names no time to book: it's a goodbye
        side.discard("text_me")  # "Wednesday at two works, can you text me a confirmation": book it first
        side.discard("not_the_lead_available")  # "today at four if she's free": she is the agent
    if nlu.get("objections") or nlu.get("asks") or side:
        return "objection"
    if state.stage == "scheduling":
        return "scheduling"
    return "qualification"


# --- opt-out ---------------------------------------------------------------------------------------------------------


async def opt_out(state: ConversationState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Put the number on the do-not-call list and say goodbye, in this same turn; ask first when unsure."""
    ctx = runtime.context
    if not (state.nlu.get("opt_out") or state.nlu.get("wrong_number")):
        # "Is this a robot calling me?" heard as a maybe: the question is answered before the lead is asked.
        return {
            "reply_parts": [*_informational(state.nlu, ctx), _part(prompts.OPT_OUT_CHECK, "compliance")],
            "pending": "opt_out_check",
            "pending_before": state.pending,
        }
    wrong = bool(state.nlu.get("wrong_number")) and not state.nlu.get("opt_out")
    reason = "wrong number" if wrong else f"asked on a call: {state.nlu.get('text', '')[:200]}"
    errors = list(state.errors)
    try:
        await tools.add_to_do_not_call.ainvoke({"phone": ctx.lead_phone, "reason": reason})
    except Exception:
        # The goodbye is still said; finish() retries the write, and logs loudly if it fails again.
        logger.exception("could not add the number to the do-not-call list", extra={"call": ctx.call_id})
        errors.append(f"dnc:{reason}")
    part = (
        _part(prompts.WRONG_NUMBER, "compliance")
        if wrong
        else _compliance(ctx, prompts.OPT_OUT_CONFIRM, prompts.OPT_OUT_CONFIRM_FIXED)
    )
    return {
        "dnc": True,
        "errors": errors,
        "outcome": "wrong_number" if wrong else "opted_out",
        "end_call": True,
        "pending": None,
        "reply_parts": [part],
    }


# --- objections ------------------------------------------------------------------------------------------------------


async def objection(state: ConversationState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Answer objections and side questions honestly; end, ask a follow-up, or hand back to resume."""
    ctx = runtime.context
    nlu = state.nlu
    if state.stage == "email":
        return _email_capture(state, ctx)
    parts = _informational(
        nlu,
        ctx,
        answered=str(state.pending) in nlu.get("slots", {}),
        scheduling=state.stage == "scheduling",
        told_source=bool(state.asked.get("how_got_number")),
    )
    found, acts = nlu.get("objections", []), set(nlu.get("acts", []))
    update: dict[str, Any] = {}
    if acts & {"non_english", "child", "not_the_lead_available"}:
        update = await _not_the_lead(state, ctx, acts)
    elif "call_later" in found and "has_agent" not in found and _names_time(nlu) and "text_me" not in acts:
        # "No meeting yet, I wanna get the condo listed first. Call me next monday at nine": whatever was turned
        # down, the lead named when to call, and that call is booked.
        update = await _call_later(state, ctx)
    elif (
        ({"has_agent", "not_interested"} & set(found) and state.stage == "scheduling" and state.offered)
        or (
            "not_interested" in found
            and "has_agent" not in found
            and state.pending in {"address", "address_fix"}
            and _all_answered(state)
        )
        or ("meeting_refused" in found and "has_agent" not in found and "intent" in state.slots)
    ):
        # Qualified, then offered a meeting or about to be, and turned it down ("nah we have someone, thanks",
        # "we're good for now, we'll reach out" while the address is checked): what the lead told us stands, and
        # the outcome says they qualified, not that they wanted nothing. A no that answers one of the questions
        # ("no, we're selling it ourselves, no thanks") is still a no. So is a meeting turned down before it is
        # offered by a lead who has said what they plan ("no meeting yet, too early").
        update = _close(ctx, prompts.DECLINED_MEETING, "qualified")
    elif "has_agent" in found:
        update = _close(ctx, prompts.HAS_AGENT_CLOSE, "not_interested")
    elif state.pending == "not_interested_probe" and "call_later" in found and _names_time(nlu):
        # "We'll move eventually, just not now. Call me back tuesday the eighth at two": the time is the answer.
        update = await _call_later(state, ctx)
    elif {"not_interested", "meeting_refused"} & set(found) or state.pending == "not_interested_probe":
        update = _not_interested(state, ctx)
    elif "sells_themselves" in found:
        parts.append(_part(prompts.SELLS_THEMSELVES))
        update = {"asked": {**state.asked, "sells_themselves": 1}}
    elif "no_machines" in found:
        if "robot" not in nlu.get("asks", []):
            parts.append(_compliance(ctx, prompts.ROBOT, prompts.ROBOT_FIXED))
            if ctx.callback_number:
                parts.append(_part(_fmt(ctx, prompts.ROBOT_HUMAN_OPTION), "fact"))
        parts.append(_part(prompts.NO_MACHINES, "fact"))
        update = {"asked": {**state.asked, "no_machines": 1}}
    elif (
        "text_me" in acts
        and (
            ((_engaged(state) or _well_along(state)) and state.stage != "scheduling")
            or (state.stage == "scheduling" and not _puts_the_meeting_off(nlu))
        )
        and not nlu.get("leaving")
        and "call_later" not in found
    ):
        # "Yes that's right. Oh, and can you text me instead of calling": a preference for later, not a goodbye.
        parts.append(_part(prompts.TEXT_NOTED))
        update = {"follow_up": "text"}
    elif "text_me" in acts:
        # "Text me instead, I'm at work": the text is what they asked for; the call-later is why.
        update = _close(ctx, prompts.TEXT_FOLLOW_UP, _follow_up_outcome(state))
        update["follow_up"] = "text"
    elif "call_later" in found:
        update = await _call_later(state, ctx)
    elif "email_me" in found and _email_first(state, ctx):
        # "Can you just send me an email?" before a single question: the e-mail is promised, and one question
        # makes it the right one. A lead who still wants nothing more is let go on the next turn.
        parts.append(_part(_fmt(ctx, prompts.EMAIL_ON_FILE_ONE_QUESTION)))
        update = {"follow_up": "email"}
    elif "email_me" in found and _well_along(state) and (nlu.get("email") or ctx.lead_email):
        # "Before that, can you email me all this? it's j a n e...": the e-mail is noted, and the questions,
        # almost done, go on.
        email = nlu.get("email") or ""
        said = (
            _fmt(ctx, prompts.EMAIL_NOTED, email=_spoken_email(email))
            if email
            else _fmt(ctx, prompts.EMAIL_ON_FILE_NOTED)
        )
        parts.append(_part(said))
        update = {"follow_up": "email", **({"email": email} if email else {})}
    elif "email_me" in found:
        update = _email_me(state, ctx)
    elif "goodbye" in acts:
        update = await _goodbye(state, ctx)
    elif acts & {"hold_on"} and not parts:
        # The lead is still there and the question still stands: wait for the answer, ask nothing new. An answer
        # given before "hold on, my other line" leaves the next question for when the lead is back.
        answered = str(state.pending) in nlu.get("slots", {})
        return {"reply_parts": [*state.reply_parts, _part(prompts.HOLD_ON)], **({"pending": None} if answered else {})}
    if any(p.get("topic") == "ask_home_value" for p in parts) and _seller_without_price(state):
        # A seller asking what the home is worth doesn't know; the valuation will say, so the price isn't asked.
        update.setdefault("skipped", [*state.skipped, "price"])
    if "how_got_number" in found:
        asked = update.get("asked", state.asked)
        update["asked"] = {**asked, "how_got_number": asked.get("how_got_number", 0) + 1}
    if update.keys() - _CARRY_ON:
        update["reply_parts"] = [*state.reply_parts, *parts, *update.get("reply_parts", [])]
        return update
    return {**update, "reply_parts": [*state.reply_parts, *parts], "resume": True}


# Questions a yes can't answer: "ok, I'll answer a couple" to one of them lets the agent go on.
_OPEN_QUESTIONS = frozenset({"intent", "timeline", "motivation", "price"})
# What an objection turn may change while the call goes back to where it was.
_CARRY_ON = frozenset({"skipped", "follow_up", "asked", "email"})


def _well_along(state: ConversationState) -> bool:
    """Whether the lead has answered most of the questions and is not leaving: a wish to be texted or e-mailed
    then says how to follow up, not that the call is over."""
    nlu = state.nlu
    leaving = nlu.get("leaving") or "goodbye" in nlu.get("acts", []) or "call_later" in nlu.get("objections", [])
    # "I don't wanna meet anybody, just text me some listings" wants the texts instead of the rest.
    refusing = (
        nlu.get("declines_meeting")
        or "not_interested" in nlu.get("objections", [])
        or _DEFERS.search(nlu.get("text", ""))
    )
    return state.stage == "qualifying" and len(state.slots) >= 3 and not leaving and not refusing


def _engaged(state: ConversationState) -> bool:
    """Whether this turn also answered something: the lead is talking with us, not getting off the phone."""
    nlu = state.nlu
    if nlu.get("declines_meeting") or "not_interested" in nlu.get("objections", []):
        return False
    # A reason the model could not place ("other") is no sign the lead is answering.
    told = any(s.get("turn") == state.turn and s.get("value") != "other" for s in state.slots.values())
    return nlu.get("answer") is True or told


def _seller_without_price(state: ConversationState) -> bool:
    intent = state.slots.get("intent", {}).get("value")
    return intent == "sell" and "price" not in state.slots and "price" not in state.skipped


def _informational(
    nlu: dict[str, Any],
    ctx: AgentContext,
    *,
    answered: bool = False,
    scheduling: bool = False,
    told_source: bool = False,
) -> list[dict[str, str]]:
    parts = []
    asks, found = nlu.get("asks", []), nlu.get("objections", [])
    if "robot" in asks:
        parts.append(_compliance(ctx, prompts.ROBOT, prompts.ROBOT_FIXED))
        if ctx.callback_number:
            parts.append(_part(_fmt(ctx, prompts.ROBOT_HUMAN_OPTION), "fact"))
    if "whom" in asks:
        if "who" not in asks and "robot" not in asks:
            parts.append(_compliance(ctx, prompts.WHO, prompts.WHO_FIXED))
        whom = prompts.WHOM if _names(ctx)["first_name"] else prompts.WHOM_UNNAMED
        parts.append(_part(_fmt(ctx, whom, first_name=_names(ctx)["first_name"]), "fact"))
    if "recorded" in asks:
        parts.append(_part(prompts.RECORDED if ctx.recorded else prompts.NOT_RECORDED, "compliance"))
    if "who" in asks and "robot" not in asks:
        parts.append(_compliance(ctx, prompts.WHO, prompts.WHO_FIXED))
    if "purpose" in asks:
        parts.append(_part(_fmt(ctx, prompts.PURPOSE), "fact"))
    if "how_got_number" in found:
        if told_source:
            # Asked again: the same sentence twice would sound like a recording dodging the question.
            template = prompts.HOW_GOT_NUMBER_AGAIN if ctx.lead_source else prompts.HOW_GOT_NUMBER_AGAIN_UNKNOWN
        else:
            template = prompts.HOW_GOT_NUMBER_SOURCE if ctx.lead_source else prompts.HOW_GOT_NUMBER_UNKNOWN
        parts.append(_part(_fmt(ctx, template, source=ctx.lead_source), "fact"))
        parts.append(_part(prompts.HOW_GOT_NUMBER_TAIL, "compliance"))
    if "commission" in found:
        fair = prompts.COMMISSION_ASKED if nlu.get("question") else prompts.COMMISSION_SAID
        parts.append(_part(f"{fair} {prompts.COMMISSION}", "fact"))
    # One answer a turn, the weightiest first: a reply that answered three questions would be too long to follow.
    asked = [a for a in prompts.ANSWERS if a in nlu.get("acts", []) and not (a == "ask_cost" and "commission" in found)]
    if answered and not nlu.get("question"):
        # "Our place is worth about six hundred" answers our question; it doesn't ask what the home is worth.
        asked = []
    if {"how_got_number", "commission"} & set(found):
        # "How'd you get this number, is this a scam?": where the number came from answers both, and two
        # answers would be too long to follow.
        asked = []
    if asked:
        topic = asked[0]
        if topic == "ask_next_steps" and scheduling and not ctx.answers.get(topic, "").strip():
            # Asked while choosing a time: what the meeting is, not that questions come first.
            parts.append({**_part(prompts.NEXT_STEPS_MEETING, "fact"), "topic": topic})
        else:
            parts.append(_answer(ctx, topic))
    return parts


def _answer(ctx: AgentContext, topic: str) -> dict[str, str]:
    """The campaign's answer to a question asked in passing, or the default; the default if the guard refuses it."""
    default = _fmt(ctx, prompts.ANSWERS[topic])
    custom = ctx.answers.get(topic, "").strip()
    if not custom:
        return {**_part(default, "fact"), "topic": topic}
    try:
        text = _fmt(ctx, custom)
    except (KeyError, IndexError, ValueError):
        logger.error("a campaign answer has a placeholder we can't fill", extra={"call": ctx.call_id, "topic": topic})
        text = default
    return {**_part(text, "fact", fixed=default), "topic": topic}


async def _not_the_lead(state: ConversationState, ctx: AgentContext, acts: set[str]) -> dict[str, Any]:
    """Someone other than the lead answered: don't qualify them; end kindly, or learn when to try again."""
    if "non_english" in acts and speaks_some_english(state.nlu.get("text", "")) and not state.asked.get("english"):
        # "No hablo mucho inglés": some English. Ask once whether it will do, before handing the call to a person.
        ask = _part(_fmt(ctx, prompts.ENGLISH_OK_ASK), "compliance")
        asked = {**state.asked, "english": 1}
        return {"reply_parts": [ask], "stage": "opening", "pending": "permission", "asked": asked}
    if "non_english" in acts:
        update = _close(ctx, prompts.NON_ENGLISH, "callback")
        update["follow_up"] = "other language"
        update["human_follow_up"] = "Doesn't speak English: a person should call back"
        return update
    when = _when(state.nlu)
    # "She's not well enough for calls today" rules a day out; it doesn't say when she can talk.
    at = callback_time(when, now=ctx.now()) if when is not None and not _only_rules_out(when) else None
    if "child" in acts:
        # "Mom's in the shower, give her half an hour": the child is not asked anything, but a time they name is kept.
        return await _book_callback(state, ctx, at, prompts.CHILD) if at else _close(ctx, prompts.CHILD, "callback")
    if at is not None:
        return await _book_callback(state, ctx, at, prompts.NOT_AVAILABLE_LATER)
    if "call_later" in state.nlu.get("objections", []):
        # "She's out, call back later": they have said when, as far as they know; asking again would press them.
        return await _book_callback(state, ctx, _tomorrow_morning(ctx.now()), prompts.NOT_AVAILABLE_LATER)
    return {"reply_parts": [_part(prompts.NOT_AVAILABLE)], "stage": "callback", "pending": "reach_time"}


def _close(
    ctx: AgentContext, template: str, outcome: str, *, before: list[dict[str, str]] | None = None, **extra: Any
) -> dict[str, Any]:
    """End the call with a templated goodbye after the parts already said this turn."""
    return {
        "reply_parts": [*(before or []), _part(_fmt(ctx, template, **extra), "fact")],
        "outcome": outcome,
        "end_call": True,
        "pending": None,
    }


def _tomorrow_morning(now: dt.datetime) -> dt.datetime:
    """When to try a lead again who didn't say when: 10 AM tomorrow, their time."""
    return dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(10), tzinfo=now.tzinfo)


def _months_out(nlu: dict[str, Any], now: dt.datetime) -> dt.datetime | None:
    """When to call back a lead who named only a month, a season or a number of months ("call me in the
    spring"): 10 AM on the first weekday of that month, or that many months from today."""
    slot = months_to_call_back(str(nlu.get("text", "")), now=now)
    if slot is None or not isinstance(slot.value, int) or slot.value < 1:
        return None
    months, evidence = slot.value, slot.evidence
    if not _LATER_ON.match(evidence):
        return None  # "It's a bad time, it's thanksgiving week" says why not now, not when.
    year, month = divmod(now.month - 1 + months, 12)
    if _NAMED_MONTH.search(evidence):
        day = dt.date(now.year + year, month + 1, 1)
    else:
        last = calendar.monthrange(now.year + year, month + 1)[1]
        day = dt.date(now.year + year, month + 1, min(now.day, last))
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(10), tzinfo=now.tzinfo)


_LATER_ON = re.compile(r"(in|after|by|around|come|early|late|end of|beginning of|next|this|within|mid|middle)\b")
_NAMED_MONTH = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december|spring|summer|"
    r"fall|autumn|winter|year|christmas|thanksgiving|easter|holidays)\b"
)


def _only_rules_out(when: When) -> bool:
    return when.not_before is not None and when == When(not_before=when.not_before)


def _when(nlu: dict[str, Any]) -> When | None:
    """The time the lead's line names, as the understand node stored it; None when it names none."""
    return When.from_dict(nlu["when"]) if nlu.get("when") else None


def _bookable(nlu: dict[str, Any]) -> bool:
    """Whether the time named is one to book: an hour, or a pick among the times offered."""
    when = _when(nlu)
    if when is None:
        return False
    # "Sure, thursday afternoon works": agreeing to a part of a day books its first open time.
    agreed_window = nlu.get("answer") is True and when.day is not None and when.earliest_hour is not None
    return when.hour is not None or when.choice is not None or when.any_choice or agreed_window


def _names_time(nlu: dict[str, Any]) -> bool:
    when = _when(nlu)
    return when is not None and not when.is_empty()


async def _goodbye(state: ConversationState, ctx: AgentContext) -> dict[str, Any]:
    """The lead is leaving: let them go politely, and record what the call came to."""
    if state.stage == "scheduling" or _next_slot(state, state.slots, list(state.skipped)) is None:
        return _close(ctx, prompts.GOODBYE_QUALIFIED, "qualified")
    # Leaving halfway through the questions is no "no": try again another day.
    return await _book_callback(state, ctx, _tomorrow_morning(ctx.now()), prompts.GOODBYE_EARLY)


def _not_interested(state: ConversationState, ctx: AgentContext) -> dict[str, Any]:
    text = state.nlu.get("text", "")
    if state.pending != "not_interested_probe" and "already_sold" in state.nlu.get("objections", []):
        return {"reply_parts": [_part(prompts.SOLD_PROBE)], "pending": "not_interested_probe"}
    # "It's just not the right time" answers the probe with the timing, not with a no.
    only_the_time = says_not_the_time(text) and not refuses_outright(text)
    if state.pending != "not_interested_probe":
        if only_the_time:
            # "We'd like to move eventually, it's just not the right time" has answered the probe already.
            return {"reply_parts": [_part(prompts.CALLBACK_ASK)], "stage": "callback", "pending": "callback_time"}
        # A plain no is taken at its word; only a no about timing ("not right now") or a hedged one ("not
        # really interested") is asked about.
        if no_left_open(text):
            return {"reply_parts": [_part(prompts.NOT_INTERESTED_PROBE)], "pending": "not_interested_probe"}
        return _close(ctx, prompts.NOT_INTERESTED_CLOSE, "not_interested")
    still_no = "not_interested" in state.nlu.get("objections", []) and not only_the_time
    if not still_no and state.nlu.get("slots"):
        # "Well, we have been talking about maybe selling", "it's the timing, maybe next year, we'd go smaller":
        # the lead is telling us about the move, and the questions can go on.
        return {"reply_parts": [], "resume": True, "stage": "qualifying", "pending": None}
    if not still_no and about_timing(text):
        # "just not the right time": offer to call back rather than give up on them.
        return {"reply_parts": [_part(prompts.CALLBACK_ASK)], "stage": "callback", "pending": "callback_time"}
    return _close(ctx, prompts.NOT_INTERESTED_CLOSE, "not_interested")


async def _call_later(state: ConversationState, ctx: AgentContext) -> dict[str, Any]:
    when = _when(state.nlu)
    at = callback_time(when, now=ctx.now()) or _months_out(state.nlu, ctx.now())
    if at is None and state.nlu.get("going_now"):
        # "I'm walking into a meeting, gotta go": no time to pick a time, so try them tomorrow morning. Busy
        # without going ("I'm driving, can you call later?") is asked when.
        return await _book_callback(state, ctx, _tomorrow_morning(ctx.now()), prompts.CALLBACK_DEFAULT)
    if at is None:
        return {"reply_parts": [_part(prompts.CALLBACK_ASK)], "stage": "callback", "pending": "callback_time"}
    return await _book_callback(state, ctx, at, prompts.CALLBACK_BOOKED)


async def _book_callback(state: ConversationState, ctx: AgentContext, at: dt.datetime, template: str) -> dict[str, Any]:
    errors = list(state.errors)
    if ctx.lead_id is not None:
        try:
            await tools.schedule_callback.ainvoke({"lead_id": ctx.lead_id, "at_iso": at.isoformat()})
        except Exception:
            logger.exception("could not schedule the callback", extra={"call": ctx.call_id})
            errors.append("callback")
    when = prompts.spoken_slot(at, today=ctx.now().date())
    update = _close(ctx, template, "callback", when=when)
    update.update(callback_at=at.isoformat(), errors=errors)
    return update


def _greets_only(nlu: dict[str, Any]) -> bool:
    """Whether the line only says hello: no answer, no question, nothing else heard."""
    acts = set(nlu.get("acts", []))
    return bool(nlu.get("hello_only")) and acts <= {"greeting"} and not nlu.get("slots") and nlu.get("answer") is None


def _email_first(state: ConversationState, ctx: AgentContext) -> bool:
    """Whether an e-mail asked for before any question is promised with one question, not the call's end."""
    return bool(ctx.lead_email) and state.follow_up != "email" and not state.slots and not state.nlu.get("leaving")


def _email_me(state: ConversationState, ctx: AgentContext) -> dict[str, Any]:
    email = state.nlu.get("email")
    if email:
        update = _close(ctx, prompts.EMAIL_CAPTURED, _follow_up_outcome(state), email=_spoken_email(email))
        update.update(email=email, follow_up="email")
        return update
    if state.email:
        update = _close(ctx, prompts.EMAIL_CAPTURED, _follow_up_outcome(state), email=_spoken_email(state.email))
        update["follow_up"] = "email"
        return update
    if ctx.lead_email:
        update = _close(ctx, prompts.EMAIL_ON_FILE, _follow_up_outcome(state))
        update["follow_up"] = "email"
        return update
    return {"reply_parts": [_part(prompts.EMAIL_ASK)], "stage": "email", "pending": "email"}


def _email_capture(state: ConversationState, ctx: AgentContext) -> dict[str, Any]:
    email = state.nlu.get("email")
    if email:
        update = _close(ctx, prompts.EMAIL_CAPTURED, _follow_up_outcome(state), email=_spoken_email(email))
        update.update(email=email, follow_up="email")
        return update
    asked = state.asked.get("email", 0) + 1
    if asked >= 2:
        update = _close(ctx, prompts.EMAIL_GIVE_UP, _follow_up_outcome(state))
        update["follow_up"] = "email"
        return update
    return {"reply_parts": [_part(prompts.EMAIL_REASK)], "asked": {**state.asked, "email": asked}}


def _spoken_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local.replace('.', ' dot ')} at {domain.replace('.', ' dot ')}"


def route_after_objection(state: ConversationState) -> Literal["guard", "scheduling", "qualification"]:
    if not state.resume or state.end_call:
        return "guard"
    return "scheduling" if state.stage == "scheduling" else "qualification"


# --- qualification ---------------------------------------------------------------------------------------------------


def _question_key(slot: str, state: ConversationState, ctx: AgentContext) -> str:
    intent = state.slots.get("intent", {}).get("value")
    if slot in {"motivation", "price"} and intent in {"sell", "both"}:
        return f"{slot}_sell"
    if slot == "address" and not ctx.lead_address and "address" not in state.slots:
        return "address_new"
    return slot


def _next_slot(state: ConversationState, slots: dict[str, dict[str, Any]], skipped: list[str]) -> str | None:
    for name in SLOT_NAMES:
        if name in slots or name in skipped:
            continue
        if name == "financing" and slots.get("intent", {}).get("value") == "sell":
            continue
        return name
    return None


_DEFERS = re.compile(
    r"\b(ill|i will|we will|well) (look|check|think|get back|let you know|reach out|call|pick|choose|decide)|"
    r"no meeting|"
    r"(dont|do not) (need|wanna|want) to meet\b|dont wanna meet\b|not ready to meet\b"
)


def _puts_the_meeting_off(nlu: dict[str, Any]) -> bool:
    """Whether "text me" at the offered times comes instead of the meeting: "just text me, I'll look at it"."""
    return bool(nlu.get("declines_meeting") or _DEFERS.search(nlu.get("text", "")))


def _all_answered(state: ConversationState) -> bool:
    """Whether every qualifying question is answered or put aside (the address is a check, not a question)."""
    return _next_slot(state, {**state.slots, "address": {}}, list(state.skipped)) is None


def _follow_up_outcome(state: ConversationState) -> str:
    """A qualified lead who wants the rest by text or e-mail is a qualified lead; anyone else is one to call back."""
    return "qualified" if _all_answered(state) else "callback"


def _ask(slot: str, state: ConversationState, ctx: AgentContext) -> tuple[dict[str, str], dict[str, int]]:
    times = state.asked.get(slot, 0)
    first, second = prompts.QUESTIONS[_question_key(slot, state, ctx)]
    text = (first if times == 0 else second).format(address=ctx.lead_address)
    return _part(text), {**state.asked, slot: times + 1}


async def qualification(state: ConversationState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Acknowledge what the lead told us and ask for the next missing slot; hand over to scheduling when done."""
    ctx = runtime.context
    nlu = state.nlu
    parts = list(state.reply_parts)
    skipped = list(state.skipped)
    new = [n for n, s in state.slots.items() if s.get("turn") == state.turn]
    update: dict[str, Any] = {"misses": 0}
    if state.pending == "address" and nlu.get("answer") is False and "address" not in new:
        parts.append(_part("Sorry about that. What's the correct address?"))
        return {"reply_parts": parts, "pending": "address_fix", "stage": "qualifying"}
    if new:
        parts.append(_part(_ack(new, state)))
    elif state.pending == "permission" and nlu.get("answer") is True:
        parts.append(_part("Great."))
    elif state.pending == "permission" and _greets_only(nlu) and not state.asked.get("permission"):
        # "Hello?" or "aló" over the opening: the lead didn't hear who is calling. Say it again, once.
        reintro = _part(_fmt(ctx, prompts.REINTRODUCE), "compliance")
        return {**update, "reply_parts": [*parts, reintro], "asked": {**state.asked, "permission": 1}}
    elif nlu.get("wants_meeting"):
        # Asked for an agent instead of answering the question: that is understood, not missed.
        parts.append(_part("Sure."))
    elif (
        state.pending in SLOT_NAMES
        and (nlu.get("goes_ahead") or (nlu.get("answer") is True and state.pending in _OPEN_QUESTIONS))
        and state.asked.get(str(state.pending), 0) < 2
    ):
        # "Oh ok, yeah I've got a minute", once "who is this?" was answered: the lead says go on, and the
        # question still stands. Nothing was missed; it counts as asked again all the same.
        question, asked = _ask(str(state.pending), state, ctx)
        return {**update, "reply_parts": [*parts, _part("Great."), question], "skipped": skipped, "asked": asked}
    elif state.pending in SLOT_NAMES or state.pending == "address_fix":
        pending = "address" if state.pending == "address_fix" else str(state.pending)
        # "No" to "do you have a rough idea of what it's worth?" is a don't-know.
        unsure = UNSURE.search(nlu.get("text", "")) or (pending == "price" and nlu.get("answer") is False)
        # "What areas do you guys even cover?": a question of the lead's that no answer in the bank fits.
        unanswered = bool(nlu.get("question")) and not nlu.get("slots") and not nlu.get("acts") and not unsure
        if unsure or state.asked.get(pending, 0) >= 2 or state.pending == "address_fix":
            skipped.append(pending)
            if unsure and pending == "price" and _MONEY_TALK.search(nlu.get("text", "")):
                skipped.append("financing")
            parts.append(_part("No problem." if unsure else prompts.SKIP_SLOT))
        elif not state.resume and not nlu.get("slots"):
            taken = await _llm_turn(state, ctx, parts) if ctx.llm is not None and ctx.llm_fallback else None
            if taken is not None:
                return {**update, **taken}
            if unanswered:
                parts.append(_part(prompts.QUESTION_FOR_AGENT, "fact"))
            else:
                parts.append(_part(prompts.NOT_UNDERSTOOD[state.misses % 2]))
                update["misses"] = state.misses + 1
    open_slot = state.pending if state.pending in SLOT_NAMES else None
    # Asked twice, and each time the lead told us something else, a question is not asked a third time; nor is one
    # the lead can't answer, said beside another answer ("no idea what this one's worth, and for the new one we'd
    # need a loan").
    cannot_say = bool(new) and bool(UNSURE.search(nlu.get("text", "")))
    still_open = open_slot and open_slot not in state.slots and open_slot not in skipped
    if still_open and (state.asked.get(str(open_slot), 0) >= 2 or cannot_say):
        skipped.append(str(open_slot))
    if nlu.get("wants_meeting"):
        return {**update, "reply_parts": parts, "skipped": skipped, "stage": "scheduling", "offered": []}
    slot = _next_slot(state, state.slots, skipped)
    if slot is None:
        return {**update, **_qualified(state, ctx, parts), "skipped": skipped}
    question, asked = _ask(slot, state, ctx)
    if state.resume and slot == state.pending and state.asked.get(slot, 0):
        # Asked again after answering the lead's own question: the lead didn't pass on it, so it isn't a second
        # try towards putting the question aside.
        asked = state.asked
    return {
        **update,
        "reply_parts": [*parts, question],
        "asked": asked,
        "pending": slot,
        "skipped": skipped,
        "stage": "qualifying",
    }


def _ack(new: list[str], state: ConversationState) -> str:
    for name in new:
        value = state.slots[name]["value"]
        key = (name, "corrected") if name == "address" and value.get("corrected") else (name, value)
        if isinstance(key[1], str) and key in prompts.SLOT_ACKS:
            return prompts.SLOT_ACKS[key]
    return prompts.ACKS[state.turn % len(prompts.ACKS)]


def _qualified(state: ConversationState, ctx: AgentContext, parts: list[dict[str, str]]) -> dict[str, Any]:
    # Every lead who answered is offered a meeting, however far off the move: whether it is worth an agent's
    # time is theirs to say, and a "no thanks" closes the call as qualified.
    return {"reply_parts": parts, "stage": "scheduling", "offered": [], "pending": None}


async def _hold_the_line(request: asyncio.Future[str], state: ConversationState, ctx: AgentContext) -> str:
    """Say a short filler when the LLM has not answered within ctx.filler_after_s; return it ("" when none was said).

    The embedded model on a CPU takes a second or more to choose a turn, and
    a lead who hears nothing for that long says "hello?" or hangs up.
    """
    if ctx.hold is None or ctx.filler_after_s < 0:
        return ""
    done, _ = await asyncio.wait({request}, timeout=ctx.filler_after_s)
    if done:
        return ""
    filler = prompts.FILLERS[state.turn % len(prompts.FILLERS)]
    await ctx.hold(filler)
    return filler


async def _llm_turn(state: ConversationState, ctx: AgentContext, parts: list[dict[str, str]]) -> dict[str, Any] | None:
    """Let the LLM decide a turn the rules could not read; None when it can't, and the script asks again.

    It picks the next step from a closed list, and may add one sentence, which
    the guard checks like any reply (a failing one is left out). Every line
    with legal weight (the opt-out check, closings, booking) stays a template.
    """
    assert ctx.llm is not None
    transcript = _transcript(state)
    messages = prompts.fallback_messages(
        agent_name=ctx.agent_name, business_name=ctx.business_name, transcript=transcript
    )
    # The lead is waiting: the deadline holds whether or not the backend keeps its own.
    request = asyncio.ensure_future(
        asyncio.wait_for(
            ctx.llm.complete(
                messages, timeout_s=ctx.llm_fallback_timeout_s, json_schema=prompts.FALLBACK_SCHEMA, max_tokens=80
            ),
            timeout=ctx.llm_fallback_timeout_s + 0.5,
        )
    )
    try:
        held = await _hold_the_line(request, state, ctx)
    except BaseException:
        request.cancel()
        raise
    if held:
        # Already spoken; kept first in the reply so the transcript has it (guard() leaves it out of what is said).
        parts.insert(0, _part(held, "held"))
    try:
        raw = await request
        decision = json.loads(raw)
        action, say = str(decision["action"]), str(decision.get("say") or "").strip()
    except (LLMError, TimeoutError, ValueError, KeyError, TypeError) as exc:
        logger.info("the LLM could not take the turn", extra={"call": ctx.call_id, "error": str(exc)})
        return None
    if action not in prompts.FALLBACK_ACTIONS or action == "repeat":
        return None
    report = {**state.llm_report, "fallback_turns": state.llm_report.get("fallback_turns", 0) + 1}
    logger.info("the LLM took a turn", extra={"call": ctx.call_id, "action": action})
    if action == "opt_out":
        # The LLM's reading is a maybe: the lead is asked, as for any other maybe.
        check = _part(prompts.OPT_OUT_CHECK, "compliance")
        return {"reply_parts": [*parts, check], "pending": "opt_out_check", "pending_before": state.pending,
                "llm_report": report}  # fmt: skip
    if action == "end":
        return {**_close(ctx, prompts.NOT_INTERESTED_CLOSE, "not_interested", before=parts), "llm_report": report}
    if action == "call_back":
        ask = _part(prompts.CALLBACK_ASK)
        return {"reply_parts": [*parts, ask], "stage": "callback", "pending": "callback_time", "llm_report": report}
    if action == "book":
        return {"reply_parts": [*parts, _part("Sure.")], "stage": "scheduling", "offered": [], "asked_to_meet": True,
                "llm_report": report}  # fmt: skip
    said = [_part(say, "llm")] if say else []
    slot = _next_slot(state, state.slots, list(state.skipped))
    if slot is None:
        return {**_qualified(state, ctx, [*parts, *said]), "llm_report": report}
    question, asked = _ask(slot, state, ctx)
    return {"reply_parts": [*parts, *said, question], "asked": asked, "pending": slot, "llm_report": report}


def route_after_qualification(state: ConversationState) -> Literal["scheduling", "guard"]:
    return "scheduling" if state.stage == "scheduling" and not state.offered and not state.end_call else "guard"


# --- scheduling ------------------------------------------------------------------------------------------------------


async def scheduling(state: ConversationState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Offer real open slots, understand the answer, book it and confirm it; or take a callback time."""
    ctx = runtime.context
    if state.stage == "callback":
        return await _callback_turn(state, ctx)
    now = ctx.now()
    start, end = search_window(now)
    found = await tools.find_open_slots.ainvoke({"start_iso": start.isoformat(), "end_iso": end.isoformat()})
    open_slots = reachable([OpenSlot.from_dict(s) for s in found], ctx.tz)
    parts = list(state.reply_parts)
    nlu = state.nlu
    if state.resume and state.offered and not _names_time(nlu):
        # A question answered while times are on the table ("wait, are you a bot?") offers them again; "are you
        # a bot? anyway the first one's fine" has already picked one.
        return _offer(state, ctx, parts, _offered(state))
    if not state.offered:
        asked = _when(nlu) if nlu.get("wants_meeting") else None
        if asked is None or asked.is_empty():
            return _offer(state, ctx, parts, pick_offers(open_slots, ctx.tz))
        # The lead named a time with the request ("next week", "Tuesday at ten"): start from it.
        first = decide(asked, answer=nlu.get("answer"), offered=[], open_slots=open_slots, tz=ctx.tz, today=now.date())
        if first.kind == "book" and first.slot is not None:
            return await _book(state, ctx, first.slot, open_slots)
        slots = first.slots or pick_offers(open_slots, ctx.tz)
        update = _offer(state, ctx, parts, slots, unavailable=first.unavailable)
        return {**update, "offers_later": _later_week(asked)}
    turned_down = nlu.get("declines_meeting") or {"not_interested", "call_later"} & set(nlu.get("objections", []))
    if turned_down and not _names_time(nlu) and "intent" not in state.slots:
        # "Are you AI? I want a human", then "no, I'll call the office myself, bye": nothing was told, so nothing
        # qualified; the lead is left to call, and tried again another day.
        return await _book_callback(state, ctx, _tomorrow_morning(ctx.now()), prompts.GOODBYE_EARLY)
    if turned_down and not _names_time(nlu):
        return _close(ctx, prompts.DECLINED_MEETING, "qualified", before=parts)
    when = _when(nlu)
    decision = decide(
        when,
        answer=nlu.get("answer"),
        offered=_offered(state),
        open_slots=open_slots,
        tz=ctx.tz,
        today=now.date(),
        offers_later=state.offers_later,
    )
    if decision.kind == "book" and decision.slot is not None:
        return await _book(state, ctx, decision.slot, open_slots)
    if decision.kind == "which":
        listed = _list_slots(decision.slots, ctx)
        return {"reply_parts": [*parts, _part(prompts.OFFER_WHICH.format(slots=listed))], "pending": "which_slot"}
    if decision.kind == "offer":
        update = _offer(state, ctx, parts, decision.slots, unavailable=decision.unavailable, rounds=1)
        named = when is not None and not when.is_empty()
        return {**update, "offers_later": _later_week(when) if named else state.offers_later}
    if any(s.get("turn") == state.turn for s in state.slots.values()):
        # "We're downsizing, the kids are gone": told something, not a time; keep it and offer the times again.
        return _offer(state, ctx, [*parts, _part("Got it.")], _offered(state))
    if state.misses >= 1:
        return _close(ctx, prompts.NO_SLOTS, "qualified", before=parts)
    update = _offer(state, ctx, [*parts, _part(prompts.NOT_UNDERSTOOD[0])], _offered(state))
    update["misses"] = state.misses + 1
    return update


def _later_week(when: When | None) -> bool:
    """Whether the lead asked for a later stretch of days ("next week", "not this week"), not a day."""
    return when is not None and when.not_before is not None and when.day is None


def _offered(state: ConversationState) -> list[OpenSlot]:
    return [OpenSlot.from_dict(s) for s in state.offered]


def _list_slots(slots: list[OpenSlot], ctx: AgentContext) -> str:
    today = ctx.now().date()
    spoken = [prompts.spoken_slot(s.start.astimezone(ctx.tz), today=today) for s in slots]
    return " or ".join(spoken)


def _offer(
    state: ConversationState,
    ctx: AgentContext,
    parts: list[dict[str, str]],
    slots: list[OpenSlot],
    *,
    unavailable: str = "",
    rounds: int = 0,
) -> dict[str, Any]:
    if not slots or state.offer_rounds + rounds > 3:
        return _close(ctx, prompts.NO_SLOTS, "qualified", before=parts)
    listed = _list_slots(slots, ctx)
    if unavailable:
        text = prompts.OFFER_UNAVAILABLE.format(asked=unavailable, slots=listed)
    elif state.offered:
        text = prompts.OFFER_AGAIN.format(slots=listed) if len(slots) > 1 else f"I have {listed}. Would that work?"
    else:
        template = prompts.OFFER if len(slots) > 1 else prompts.OFFER_ONE
        text = template.format(broker=slots[0].broker_name, slots=listed)
    return {
        "reply_parts": [*parts, _part(text, "fact")],
        "offered": [s.as_dict() for s in slots],
        "offer_rounds": state.offer_rounds + rounds,
        "stage": "scheduling",
        "pending": "which_slot",
    }


async def _book(
    state: ConversationState, ctx: AgentContext, slot: OpenSlot, open_slots: list[OpenSlot]
) -> dict[str, Any]:
    result: dict[str, Any] = {"ok": False}
    if ctx.lead_id is not None:
        result = await tools.book_appointment.ainvoke(
            {
                "lead_id": ctx.lead_id,
                "broker_id": slot.broker_id,
                "start_iso": slot.start.isoformat(),
                "call_id": ctx.call_id,
            }
        )
    elif ctx.dry_run:
        result = {"ok": True, "appointment_id": None}
    if not result.get("ok"):
        # Taken in the meantime: offer what is left rather than confirm something we don't have.
        rest = [s for s in open_slots if s.start != slot.start]
        text = "Sorry, that time was just taken."
        return _offer(state, ctx, [*state.reply_parts, _part(text)], pick_offers(rest, ctx.tz), rounds=1)
    when = prompts.spoken_slot_full(slot.start.astimezone(ctx.tz))
    update = _close(ctx, prompts.BOOKED, "appointment", before=state.reply_parts, broker=slot.broker_name, when=when)
    update["appointment"] = {
        "id": result.get("appointment_id"),
        "broker_id": slot.broker_id,
        "broker_name": slot.broker_name,
        "start": slot.start.isoformat(),
    }
    return update


async def _callback_turn(state: ConversationState, ctx: AgentContext) -> dict[str, Any]:
    when = _when(state.nlu)
    now = ctx.now()
    at = callback_time(when, now=now) or _months_out(state.nlu, now)
    # Whoever answered for the lead hears that the lead is tried again, not that they are called back.
    for_the_lead = state.pending == "reach_time"
    if at is not None:
        return await _book_callback(
            state, ctx, at, prompts.NOT_AVAILABLE_LATER if for_the_lead else prompts.CALLBACK_BOOKED
        )
    asked = state.asked.get("callback_time", 0) + 1
    said = state.nlu.get("text", "")
    if asked >= 2 or no_time_to_give(said) or (for_the_lead and some_other_time(said)):
        # "I honestly don't know, she's got a weird schedule": asking again would only get the same answer. Nor is
        # someone who answered for the lead pressed for an hour after "try her later".
        template = prompts.NOT_AVAILABLE_LATER if for_the_lead else prompts.CALLBACK_DEFAULT
        return await _book_callback(state, ctx, _tomorrow_morning(now), template)
    return {
        "reply_parts": [*state.reply_parts, _part(prompts.CALLBACK_REASK)],
        "asked": {**state.asked, "callback_time": asked},
    }


# --- guardrails ------------------------------------------------------------------------------------------------------


def guard_facts(state: ConversationState, ctx: AgentContext, extra: list[str] | None = None) -> GuardFacts:
    """What any reply in this call may mention: campaign facts, offered times, and the lead's own words."""
    texts = [ctx.callback_number, prompts.spoken_phone(ctx.callback_number), ctx.lead_address, *_lead_texts(state)]
    for slot in [*state.offered, *([state.appointment] if state.appointment else [])]:
        local = dt.datetime.fromisoformat(slot["start"]).astimezone(ctx.tz)
        texts.append(f"{local.day} {local.hour % 12 or 12} {local.minute}")
    if state.callback_at:
        local = dt.datetime.fromisoformat(state.callback_at).astimezone(ctx.tz)
        texts.append(f"{local.day} {local.hour % 12 or 12} {local.minute}")
    texts.extend(extra or [])
    names = [ctx.agent_name, ctx.business_name, ctx.lead_first_name, ctx.lead_address, ctx.lead_source]
    brokers = [s.get("broker_name", "") for s in [*state.offered, state.appointment or {}]]
    names += brokers
    if state.email:
        names.append(state.email)
    return GuardFacts.build(texts=texts, names=names, phrases=[*_names(ctx).values(), *brokers])


async def guard(state: ConversationState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Check the reply, optionally let the LLM reword it, and speak the checked template when anything fails."""
    ctx = runtime.context
    template = " ".join(p["text"] for p in state.reply_parts).strip()
    # The templates' own words are facts; what the LLM added to the reply is checked against them, not trusted.
    ours = " ".join(p["text"] for p in state.reply_parts if p["kind"] != "llm")
    facts = guard_facts(state, ctx, extra=[ours])
    text, source, violations = template, "template", []
    held = " ".join(p["text"] for p in state.reply_parts if p["kind"] == "held")
    if (
        ctx.rephrase
        and ctx.llm is not None
        and not any(p["kind"] in FIXED_KINDS or p["kind"] == "held" for p in state.reply_parts)
    ):
        candidate = await _rephrase(template, ctx) if template else None
        if candidate is not None:
            verdict = check_reply(candidate, guard_facts(state, ctx))
            if verdict.ok:
                text, source = candidate, "llm"
            else:
                violations = list(verdict.violations)
                logger.info("rephrased reply rejected", extra={"call": ctx.call_id, "violations": violations})
    if source == "template":
        text = _checked_template(state, ctx, facts)
    # A filler said while the LLM thought was heard already: the transcript keeps it, the reply goes on from it.
    spoken = text[len(held) :].strip() if held and text.startswith(held) else text
    update: dict[str, Any] = {
        "messages": [AIMessage(content=text)],
        "reply": spoken,
        "reply_source": source,
        "guard_violations": violations,
    }
    if state.end_call:
        update["stage"] = "ended"
    return update


def _checked_template(state: ConversationState, ctx: AgentContext, facts: GuardFacts) -> str:
    """Return the templated reply, or what of it may be said when it fails its own check.

    A compliance piece that fails is replaced by its fixed text, so the lead
    always hears the disclosure and how to opt out; other failing pieces are
    left out. Only an answer to the lead with nothing left asks them to repeat.
    """
    template = " ".join(p["text"] for p in state.reply_parts).strip()
    verdict = check_reply(template, facts)
    if template and verdict.ok:
        return template
    if template:
        logger.error(
            "a templated reply failed its own check",
            extra={"call": ctx.call_id, "text": template, "violations": list(verdict.violations)},
        )
    kept = []
    for part in state.reply_parts:
        if check_reply(part["text"], facts).ok:
            kept.append(part["text"])
        elif part.get("fixed"):
            kept.append(part["fixed"])
    return " ".join(kept) or prompts.SAFE_FALLBACK


async def _rephrase(text: str, ctx: AgentContext) -> str | None:
    assert ctx.llm is not None
    messages = prompts.rephrase_messages(text=text, agent_name=ctx.agent_name, business_name=ctx.business_name)
    try:
        out = await ctx.llm.complete(messages, timeout_s=ctx.rephrase_timeout_s, max_tokens=80)
    except LLMError as exc:
        logger.info("rephrasing failed; speaking the template", extra={"call": ctx.call_id, "error": str(exc)})
        return None
    return " ".join(out.strip().strip('"').split())


# --- post-call analysis ----------------------------------------------------------------------------------------------


async def analytics(state: ConversationState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Decide the outcome, write the summary and store slots, score, outcome and summary on the call and lead."""
    ctx = runtime.context
    now = ctx.now()
    slots, report = _merge_llm(state, dict(state.slots), now)
    score = score_slots(slots, ctx.scoring, booked=bool(state.appointment), asked_to_meet=state.asked_to_meet)
    state_after = {
        **state.__dict__,
        "slots": slots,
        "score": score.value,
        "bucket": score.bucket,
        "factors": score.factors,
        "score_reasons": score.reasons,
    }
    outcome = state.outcome or _outcome_without_ending(state, slots)
    facts = _facts(state, slots, score.value, score.bucket, outcome, zone=ctx.tz.key)
    summary = await _summary(state, ctx, facts)
    errors = await _retry_writes(state, ctx)
    if ctx.call_id is not None and ctx.lead_id is not None:
        record = ConversationRecord(
            qualification=qualification_json(ConversationState(**state_after), outcome=outcome, llm_report=report),
            score=score.value,
            intent=str(slots.get("intent", {}).get("value", "")),
            outcome=outcome,
            summary=summary,
            lead_status=_lead_status(outcome, score.bucket),
            address=_corrected_address(slots),
            email=state.email or "",
            human_follow_up=state.human_follow_up,
        )
        await tools.save_conversation(call_id=ctx.call_id, lead_id=ctx.lead_id, record=record)
    return {
        "slots": slots,
        "score": score.value,
        "bucket": score.bucket,
        "factors": score.factors,
        "score_reasons": score.reasons,
        "outcome": outcome,
        "summary": summary,
        "llm_slots": [],
        "llm_report": report,
        "errors": errors,
    }


def _outcome_without_ending(state: ConversationState, slots: dict[str, Any]) -> str:
    if state.appointment:
        return "appointment"
    if state.callback_at or state.stage == "callback":
        # Asked to be called another time, then gone before saying when: still a callback, tried again later.
        return "callback"
    if "not_interested" in state.objections:
        # "No thanks, we're not interested", then a hang-up before the goodbye: the lead said no, clearly.
        return "not_interested"
    if _next_slot(state, slots, list(state.skipped)) is None:
        return "qualified"
    # The line went silent and the agent said goodbye, promising to try another time: nobody hung up, and the
    # dialer retries a call with no answer.
    return "no_answer" if state.went_silent else "hung_up"


def _lead_status(outcome: str, bucket: str) -> str:
    return {
        "appointment": "appointment",
        "callback": "contacted",
        "not_interested": "not_interested",
        "qualified": "qualified" if bucket in {"hot", "warm"} else "contacted",
        "hung_up": "contacted",
    }.get(outcome, "")


def _corrected_address(slots: dict[str, Any]) -> str:
    value = slots.get("address", {}).get("value") or {}
    return str(value.get("address", "")) if value.get("corrected") else ""


def _facts(
    state: ConversationState, slots: dict[str, Any], score: int, bucket: str, outcome: str, *, zone: str
) -> dict[str, Any]:
    return {
        "zone": zone,
        "outcome": outcome,
        "score": score,
        "bucket": bucket,
        "slots": {name: slot["value"] for name, slot in slots.items()},
        "objections": state.objections,
        "appointment": state.appointment,
        "callback_at": state.callback_at,
        "follow_up": state.follow_up,
    }


def _lead_time(iso: str, zone: str | None) -> str:
    """Return an ISO time as the broker reads it: in the lead's zone, the zone named."""
    try:
        return format_in_zone(dt.datetime.fromisoformat(iso), zone)
    except ValueError:
        return iso


def template_summary(facts: dict[str, Any]) -> str:
    """Return a plain summary built only from the facts, for when no LLM is configured or its summary fails."""
    slots = facts["slots"]
    bits = [f"Outcome: {facts['outcome'].replace('_', ' ') or 'none'}; score {facts['score']} ({facts['bucket']})."]
    if slots:
        bits.append("Learned: " + "; ".join(f"{k.replace('_', ' ')}: {_plain(v)}" for k, v in slots.items()) + ".")
    if facts["objections"]:
        bits.append("Objections: " + ", ".join(o.replace("_", " ") for o in facts["objections"]) + ".")
    if facts["appointment"]:
        start = _lead_time(facts["appointment"]["start"], facts.get("zone"))
        bits.append(f"Appointment with {facts['appointment']['broker_name']} at {start}.")
    if facts["callback_at"]:
        bits.append(f"Call back at {_lead_time(facts['callback_at'], facts.get('zone'))}.")
    if facts["follow_up"]:
        bits.append(f"Follow up by {facts['follow_up']}.")
    return " ".join(bits)


def _plain(value: Any) -> str:
    if isinstance(value, dict) and ("min" in value or "max" in value):
        return price_text(value)
    if isinstance(value, dict) and "address" in value:
        return str(value["address"]) + (" (corrected)" if value.get("corrected") else " (confirmed)")
    if value is True or value is False:
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value} months"
    return str(value).replace("_", " ")


async def _summary(state: ConversationState, ctx: AgentContext, facts: dict[str, Any]) -> str:
    fallback = template_summary(facts)
    if ctx.llm is None or state.turn == 0:
        return fallback
    transcript = _transcript(state)
    try:
        text = await ctx.llm.complete(
            prompts.summary_messages(facts=facts, transcript=transcript), timeout_s=ctx.llm_timeout_s, max_tokens=160
        )
    except LLMError as exc:
        logger.info("LLM summary failed; using the template", extra={"call": ctx.call_id, "error": str(exc)})
        return fallback
    text = " ".join(text.split())
    facts_for_check = guard_facts(state, ctx, extra=[fallback, str(facts)])
    verdict = check_reply(text, facts_for_check)
    allowed = {"format", "invented_name"} if len(text.split()) <= 120 else set()
    problems = [
        *(set(verdict.violations) - allowed),
        *summary_problems(text, facts=facts, first_name=ctx.lead_first_name),
    ]
    if problems:
        logger.info("LLM summary rejected", extra={"call": ctx.call_id, "violations": problems})
        return fallback
    return f"{text}\n\n{fallback}"


async def _retry_writes(state: ConversationState, ctx: AgentContext) -> list[str]:
    left = []
    for error in state.errors:
        try:
            if error.startswith("dnc:"):
                await tools.add_to_do_not_call.ainvoke({"phone": ctx.lead_phone, "reason": error[4:]})
            elif error == "callback" and state.callback_at and ctx.lead_id is not None:
                await tools.schedule_callback.ainvoke({"lead_id": ctx.lead_id, "at_iso": state.callback_at})
        except Exception:
            logger.exception("retried write failed again", extra={"call": ctx.call_id, "write": error})
            left.append(error)
    return left


def qualification_json(
    state: ConversationState, *, outcome: str = "", llm_report: dict[str, int] | None = None
) -> dict[str, Any]:
    """Return what Call.qualification stores: every slot with its evidence, plus how the score came about."""
    return {
        "slots": state.slots,
        "skipped": state.skipped,
        "score": state.score,
        "bucket": state.bucket,
        "factors": state.factors,
        "score_reasons": state.score_reasons,
        "objections": state.objections,
        "appointment": state.appointment,
        "callback_at": state.callback_at,
        "follow_up": state.follow_up,
        "email": state.email,
        "outcome": outcome or state.outcome,
        "llm": llm_report if llm_report is not None else state.llm_report,
    }


# --- the graph -------------------------------------------------------------------------------------------------------


def route_event(state: ConversationState) -> Literal["conversation", "understand", "analytics"]:
    return {"start": "conversation", "turn": "understand", "finish": "analytics"}[state.event]  # type: ignore[return-value]


builder = StateGraph(ConversationState, context_schema=AgentContext)
builder.add_node("conversation", conversation)
builder.add_node("understand", understand_turn)
builder.add_node("opt_out", opt_out)
builder.add_node("objection", objection)
builder.add_node("qualification", qualification)
builder.add_node("scheduling", scheduling)
builder.add_node("guard", guard)
builder.add_node("analytics", analytics)
builder.add_conditional_edges(START, route_event)
builder.add_edge("conversation", "guard")
builder.add_conditional_edges("understand", route_turn)
builder.add_edge("opt_out", "guard")
builder.add_conditional_edges("objection", route_after_objection)
builder.add_conditional_edges("qualification", route_after_qualification)
builder.add_edge("scheduling", "guard")
builder.add_edge("guard", END)
builder.add_edge("analytics", END)

graph = builder.compile(name="re_agent")


async def invoke(payload: dict[str, Any], *, context: AgentContext) -> dict[str, Any]:
    """Run one event through the graph; the payload is a (partial) state as a plain dict."""
    # langgraph's stubs only know the dataclass; the graph itself takes a dict just as well.
    result = await graph.ainvoke(cast(Any, payload), context=context)
    return dict(result)


def _transcript(state: ConversationState) -> list[tuple[str, str]]:
    """Return the conversation as (speaker, words) lines, as the prompts show it to the LLM."""
    return [("Lead" if isinstance(m, HumanMessage) else "Assistant", str(m.content)) for m in state.messages]
