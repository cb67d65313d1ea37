"""Scripted leads for the agent: what each says, as speech-to-text would write it, and what must follow.

Shared by tests/agents/test_personas.py and benchmarks/agent_turns.py. Every
persona's call starts at NOW (Tuesday 24 November 2026, 9 AM in San Francisco)
with one broker in New York working 11 AM to 8 PM Eastern on weekdays (8 AM to
5 PM for the lead), who already has an appointment on Wednesday at 8 AM Pacific.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agents.brain import Conversation, Reply
from agents.models import Appointment, Broker
from calls.models import Call
from leads.models import DoNotCall
from tests.factories import (
    AppointmentFactory,
    BrokerFactory,
    CallFactory,
    CampaignFactory,
    LeadFactory,
    WorkingHoursFactory,
)

LEAD_TZ = ZoneInfo("America/Los_Angeles")
BROKER_TZ = "America/New_York"
NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=LEAD_TZ)
# A persona's line for a lead who stays silent as long as the agent waits before asking whether anyone is there.
SILENCE = "<silence>"
CATEGORIES = (
    "qualification",
    "opt_out",
    "ai_question",
    "who_how",
    "objections",
    "side_questions",
    "booking",
    "wrong_person",
    "silence",
    "edge",
)
CORPUS = Path(__file__).parent / "corpus"


@dataclass(frozen=True)
class Persona:
    key: str
    lines: tuple[str, ...]
    outcome: str
    slots: dict[str, Any] = field(default_factory=dict)
    bucket: str | None = None
    # The appointment's start in the lead's time zone, "YYYY-MM-DD HH:MM".
    booked: str | None = None
    dnc: bool = False
    callback: str | None = None
    email: str | None = None
    address: str | None = None
    lead_status: str | None = None
    must_say: tuple[str, ...] = ()
    never_say: tuple[str, ...] = ()
    lead: dict[str, Any] = field(default_factory=dict)
    # Whether the agent itself ends the call (says goodbye) on the last line.
    ends: bool = True
    category: str = "qualification"


PERSONAS: tuple[Persona, ...] = (
    Persona(
        key="hot_seller_books_tuesday_at_3",
        lines=(
            "um yeah sure",
            "were thinking about selling",
            "uh maybe in like two months",
            "my husband got a job in denver so were relocating",
            "i dunno maybe six fifty",
            "no",
            "yeah thats right",
            "tuesday at three",
        ),
        outcome="appointment",
        slots={
            "intent": "sell",
            "timeline": 2,
            "motivation": "relocation",
            "price": {"min": 650000, "max": 650000},
            "has_agent": False,
        },
        bucket="hot",
        booked="2026-12-01 15:00",
        lead_status="appointment",
        must_say=("an AI assistant calling for Bayside Realty", "say stop calling"),
    ),
    Persona(
        # Asks for an agent instead of answering the timeline question: understood, and next week honoured.
        key="seller_asks_for_an_agent_next_week_then_books_tuesday_at_ten",
        category="booking",
        lines=(
            "yes ive been meaning to call someone i want to sell my condo",
            "could an agent come over next week to see it",
            "tuesday at ten in the morning works for me",
        ),
        outcome="appointment",
        slots={"intent": "sell"},
        booked="2026-12-01 10:00",
        lead_status="appointment",
        must_say=("Sure. I can set up a time", "Monday at 8 AM"),
        never_say=("catch that", "missed that", "today", "tomorrow"),
    ),
    Persona(
        key="seller_asks_for_an_agent_on_a_day_and_time_that_is_open",
        category="booking",
        lines=("yes", "were selling, can someone come by friday at two"),
        outcome="appointment",
        slots={"intent": "sell"},
        booked="2026-11-27 14:00",
        lead_status="appointment",
        never_say=("catch that",),
    ),
    Persona(
        key="buyer_answers_another_question_then_tomorrow_afternoon_second_one",
        category="booking",
        lines=(
            "yeah go ahead",
            "buying",
            "we got pre approved for about five hundred k",
            "oh like three months",
            "we need more room the kids are growing",
            "nope",
            "yep",
            "tomorrow afternoon",
            "the second one",
        ),
        outcome="appointment",
        slots={
            "intent": "buy",
            "timeline": 3,
            "financing": "preapproved",
            "price": {"min": 500000, "max": 500000},
            "motivation": "growing_family",
            "has_agent": False,
        },
        bucket="hot",
        booked="2026-11-25 14:00",
    ),
    Persona(
        key="buys_and_sells_not_this_week",
        category="booking",
        lines=(
            "sure",
            "well we need to sell our place and buy something smaller",
            "in the spring",
            "the kids moved out so its just too big now",
            "probably around seven hundred thousand",
            "well need a loan for the next one",
            "no we dont",
            "correct",
            "not this week",
            "the first one",
        ),
        outcome="appointment",
        slots={
            "intent": "both",
            "timeline": 4,
            "motivation": "downsizing",
            "price": {"min": 700000, "max": 700000},
            "financing": "needs_financing",
        },
        bucket="warm",
        booked="2026-11-30 08:00",
    ),
    Persona(
        key="opts_out_at_once",
        category="opt_out",
        lines=("please stop calling me",),
        outcome="opted_out",
        dnc=True,
        lead_status="do_not_call",
        must_say=("won't call you again",),
    ),
    Persona(
        key="opts_out_midway",
        category="opt_out",
        lines=("yeah", "selling", "uh you know what take me off your list"),
        outcome="opted_out",
        slots={"intent": "sell"},
        dnc=True,
        lead_status="do_not_call",
    ),
    Persona(
        key="asks_if_robot_then_declines_meeting",
        category="ai_question",
        lines=(
            "wait is this a robot",
            "oh ok um were looking to buy a condo",
            "maybe next year sometime",
            "were just kind of curious whats out there",
            "maybe three fifty",
            "were still working on it",
            "no",
            "yes",
            "no thanks not yet",
        ),
        outcome="qualified",
        slots={"intent": "buy", "motivation": "curious", "financing": "needs_financing", "has_agent": False},
        bucket="cold",
        lead_status="contacted",
        must_say=("I'm an AI assistant calling for Bayside Realty", "If you'd like to talk with someone later"),
    ),
    Persona(
        key="asks_how_we_got_the_number",
        category="who_how",
        lines=(
            "who is this how did you get my number",
            "ok fine were selling",
            "like six months",
            "were retiring",
            "maybe four hundred thousand",
            "no",
            "yeah",
            "either one",
        ),
        outcome="appointment",
        slots={"intent": "sell", "timeline": 6, "motivation": "downsizing"},
        bucket="warm",
        booked="2026-11-24 11:00",
        must_say=("from an open house sign-in sheet", "take it off the list"),
    ),
    Persona(
        key="says_commission_is_too_high",
        category="objections",
        lines=(
            "sure",
            "selling",
            "your commission is too high though",
            "a few months",
            "relocating for work",
            "about a million",
            "no",
            "yes",
            "wednesday morning",
        ),
        outcome="appointment",
        slots={"intent": "sell", "timeline": 3, "price": {"min": 1000000, "max": 1000000}},
        bucket="hot",
        booked="2026-11-25 08:30",
        must_say=("I can't quote commission",),
    ),
    Persona(
        key="already_has_an_agent",
        category="objections",
        lines=("yeah", "buying", "actually we already have an agent"),
        outcome="not_interested",
        slots={"intent": "buy", "has_agent": True},
        lead_status="not_interested",
        must_say=("I won't get in the way",),
    ),
    Persona(
        key="driving_call_back_tomorrow_at_5",
        category="objections",
        lines=("im driving right now can you call me back tomorrow at five",),
        outcome="callback",
        callback="2026-11-25 17:00",
        lead_status="contacted",
    ),
    Persona(
        key="bad_time_then_thursday_morning",
        category="objections",
        lines=("not a good time", "um try me thursday morning"),
        outcome="callback",
        callback="2026-11-26 10:00",
    ),
    Persona(
        key="just_email_me",
        category="objections",
        lines=("can you just email me something", "yeah its john dot smith at gmail dot com"),
        outcome="callback",
        email="john.smith@gmail.com",
        lead={"email": ""},
    ),
    Persona(
        key="not_interested_at_once",
        category="objections",
        lines=("not interested",),
        outcome="not_interested",
        lead_status="not_interested",
    ),
    Persona(
        key="cold_lead_is_just_curious",
        lines=(
            "sure",
            "selling i guess",
            "no idea really maybe a couple years",
            "just curious what its worth",
            "no clue",
            "we dont have an agent",
            "yes",
            "no thanks not yet",
        ),
        outcome="qualified",
        slots={"intent": "sell", "timeline": 24, "motivation": "curious", "has_agent": False},
        bucket="cold",
        lead_status="contacted",
    ),
    Persona(
        key="one_word_answers_and_misheard_words",
        category="edge",
        lines=("yeah", "uh buy", "asap", "our first home", "four fifty", "pre approve", "nah", "yup", "option two"),
        outcome="appointment",
        slots={
            "intent": "buy",
            "timeline": 1,
            "motivation": "first_home",
            "price": {"min": 450000, "max": 450000},
            "financing": "preapproved",
            "has_agent": False,
        },
        bucket="hot",
        booked="2026-11-25 08:30",
    ),
    Persona(
        key="corrects_the_address_and_picks_thursday_at_10",
        lines=(
            "yes",
            "sell",
            "three months",
            "were getting a divorce",
            "around five hundred",
            "no",
            "no its forty two maple avenue",
            "thursday at ten",
        ),
        outcome="appointment",
        slots={"intent": "sell", "motivation": "financial", "price": {"min": 500000, "max": 500000}},
        address="42 Maple Avenue",
        bucket="hot",
        booked="2026-11-26 10:00",
    ),
    Persona(
        key="wrong_number",
        category="wrong_person",
        lines=("i think you have the wrong number",),
        outcome="wrong_number",
        dnc=True,
    ),
    Persona(
        key="asks_who_then_says_do_not_call_list",
        category="opt_out",
        lines=("who is this", "im on the do not call list"),
        outcome="opted_out",
        dnc=True,
        must_say=("This is Alex, an AI assistant",),
    ),
    Persona(
        key="hangs_up_midway",
        category="edge",
        lines=("yeah", "buying"),
        outcome="hung_up",
        slots={"intent": "buy"},
        lead_status="contacted",
        ends=False,
    ),
)


def personas_load(path: Path) -> tuple[Persona, ...]:
    """Read personas written one JSON object a line (tests/agents/corpus/personas_*.jsonl)."""
    out = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        persona = Persona(
            **{
                **row,
                "lines": tuple(row["lines"]),
                "must_say": tuple(row.get("must_say", ())),
                "never_say": tuple(row.get("never_say", ())),
            }
        )
        if persona.category not in CATEGORIES:
            raise ValueError(f"{path.name}:{number}: unknown category {persona.category!r}")
        out.append(persona)
    return tuple(out)


# Written by people who never read the agent's understanding code: the dev part may be tuned on; the held-out
# part never is, and only the benchmark plays it. The held-out part's failures were once read to find what
# reading they lacked, so a fresh part, written later by yet another writer, is the unseen measure now.
DEV_PERSONAS = personas_load(CORPUS / "personas_dev.jsonl")
HELDOUT_PERSONAS = personas_load(CORPUS / "personas_heldout.jsonl")
FRESH_PERSONAS = personas_load(CORPUS / "personas_heldout_fresh.jsonl")
# From a writer who saw only a brief with the exact script, calendar and policies: played, never read.
BRIEFED_PERSONAS = personas_load(CORPUS / "personas_heldout_f2.jsonl")
# Half of each later briefed writer's leads (the other half is in the dev part): played, never read.
BRIEFED_G1_PERSONAS = personas_load(CORPUS / "personas_heldout_g1.jsonl")
BRIEFED_G2_PERSONAS = personas_load(CORPUS / "personas_heldout_g2.jsonl")
BRIEFED_G3_PERSONAS = personas_load(CORPUS / "personas_heldout_g3.jsonl")
BRIEFED_G4_PERSONAS = personas_load(CORPUS / "personas_heldout_g4.jsonl")
BRIEFED_G5_PERSONAS = personas_load(CORPUS / "personas_heldout_g5.jsonl")
BRIEFED_G6_PERSONAS = personas_load(CORPUS / "personas_heldout_g6.jsonl")
BRIEFED_G7_PERSONAS = personas_load(CORPUS / "personas_heldout_g7.jsonl")
BRIEFED_G8_PERSONAS = personas_load(CORPUS / "personas_heldout_g8.jsonl")


async def say(conversation: Conversation, line: str) -> Reply:
    """Play one persona line: the lead's words, or a silence as long as the agent waits for them."""
    return await (conversation.silence() if line == SILENCE else conversation.respond(line))


