"""Everything the agent says from a template, and the prompts it gives an LLM.

The compliance lines (who is calling, that it is an AI, why, how to opt out,
the opt-out confirmation and the truthful answer to "is this a robot?") are
only ever spoken from here. The LLM may rephrase ordinary questions when
LLM_REPHRASE is on, never these.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from agents.guardrails import GuardFacts, first_safe
from agents.nlu import FINANCING, MOTIVATIONS

# The default answers to questions a lead asks in passing sit beside AnswerTopic, whose
# answers a campaign may set; the agent speaks them from here like every other line.
from calls.answers import ANSWERS as ANSWERS
from leads.names import label_for_speech, person_name_clean

# --- formatting for the ear -----------------------------------------------------------------------------------------


def spoken_phone(e164: str) -> str:
    """Return "+14155550100" as "415-555-0100"; other numbers unchanged."""
    digits = re.sub(r"\D", "", e164)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return e164


def spoken_time(moment: dt.datetime) -> str:
    """Return "3 PM" or "3:30 PM"."""
    hour = moment.hour % 12 or 12
    suffix = "AM" if moment.hour < 12 else "PM"
    return f"{hour} {suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d} {suffix}"


def spoken_slot(moment: dt.datetime, *, today: dt.date, with_date: bool = False) -> str:
    """Return "tomorrow at 3 PM", "Tuesday at 10 AM" or "Tuesday, December 8 at 10 AM", in moment's time zone."""
    day = moment.date()
    if day == today:
        name = "today"
    elif day == today + dt.timedelta(days=1):
        name = "tomorrow"
    else:
        name = f"{moment:%A}"
    if with_date or (day - today).days > 6:
        name = f"{name}, {moment:%B} {day.day}" if name not in {"today", "tomorrow"} else name
    return f"{name} at {spoken_time(moment)}"


def spoken_slot_full(moment: dt.datetime) -> str:
    """Return "Tuesday, December 1 at 3 PM"."""
    return f"{moment:%A}, {moment:%B} {moment.day} at {spoken_time(moment)}"


# --- compliance lines: always spoken exactly like this --------------------------------------------------------------

OPENING = (
    "Hi{name}, this is {agent_name}, an AI assistant calling for {business_name}. "
    "I'm calling {call_purpose}. "
    "If you'd rather not get these calls, just say stop calling and I'll take you off our list. "
    "Do you have a quick minute?"
)
# Spoken right after the opening's first sentence, before the lead says anything
# that is recorded, where every party must consent to the recording.
RECORDING_NOTICE = "This call is recorded. "
OPT_OUT_CONFIRM = (
    "Understood. I've taken your number off our call list, and {business_name} won't call you again. "
    "Sorry to have bothered you. Goodbye."
)
WRONG_NUMBER = "I'm sorry about that. I'll take this number off our list so we don't call it again. Goodbye."
ROBOT = "I'm an AI assistant calling for {business_name}."
# Whether the call is recorded is the compliance gate's decision for this lead (Call.recording_mode).
RECORDED = "Yes, this call is recorded, so the team has an accurate record of what we discussed."
NOT_RECORDED = "No, this call isn't being recorded."
ROBOT_HUMAN_OPTION = "If you'd rather talk with a person, you can reach the team at {callback}."
WHO = "This is {agent_name}, an AI assistant calling for {business_name}."
WHOM = "I'm trying to reach {first_name}."
WHOM_UNNAMED = "I'm trying to reach the person who asked {business_name} about buying or selling a home."
# Said instead of the lines above when a rendering fails the guard: no variable
# can break them, and they still disclose the AI and offer the opt-out.
OPENING_FIXED = (
    "Hi, this is an AI assistant calling for a local real estate team. "
    "If you'd rather not get these calls, just say stop calling and I'll take you off our list. "
    "Do you have a quick minute?"
)
OPT_OUT_CONFIRM_FIXED = (
    "Understood. I've taken your number off our call list, and we won't call you again. "
    "Sorry to have bothered you. Goodbye."
)
ROBOT_FIXED = "I'm an AI assistant calling for a local real estate team."
WHO_FIXED = "This is an AI assistant calling for a local real estate team."
PURPOSE = "I'm calling {call_purpose}."
# Left on an answering machine: who, that it is an AI, why, the callback number and how to opt out, in
# under 20 seconds of Piper speech (about 18 s with the default purpose).
VOICEMAIL = (
    "Hi{name}, this is {agent_name}, an AI assistant calling for {business_name}. "
    "I'm calling {call_purpose}. "
    "Please call us back at {callback}. "
    "If you'd rather not get these calls, call that number and say stop, and we'll take you off our list."
)


VOICEMAIL_FIXED = (
    "Hi, this is an AI assistant calling for a local real estate team. "
    "Please call us back at {callback}. "
    "If you'd rather not get these calls, call that number and say stop, and we'll take you off our list."
)


def spoken_names(*, first_name: str, agent_name: str, business_name: str) -> dict[str, str]:
    """Return the names as the voice will say them: the lead's cleaned (or "") and the campaign's without symbols."""
    return {
        "first_name": person_name_clean(first_name),
        "agent_name": label_for_speech(agent_name),
        "business_name": label_for_speech(business_name),
    }


def voicemail_message(
    *, agent_name: str, business_name: str, call_purpose: str, callback_number: str, first_name: str = ""
) -> str:
    """Return the message left on an answering machine, with the callback number spoken digit group by group.

    When the campaign's names can't be spoken or the message fails the guard,
    the fixed message is left instead: it still discloses the AI, gives the
    number and says how to opt out.
    """
    names = spoken_names(first_name=first_name, agent_name=agent_name, business_name=business_name)
    callback = spoken_phone(callback_number)
    fixed = VOICEMAIL_FIXED.format(callback=callback)
    if not (names["agent_name"] and names["business_name"]):
        return first_safe([fixed], GuardFacts.build(texts=[fixed], names=[]), what="voicemail")
    text = VOICEMAIL.format(
        name=f", {names['first_name']}" if names["first_name"] else "",
        agent_name=names["agent_name"],
        business_name=names["business_name"],
        call_purpose=call_purpose,
        callback=callback,
    )
    facts = GuardFacts.build(texts=[text], names=[], phrases=names.values())
    return first_safe([text, fixed], facts, what="voicemail")


# Said when a call reaches its per-call cost limit (billing): a goodbye like any
# other, with a way back to the team, and no word about money.
WRAP_UP = (
    "I'm sorry, I have to wrap up our call here. {business_name} will follow up with you, "
    "and you can always reach the team at {callback}. Thanks so much for your time{name}. Goodbye."
)


WRAP_UP_FIXED = (
    "I'm sorry, I have to wrap up our call here. The team will follow up with you, "
    "and you can always reach them at {callback}. Thanks so much for your time. Goodbye."
)


def wrap_up_message(*, business_name: str, callback_number: str, first_name: str = "") -> str:
    """Return the polite goodbye for a call ended early, with the callback number spoken digit group by group."""
    names = spoken_names(first_name=first_name, agent_name="", business_name=business_name)
    callback = spoken_phone(callback_number)
    text = WRAP_UP.format(
        name=f", {names['first_name']}" if names["first_name"] else "",
        business_name=names["business_name"] or "The team",
        callback=callback,
    )
    facts = GuardFacts.build(texts=[text], names=[], phrases=names.values())
    return first_safe([text, WRAP_UP_FIXED.format(callback=callback)], facts, what="wrap_up")


# --- questions ------------------------------------------------------------------------------------------------------

QUESTIONS: dict[str, tuple[str, str]] = {
    # slot: (first ask, second ask)
    "intent": (
        "Are you thinking about buying, selling, or both?",
        "Just so I point you to the right person, would that be buying a home, selling one, or both?",
    ),
    "timeline": (
        "What kind of timeline are you looking at?",
        "Roughly when would you like to make a move: in the next few months, or later on?",
    ),
    "motivation_sell": (
        "What has you thinking about selling?",
        "Is there something in particular behind it, like a new job or needing more space?",
    ),
    "motivation": (
        "What's prompting the move?",
        "Is there something in particular behind it, like a new job or needing more space?",
    ),
    "price_sell": (
        "Do you have a rough idea of what your home might be worth?",
        "Even a ballpark is fine. What do you think the home would sell for?",
    ),
    "price": (
        "What price range are you looking in?",
        "Even a ballpark is fine. About how much are you hoping to spend?",
    ),
    "financing": (
        "Have you been pre-approved for a mortgage yet, or would you be paying cash?",
        "Have you talked with a lender yet, or is that still to come?",
    ),
    "has_agent": (
        "Are you already working with a real estate agent?",
        "Do you have an agent you're working with right now?",
    ),
    "address": (
        "And I have the address as {address}. Is that right?",
        "Is {address} still the right address?",
    ),
    "address_new": (
        "What's the address of the property?",
        "Could you tell me the street address?",
    ),
}
ACKS = ("Got it.", "Okay, thanks.", "Great.", "Okay.")
SLOT_ACKS = {
    ("intent", "sell"): "Selling, got it.",
    ("intent", "buy"): "Buying, great.",
    ("intent", "both"): "Buying and selling, got it.",
    ("financing", "preapproved"): "Great, that helps.",
    ("financing", "cash"): "Great, that helps.",
    ("financing", "needs_financing"): "Okay, good to know.",
    ("address", "corrected"): "Thanks, I've updated that.",
}
NOT_UNDERSTOOD = ("Sorry, I didn't quite catch that.", "Sorry, I missed that.")
SKIP_SLOT = "No problem, we can come back to that."
# A question the answer bank has no answer for, and no LLM to answer it: said honestly, never guessed at.
QUESTION_FOR_AGENT = "Good question. I don't have that in front of me, but one of our agents can go over it with you."
PERMISSION_REPEAT = "Do you have a quick minute to chat?"