def persona_setup(persona: Persona) -> Call:
    """Create the broker, the lead, the campaign and the call for one persona."""
    broker = BrokerFactory(name="Dana Whitfield", timezone=BROKER_TZ)
    for weekday in range(5):
        WorkingHoursFactory(broker=broker, weekday=weekday, start=dt.time(11), end=dt.time(20))
    taken = dt.datetime(2026, 11, 25, 8, 0, tzinfo=LEAD_TZ)
    AppointmentFactory(broker=broker, start=taken, end=taken + dt.timedelta(minutes=30))
    lead_fields = {
        "first_name": "Jane",
        "address": "12 Oak Street",
        "source": "an open house sign-in sheet",
        "timezone": str(LEAD_TZ),
        **persona.lead,
    }
    lead = LeadFactory(**lead_fields)
    campaign = CampaignFactory(business_name="Bayside Realty", agent_name="Alex", callback_number="+14155550100")
    return CallFactory(lead=lead, campaign=campaign)


_COURTESY_WORDS = frozenset(
    [
        "ok",
        "okay",
        "great",
        "cool",
        "yep",
        "yeah",
        "yup",
        "mhm",
        "alright",
        "all",
        "right",
        "perfect",
        "sounds",
        "good",
        "awesome",
        "thanks",
        "thank",
        "you",
        "so",
        "much",
        "bye",
        "goodbye",
        "see",
        "ya",
        "talk",
        "to",
        "then",
        "have",
        "a",
        "good",
        "one",
        "day",
        "night",
        "nice",
        "sure",
        "will",
        "do",
        "too",
        "same",
        "later",
        "cheers",
        "appreciate",
        "it",
        "its",
        "it's",
        "wonderful",
        "lovely",
    ]
)
_FAREWELL_WORDS = frozenset({"thanks", "thank", "bye", "goodbye", "later", "cheers", "appreciate"})