# --- objections -----------------------------------------------------------------------------------------------------

NOT_INTERESTED_PROBE = (
    "Understood. Can I ask, is that because you're not planning a move at all, or is it just not the right time?"
)
# The home is sold: the lead may be buying next, or done.
SOLD_PROBE = "Congratulations on the sale. Are you all settled now, or looking for your next place?"
NOT_INTERESTED_CLOSE = "No problem at all. Thanks for your time, and have a great day. Goodbye."
HOW_GOT_NUMBER_SOURCE = "Your number is in {business_name}'s contact list from {source}."
HOW_GOT_NUMBER_UNKNOWN = (
    "Your number is in {business_name}'s contact list. I don't have the details of how it was added, "
    "but the team can tell you at {callback}."
)
# Asked again: the lead wants more than the source we have; say so, and where more can be had.
HOW_GOT_NUMBER_AGAIN = (
    "It came to {business_name} from {source}, and I don't have more detail than that. "
    "The team can tell you more at {callback}."
)
HOW_GOT_NUMBER_AGAIN_UNKNOWN = "I don't have more detail than that, but the team can tell you at {callback}."
HOW_GOT_NUMBER_TAIL = "If you'd rather not be called, just say so and I'll take it off the list."
COMMISSION_ASKED = "That's a fair question."
COMMISSION_SAID = "I hear you on the fees."
COMMISSION = (
    "I can't quote commission on this call. "
    "Fees are something you'd go over directly with the agent before signing anything."
)
# Said once to a lead who won't talk with an AI: the meeting it offers is with a person.
NO_MACHINES = (
    "I understand. After a few quick questions, I can set you up with one of our agents, who is a real person."
)
SELLS_THEMSELVES = (
    "Plenty of owners sell on their own. One of our agents can still give you a free valuation, "
    "no strings attached, so you know what to list at."
)
HAS_AGENT_CLOSE = (
    "Thanks for letting me know. I won't get in the way of that. "
    "If anything changes, you can reach {business_name} at {callback}. Have a great day. Goodbye."
)
NEXT_STEPS_MEETING = (
    "The agent will go over your plans with you and answer your questions, with no obligation. "
    "There's nothing you need to prepare."
)
HOLD_ON = "Sure, take your time."
OPT_OUT_CHECK = "Just to be sure, would you like me to take your number off our call list?"
OPT_OUT_DECLINED = "Okay, no problem."
STILL_THERE = "Are you still there?"
# Said while the LLM works out a turn the rules could not read, so the lead is not left in silence.
FILLERS = ("Hmm, let me think.", "Okay, one second.")
SILENT_GOODBYE = (
    "It sounds like I've lost you. {business_name} will try you another time, or you can reach the team at "
    "{callback}. Goodbye."
)
TEXT_FOLLOW_UP = (
    "Of course. I'll note that you'd rather get a text, and {business_name} will follow up by text at this "
    "number. Thanks for your time{name}. Goodbye."
)
TEXT_NOTED = "Sure, I'll note that you'd rather get texts than calls."
NOT_AVAILABLE = "No problem. When would be a good time to reach them?"
NOT_AVAILABLE_LATER = "No problem, we'll try again {when}. Thanks for letting me know. Goodbye."
CHILD = "Thanks so much. We'll try again another time. Bye now."
# The Spanish says: sorry, I only speak English; a person from {business_name} will call you back. Goodbye.
NON_ENGLISH = (
    "I'm sorry, I can only speak English on this call. "
    "Lo siento, solo hablo inglés. Una persona de {business_name} le va a llamar. Adiós."
)
ENGLISH_OK_ASK = (
    "I'm sorry, I can only speak English on this call. Lo siento, solo hablo inglés. "
    "Is it okay to go on in English? ¿Está bien en inglés?"
)
CALLBACK_ASK = "No problem. When would be a better time to call you back?"
CALLBACK_REASK = "What day and time would work best for a call back?"
CALLBACK_BOOKED = "Sure, we'll call you back {when}. Talk to you then. Goodbye."
GOODBYE_QUALIFIED = (
    "No problem, I'll let you go. {business_name} will follow up to find a time that suits you, or you can "
    "reach the team at {callback}. Thanks{name}. Goodbye."
)
GOODBYE_EARLY = "No problem, I'll let you go. We'll try you again {when}. Thanks{name}. Goodbye."
CALLBACK_DEFAULT = "No problem, we'll try you again {when}. Have a good day. Goodbye."
EMAIL_ON_FILE = (
    "Of course. I'll note that you'd like the information by email, and {business_name} will send it "
    "to the address we have on file. Thanks for your time. Goodbye."
)
REINTRODUCE = (
    "Hi, it's {agent_name}, an AI assistant calling for {business_name} about buying or selling a home. "
    "Do you have a quick minute?"
)
EMAIL_NOTED = "Sure, I have {email}. {business_name} will send the information there."
EMAIL_ON_FILE_NOTED = "Sure, {business_name} will email you at the address we have on file."
EMAIL_ON_FILE_ONE_QUESTION = (
    "Of course, {business_name} will email you at the address we have on file. So we send the right "
    "information, one quick question."
)
EMAIL_ASK = "Of course. What's the best email address for you?"
EMAIL_REASK = "Could you spell out the email address for me, like john at gmail dot com?"
EMAIL_CAPTURED = "Thanks, I have {email}. {business_name} will send the information there. Have a great day. Goodbye."
EMAIL_GIVE_UP = "No problem, {business_name} will follow up with you. Have a great day. Goodbye."

# --- scheduling and closing -----------------------------------------------------------------------------------------

OFFER = (
    "I can set up a time for you to talk with {broker}, one of our agents. I have {slots}. Would either of those work?"
)
OFFER_ONE = "I can set up a time for you to talk with {broker}, one of our agents. I have {slots}. Would that work?"
OFFER_AGAIN = "I have {slots}. Would either of those work?"
OFFER_UNAVAILABLE = "I don't have {asked} open, but I do have {slots}. Would one of those work?"
OFFER_WHICH = "Great. Which works better, {slots}?"
BOOKED = (
    "You're all set. {broker} will meet with you {when}, your time. "
    "Thanks so much{name}, and have a great day. Goodbye."
)
NO_SLOTS = (
    "I don't have an open time in front of me right now, so {business_name} will reach out to set one up. "
    "Thanks so much{name}. Goodbye."
)
DECLINED_MEETING = (
    "No problem. If you'd like to talk with someone later, you can reach {business_name} at {callback}. "
    "Thanks for your time{name}. Goodbye."
)
SAFE_FALLBACK = "Sorry, could you say that again?"

# --- LLM prompts ----------------------------------------------------------------------------------------------------

REPHRASE_SYSTEM = (
    "You rewrite one line for {agent_name}, an AI assistant on a phone call for {business_name}, a real estate "
    "team. Keep the meaning and any question exactly; make it sound natural and brief when spoken. "
    "Rules: never claim to be human; add no facts, names, numbers, prices, dates or promises; "
    "at most two sentences; plain text only. Reply with the rewritten line only."
)
# A turn the rules could not read goes to the LLM, which picks what to do; what it may say is checked like any
# reply, and every compliance line stays a template (agents.graph._llm_turn).
FALLBACK_SYSTEM = (
    "You are {agent_name}, an AI assistant on a phone call for {business_name}, a real estate team, qualifying "
    "a lead. The lead's last line was not understood by the script. Decide what to do next. Actions: "
    '"answer" (the lead asked something: answer it briefly), "book" (the lead wants to meet an agent or named a '
    'time to meet), "call_back" (the lead wants a call at another time), "opt_out" (the lead does not want any '
    'more calls), "end" (the lead declines or wants to stop talking), "repeat" (nothing to act on). '
    '"say" is one short sentence to speak before the script goes on, or empty. Rules for "say": never claim to '
    "be human; state no numbers, prices, rates, dates, names or promises; no questions. Reply with JSON only."
)
FALLBACK_ACTIONS = ("answer", "book", "call_back", "opt_out", "end", "repeat")
FALLBACK_SCHEMA = {
    "type": "object",
    "properties": {"action": {"type": "string", "enum": list(FALLBACK_ACTIONS)}, "say": {"type": "string"}},
    "required": ["action", "say"],
}
# The LLM is asked about one slot only: the one the agent just asked for and the patterns could not read.
# Asking for every slot at once made the bundled 1.5B model fill all seven with guesses, and took 20 s.
EXTRACT_SYSTEM = (
    "You read one answer a lead gave on a phone call with a real estate team and extract one fact: {fact}. "
    "Use only the lead's words. Set found to false if the answer does not say. "
    "evidence must be the lead's exact words that say it. Reply with JSON only."
)
EXTRACT_FACTS = {
    "intent": ("whether they want to buy, sell or both", ["buy", "sell", "both"]),
    "timeline": ("how soon they want to move, like '3 months' or 'next spring'", None),
    "motivation": ("why they want to move", list(MOTIVATIONS)),
    "price": ("their price range or what their home is worth, in dollars", None),
    "financing": ("how they will pay", list(FINANCING)),
    "has_agent": ("whether they already work with a real estate agent", ["yes", "no"]),
    "address": ("the street address of the property", None),
}