def courtesy_left_unheard(persona: Persona, replies: list[str], *, ended: bool) -> bool:
    """Whether the agent ended the call (after its own goodbye) with lines of the lead's left that only thank,
    say goodbye ("great thanks", "mhm bye") or are more silence: nothing in them to act on, so hanging up before
    them is no fault."""
    unheard = persona.lines[len(replies) - 1 :]
    if not ended or not unheard:
        return False
    for line in unheard:
        if line == SILENCE:
            continue
        words = re.sub(r"[^a-z' ]", " ", line.lower()).split()
        if not words or not set(words) <= _COURTESY_WORDS or not set(words) & _FAREWELL_WORDS:
            return False
    return True


def persona_check(persona: Persona, call: Call, replies: list[str], *, ended: bool) -> list[str]:
    """Return every expectation the call's database state or the replies break (empty when all hold)."""
    call.refresh_from_db()
    lead = call.lead
    lead.refresh_from_db()
    problems = []
    if ended != persona.ends:
        problems.append(f"the agent {'ended' if ended else 'did not end'} the call")
    early = len(replies) != len(persona.lines) + 1 and not courtesy_left_unheard(persona, replies, ended=ended)
    if persona.ends and early:
        problems.append(f"the call ended after {len(replies) - 1} of {len(persona.lines)} lines")
    if call.outcome != persona.outcome:
        problems.append(f"outcome {call.outcome!r} != {persona.outcome!r}")
    slots = call.qualification.get("slots", {})
    for name, value in persona.slots.items():
        got = slots.get(name, {}).get("value")
        if got != value:
            problems.append(f"slot {name} {got!r} != {value!r}")
        elif not slots[name].get("evidence"):
            problems.append(f"slot {name} has no evidence")
    if persona.bucket is not None and call.qualification.get("bucket") != persona.bucket:
        problems.append(f"bucket {call.qualification.get('bucket')!r} != {persona.bucket!r}")
    problems += _check_booking(persona, call)
    on_dnc = DoNotCall.objects.filter(phone=lead.phone).exists()
    if on_dnc != persona.dnc:
        problems.append(f"do-not-call {on_dnc} != {persona.dnc}")
    if persona.callback is not None:
        got = lead.next_attempt_at.astimezone(LEAD_TZ).strftime("%Y-%m-%d %H:%M") if lead.next_attempt_at else None
        if got != persona.callback:
            problems.append(f"callback {got!r} != {persona.callback!r}")
    if persona.email is not None and lead.email != persona.email:
        problems.append(f"email {lead.email!r} != {persona.email!r}")
    if persona.address is not None and lead.address != persona.address:
        problems.append(f"address {lead.address!r} != {persona.address!r}")
    if persona.lead_status is not None and lead.status != persona.lead_status:
        problems.append(f"lead status {lead.status!r} != {persona.lead_status!r}")
    spoken = " ".join(replies)
    problems += [f"never said {phrase!r}" for phrase in persona.must_say if phrase not in spoken]
    problems += [f"said {phrase!r}" for phrase in persona.never_say if phrase in " ".join(replies[1:])]
    if call.score is None or not call.summary:
        problems.append("score or summary not saved")
    return problems


def _check_booking(persona: Persona, call: Call) -> list[str]:
    booked = list(Appointment.objects.filter(call=call))
    if persona.booked is None:
        return [f"unexpected appointment at {booked[0].start}"] if booked else []
    if len(booked) != 1:
        return [f"{len(booked)} appointments booked, expected 1"]
    appointment = booked[0]
    got = appointment.start.astimezone(LEAD_TZ).strftime("%Y-%m-%d %H:%M")
    problems = [] if got == persona.booked else [f"booked {got} != {persona.booked}"]
    broker = Broker.objects.get(pk=appointment.broker_id)
    broker_local = appointment.start.astimezone(ZoneInfo(broker.timezone))
    if not broker.working_hours.filter(
        weekday=broker_local.weekday(), start__lte=broker_local.time(), end__gt=broker_local.time()
    ).exists():
        problems.append(f"booked outside the broker's hours ({broker_local:%a %H:%M} {broker.timezone})")
    return problems