def extract_schema(slot: str) -> dict[str, Any]:
    """Return the JSON schema for one slot's extraction; categorical slots get an enum."""
    choices = EXTRACT_FACTS[slot][1]
    value: dict[str, Any] = {"type": "string", "enum": choices} if choices else {"type": "string"}
    return {
        "type": "object",
        "properties": {"found": {"type": "boolean"}, "value": value, "evidence": {"type": "string"}},
        "required": ["found", "value", "evidence"],
    }


SUMMARY_SYSTEM = (
    "You write the note a real estate agent reads after an AI assistant's call with a lead. "
    "Write about the lead in the third person, for the agent: never speak to the lead, never write as the "
    "assistant (no 'you', no 'I'). Two or three plain sentences. Use only the facts given; do not guess or "
    "add anything, and quote the lead's own words where they matter. Do not promise anything."
)


def rephrase_messages(*, text: str, agent_name: str, business_name: str) -> list[dict[str, str]]:
    system = REPHRASE_SYSTEM.format(agent_name=agent_name, business_name=business_name)
    return [{"role": "system", "content": system}, {"role": "user", "content": text}]


def fallback_messages(
    *, agent_name: str, business_name: str, transcript: list[tuple[str, str]]
) -> list[dict[str, str]]:
    system = FALLBACK_SYSTEM.format(agent_name=agent_name, business_name=business_name)
    lines = "\n".join(f"{speaker}: {text}" for speaker, text in transcript[-8:])
    return [{"role": "system", "content": system}, {"role": "user", "content": lines}]


def extract_messages(*, slot: str, question: str, answer: str) -> list[dict[str, str]]:
    system = EXTRACT_SYSTEM.format(fact=EXTRACT_FACTS[slot][0])
    user = f"The assistant asked: {question}\nThe lead answered: {answer}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def summary_messages(*, facts: dict[str, Any], transcript: list[tuple[str, str]]) -> list[dict[str, str]]:
    lines = "\n".join(f"{speaker}: {text}" for speaker, text in transcript[-30:])
    user = f"Facts (JSON): {json.dumps(facts, sort_keys=True, default=str)}\n\nTranscript:\n{lines}"
    return [{"role": "system", "content": SUMMARY_SYSTEM}, {"role": "user", "content": user}]


def fixed_sentences() -> list[str]:
    """Return every sentence the agent may say word for word (no placeholders), for the voice phrase cache.

    Text-to-speech speaks a reply sentence by sentence, so these are the units
    whose audio can be made ahead of the call. LLM prompts (`*_SYSTEM`) are not speech.
    """
    found: list[str] = []

    def collect(value: object) -> None:
        if isinstance(value, str):
            if "{" not in value:
                # Only whole sentences: enum values and extraction hints are not speech.
                found.extend(s for s in _SENTENCE_END.split(value.strip()) if s.endswith((".", "?", "!")))
        elif isinstance(value, tuple | list):
            for item in value:
                collect(item)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)

    for name, value in globals().items():
        if name.isupper() and not name.endswith("_SYSTEM"):
            collect(value)
    return list(dict.fromkeys(found))


_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
