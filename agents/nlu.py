"""Deterministic understanding of what a lead said on the phone.

This is what carries the conversation. The bundled local LLM gets about 4 of
10 intents right and takes seconds per extraction on a CPU, so every
decision the agent makes comes from here: opt-out, objections, the robot
question, yes/no, and the qualification slots, each with the lead's own words
as evidence. Input looks like speech-to-text: lowercase, no punctuation,
fillers and misheard words ("we want to by a house", "pre approve").
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from agents.acts import POLICY, act_model
from agents.slotmodel import FILL_ASKED, FILL_VOLUNTEERED, OVERRULE, slot_model
from agents.text import Utterance, normalize, quote_in
from agents.when import When, parse_when

SLOT_NAMES = ("intent", "timeline", "motivation", "price", "financing", "has_agent", "address")
OBJECTIONS = ("not_interested", "how_got_number", "commission", "has_agent", "call_later", "email_me")
ASKS = ("robot", "who", "whom", "purpose", "repeat", "recorded")
MOTIVATIONS = (
    "relocation",
    "growing_family",
    "downsizing",
    "financial",
    "investment",
    "upgrade",
    "first_home",
    "estate",
    "curious",
    "other",
)
FINANCING = ("preapproved", "cash", "needs_financing")

_FILLERS = frozenset(
    {"um", "uh", "uhh", "umm", "er", "erm", "ah", "oh", "hmm", "mm", "well", "so", "like", "and", "eh", "meh"}
)


@dataclass
class Slot:
    """One qualification answer: the value and the lead's words it came from."""

    name: str
    value: Any
    evidence: str
    source: str = "nlu"

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "evidence": self.evidence, "source": self.source}


@dataclass
class Understanding:
    """Everything the deterministic reader found in one utterance."""

    text: str
    opt_out: bool = False
    # It may be an opt-out: the agent asks before it acts (agents.acts.OPT_OUT_ASK).
    opt_out_unsure: bool = False
    wrong_number: bool = False
    objections: list[str] = field(default_factory=list)
    asks: list[str] = field(default_factory=list)
    answer: bool | None = None
    slots: dict[str, Slot] = field(default_factory=dict)
    wants_meeting: bool = False
    declines_meeting: bool = False
    # The line asks something, whether or not it is a question the agent has an answer for.
    question: bool = False
    # The lead has to go this moment ("about to walk into a meeting", "i'm driving"): no more questions.
    leaving: bool = False
    # And says it must go now ("gotta go", "I'm hanging up"), with no time to say when to call again.
    going_now: bool = False
    # The line only says hello ("hello?", "aló"): the lead didn't hear who is calling.
    hello_only: bool = False
    # It only tells the agent to go on ("sure go ahead"), maybe after an acknowledgement ("oh, right. ok go ahead").
    goes_ahead: bool = False
    email: str | None = None
    when: When | None = None
    # Every act the classifier heard (agents.acts.ACTS), including those with no field of their own.
    acts: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (
            self.opt_out
            or self.wrong_number
            or self.objections
            or self.asks
            or self.answer is not None
            or self.slots
            or self.wants_meeting
            or self.declines_meeting
            or self.email
            or (self.when is not None and not self.when.is_empty())
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "opt_out": self.opt_out,
            "opt_out_unsure": self.opt_out_unsure,
            "wrong_number": self.wrong_number,
            "objections": list(self.objections),
            "asks": list(self.asks),
            "answer": self.answer,
            "slots": {name: slot.as_dict() for name, slot in self.slots.items()},
            "wants_meeting": self.wants_meeting,
            "declines_meeting": self.declines_meeting,
            "question": self.question,
            "leaving": self.leaving,
            "going_now": self.going_now,
            "hello_only": self.hello_only,
            "goes_ahead": self.goes_ahead,
            "email": self.email,
            "acts": list(self.acts),
            "when": self.when.as_dict() if self.when is not None else None,
        }


def understand(
    text: str,
    *,
    pending: str | None = None,
    stage: str = "qualifying",
    now: dt.datetime,
    address_on_file: str = "",
) -> Understanding:
    """Read one utterance.

    Args:
        text: what the lead said, as speech-to-text gave it.
        pending: the question the agent asked last (a slot name, "permission", "which_slot", ...),
            which decides what a bare "yes" or "three months" answers.
        stage: the conversation stage; times are only read where one is expected.
        now: the current time in the lead's time zone, for timelines and dates.
        address_on_file: the lead's address, confirmed by a "yes" to the address question.

    Returns:
        The `Understanding`; every slot in it carries the lead's words as evidence.
    """
    u = _heard(text)
    taken_back = _TAKEN_BACK.search(u.text)
    if taken_back and len(u.text[taken_back.end() :].split()) >= 3:
        # "Can you email me the details, actually never mind, I have a minute, we're selling": what follows the
        # never mind stands. An opt-out taken back is asked about, never dropped on a guess.
        read = functools.partial(understand, pending=pending, stage=stage, now=now, address_on_file=address_on_file)
        before, result = read(u.text[: taken_back.start()]), read(u.text[taken_back.end() :])
        result.text = u.text
        for name, slot in before.slots.items():
            result.slots.setdefault(name, slot)
        if (before.opt_out or before.opt_out_unsure) and not result.opt_out:
            _ask_about_opting_out(result)
        return result
    result = Understanding(text=u.text)
    if not u.text:
        # "我不会说英文" leaves no latin letters to read, and says the one thing that matters.
        result.acts = ["non_english"] if _FOREIGN_SCRIPT.search(u.raw) else []
        return result
    # "Uh" or "hmm" says nothing yet; the classifier would still find an act in it.
    hesitation = all(w in _FILLERS for w in u.words)
    model = act_model()
    # One scoring serves the acts and, below, the yes or no.
    found = {} if hesitation else model.probabilities(u.text, pending=pending)
    patterns = _pattern_acts(u)
    if pending == "price" and _ASKED_BACK.search(u.text):
        # "You tell me", "six seventy five maybe, can you tell me?" to "what might your home be worth?".
        patterns |= {"ask_home_value"}
    result.acts = [] if hesitation else model.acts(u.text, pending=pending, patterns=patterns, found=found)
    if not (_QUESTION.search(u.text) or _ASKS_CUE.search(u.text) or "?" in u.raw):
        # "No, I'll wait and see on rates, thanks" speaks of rates and asks nothing: the classifier has no word
        # for a question, only for its topic.
        result.acts = [act for act in result.acts if act not in _TOPIC_QUESTIONS]
    heard_only = "wants_meeting" in result.acts and "wants_meeting" not in patterns
    if heard_only and not _MEETING_CUE.search(_COST_OF_MEETING.sub(" ", u.text)):
        # "Yeah I can talk" shares its words with "can I talk to an agent"; a meeting is asked for with someone
        # or something to meet. "Does it cost anything to talk to your agent?" asks what a meeting costs.
        result.acts.remove("wants_meeting")
    if pending == "reach_time" and "wrong_number" in result.acts and "wrong_number" not in patterns:
        # Asked when the lead can be reached, the speaker has already said the lead is theirs to reach: "I don't
        # know man, I don't keep track of her" knows her. Only words that take it back make it a wrong number.
        result.acts.remove("wrong_number")
    tenure = _TENURE.search(u.text) and not _WHOSE_NUMBER.search(u.text)
    if "wrong_number" in result.acts and "wrong_number" not in patterns and tenure:
        # "I just rent here, I don't own it" says whose home it is, not whose number: a wrong number says who the
        # line doesn't reach (nobody by that name, a new number, a business).
        result.acts.remove("wrong_number")
    if "has_agent_objection" in result.acts and all(w in _FILLERS or w in _ACCEPTANCE for w in u.words):
        # "Mhm yes" names nobody: an agent is an objection only in words that say so (docs/labelling.md, rule 3).
        result.acts.remove("has_agent_objection")
    if _HELLO.match(u.text):
        # "Alo?", "hola": a hello, whatever else the classifier finds in it (the language, a "who is this"); the
        # next words will tell.
        result.acts = [act for act in result.acts if act in patterns or act == "greeting"]
    refused_meeting = False
    if stage != "scheduling":
        # Only an offered meeting can be turned down; before one, "no thanks" is about the call. "No thanks on
        # the meeting" before any is offered turns down what the call is for.
        said_no = "declines_meeting" in result.acts and _MEETING_REFUSED.search(u.text)
        refused_meeting = not (_MEETING_WANTED.search(u.text) or _OWN_MEETING.search(u.text)) and bool(
            said_no or _NO_MEETING.search(u.text)
        )
        if refused_meeting and "not_interested" not in result.acts:
            result.acts.append("not_interested")
        result.acts = [act for act in result.acts if act != "declines_meeting"]
    bare_no = all(w in _FILLERS or w in {"no", "nope", "nah"} for w in u.words)
    if stage == "scheduling" and "declines_meeting" in result.acts and "declines_meeting" not in patterns and bare_no:
        # A bare "no" to "I have today at 11 or tomorrow at 8:30, would either work?" turns down those two times;
        # the next ones are offered (agents.scheduling).
        result.acts.remove("declines_meeting")
    if stage == "scheduling" and "declines_meeting" in result.acts and not _REFUSES_ALL.search(u.text):
        # "No thanks", "I'm good thanks though", said to the times offered, turn down the meeting; the call
        # itself is turned down only in words that reach past it (docs/labelling.md, rule 2).
        result.acts = [act for act in result.acts if act != "not_interested"]
    if "not_interested" in result.acts and _TRAILS_OFF.search(u.text) and not _NOT_INTERESTED.search(u.text):
        # "The last realtor sat on my house eight months... so no offense, but": the lead hasn't finished, and
        # only the classifier guesses where the sentence was going.
        result.acts.remove("not_interested")
    said_bye = "goodbye" in result.acts and "declines_meeting" not in result.acts
    if said_bye and "not_interested" not in result.acts and _NOT_INTERESTED.search(u.text):
        # "Huh that's weird, no thanks bye": the goodbye outweighs the refusal for the classifier, but a lead
        # who says no thanks on the way out turned the call down.
        result.acts.append("not_interested")
    if "wrong_number" in result.acts and "wrong_number" not in patterns and _NAME_ONLY.match(u.text):
        # "This is jane, yes": the lead saying who they are, which no number they never had can be.
        result.acts = [act for act in result.acts if act != "wrong_number"]
    if "child" in result.acts and _NAME_ONLY.match(u.text):
        # "Hello this is emma": a name alone says nothing of the speaker's age, whatever names the children
        # in the training lines had.
        result.acts = [act for act in result.acts if act != "child"]
    grown_up = _A_PARENT.search(u.text) and not _CHILD_ITSELF.search(u.text)
    if "child" in result.acts and (grown_up or _HUSHES_THE_KIDS.search(u.text)):
        # "This is her daughter, my mom's not available": a grown son or daughter answering says who they are
        # to the lead, and "sorry, I've got a toddler on me" is a parent; a child gives itself away by its words
        # ("mommy", its age).
        result.acts = [act for act in result.acts if act != "child"]
    if "non_english" in result.acts and _SOME_ENGLISH.search(u.text) and _ENGLISH_WILL_DO.search(u.text):
        result.acts.remove("non_english")
    if _WHO_FOR.search(u.text) and not _says_not_their_number(u.text):
        # "Wait, who are you looking for?" asks whom we want before saying whether they are here.
        result.acts = [act for act in result.acts if act != "wrong_number"]
        result.acts.append("ask_whom")
        result.question = True
    guessed_wrong = "wrong_number" in result.acts and "wrong_number" not in patterns
    if guessed_wrong and _IS_IT_YOU.search(u.text) and not _says_not_their_number(u.text):
        # "Is this dana, the lady from the open house?": the lead placing who is calling, not a number they never had.
        result.acts = [act for act in result.acts if act != "wrong_number"]
        if "ask_who" not in result.acts:
            result.acts.append("ask_who")
        result.question = True
    if "has_agent_objection" in result.acts and _ASKS_FOR_ONE.search(u.text):
        # "Can you set me up with an agent?", "no we don't have one, can you connect me with somebody": asking
        # for one of ours is having none of their own.
        result.acts = [act for act in result.acts if act != "has_agent_objection"]
        if "wants_meeting" not in result.acts:
            result.acts.append("wants_meeting")
    if "not_the_lead_available" in result.acts and _IT_IS_ME.search(u.text):
        # "This is she", "speaking": the lead answered.
        result.acts = [act for act in result.acts if act != "not_the_lead_available"]
    declined = pending in SLOT_NAMES and _DECLINES.search(u.text)
    # To one of our questions, "all that" is the question; "all this" is still the call.
    refuses_call = _NOT_INTERESTED.search(re.sub(_ALL_OF_THAT, " ", u.text) if pending in SLOT_NAMES else u.text)
    if (_WITHHELD.search(u.text) or declined) and not refuses_call:
        # "Ok I'll answer a couple, but I'm not giving you my social": a limit on what they share, not a no.
        result.acts = [act for act in result.acts if act != "not_interested"]
    if _picky(u.text):
        # "Not interested in anything over five hundred" narrows the search; it turns nobody down.
        result.acts = [act for act in result.acts if act != "not_interested"]
    acts = set(result.acts)
    # "Don't call me before noon" says when to call, however much it sounds like an opt-out.
    timed = _dont_call_timed(u.text) and not _OPT_OUT.search(u.text)
    result.opt_out = "opt_out" in acts and not timed
    result.opt_out_unsure = "opt_out_unsure" in acts and not timed
    if timed:
        result.acts = [act for act in result.acts if act not in {"opt_out", "opt_out_unsure"}]
        acts = set(result.acts)
    if result.opt_out and "not_interested" in result.acts and "not_interested" not in patterns:
        rest = _DONT_CALL_WORDS.sub(" ", _OPT_OUT.sub(" ", u.text))
        if not _REFUSAL_WORD.search(rest):
            # "We were thinking about selling but you know what, don't call me anymore": an opt-out and nothing
            # else; the classifier hears a refusal in it by its likeness to the opt-outs that come with one.
            result.acts.remove("not_interested")
    heard_only = result.opt_out and "opt_out" not in patterns and found.get("opt_out", 0.0) < _OPT_OUT_SURE
    if heard_only and _NOT_INTERESTED.search(u.text):
        # "No offense but I'd rather not do this with a bot, I'm not interested": a refusal in so many words, and
        # an opt-out only by its likeness to one. The lead is asked rather than taken off on a guess.
        _ask_about_opting_out(result)
    asks_then = _CALL_THEN_RE.search(u.text) and not _THREAT.search(u.text)
    if result.opt_out and asks_then and not _OPT_OUT.search(u.text) and not _dont_call(u.text):
        # "I'll think about it, call me again in a month" asks for the call an opt-out refuses: the classifier
        # hears "call me again", which its training lines say after "don't".
        result.opt_out = False
        result.acts = [act for act in result.acts if act != "opt_out"]
    result.wrong_number = "wrong_number" in acts
    if result.wrong_number and "not_the_lead_available" in acts and not _says_not_their_number(u.text):
        # "Jane? Oh she's my roommate, she's not here": whoever says the lead is out says she is at this number.
        result.wrong_number = False
        result.acts = [act for act in result.acts if act != "wrong_number"]
    if result.wrong_number and result.opt_out and not _OPT_OUT.search(u.text) and not _dont_call(u.text):
        # "I don't know any Jane, stop calling for her" sounds like an opt-out to the classifier; it says whose
        # number this isn't. The number goes on the list either way; the outcome says why.
        result.opt_out = False
        result.acts = [act for act in result.acts if act != "opt_out"]
    if (result.opt_out or "has_agent_objection" in acts) and _REFUSED_BESIDE.search(u.text):
        # "Not interested, and don't call again", "my cousin's an agent so we're all set": the refusal said beside
        # an opt-out or an agent is an act of its own (docs/labelling.md, rule 1); the opt-out or the agent still
        # decides what the agent does.
        result.acts = [*dict.fromkeys([*result.acts, "not_interested"])]
    result.answer = yes_no(u.text)
    if result.answer is None and _ENDS_IN_YES.search(u.text):
        # "That's actually my sister's place, we're staying with her for now, but yeah": the last word is the answer.
        result.answer = True
    if result.answer is None and _ENDS_IN_NO.search(u.text):
        # "My cousin has her license but I wouldn't use her, so no": the same, the other way.
        result.answer = False
    if (last := _LAST_SENTENCE.search(u.raw)) and _BARE_NO.fullmatch(Utterance(last[1]).text):
        # "Ugh, another one. I get like five of these a day. No", "oh great, another one. No": the last sentence
        # is the answer, whatever word of the sentences before it sounded like a yes.
        result.answer = False
    if result.answer is None and pending in _YES_NO_QUESTIONS and not hesitation and not parse_address(u):
        # An address said back is read as one, not as a yes or a no.
        result.answer = model.answer(u.text, pending=pending, found=found)
    if declined:
        # "No, I'd rather not say" to "are you pre-approved?" refuses the question; its "no" answers nothing.
        result.answer = None
    if _SPEAKS_FOR_THE_LEAD.search(u.text) and not _CHILD_ITSELF.search(u.text):
        # "Jane's in the shower, this is her wife, we own the place together so you can talk to me": someone
        # the home is as much theirs offers to talk, and the call goes on with them.
        result.acts = [act for act in result.acts if act not in {"not_the_lead_available", "call_later"}]
        if pending == "permission" and result.answer is None:
            result.answer = True
    result.question = bool(_QUESTION.search(u.text))
    result.leaving = bool(_LEAVING.search(u.text))
    result.going_now = result.leaving and bool(_GOING_NOW.search(u.text))
    result.hello_only = bool(_HELLO.match(u.text))
    # "Oh the open house, right. Yeah ok go ahead" acknowledges our answer and says go on: its last sentence is
    # what it asks for.
    result.goes_ahead = goes_ahead(u.text) or goes_ahead(re.split(r"[.!?]+", u.raw.strip().rstrip(".!?"))[-1])
    _objections(u, result, pending=pending, stage=stage, refused_meeting=refused_meeting)
    _asks(u, result)
    if stage not in {"scheduling", "callback", "email"}:
        _slots(u, result, pending=pending, now=now, address_on_file=address_on_file)
    elif stage != "email":
        # Choosing a time, a lead may still say why they are moving or how they will pay; its numbers
        # and dates are about the meeting, so only the slots said in words are read.
        for reader in (_intent, _financing, _motivation):
            reader(_in_earnest(u), result, pending=pending, now=now)
        _agent(u, result, pending=pending)
        _learned_slots(u, result, pending=pending)
    else:
        _agent(u, result, pending=pending)
    if pending == "permission" and result.answer is False and _CALLED_OFTEN.search(u.text) and not result.acts:
        # "Ugh, another one. I get like five of these a day. No": a no said about the calls themselves turns the
        # call down; it is no bad moment to be called back at.
        result.acts.append("not_interested")
        result.objections = [*(o for o in result.objections if o != "call_later"), "not_interested"]
    if pending == "intent" and result.answer is False and not (result.acts or result.slots) and _HEDGED.search(u.text):
        # "Eh, not really" to "buying, selling, or both?": neither, which is a no to the call however softly said.
        result.acts.append("not_interested")
        result.objections.append("not_interested")
    own_plan = _OWN_PLAN.search(u.text) and not _DEFERS_TO_THE_LEAD.search(u.text)
    # "It's just not the right time, my mom's been sick": the speaker's own timing, whoever else they mention.
    own_timing = _NOT_THE_TIME.search(u.text) and not _DEFERS_TO_THE_LEAD.search(u.text)
    guessed_absent = "not_the_lead_available" in result.acts and "not_the_lead_available" not in patterns
    if guessed_absent and ((own_plan and "call_later" not in result.objections) or own_timing):
        # "My mom passed back in august and we got her house, so we're gonna sell it in the spring": whoever speaks
        # of a move of their own is the one to talk to, whatever the classifier makes of the people they mention.
        result.acts = [act for act in result.acts if act != "not_the_lead_available"]
    if {"not_the_lead_available", "child"} & set(result.acts) and pending not in SLOT_NAMES:
        # "She's at the hospital having the baby, call next week": someone else speaking, about the lead's day; none
        # of it answers what the lead wants. (Said to a question of ours, it may still be the lead answering.)
        for name in SLOT_NAMES:
            result.slots.pop(name, None)
    motive = result.slots.get("motivation")
    curious = motive is not None and motive.value == "curious"
    asked_of_us = _ASKED_BACK.search(u.text) or _ASKED_OF_US.search(u.text)
    if "ask_home_value" in result.acts and curious and _WONDERS.search(u.text) and "?" not in u.raw and not asked_of_us:
        # "We're just curious what it's worth" says why they'd talk; it asks for no figure. "Curious what it would go
        # for, what would you say?" asks.
        result.acts.remove("ask_home_value")
    if (
        result.slots.get("intent")
        and "not_interested" in result.objections
        and not _no_need(u.text)
        and not _NEITHER_SIDE.search(u.text)
        and not _NOT_HAPPENING.search(u.text)
        # "We're listed with remax, so no": a side named, and us turned down beside the agent.
        and not _refused_beside_agent(u.text, result.acts)
    ):
        # "We're gonna sell" names the side the lead is taking: whatever the classifier makes of it, nobody
        # turned the call down. Selling it themselves is the exception.
        result.objections.remove("not_interested")
        result.acts = [act for act in result.acts if act != "not_interested"]
    agent = result.slots.get("has_agent")
    if "has_agent_objection" in acts and agent is not None and agent.value is True:
        # "We already have an agent" turns the call down; "yes we have one" to the question only answers it.
        result.objections.append("has_agent")
    if result.opt_out or acts & {"text_me", "email_me"}:
        # "I'm driving, text me" asks for a text instead of a later call; an opt-out wants no call at all.
        result.acts = [act for act in result.acts if act != "call_later"]
        result.objections = [o for o in result.objections if o != "call_later"]
    asks_a_call = "call_later" in result.objections and _CALL_ME_LATER.search(u.text)
    named_when = _TRY_THEM.search(u.text) or _DAY_OR_HOUR.search(u.num_text)
    if "not_the_lead_available" in acts and "call_later" in result.objections and not (asks_a_call or named_when):
        # "Linda's busy with the baby, I'm her sister" says she can't talk, not when to call: the agent asks when.
        result.acts = [act for act in result.acts if act != "call_later"]
        result.objections = [o for o in result.objections if o != "call_later"]
    if result.opt_out and "opt_out" not in patterns and _CALLED_OFTEN.search(u.text) and not _asks_to_stop(u.text):
        rest = _CALLED_OFTEN.sub(" ", u.text)
        if model.probabilities(rest, pending=pending).get("opt_out", 0.0) < POLICY["opt_out"][1]:
            # "You guys have called me like three times this week": how often we call, which the classifier hears
            # as the opt-outs that come after it. Nothing else in the line asks us to stop, so the lead is asked.
            _ask_about_opting_out(result)
    if result.opt_out_unsure and (
        result.slots
        or result.answer is not None
        or acts & _QUESTIONS
        or _MACHINE_GREETING.search(u.text)
        or asks_a_call
        or result.declines_meeting
        or "declines_meeting" in result.acts
    ):
        # It answered the question ("no we dont", "correct"), or asked one ("why are you calling me"):
        # whatever else it might be, it is not a request to be taken off the list, and asking would be a
        # non sequitur. The answer to "who" or "how did you get my number" repeats how to opt out. An answering
        # machine's "please leave a message after the tone" is no one to ask, and "can you call back at eleven"
        # asks for the very call an opt-out refuses. Times turned down are the meeting turned down.
        result.opt_out_unsure = False
        result.acts = [act for act in result.acts if act != "opt_out_unsure"]
    refusal = "not_interested" in result.acts or _REFUSED_BESIDE.search(u.text)
    if result.opt_out and "opt_out" not in patterns and refusal and not _ABOUT_CONTACT.search(u.text):
        # "Nope, don't want it, don't want any of it, we're done here", "I'm gonna pass on whatever this is": a
        # refusal with no word about calls, numbers or lists, which the classifier hears as the opt-outs it resembles.
        # The lead is asked rather than taken off on a guess (after the checks above, which would drop the question).
        _ask_about_opting_out(result)
    hard_to_hear = _HARD_TO_HEAR.search(u.text) and not _THREAT.search(u.text)
    if result.opt_out and hard_to_hear and not _OPT_OUT.search(u.text) and not _dont_call(u.text):
        # "Eh you'll have to speak up dear, I don't hear so good anymore": a lead who can't hear the call, whom the
        # classifier hears as one who wants no more of it. Asked, not taken off on a guess.
        _ask_about_opting_out(result)
    guessed_only = result.opt_out and "opt_out" not in patterns and not _asks_to_stop(u.text)
    if guessed_only and _ANOTHER_CALL.search(u.text) and not _contact_beside(u.text, _ANOTHER_CALL):
        # "Oh shoot, my other line's ringing, gotta take this, bye": the lead's own phone, not our calls.
        result.opt_out = False
        result.acts = [act for act in result.acts if act != "opt_out"]
        guessed_only = False
    if guessed_only and (not _ABOUT_CONTACT.search(u.text) or _phone_habit_only(u.text)):
        # "I'm so done with this place, we want out by summer", "she doesn't really do phone calls anymore": no word
        # about our calls, or only about how someone takes calls at all, which the classifier hears as opt-outs it
        # resembles. The lead is asked rather than taken off on a guess.
        _ask_about_opting_out(result)
    if result.opt_out and _THEIR_CALLS.search(u.text) and not _OPT_OUT.search(u.text) and not _dont_call(u.text):
        # "The last realtor we had never called us back": someone else's calls, which the classifier hears as a
        # complaint about ours. The lead is asked rather than taken off on a guess.
        _ask_about_opting_out(result)
    if result.opt_out and _wonders_about_opting_out(u.text) and not _THREAT.search(u.text):
        # A question about how opting out works is answered by asking whether the lead wants it.
        _ask_about_opting_out(result)
    if result.opt_out and _NAMING.search(u.text) and not _opts_out_beside(u.text, _NAMING):
        # "Don't call me ma'am, it's Linda", "stop calling it a house, it's a condo": "call" as in name.
        result.opt_out = False
        result.acts = [act for act in result.acts if act != "opt_out"]
    if result.opt_out and _SOMEONE_ELSES.search(u.text) and not _opts_out_beside(u.text, _SOMEONE_ELSES):
        # "Remove my wife from whatever you've got, it's just me", "the other realtors won't stop calling me":
        # someone else's number or someone else's calls. The lead is asked whether they meant their own.
        _ask_about_opting_out(result)
    if result.opt_out and _WANTS_CALLS.search(u.text) and not _THREAT.search(u.text):
        # "Stop calling me ma'am, I'm twenty six lol, but yeah go ahead", "take me off the buyer list and put me on
        # the seller one": the words of an opt-out beside a wish to go on. The lead is asked which they meant.
        _ask_about_opting_out(result)
    if pending in {"callback_time", "reach_time"} and _NEVER.fullmatch(u.text):
        # "When would be a better time to call?" "Never."
        result.opt_out, result.opt_out_unsure = True, False
        result.acts = [*dict.fromkeys([*(a for a in result.acts if a != "opt_out_unsure"), "opt_out"])]
    if result.opt_out and acts & _ABOUT_THE_CALL and not _COMPLAINT.search(u.text) and not _asks_to_stop(u.text):
        # "Is this a robot calling me?", "wait who's calling me": a question about the call, which the classifier
        # hears as an opt-out from the words it shares with "stop calling me". The question is answered and the
        # lead asked whether to take the number off the list, rather than the call ended on a guess.
        _ask_about_opting_out(result)
    often = _CALLED_OFTEN.search(u.text) and not _contact_beside(u.text, _CALLED_OFTEN)
    if result.opt_out_unsure and "not_interested" in result.acts and often:
        # "Look, I get like five of these calls a week. We're all set": a refusal, with how often we call as its
        # reason, and no other word about calls. Turned down, as the same no said to the opening is.
        result.opt_out_unsure = False
        result.acts = [act for act in result.acts if act != "opt_out_unsure"]
    agent_calls = stage == "scheduling" and _THE_AGENT_CALLS.search(u.text)
    if (_OURS_TO_CALL.search(u.text) or agent_calls) and not result.opt_out:
        # "Have an agent call me tomorrow morning" asks for a talk with one of ours: a meeting by phone, not a
        # later call from the assistant.
        result.acts = [act for act in result.acts if act != "call_later"]
        result.objections = [o for o in result.objections if o != "call_later"]
        acts = set(result.acts) | {"wants_meeting"}
    if "wants_meeting" in acts:
        result.wants_meeting = True
        # "Can she do wednesday at eight before work": the "she" is our agent and the time is the meeting's; a
        # later call or an absent lead is only the classifier's reading of it.
        guessed = {"call_later", "not_the_lead_available"} - patterns
        result.acts = [act for act in result.acts if act not in guessed]
        result.objections = [o for o in result.objections if o not in guessed]
        acts = set(result.acts)
    # "Could an agent come over next week?" carries the time it wants; scheduling offers from it.
    later = "call_later" in result.objections or "not_the_lead_available" in acts
    if stage == "scheduling" and _THEY_WILL_CALL.search(u.text) and not result.wants_meeting:
        # "Slammed this week, we'll reach out when things calm down": the week is the reason, not an offer.
        result.when = None
    elif _asks_repeat(u):
        # "Did you say seven or eleven?" asks what the agent said; it picks no time.
        result.when = None
    elif stage in {"scheduling", "callback"} or later or result.wants_meeting:
        result.when = parse_when(u, now=now)
    elif pending != "permission" and stage != "email" and not timed and not result.opt_out:
        # A day and an hour offered in the middle of the questions ("could do thursday at three") is the
        # lead asking to meet then, whatever was asked. Before the lead has agreed to talk, the same words
        # say when to call back, which the call-later objection already reads.
        when = parse_when(u, now=now)
        if when.names_a_meeting_time() and not _the_present(when, now):
            result.wants_meeting, result.when = True, when
    if (
        stage == "scheduling"
        and "call_later" in result.objections
        and result.when is not None
        and not result.when.is_empty()
        and not _ASKS_FOR_A_CALL.search(u.text)
    ):
        # "Not tomorrow, the day after in the morning" while times are offered moves the meeting; only a
        # "call me then" asks for a call instead.
        result.acts = [act for act in result.acts if act != "call_later"]
        result.objections = [o for o in result.objections if o != "call_later"]
    if pending == "which_slot" and result.wants_meeting and (result.answer is True or _names_a_time(result.when)):
        # "Lunchtime thursday works best" to the times offered takes up the meeting already on the table: it
        # answers the offer, which scheduling reads from the time and the yes; it asks for nothing new.
        result.wants_meeting = False
        result.acts = [act for act in result.acts if act != "wants_meeting"]
    absent = "not_the_lead_available" in result.acts and "not_the_lead_available" not in patterns
    timed_meeting = stage == "scheduling" and _names_a_time(result.when)
    if absent and (timed_meeting or (pending in SLOT_NAMES and result.slots)):
        # "Can she come to the house tomorrow at eight thirty" to the times offered: "she" is our agent. "Mom passed
        # and left us the house" to "what has you thinking about selling?" answers it. Whoever answers our
        # questions is the lead, whatever the classifier makes of the people they mention.
        result.acts = [act for act in result.acts if act != "not_the_lead_available"]
    agent = result.slots.get("has_agent")
    if result.wants_meeting and agent is not None and agent.value is True and not _HAS_AGENT.search(u.text):
        # "Sure, thursday afternoon works for me" to "are you working with an agent?" agrees to meet ours.
        del result.slots["has_agent"]
        result.objections = [o for o in result.objections if o != "has_agent"]
    if _RATHER_THAN_WRITTEN.search(u.text):
        # "I'd rather just meet with someone than do email": the e-mail is what they turn down.
        result.acts = [act for act in result.acts if act not in {"email_me", "text_me"}]
        result.objections = [o for o in result.objections if o != "email_me"]
    if stage == "email" or "email_me" in result.objections or _SPELLED_EMAIL.search(u.text):
        result.email = parse_email(u.text)
    doubted = {"declines_meeting", "not_interested", "wants_meeting"}
    refused = _DECLINES_MEETING.search(u.text) or _NOT_INTERESTED.search(u.text)
    timeless = result.when is None or result.when.is_empty()
    instead = {"email_me", "text_me"} & set(result.acts)
    if (
        stage == "scheduling"
        and result.question
        and doubted & set(result.acts)
        and not (refused or instead)
        and timeless
    ):
        # "If I meet with her am I locked into anything?", "what would she even tell me?": a question about the
        # meeting, which the classifier hears as a no. It is answered, and the times offered again.
        result.acts = [act for act in result.acts if act not in doubted]
        result.objections = [o for o in result.objections if o != "not_interested"]
        result.wants_meeting = False
        if not any(act.startswith("ask_") for act in result.acts):
            result.acts.append("ask_next_steps")
        acts = set(result.acts)
    # "No agent" or "we've got twins coming": answering a question we asked before is not turning the meeting down.
    answers_instead = bool(result.slots) and not _DECLINES_MEETING.search(u.text)
    if "declines_meeting" in acts and stage == "scheduling" and not answers_instead:
        result.declines_meeting = True
    elif "declines_meeting" in acts:
        result.acts = [act for act in result.acts if act != "declines_meeting"]
    _second_thoughts(u, result, pending=pending)
    return result


# What a bare yes to "are you working with an agent?" may carry beside the yes.
_BARE_YES_WORDS = frozenset({"we", "i", "do", "does", "have", "has", "one", "am", "are", "got", "already", "yes", "so"})


def _names_more(u: Utterance) -> bool:
    """Whether the line says more than yes: someone named, what they did, who they are to the lead."""
    return any(w not in _FILLERS and w not in _ACCEPTANCE and w not in _BARE_YES_WORDS for w in u.words)


_BAD_LINE_CALL_BACK = re.compile(
    r"\b(breaking up|cutting out|staticky|static|bad (line|connection|signal|reception)|no (signal|service|reception)|"
    r"cant hear (you|a thing|anything))\b.{0,40}\b(call|try|ring) (me |us )?(back|again|later)\b"
)
_MAIL_WORD = re.compile(r"\b(e ?mail\w*|mail|inbox|gmail|yahoo|hotmail|outlook|at \w+ dot com)\b")
_TEXT_WORD = re.compile(r"\b(text\w*|txt|sms|message|messages)\b")


def _second_thoughts(u: Utterance, result: Understanding, *, pending: str | None) -> None:
    """Take back what the classifier heard where the rest of the line says otherwise."""
    if {"email_me", "text_me"} <= set(result.acts):
        # "Could you just text me the info instead" names one channel; the classifier hears "send me info" in both.
        if not _MAIL_WORD.search(u.text):
            result.acts.remove("email_me")
            result.objections = [o for o in result.objections if o != "email_me"]
        elif not _TEXT_WORD.search(u.text):
            result.acts.remove("text_me")
    agent = result.slots.get("has_agent")
    if agent is not None and agent.value is False and "has_agent_objection" in result.acts:
        # "My cousin's a realtor but I'm not using her" names an agent the lead doesn't have.
        result.acts.remove("has_agent_objection")
    said_so = result.answer is True or _HAS_AGENT.search(u.text)
    if (
        agent is not None
        and agent.value is True
        and said_so
        and not {"has_agent_objection", "not_interested"} & set(result.acts)
        and _names_more(u)
    ):
        # "Yep, Sarah Jenkins, she sold our last house" says who, which a bare "yes" to the question doesn't.
        result.acts.append("has_agent_objection")
        if "has_agent" not in result.objections:
            result.objections.append("has_agent")
    if "ask_home_value" in result.acts and "price" in result.slots and not result.question:
        # "We think ours would go for around nine hundred" tells the value; it asks for none.
        result.acts.remove("ask_home_value")
    named = result.when is not None and not result.when.is_empty()
    if pending == "callback_time" and named and ("call_later" in result.acts or "call_later" in result.objections):
        # "Try me thursday around noon" to "when would be a better time to call?" answers the question: the call
        # back is already agreed (docs/labelling.md, rule 5).
        result.acts = [act for act in result.acts if act != "call_later"]
        result.objections = [o for o in result.objections if o != "call_later"]
    if "call_later" in result.objections and pending in result.slots and not _CALL_ME_LATER.search(u.text):
        # "Uh no, not right now" to "are you working with an agent?" answers it; it puts nothing off.
        result.objections.remove("call_later")
        result.acts = [act for act in result.acts if act != "call_later"]
    if "ask_repeat" in result.acts and "call_later" in result.objections and _BAD_LINE_CALL_BACK.search(u.text):
        # "You're breaking up, call me back in five": the line is bad, and the lead asks for the call again, not for
        # the last words again.
        result.acts.remove("ask_repeat")
        result.asks = [a for a in result.asks if a != "repeat"]
    if "ask_repeat" in result.acts and "call_later" in result.objections and not _CALL_ME_LATER.search(u.text):
        # "Sorry, can you say that again, I'm kinda half awake": the lead wants to hear it, not to be called later.
        result.objections.remove("call_later")
        result.acts = [act for act in result.acts if act != "call_later"]
    slot = result.slots.get(pending or "")
    if "hold_on" in result.acts and slot is not None and slot.value == "other" and _HOLD_ON.search(u.text):
        # "Hold on a sec, someone's at the door" to "what's prompting the move?": a reason nobody gave.
        del result.slots[pending or ""]
    answer = result.slots.get(pending or "")
    if "hold_on" in result.acts and answer is not None and not _answers_then_goes_away(u, answer):
        # "Buying, hang on, some guy just cut me off, buying yeah": the answer came, whatever else went on.
        # "Probably summer, hold on, my other line is ringing" answers, then goes away for a moment.
        result.acts.remove("hold_on")
    if "hold_on" in result.acts and _KEEPS.search(u.text) and not _HOLD_ON.search(u.text):
        # "We wanna hang on to it a while longer" keeps the house; it doesn't ask the agent to wait.
        result.acts.remove("hold_on")
    if "hold_on" in result.acts and _FOR_A_MINUTE.search(u.text) and not _HOLD_ON.search(u.text):
        # "Yeah for a sec" gives the agent a minute; it doesn't ask the agent to wait one.
        result.acts.remove("hold_on")
    if "hold_on" in result.acts and _HOLD_OFF.search(u.text):
        # "Let's hold off on that" puts the thing off; it doesn't ask the agent to wait.
        result.acts.remove("hold_on")
        if pending in {"which_slot", "offer"} and not result.declines_meeting:
            result.declines_meeting = True
    gives_the_minute = _QUICK.search(u.text) and not _CALL_ME_LATER.search(u.text)
    if pending == "permission" and result.answer is not False and gives_the_minute and "call_later" in result.acts:
        # "Yeah real quick, I'm driving" gives the minute asked for; the drive is why it must be quick.
        result.acts.remove("call_later")
        result.objections = [o for o in result.objections if o != "call_later"]
    flat = _NO_MOVE_AT_ALL.search(u.text) and not (result.opt_out or "not_interested" in result.acts)
    if flat and not _RECONSIDERED.search(u.text):
        # "Naw we ain't moving at all, I'm retired, I just go to open houses for the kitchens": a no in so many
        # words, which the stories around it can hide from the classifier.
        result.acts.append("not_interested")
        result.objections.append("not_interested")
    # "Next year probably, bad timing right now" says when: it is the move's timeline, not a no.
    told_when = result.slots.get("timeline")
    said_when = told_when is not None and told_when.value != "unsure"
    not_now = _NOT_THE_TIME.search(u.text) and not said_when
    not_now = not_now and not (result.opt_out or result.objections)
    if not_now and not {"call_later", "not_interested", "not_the_lead_available"} & set(result.acts):
        # "We do wanna buy, we're just saving up, so it's not the right time": the lead turns down now, in words
        # the classifier, reading the plans around them, does not weigh.
        result.acts.append("not_interested")
        result.objections.append("not_interested")
    timeline = result.slots.get("timeline")
    refused = bool(
        _NOT_INTERESTED.search(u.text)
        or _no_need(u.text)
        or _refused_beside_agent(u.text, result.acts)
        or bool(not_now)
    )
    if pending == "motivation" and "not_interested" in result.objections and not refused:
        # "We bought another place already" to "what has you thinking about selling?" is the reason: the
        # question invites stories that sound like a no to the classifier.
        result.objections.remove("not_interested")
        result.acts = [act for act in result.acts if act != "not_interested"]
    answered = pending in result.slots or (timeline is not None and timeline.value != "unsure")
    if "not_interested" in result.objections and answered and not refused:
        # "Yeah but we're not doing anything for a couple years" is a timeline, however unwelcome; "no we're
        # not" to "are you working with an agent?" and "we're not preapproved or anything" answer the question
        # asked, in the "not" the classifier hears as a no to the call.
        result.objections.remove("not_interested")
        result.acts = [act for act in result.acts if act != "not_interested"]
    if "not_interested" in result.objections and _NO_PRESSURE.search(u.text) and not refused:
        # "I guess, but I'm not looking to be sold anything": the lead will talk, on their terms.
        result.objections.remove("not_interested")
        result.acts = [act for act in result.acts if act != "not_interested"]
    if "not_interested" in result.objections and result.question and not (refused or _REFUSED_BESIDE.search(u.text)):
        # "How much does this cost, cause I'm not paying for anything": a worry put as a question is asked, and
        # answered, before anyone turns anything down.
        result.objections.remove("not_interested")
        result.acts = [act for act in result.acts if act != "not_interested"]


_NO_PRESSURE = re.compile(
    r"\bnot looking to be (sold|pitched|pressured|pushed|hassled)|\b(dont|do not) want to be (sold|pitched|pressured|"
    r"pushed|hassled)|\bno (pressure|sales pitch|hard sell)\b"
)
# "We wanted to buy, but with these rates it's not happening": the side named, and turned down for now.
_NOT_HAPPENING = re.compile(r"\b(its|thats|it is|that is|its just) not (happening|gonna happen|going to happen)\b")
_MINUTE_GIVEN = r"go ahead|(i|ive) (got|have) a (minute|sec|second)"
# "Shoot" and "go for it" give leave only in a short line; "oh shoot, I'm driving" gives no minute.
_GO_AHEAD = re.compile(rf"\b({_MINUTE_GIVEN}|go for it|shoot|fire away|go on|keep going|carry on)\b")
# When to try someone who isn't there: "call him saturday", "try then", "she's back after six".
_TRY_THEM = re.compile(
    r"\b(call|try|ring|reach|catch|get) (him|her|them|back|then|again|later)\b"
    r"|\b(back|home|free|around|available|off) (at|around|after|by|till|until|tomorrow|tonight|later|on)\b"
)
_DAY_OR_HOUR = re.compile(
    r"\b(today|tonight|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend|morning|"
    r"afternoon|evening|noon|\d+ ?(am|pm|oclock)?|(next|this|later this|in a) (week|month))\b"
)
_CALL_ME_LATER = re.compile(
    r"\b((call|try|ring|reach) (me |us )?(back|later|again|another time|tomorrow)|later|"
    # "Can you just call me in the spring", "try us after the holidays": the call, with when.
    r"(call|try|ring|reach) (me|us) (back |again )?(in|next|after|on|this|around) \w+)\b"
)
# Leave to go on, or a minute given with the reason it must be short.
_QUICK = re.compile(
    rf"\b({_MINUTE_GIVEN}|real quick|make it quick|quickly|be quick|"
    r"on (my|a|our) (lunch|break|lunch break)|(i|ive) (got|have) (time|a few minutes)|bear with me)\b"
)


def _the_present(when: When, now: dt.datetime) -> bool:
    """Whether the time is the part of today the lead is already in: "my head's not on straight this morning"."""
    if when.day != now.date() or when.hour is not None or when.earliest_hour is None:
        return False
    return when.earliest_hour <= now.hour < (when.latest_hour or 24)


def _names_a_time(when: When | None) -> bool:
    return when is not None and not when.is_empty()


# Swearing and intensifiers say how the lead feels, not what: "as soon as freaking possible", "hell no".
_INTENSIFIERS = re.compile(
    r"\b(the (hell|heck|fuck)|freaking|freakin|fricking|frickin|friggin|frigging|effing|fucking|fuckin|"
    r"goddamn|goddamned|god damn|damn|damned|dang|darn|bloody)\b|"
    r"^\W*(shit|hell|heck|geez|jeez|crap)\b|\bhell(?= (yeah|yes|no|nah|naw)\b)",
    re.IGNORECASE,
)


# Words speech-to-text spells as it hears them, put back where the readers of days, times and sums look.
_MISHEARD = {
    r"toosday|tuesdy|tusday|chewsday": "tuesday", r"wensday|wendsday|wednsday|when'?s day|wens day": "wednesday",
    r"s'?cond|secnd|sekond": "second",
    r"thirsday|thursdy|thurs": "thursday", r"fryday|fridy": "friday", r"munday|mondy": "monday",
    r"fitty|fiddy": "fifty", r"a sap|a\.s\.a\.p\.?": "asap",
    # "At too", "at for", "at ate": an hour after "at" is a number.
    r"(?<=\bat )too|(?<=\bat )to(?= (am|pm|oclock|o clock|thirty)\b)": "two", r"(?<=\bat )for": "four",
    r"(?<=\bat )ate": "eight", r"(?<=\bat )won": "one",
    # "Can we do to thirty on monday": before the minutes of an hour, "to" is the hour.
    r"(?<=\b(?:do|by) )(?:to|too)(?= (thirty|fifteen|forty five|oclock|o clock)\b)": "two",
    # Months misheard as words that sound alike ("like marsh").
    r"(in|by|like|around|early|late|mid) marsh": r"\1 march",
    # Month and holiday names split or blurred: "feb ruary", "chris miss", "valentimes day".
    r"feb ?(?:ruary|uary|ruery)|febuary": "february", r"jan ?(?:uary|yuary)": "january",
    r"chris ?(?:miss|mas|mus|muss)|christ mas|kris ?(?:miss|mas)": "christmas",
    r"valentimes|valentine(?= day)": "valentines",
    r"thanks ?giving|thanks giving": "thanksgiving",
    # "In like for months", "maybe to weeks": a count of time after a word that expects one.
    r"(in|like|about|maybe|within|around|probably|prob) for (days|weeks|months|years)": r"\1 four \2",
    r"(in|like|about|maybe|within|around|probably|prob) (to|too) (days|weeks|months|years)": r"\1 two \3",
    # "Ate months maybe", "sicks months": a count of time heard as another word.
    r"ate(?= (days|weeks|months|years)\b)": "eight", r"sicks(?= (days|weeks|months|years)\b)": "six",
    r"pre a proved|pre improved|pre a approved": "pre approved",
    # "My wife's a licensed a gent", "thinking about sailing": the trade's words, heard as others.
    r"(?<=licensed )a gent|(?<=real estate )a gent": "agent", r"a gent": "an agent", r"a gents": "agents",
    r"(looking|wanting|want|going|trying|planning|plan|hoping|need|ready|like|meaning) to by(?! (a|an) )": r"\1 to buy",
    r"(were|we are|im|i am|be|been) bying": r"\1 buying",
    r"(wanna|gonna|gotta) by(?! (a|an) )": r"\1 buy",
    # "Just ray move my nummer", "don't cull me a gin": the opt-out's own words, heard as others.
    r"ray move|re move|ree move": "remove", r"un ?subscribe|un sub scribe|on subscribe": "unsubscribe",
    r"nummer|numbah|numba": "number",
    r"cull(?= (me|us|here|this number|again|back)\b)": "call", r"(?<=\b(?:me|us) )a gin": "again",
    r"sailing": "selling", r"^cell(?= )": "sell", r"(to|gonna|wanna|and|or|buy|buying|not) cell": r"\1 sell",
}  # fmt: skip
_MISHEARD_SUBS = [(re.compile(rf"\b(?:{k})\b", re.IGNORECASE), v) for k, v in _MISHEARD.items()]


def _heard(text: str) -> Utterance:
    """Return the line as the readers take it: intensifiers dropped, misheard words put back."""
    return Utterance(_misheard(_INTENSIFIERS.sub(" ", text)))


def _misheard(text: str) -> str:
    for pattern, word in _MISHEARD_SUBS:
        text = pattern.sub(word, text)
    return text


# --- yes and no ------------------------------------------------------------------------------------------------------

_YES = re.compile(
    # "Right now we're with a lender" says when, not yes.
    r"^(yes|yeah|yea|yep|yup|ya|yah|sure|correct|right(?! now| away| this minute| at the moment)|thats right|"
    r"that is right|thats correct|absolutely|"
    r"definitely|of course|ok|okay|mhm|mm hmm|mm hm|mhmm|uh huh|uh hum|affirmative|you bet|sounds good|that works|"
    r"works for me|"
    r"go ahead|i do|we do|i am|we are|it is|thats it|exactly|certainly|please do|i guess|si|claro|esta bien|"
    r"i think so|kind of|kinda|totally|for sure|yes we are|alright|all right|fine|perfect|great|last i checked|"
    r"last time i checked|as far as i know)\b"
)
_NO = re.compile(
    r"^(no|nope|nah|not really|negative|not yet|i dont think so|probably not|maybe not|not today|not at all|wrong|"
    r"thats wrong|thats not right|"
    r"incorrect|we dont|i dont|not now|never|no we|we havent|i havent|havent|not that i know|neither|"
    r"not (at the moment|right now|currently|at this time|at this point|anymore|any more))\b"
)


# The questions answered by a yes or a no, where a reply the patterns can't read is worth the classifier's ear.
_YES_NO_QUESTIONS = frozenset({"permission", "address", "has_agent", "financing"})


_ENDS_IN_YES = re.compile(r"\b(but|so|and) (yeah|yes|yep|yup)$")
_ENDS_IN_NO = re.compile(r"\b(but|so|and) (no|nope|nah)$")
_LAST_SENTENCE = re.compile(r"[.!?;]\s+([^.!?;]+?)\W*$")
_BARE_NO = re.compile(r"(no|nope|nah|no thanks|no thank you)")


def yes_no(text: str) -> bool | None:
    """Return True for a yes, False for a no and None when the reply is neither, ignoring leading fillers."""
    if _YES.match(text) and not _NO.match(text):
        return True  # "uh huh" starts with a filler word
    words = text.split()
    while words and (words[0] in _FILLERS or words[0] in _GREETING_WORDS):
        words = words[1:]
    if words and words[0] in _STANCE_WORDS and len(words) <= 4:
        # "Honestly, not really"; "honestly I don't trust realtors" is no answer to begin with.
        words = words[1:]
    head = " ".join(words)
    if _NO.match(head):
        return False
    if _YES.match(head):
        return True
    # A short reply may end with its answer: "thats my house yeah", "actually no".
    if 1 < len(words) <= 6 and not _TAG_HEAD.match(" ".join(words[:-1])):
        negated = bool(_NEGATION.search(head))
        if words[-1] in _TAIL_YES and not negated:
            return True
        if words[-1] in _TAIL_NO and not _YES.match(words[-2]):
            return False
    return None


# "You are computer, no?", "this is bayside right": a statement about the caller that ends on a tag asks; it answers
# nothing.
_TAG_HEAD = re.compile(r"(you|youre|you are|this is|is this|are you)\b")
_GREETING_WORDS = frozenset({"hey", "hi", "hello", "hiya", "howdy", "alo", "hola"})
# How the answer is said, before it: "honestly, not really", "well no", "ugh nope".
_STANCE_WORDS = frozenset({"honestly", "frankly", "truthfully", "actually", "well", "eh", "hmm", "ugh", "gosh", "man"})
_TAIL_YES = frozenset({"yes", "yeah", "yep", "yup", "yea", "correct", "right", "exactly"})
_TAIL_NO = frozenset({"no", "nope", "nah"})
_NEGATION = re.compile(r"\b(no|not|nope|nah|never|dont|didnt|isnt|wasnt|havent|arent|wrong|incorrect)\b")


# --- opt-out, objections and questions -------------------------------------------------------------------------------

# "No calls during dinner", "no calls at work": when not to call. "After this" and "at all" are from now on.
# A question said as a statement of what the lead wonders: "just curious what it's worth". "We'd like to know what
# it's worth" asks for the valuation, which the agent offers.
_WONDERS = re.compile(r"\b(curious|wondering|wonder) (about |on )?(what|how much)\b")
_THEIR_CALLS = re.compile(
    r"\b(realtor|realter|agent|broker|he|she|they|guy|lady|company|lender|bank|who|that)\b.{0,40}"
    r"\b(never|didnt|did not|wouldnt|would not|barely|rarely|stopped|kept|always) (\w+ )?"
    r"(called|calling|returned|return|got back|get back|answered|picked up)\b"
)
_WHEN_NOT = (
    r"during|before|after(?! (this|that|today|now|tonight))|at(?! all)|while|until|till|between|in the|today|tonight|"
    r"this (week|morning|afternoon|evening)"
)
_OPT_OUT = re.compile(
    r"\b(stop|quit|cease) (calling|phoning|ringing|contacting|bothering|harassing|texting)\b"
    r"|\b(take|get|remove|delete|scratch|cross|strike|drop) (me|my number|my name|this number|us|my info)\b.{0,20}"
    r"\b(off|of|from) (your|the|this|that|ur|you) (list|lists|call|calling|phone list|contact list|do not|dnc|"
    r"database|system)"
    r"|\b(take|remove|delete|scratch) (me|my number|my name|this number|us) off\b(?! (the )?(speaker|hold|mute))"
    r"|\bremove (me|us|my number|this number|my name)\b"
    r"|\bput (me|us|my number|this number) on (the|your) (do not call|dnc|no call)"
    r"|\b(do not call|dont call|dnc|no call) list\b"
    r"|\bunsubscribe\b|\bopt(ing|ed)? (me |us )?out\b|\blose (my|this) number\b"
    r"|\b(get|be|stay|come|taken|go|want|wanna|want to be|need to be|would like to be|like to be) off "
    r"(the|your|this|that|ur|you guys|yalls) "
    r"(list|call list|calling list|phone list)\b"
    # "Leave me alone about dates" asks for no more of one question, not for no more calls.
    r"|\bleave (me|us) alone\b(?! about)"
    # "I want it wiped from whatever list you bought": whatever the verb, off the list.
    r"|\b(wipe|wiped|erase|erased|delete|deleted|scrub|scrubbed|purge|purged|removed|taken off|struck)\b.{0,30}"
    r"\b(list|lists|database|system|records)\b"
    # Said in Spanish: "no me llame mas", "no llamar otra vez", "deje de llamarme", "no vuelvan a llamar".
    r"|\bno (me |nos )?(llame|llamen|llames|llamar)\b|\b(deje|dejen|deja) de llamar\w*"
    r"|\bno (vuelva|vuelvan|vuelvas) a llamar\w*"
    r"|\b(quiteme|quitenme|borre|borren) (de la lista|mi numero)"
    # "No need to call us anymore", "no need to keep phoning", "I'd prefer not to get calls like this".
    r"|\bno need to (keep )?(call|calling|phone|phoning|ring|ringing|contact)( (us|me|here|this number))?"
    r"( (anymore|any more|again|back))?\b(?! (to|about|until|till|before|after|if|my|his|her|the|them|him)\b)"
    r"|\b(prefer|rather|like) not to (get|receive|be getting|have) (these |any |your |phone )?(calls|phone calls)\b"
    r"|\b(id|i would|we would|wed) rather (you|yall|you guys|you folks|your company) (not|didnt|did not|never) "
    r"(call|contact|phone|ring)\b"
    r"|\b(keep|keeps|always) (calling|phoning|ringing)\b.{0,50}\b(cut it out|knock it off|enough already)\b"
    # "No calls during school pickup" says when not to call; it opts out of nothing.
    # "Any more calls about it" is about the move; "no calls about the weekend" says which calls.
    r"|\b(no|any|rather not get) (more |further |future )?(phone )?calls\b"
    r"(?! (from|on|about(?! (it|this|that|any of (it|this|that))\b)|" + _WHEN_NOT + r")\b)"
    r"|\b(dont|do not) want (any |more |your |these |those |no |another |any other )?(phone )?calls?\b"
    r"(?! (from|on|" + _WHEN_NOT + r")\b)"
    # "I never wanna hear from Bayside again", "after this I don't wanna hear from y'all": no more contact at all.
    r"|\b(dont|do not|never|dont ever) (ever )?(wanna|want to|wish to|care to|need to) hear from\b"
    r"(?!.{0,40}\b(about|if|when|until|till|unless|before|after)\b)"
    r"|\bhell freezes over\b|\bwhen pigs fly\b|\b(the )?(twelfth|12th) of never\b"
    r"|\b(never|half past never) (oclock|thirty)\b"
    r"|\bcan (you|yall|you guys|ya|u) (please |just )?not (call|contact|phone|ring)\b"
    r"|\bforget (this|my|our) (phone )?number\b|\bforget (it|i|we|this number|my number) exists?\b"
    # "Just forget you ever had it", "I'd rather just not be contacted at all", "I want out of whatever system you're
    # using", "what I'd like is for these calls to end", "consider me unreachable", "I don't want to talk to you again".
    r"|\bforget (you|yall|you guys) (ever )?(had|have|got) (it|this|my|me|us)\b"
    r"|\b(rather|prefer|like|want) (to )?(just )?not (be )?(contacted|called|bothered|phoned|reached)\b"
    r"(?! (about|until|till|before|after|at(?! all)|on|during|while|by)\b)"
    r"|\bwant out of (your|the|this|that|whatever|any|all) (\w+ ){0,2}(list|lists|system|systems|database|rotation|"
    r"program|calls|records|contacts)\b"
    # "How did you get this number, I want it removed", "you can scrub my info", "take me offer list" (off your).
    r"|\b(want|need|get|have) (all (of )?|every bit of |any of )?(it|that|this|this number|my number|my info|"
    r"my information|my name|my details|my data|me|us) (removed|deleted|erased|scrubbed|wiped|purged|taken off)\b"
    r"|\b(scrub|wipe|erase|delete|purge) (all )?(my|our|this|the) (info|information|number|details|data|contacts?|"
    r"name)\b"
    # "Just erase me", "delete us": the lead as the record to go.
    r"|\b(erase|delete|wipe|scrub|purge) (me|us)\b"
    # "And don't you call back", "you needn't phone again", "you don't need to call me anymore".
    r"|\b(dont|do not|never) you (ever )?(call|phone|ring|contact)\b(?!( me| us| here| this number)?( back| again)? "
    r"(before|after|until|till|at|on|during|tomorrow|today|tonight|this|next|in the)\b)"
    r"|\b(neednt|need not|dont need to|do not need to|dont have to|do not have to) (ever )?(call|phone|ring|contact)"
    r"( me| us| here| this number)? (again|anymore|any more|no more)\b"
    r"|\b(take|get|remove|put) (me|us|my number|this number) (offer|offa|off a|off of) (your |the |ur )?list\b"
    r"|\b(these|the|your|those|all the|all these) (phone )?calls (to )?(end|stop|be over)\b"
    r"|\bconsider me (unreachable|gone|off (the|your) list)\b"
    # "I don't want to be on any call list", "we don't wanna be on your list".
    r"|\b(dont|do not|never) (want|wanna|wish|care) (to )?(be )?on (any|your|the|a|no|those|these) "
    r"((call|calling|phone|contact|do not call|dnc|no call) )?lists?\b(?! (for|of) (buyers|sellers|homes|listings))"
    r"|\b(dont|do not|never) (ever )?(want|wanna|need) to (talk|speak) (to|with) (you|yall|you guys|you people|anyone "
    r"from \w+) (ever )?again\b"
    r"|\b(f|fuck|screw|piss|bugger) off\b|\bgo to hell\b|\bgo away\b"
    # "This better be the last call", "the last call I want from you": no more calls, said as a last one.
    r"|\b(this|that|its|it) (is|was|be|better be|should be|had better be|has to be|will be|had be|can be|could be|"
    r"might as well be|may as well be|is gonna be|is going to be) the last "
    r"(call|time (you|i|we|yall|you guys))\b|\bthe last (call|time) (i|we) (want|get|take|need|hear)\b"
    # "We asked to be removed last month, why are you still calling": an opt-out said before, and ignored.
    r"|\b(asked|told|requested|said) (you |yall |you guys |your (company|office|people) )?(to |that (we|i) )?"
    r"(be |get |wanted to be |want to be )?(removed|taken off|put on (the|your) (do not call|dnc))\b"
    r"|\bwhy (are|do|does|is) (you|yall|you guys|you people|your (company|office)|this (company|number)) (\w+ )?"
    r"(still|keep|keeps) (calling|phoning|ringing|contacting)\b"
    # "...we're not interested please do not call": the line ends on it, so nothing qualifies it.
    r"|\b(dont|do not|never) (ever )?(call|contact|phone|ring)( (again|anymore|any more|no more))?"
    r"( (thanks|thank you|please|ok|okay|bye|goodbye|man|sir|maam|alright))*$"
)
_DONT_CALL = re.compile(
    r"\b(dont|do not|never|please dont|please do not) (ever )?(call|contact|phone|ring) "
    r"(me|us|this number|here|my number|this line|me back|back|it (?=again|anymore|any more|no more|back))\b"
    r"(?P<rest>.*)$"
)
# "don't call me before noon" is a callback request, not an opt-out.
_TIME_QUALIFIER = re.compile(
    r"^\s*(before|after|until|till|at(?! all)|in the|on|tomorrow|today|tonight|during|while|when|this|next|right now|"
    r"now)\b"
)
_WRONG_NUMBER = re.compile(
    r"\b(wrong number|no one (here )?(by|with) that name|nobody (here )?(by|with) that name|"
    r"you have the wrong|youve got the wrong|you got the wrong|doesnt live here|dont know (who|anyone)|"
    r"no (one|body) named)\b"
)
# "Not interested in" a kind of home, a feature or a price: what the lead wants, not whether they want to talk.
_PICKY = re.compile(
    r"\bnot (really |that |too |very )?interested in (a |an |the |any |anything |something |buying |getting )?"
    r"(big|bigger|small|smaller|large|huge|tiny|old|older|new|newer|condo|condos|townhouse|townhouses|townhome|"
    r"townhomes|apartment|apartments|yard|yards|pool|pools|hoa|hoas|fixer|fixers|fixer uppers?|new construction|"
    r"(over|under|above|below|more than|less than|with|without) |(house|home|place)s? (over|under|with|without|in)|"
    r"(one|two|three|four|five|1|2|3|4|5) (bed|bedroom|bedrooms|bath|baths|story|stories)|single family|"
    r"multi family|duplex|duplexes|mobile home|land|lots?|acreage|the suburbs|downtown|the city)"
)


def _picky(text: str) -> bool:
    """Whether the line's "not interested" is about a kind of home and nothing else turns the call down."""
    if not (m := _PICKY.search(text)):
        return False
    rest = text[: m.start()] + " " + text[m.end() :]
    return not _NOT_INTERESTED.search(rest) and not _no_need(text)


# "I don't really want to get into all this": to one of our questions, that question; otherwise the whole call.
_ALL_OF_IT = (
    r"(dont|do not) (really )?(want|wanna|care) (to )?(get into|do|go through|go into|answer|talk about) "
    r"(all (of )?(this|that|these|those)|any of (this|that|these|those))"
)
_ALL_OF_THAT = _ALL_OF_IT.replace("(this|that|these|those)", "(that|those)")
_NOT_INTERESTED = re.compile(
    r"\b(not interested|no interest|not really interested|"
    # "I'm not looking to be sold anything" asks for no pressure; it doesn't turn the call down.
    r"(im|were|we are|i am) not looking(?! to be (sold|pitched|pressured|pushed|hassled))|"
    r"not in the market|not planning (to|on) (move|moving|sell|selling|buy|buying)|"
    r"(not|aint|never) (moving|selling|buying) (anytime|any time|right now|at all)|happy where (we|i) (are|am)|"
    r"(we|i) (just )?(arent|are not|am not|werent|were not) (moving|selling|buying)( \w+)?$|"
    # "I don't really want to get into all this": the whole conversation, not one question. Said on the way out
    # ("...all this, thanks, bye") it is a goodbye, and the lead is tried again another day.
    rf"{_ALL_OF_IT}(?!.*\b(bye|goodbye)\b)|"
    # "We're just not moving, forget it".
    r"(were|im|we are|i am) (just|really|simply) not (moving|selling|buying)( \w+){0,2}$|"
    r"no thanks|no thank you|were good|im good thanks|were all set|im all set|not for me|want no part of|"
    # "No, I don't want to do this", "I told you guys no already", "no me interesa".
    r"(dont|do not) want to( do (this|that|it|any of (this|that)))?$|(dont|do not) want to do (this|any of this)|"
    r"not doing (any of )?this|told (you|yall|you guys|you people) no|no me interesa|no estoy interesad[oa]|"
    r"(its|thats|it is|that is|its just) not (happening|gonna happen|going to happen)|"
    # "Hard pass", "I don't need your services": the service turned down, whatever was asked.
    r"hard pass|(dont|do not|dont really) need (your|any of your) (services?|help)|(dont|do not) need any services|"
    r"(dont|do not) have (any|no) interest|no interest (at all|whatsoever))\b"
)
# A refusal of more than the meeting offered: the move, the service, all of it.
_REFUSES_ALL = re.compile(
    r"\b(not interested|no interest|not in the market|not planning (to|on) \w+|not (moving|selling|buying)\b|"
    r"any of (this|that|it)|want no part|(dont|do not) (want|need) (an agent|a realtor|a realtor|anything|anyone)|"
    r"(not|never) (using|going with|working with) (an agent|a realtor|you|your))"
)
# A refusal said beside an opt-out or an agent, where there is no call left to mishear it in.
_REFUSED_BESIDE = re.compile(
    _NOT_INTERESTED.pattern + r"|\b(im good|were good|all set|(im|were) covered|not doing this|"
    r"dont want to do this|not (selling|buying) anymore|not anymore|thanks anyway|thank you anyway|thanks though|"
    r"(we|i) (dont|do not) need (anything|anybody|anyone|nothing|you|your help|any help|another)|so no( thanks)?$|"
    r"so (were|im|we are|i am) (fine|ok|okay|all good|good))\b"
)


def _refused_beside_agent(text: str, acts: list[str]) -> bool:
    """Whether the line names an agent and turns us down beside it ("my sister's a realtor, so we don't need
    anybody"): two acts, and the refusal stands whatever else the line answers."""
    return "has_agent_objection" in acts and bool(_REFUSED_BESIDE.search(text))


_SELLS_THEMSELVES = re.compile(
    r"\b(sell|selling|list|listing|try|trying|do|doing) (it |the house |the home |our house |our home |the place )?"
    r"(ourselves|myself|on (our|my) own|by ourselves|by myself)\b|\b(for (sale|sell) )?by owner\b|\bfsbo\b"
)
_WANTS_NO_AGENT = re.compile(
    r"\b(dont|do not|wont|will not) (really )?(need|want) (an? |no |any )?(agent|agents|realtor|realtors|broker|"
    r"help|you|your help)\b"
)
# "...save the commission": the reason is not paying an agent.
_SAVES_FEES = re.compile(
    r"\bsave (on )?(the |a |your |that )?(commission|commissions|fees|fee|realtor fees|agent fees)\b"
)
# Reasons that settle it whatever the classifier thinks: selling without an agent, a move just made, no AI.
_NO_NEED = re.compile(
    # "We just moved here for my husband's residency" says where from, and may well be buying.
    r"\b((we|i) (\w+ )?(just|recently) (bought|closed|moved(?! (here|to|from|back|for|across|down|up|over|out)\b))|"
    r"not (selling|buying|moving) in this|(theres|there is) no move|"
    r"(already|just|recently) sold (it|the house|the home|the place|our (house|home|place))\b"
    r"(?!.*\b(buy|buying|looking)\b)|"
    r"(dont|do not) (really )?need to (talk|speak) (to|with) (anyone|anybody|an agent|a realtor|you)|"
    rf"{_SELLS_THEMSELVES.pattern}|\b(dont|do not) (really )?need (an? |any )?(agent|realtor|broker)s?\b|"
    # "We changed our minds, we're staying put", "we decided to refinance instead", "not in a buying mood anymore".
    r"\bchanged (our|my) minds?\b|\bdecided (to stay|not to|against|to rent|to refinance|to keep)\b|\bstaying put\b"
    r"|\b(not|never|aint) (going|moving|goin) anywhere\b|\bnot (\w+ )?(moving|selling|buying|looking) anymore\b"
    r"|\bno longer (moving|selling|buying|looking|interested|planning)\b|\bnot (really )?in (a|the) (\w+ )?mood\b"
    r"|\b(just|only) looking (at (houses|homes|listings) )?(for fun|out of curiosity)\b|"
    # "We wanted to buy, but with these rates it's not happening".
    r"\b(its|thats|it is|that is|its just) not (happening|gonna happen|going to happen))\b"
)
# "I don't talk to machines": the lead hears that a person is there to talk to (agents.graph), then decides.
_NO_MACHINES = re.compile(
    r"\b(dont|do not|wont|will not|not gonna|not going to|never|rather not|id rather not|dont want to|dont wanna) "
    r"(talk|speak|deal|do this) (to|with) (a |an |no |some )?(bot|bots|robot|robots|machine|machines|ai|a i|computer|"
    r"computers|recording|recordings)\b"
)
# "We were gonna maybe just do it ourselves, but that seems like a lot": a plan the lead is giving up.
_RECONSIDERED = re.compile(r"\b(was|were) (gonna|going to|thinking (about|of)|planning (to|on))\b.{0,60}\bbut\b")


def _no_need(text: str) -> re.Match[str] | None:
    """Return the reason that settles a no whatever the classifier thinks, unless the lead is giving it up."""
    if reconsidered := _RECONSIDERED.search(text):
        # "We were gonna sell, but we changed our minds": the reason after the "but" is the one that stands.
        rest = text[reconsidered.end() :]
        return _NO_NEED.search(rest) or _NO_MACHINES.search(rest)
    return _NO_NEED.search(text) or _NO_MACHINES.search(text)


_HOW_GOT_NUMBER = re.compile(
    r"\b(how|where|who) (did|do|does|would) (you|u|they) (get|got|find|have|give you) (my|this|our) "
    r"(number|info|information|name|contact|details|phone)"
    r"|\bwho gave you (my|this|our) (number|info|information|name)"
    r"|\bwhere(d| did) you get (my|this|our) (number|info|information)"
    r"|\bhow do you (have|know) my (number|name)|\bwhy do you have my (number|info)"
    # "I don't remember contacting you", "we never signed up for anything": where did this come from, then.
    r"|\b(dont|do not|cant|can not) (remember|recall) (ever )?(contacting|calling|signing|asking|reaching out|"
    r"filling|giving|talking)\b|\b(i|we) never (contacted|called|signed up|asked|reached out|filled)\b"
    # "Which open house was this?": asking which of their own inquiries the call follows up.
    r"|\b(which|what) (open house|listing|website|site|ad|form|inquiry|request|house|home|property) "
    r"(was (this|that|it)|is (this|that|it)|are you (calling )?about|did i|you talking about)"
)
_COMMISSION = re.compile(
    r"\b(commission|commissions|comission|commision|realtor fees|agent fees|your fees|fees are too|"
    r"six percent|6 percent|6%|too much of a cut)\b"
)
# Asking what the service costs, as opposed to objecting to an agent's commission.
_COST = re.compile(
    r"\b(what (do|would|does) (you|it|that|this) (charge|cost)|how much (do|would|does|will) (you|it|that|this|"
    r"the \w+) (charge|cost)|(is|are|would) (it|this|that|the \w+) (be )?free|free of charge|cost (me )?anything|"
    r"what are your fees)\b"
)
# "I'm at work a lot" says why texts suit them better, not that now is a bad time.
_NOT_HABITUAL = r"(?! a lot| all the time| most days| most of the time| during the day| all day)"
# "Don't call back" and "never call me back" refuse the call; they ask for no later one.
_UNNEGATED = r"(?<!dont )(?<!do not )(?<!never )(?<!dont ever )(?<!do not ever )(?<!dont you )"
_LATER_WHEN = (
    r"(later|another time|some other time|tomorrow|tonight|this (morning|afternoon|evening|weekend)|"
    r"next (week|month|year|weekend)|(on |this |next )?(monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    # "Try me june first", "call me in january": a month names the later call as well as a day does.
    r"(in |on |early |late |mid |the )?(january|february|march|april|may|june|july|august|september|october|"
    r"november|december)|(in |around )?the (spring|summer|fall|new year)|"
    r"in (a|an|one|two|three|a couple|a few|\d+) (minutes?|hours?|days?|weeks?|months?|bit|while|of)|"
    r"after (\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|noon|lunch|work|school|the)|"
    r"around (\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|noon|lunch|dinner))"
)
# "Call her saturday", "try him tomorrow morning", "call me again in a month": a later call, and when.
_CALL_THEN = rf"\b{_UNNEGATED}(call|try|ring|reach|catch) (me|us|her|him|them) (back |again )*{_LATER_WHEN}\b"
_CALL_THEN_RE = re.compile(_CALL_THEN)
# "Call me again and I'll sue": a later call named in a threat asks for none.
_THREAT = re.compile(r"\b(sue|suing|report|reporting|lawyer|attorney|harass\w*|police|ftc|fcc)\b")
_CALL_LATER = re.compile(
    rf"\b{_UNNEGATED}call (me |us )?(back )?"
    r"(later|another time|some other time|tomorrow|next week|in (a|an) (hour|bit|few))"
    rf"|\b{_UNNEGATED}call (me |us )?back\b|\b(not|isnt) a good time\b|\bbad time\b|\bbusy (right )?now\b"
    rf"|\b(im|i am|were|we are) (driving|at work|busy|in a meeting|working|on the road|at dinner)\b{_NOT_HABITUAL}"
    r"|\btry (me |us )?(again )?later\b|\banother time\b|\bcan we do this later\b|\bnot right now\b"
    # "He's home tonight, try around seven", "try us after six": when to call, said as where to try.
    r"|\btry (me |us |her |him |them |back |again )*(around|about|after|at|tonight|tomorrow|this evening|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    r"|\bin the middle of something\b|\b(cant|can not|cannot) (really )?talk\b(?! (about|to|with)\b)"
    r"|\b(dont|do not) call (me |us )?(before|after|until|till)\b"
    rf"|{_CALL_THEN}"
    r"|\b(try|call) (back )?then\b|\bcheck (back )?(in|back) (with (me|us) )?(later|again|next|in|after|tomorrow)\b"
    r"|\bcan (this|it|we) wait\b|\b(not now|maybe later|later maybe)\b"
    r"|\b(can|could|let) (i|me|we|us) (call|get back to) you( back)?\b"
)
_EMAIL_ME = re.compile(
    r"\b(just )?(email|e mail|send|shoot|text) me\b"
    r"|\bsend (me )?(an |the )?(email|e mail|info|information|details|something|listings)\b"
    r"|\b(can|could) you (just )?(email|e mail|send)\b|\bput it in (an )?(email|e mail|writing)\b"
    r"|\bby (email|e mail)\b"
)
_ROBOT = re.compile(
    # "Say you're human, go on, just say it": a dare to deny being an AI, answered as the question it is.
    r"\b(say|admit|tell me) (that )?(you are|youre|your|ur) (a )?(human|person|real|a real person|not a (robot|bot))\b|"
    r"\b(are|is) (you|this|it|that) (a |an )?(robot|bot|machine|computer|ai|a i|real person|real|human|person|"
    r"recording|automated|recorded|live person|actual person|rowboat|row bot|robo|robo call|artificial)\b"
    r"|\bam i (talking|speaking) (to|with) (a |an )?(actual |real |live )?(robot|machine|computer|person|human|ai|"
    r"a i|bot|recording|being)\b"
    r"|\b(youre|you are|you a|this is a|sounds like a) (a )?(robot|bot|machine|computer|recording|ai)\b"
    r"|\brobo ?call\b|\bare you real\b|\bis this automated\b|\bis this an ai\b|\bare you an ai\b"
    # "Are you like chat gpt or something", "are you some kind of computer": the same question, hedged.
    r"|\b(are|is) (you|this|it) (like |some |some kind of |some sort of |one of those |just )?(a |an )?"
    r"(chat ?gpt|siri|alexa|chatbot|chat bot|robot|bot|machine|computer|ai|a i|program|computer program)\b"
    r"|\bare you (even )?(alive|a living person|a live person)\b"
    # "Who's dana, is she like a real person?": whether a person is on the other end at all.
    r"|\b(is|are) (she|he|they|that) (like |even )?(a )?(real|actual|live) (person|human|people)\b"
    # "This is an automated call, isn't it": said as a statement, asked as a question.
    r"|\b(this is|its|it is|thats|that is|this an?|is this an?|is that an?) (an |a )?"
    r"(automated|recorded|prerecorded|robo|computer) (call|message|system|voice)\b"
    # "Is there a human I can talk to": whoever asks for a person is asking whether they have one.
    r"|\b(is there|can i (talk|speak) (to|with)|could i (talk|speak) (to|with)|i (want|wanna|need|prefer|would prefer|"
    r"d prefer|d rather have)( to (talk|speak) (to|with))?|let me (talk|speak) (to|with)|put on|get me) "
    r"(a |an )?(real |actual |live )?(human|human being|(real|actual|live) (person|people))\b"
)
# Spanish as an English speech model writes it down: "no hablowing glaze" for "no hablo inglés".
# Speech-to-text writes a language in its own script or letters: Chinese, Vietnamese, Korean, Russian, Arabic...
_FOREIGN_SCRIPT = re.compile(
    "[\u0400-\u04ff\u0590-\u05ff\u0600-\u06ff\u0900-\u097f\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff"
    "\uac00-\ud7af\u1ea0-\u1ef9\u01a0\u01a1\u01af\u01b0\u0102\u0103\u0110\u0111]"
)
# Someone answering for the lead says who they are to them: "this is his wife", "i'm her sister".
_SOMEONE_ELSE = re.compile(
    r"\b(this is|im|i am|its|it is) (her|his|their) (husband|wife|son|daughter|sister|brother|mom|mother|dad|"
    r"father|roommate|room mate|assistant|secretary|caretaker|caregiver|nurse|partner|boyfriend|girlfriend|fiance|"
    r"grandson|granddaughter|niece|nephew|aunt|uncle|cousin|friend|neighbor|tenant|landlord|coworker)\b"
    r"(?!.{0,30}\b(hold on|one sec|one second|let me get|ill get|here (s|he|she)|(hes|shes) right here))"
)
# Someone else answering who offers to talk in the lead's place, as an owner of the home too.
_SPEAKS_FOR_THE_LEAD = re.compile(
    r"\b(you can|you could|feel free to|go ahead and|just) (talk|speak) (to|with) me\b|\btalk to me instead\b"
    r"|\bi can (help|answer|talk|speak)( you)?( with that| for (her|him|us|them|both of us))?\b"
    r"|\bwe (own|bought|share) (it|the place|the house|the home|the property|this place|this house) together\b"
    r"|\b(im|i am) (the |a )?(co owner|co-owner|owner too|on the (deed|title)|an owner too)\b"
    r"|\bi (make|handle|do) (the|all the) (decisions|real estate stuff|house stuff)\b"
)
# The lead sold up and left, or has died: nobody at this number is the lead. (A business answering is asked
# for the lead first: the lead may work there.)
_NOT_THEIR_NUMBER = re.compile(
    r"\b((sold|sold us) (us )?(the|this|his|her|their) (house|home|place|condo) and (moved|left)|"
    r"(he|she|they) (moved|passed away|died) .{0,20}\b(years ago|a while ago|last year|out of state|away))\b"
)
# Asking which of the lead's own inquiries the call follows: the open house, the Zillow form, a sign-up.
_WHICH_INQUIRY = re.compile(
    r"\b((dont|do not|never) (remember|recall) (giving|signing|filling|putting|asking|requesting)|"
    r"is (this|that|it) (from|about|for|regarding) (the|that|my) (open house|zillow|realtor|redfin|trulia|form|"
    r"thing i|listing|website|ad|inquiry|sign ?up)|"
    r"(was|is) (that|this|it) (the|from|about) (zillow|realtor com|realtor dot com|redfin|trulia|open house|form)|"
    r"did i (sign|fill|request|inquire|ask|put|register)|what (inquiry|request|form|sign ?up))\b"
)
# How people answer a phone, in English and the languages callers here most often answer in.
_HELLO = re.compile(r"^((yes|yeah|um|uh|hi|hey) )?(hello|helo|hallo|hi|hey|alo|allo|hola|bueno|diga|yes)( hello)*$")
_SPANISH = re.compile(r"\bhabl[oa]\w*|\bingl ?e?s\b|\bespa ?n?ol\b|\bno (entiendo|comprendo)\b|\bquien (habla|es)\b")
_SCAM = re.compile(
    r"\b(is (this|it|that)|this isnt|this is not|its not|how do i know|are you|sounds like|not another)\b"
    r".{0,30}\b(scam|scammer|spam|fraud|legit|legitimate|phishing|con|trick|ripoff|rip off|hustle|racket)\b"
    r"|\b(scam|spam) (call|calls|caller)\b"
)
_WHO = re.compile(
    r"\b(who is this|whos this|who are you|who is calling|whos calling|who did you say|what company|"
    r"where are you calling from|who do you work for|what was your name|never heard of (you|your|them|it)|"
    r"what (company|business|agency|outfit) (is (this|that)|are you)|"
    r"are you (guys |all |folks )?(local|a call center|some call center|based (here|around here|in)|from around here)|"
    r"where are you (guys |all |folks )?(located|based|out of))\b"
)
_PURPOSE = re.compile(
    r"\b(what is this about|whats this about|what is this regarding|why are you calling|what do you want|"
    r"whats this regarding|what are you calling about|what is this for)\b"
)
_REPEAT = re.compile(
    r"(sorry |excuse me |pardon )?(what|huh|sorry|pardon|pardon me|come again|say that again|repeat that|"
    r"what was that|excuse me|i didnt catch that|can you repeat( that)?|what did you say|sorry what|"
    r"did you say( \w+){1,4}?)"
    r"( please| again| sorry)*"
)


def _asks_repeat(u: Utterance) -> bool:
    """Return whether the whole line asks to hear it again ("sorry what", "pardon") or says the line is bad."""
    said = " ".join(w for w in u.words if w not in _FILLERS)
    return bool(_REPEAT.fullmatch(said) or _CANT_HEAR.search(u.text))


# A lead who can't hear well: "speak up", "I'm hard of hearing", "I don't hear so good".
_HEARING = (
    r"speak up|(a little |a bit )?louder|hard of hearing|(dont|do not|cant|cannot) hear (so |too |very |real |that )?"
    r"(good|well|great)"
)
# The line, not the lead's mind: they could not hear what was said.
_CANT_HEAR = re.compile(
    rf"\b({_HEARING}|(youre|you are|its) (breaking|cutting) up|bad (connection|line)|"
    r"(cant|couldnt|can not|barely) hear (you|that|what)|"
    # "Can you say that last part again", "repeat the bit about the company".
    r"(say|repeat) (that|the) (last |first )?(part|bit|thing|question|number) (again|about)|"
    # "I'm not gonna say it again" is said in anger, not asked.
    r"(?<!wont )(?<!not gonna )(?<!not going to )(?<!dont make me )(?<!never )"
    r"say (that|it) (again|one more time)|(?<!say it )(?<!say that )one more time)\b"
)
# The lead can't hear the call well, the line or their ears.
_HARD_TO_HEAR = re.compile(rf"\b({_HEARING}|(cant|couldnt|can not|barely) hear)\b")
_WANTS_MEETING = re.compile(
    # "Could someone come and look at it?", also when Whisper loses the "could".
    r"\b(someone|somebody|an agent|you|a realtor) (to )?(come|stop) (by|out|over|and (look|see)|look|see)\b"
    r"|\b(set|book|schedule|make) (up )?(an |a )?(appointment|meeting|time|showing|call)\b"
    # "I'd rather just sit down with the agent", "when can I meet her", "I wanna talk to a real agent": said as a
    # wish, not inside a question about it ("does it cost anything to talk to your agent?").
    r"|(?<!dont )(?<!do not )(?<!not )(?<!never )"
    r"\b(want|wanna|like|rather|prefer|let me|can i|could i|can we|could we|need to|just|ill|i will|happy to|lets)"
    r" (to )?(just )?((talk|speak) (to|with)|meet|sit down with) (an |a |the |your |one of your )?(real |actual )?"
    r"(agent|realtor|realter|broker|dana|her|him|one|someone|somebody|person)\b(?! (about|if|who|that)\b)"
    r"|\bsee (some )?(houses|homes)\b"
    # "Put me in touch with a realtor", "put me down for a consultation", "do you have anyone who can show me condos".
    r"|(?:^|\b(?:please|can you|could you|would you|just|so|then|ok|okay|yeah|um|uh|sure) )put (me|us) "
    r"(in touch|in contact) with\b|(?:^|\b(?:please|can you|could you|would you|just|so|then|ok|okay|yeah|um|uh|sure) )"
    r"put (me|us) down for (a |an )?(consult\w*|appointment|meeting|"
    r"valuation|visit|walk ?through|showing)\b|\b(anyone|anybody|someone|somebody) (who|that) can (show|come)\b"
    # "I work till five, can she do six pm": a time for the agent, said before she was offered.
    r"|\b(can|could|would) (she|he|dana|they|the agent|your agent) (do|meet|make it|come (by|over|out))\b"
)
# "Can she just call me wednesday at one", while the agent's times are on the table: she is the agent.
_THE_AGENT_CALLS = re.compile(r"\b(can|could|would|will) (she|he|they) (just )?(call|phone|ring) (me|us)\b")
_OURS_TO_CALL = re.compile(
    r"\b((an|the|your|a) (agent|realtor|realter|broker)"
    r"|one of (your|the|them|those) (agents|realtors|brokers|people|guys)"
    r"|(a|an) (real|actual|live) (person|human)"
    # "Can Dana call me", the broker by name: anyone but the assistant itself.
    r"|(?<=can )(?!you |u |ya |we |i |they |it |someone |somebody |anyone )[a-z]+"
    r"|(?<=could )(?!you |u |ya |we |i |they |it |someone |somebody |anyone )[a-z]+"
    r"|(?<=have )(?!you |u |ya |we |i |they |it |someone |somebody |anyone )[a-z]+)"
    r" (to |can |could |should |would |will )?"
    # "Have a real person call me back" keeps the call-back: the lead asked for a later call, not a meeting.
    r"(call|phone|ring|contact|reach out to|get (back )?to|get in touch with|give) (me|us)\b(?! back)"
)
_ASKS_FOR_A_CALL = re.compile(r"\b(call|calling|ring|phone|try)\b")
_THEY_WILL_CALL = re.compile(
    r"\b(ill|well|we ll|i ll|we will|i will|hell|shell|theyll|(he|she|they|my \w+|our \w+) will) "
    r"(reach out|call you|get back to you|be in touch"
    r"|give you (guys )?a (call|ring)|let you know|contact you)\b"
)
# "I'll look you up and call if I want", "we'll get in touch when we're ready".
_WILL_REACH_OUT = re.compile(
    r"\b(ill|well|we ll|i ll|we will|i will) (\w+ ){0,6}(call|reach out|contact|get in touch|get back|look you up)"
    r"( (you|yall|you guys|them|back|bayside|the office))?( \w+){0,2} (if|when|once|whenever) "
    r"(i|we|im|were|i am|we are|its|things)\b"
)
# Saying they will be in touch themselves declines the meeting offered, as in _THEY_WILL_CALL.
_DECLINES_MEETING = re.compile(
    rf"{_THEY_WILL_CALL.pattern}|"
    r"\b(no thanks|no thank you|not interested|dont need (a|an) (meeting|appointment)|no (meetings?|appointments?)|"
    r"not ready (to|for)|dont want (a|an|to)|(ill|we ll) call|"
    r"ill pass|pass on that|not yet|too (early|soon)|(think|thinking) (about it|it over)|"
    r"(ill|well|i will|we will|im gonna|were gonna|id rather|wed rather) (just )?(wait|hold off|sit tight)|"
    # "Neither works and I don't know when would", "no thursday no friday": every time offered turned down.
    r"neither (one |of (those|them|these) )?(works?|is good|is gonna work)|neither$|"
    r"no (\w+day|mornings?|afternoons?|evenings?) no (\w+day|mornings?|afternoons?|evenings?)|"
    r"(cant|can not|cannot|wont|not gonna) (do|make|commit to) (a |the |any )?(meeting|appointment|time)|"
    r"say no to (the |a |any )?(meeting|appointment)|"
    r"not (right )?now|not at (this|the moment|this point)|maybe later|some other time|hold off|"
    r"no need( for)?|dont need (one|that|it|to)|"
    r"(id|i would) (rather|prefer) not|just (browsing|looking)|"
    # "I'm not meeting anyone", "I don't do meetings with realtors": no meeting with anybody, offered or not.
    r"(im|i am|were|we are) not (meeting|gonna meet|going to meet|sitting down) (with )?(anyone|anybody|nobody|"
    r"an agent|a realtor|any agents?|any realtors?|her|him|them)|(i|we) (dont|do not) do meetings)\b"
)


# Renting or owning the home the call is about.
_TENURE = re.compile(r"\b(rent|rents|renting|renter|renters|tenant|tenants|lease|leasing|own|owner|landlord)\b")
_WHOSE_NUMBER = re.compile(
    r"\b(wrong|number|phone|line|name|named|nobody|no one|noone|no body|never heard|who|whos|dont know|"
    r"not (him|her|them|me|it|that person|the person)|doesnt live|dont live|lived|live here|moved|new|"
    r"business|office|company|store|"
    r"shop|church|school|clinic|restaurant|not (a|the) person|not who|is she|is he|there aint|there is no|theres no|"
    r"no (\w+ )?(here|there)|mistake|dialed|dialled|looking for|never asked|didnt ask|front desk|"
    r"(dont|do not) have (a|an|any|no) \w+ (here|there))\b"
)
# A meeting turned down in so many words, before one is offered.
_MEETING_REFUSED = re.compile(
    r"\b(no|dont|do not|not)\b( \w+){0,4} (meeting|meetings|appointment|appointments|consultation|walk ?through|"
    r"sit down|meet (with )?(anyone|anybody|someone|somebody|an agent|the agent|a realtor))\b"
)
# The same, said so plainly that no classifier is needed: "no meeting yet", "don't need an appointment".
_NO_MEETING = re.compile(
    r"\b(no|not (a|an|any)) (meeting|meetings|appointment|appointments|consultation|sit down)s?\b"
    r"(?! (today|tonight|this (morning|afternoon)|until|till|at|right now)\b)"
    r"|\b(dont|do not|dont really|do not really) (need|want|wanna) (to )?(a |an |any |to )?"
    r"(meet|meeting|appointment|sit down|consultation)\b"
)
# The lead's own meetings: "I'm not in a meeting, go ahead", "I have no meeting till three".
_OWN_MEETING = re.compile(
    r"\b(in|into|have|got|gotta|heading to|going to|late for|between) (a|an|my|the|no) (meeting|appointment)s?\b"
    r"|\b(meeting|appointment)s? (at|till|until|in|right now|today|tonight|this (morning|afternoon))\b"
)
_MEETING_WANTED = re.compile(
    r"\b(but|though) (i|we) (do |still )?(want|wanna|would like)\b|\b(can|could) (we|i) meet\b"
)
_LEAVING = re.compile(
    r"\b(about to (go|walk|head|get|jump|start)|(going|walking|heading|running) (in|into|out)|on my way|"
    r"im (driving|in a meeting|in the middle of|with a (client|patient|customer)|on the (freeway|highway|road))|"
    rf"(gotta|got to|have to|need to) (go|run|get going|hop off|jump off)|in a hurry)\b{_NOT_HABITUAL}"
)

_GOING_NOW = re.compile(
    r"\b((gotta|got to|have to|need to|i must) (go|run|get going|hop off|jump off|hang up)|"
    r"(im|i am) (hanging up|going now|going in now)|bye)\b"
)


def _dont_call_timed(text: str) -> bool:
    match = _DONT_CALL.search(text)
    return bool(match and _TIME_QUALIFIER.match(match.group("rest")))


_DONT_CALL_WORDS = re.compile(
    r"\b(dont|do not|never|please dont|please do not) (ever )?(call|contact|phone|ring|want)\b|\bno (more )?calls\b"
)
# What turns the call down beside an opt-out: "no thank you, remove my number", "neither, stop calling me".
_REFUSAL_WORD = re.compile(
    r"\b(no|nah|nope|naw|not|isnt|arent|aint|wont|neither|none|good|all set|pass|dont need|no need|"
    r"dont want (it|this|that|anything|to)|"
    r"done|over it|wasting)\b"
)


def _dont_call(text: str) -> bool:
    match = _DONT_CALL.search(text)
    if not match:
        return False
    return not _TIME_QUALIFIER.match(match.group("rest"))


# Who a question opened by "were", "was", "have" or "has" asks about. Without one it is a statement whose
# subject speech-to-text dropped or fused: "we're moving" comes as "were moving", "have to sell first".
_SUBJECT = (
    r"(i|you|ya|u|he|she|it|we|they|there|this|that|these|those|the|a|an|my|your|his|her|our|their|"
    r"any|anyone|anybody|someone|somebody|y all)"
)
# A question, as speech-to-text writes one (rarely with its "?"): a question word anywhere, or a clause that
# opens with its verb after any lead-in ("hang on is meeting her gonna cost me anything").
_QUESTION = re.compile(
    r"\?|\b(what|whats|how|hows|why|wondering|tell me|any idea|do you know|can you|could you|is it|is this|are you)\b"
    # A verb before its subject asks, wherever the clause starts: "if I meet with her am I locked into anything".
    r"|\b(am i|do i|do we|does (it|she|he|that)|will (i|we|she|he)|would (i|we|she|he)|should (i|we)|is there|"
    r"are there|are we|can (i|we|she|he)|could (i|we|she|he)|did (you|she|he))\b"
    r"|^((hang on|hold on|wait|sorry|so|ok|okay|oh|and|but|um|uh|well|hey|actually|real quick|quick question) )*"
    r"((is|are|do|does|did|will|would|can|could|should|am)\b|(have|has|was|were) (?=" + _SUBJECT + r"\b))"
)
_QUESTIONS = frozenset({"ask_who", "ask_purpose", "how_got_number", "ask_scam", "ask_robot", "ask_cost"})
# Questions only the classifier hears, by their topic.
_TOPIC_QUESTIONS = frozenset({"ask_market", "ask_rates", "ask_home_value", "ask_next_steps"})
# Asking without a question's form: "I'd like to know what it's worth", "curious about rates", "market's nuts huh".
_ASKS_CUE = re.compile(
    r"\b(know|curious|wonder\w*|idea|tell|thoughts|opinion|think|guess|estimate|ballpark|explain|walk me through)\b"
    r"|\b(huh|right|eh|true)$|\b(what|whats|which|when|where|who|how)\b"
    # A verb before its subject, anywhere: "haven't talked to a lender yet, are rates any better than last year".
    r"|\b(is|are|does|do|did|will|would|can|could|should|has|have|was|were) (it|that|this|they|there|rates|prices|"
    r"houses|homes|things|values|the|you|we|i|anyone|somebody|someone|anybody)\b"
)
_MACHINE_GREETING = re.compile(
    r"\b(leave (a|your) (message|name)|after the (tone|beep)|at the (tone|beep)|you (have|ve) reached|"
    r"youve reached|not available to take|cant come to the phone|mailbox)\b"
)
_GOODBYE = re.compile(
    r"\b(bye|goodbye|bye bye|gotta go|got to go|have to go|need to go|gotta run|got to run|have to run|"
    r"talk (to you )?later|ttyl|take care|im (hanging|gonna hang) up|hanging up now|see ya|see you|take it easy|"
    r"talk to (you|ya) (then|soon|tomorrow|next week|on \w+day|\w+day)|catch (you|ya) later|good luck( to you)?|"
    r"have a (good|great|nice|blessed) (one|day|night|evening|afternoon|weekend)|peace( out)?$|cya|adios)\b"
    # "We're saying goodbye to this neighborhood": leaving a place, not the call.
    r"(?! to (this|the|our|that|my|it|a)\b)"
)
# A child gives itself away by how it names a parent ("mommy", "my mom is at work") or by its age; an adult
# says "inherited it from my dad".
_CHILD_ITSELF = re.compile(
    r"\b(mommy|momma|mama|daddy|papa|grandma|grandpa|nana|granny)s?\b|"
    r"\b(years old|in (kindergarten|first grade|second grade|third grade|1st grade|2nd grade|3rd grade)|"
    r"im (four|five|six|seven|eight|nine|4|5|6|7|8|9)|my teacher|home from school|im (just )?a kid|"
    # "I'm not allowed to talk on the phone", "are you a robot like in my show": a child's own rules and world.
    r"(im|i am|were|we are) not allowed to (talk|answer|use|be on|pick up)|(like )?in my (show|cartoon|game)|"
    r"my (cartoons?|toys?|nap|naptime|babysitter|nanny|preschool|daycare))\b"
)
# The speaker's own move: "we're gonna sell it", "I'm looking to buy".
_OWN_PLAN = re.compile(
    r"\b(we|i|were|im|ill|well|weve|ive|we are|i am|we will|i will)( \w+){0,3} (sell|selling|buy|buying|list|listing)"
    r"\b(?! (for|to) (her|him|them)\b)"
)
# The decision left to the lead: "but talk to her", "it's his call".
_DEFERS_TO_THE_LEAD = re.compile(
    r"\b(talk|speak) (to|with) (her|him)\b|\bask (her|him)\b|\b(her|his) (call|decision)\b"
    r"|\b(its|it is|thats) (her|his) (house|place|home)\b"
    r"|\b(she|he) (decides|handles|is handling|makes)\b"
)
# "Kids, quiet, mommy's on the phone": a parent hushing the children ("mommy" alone could be a child's word).
_HUSHES_THE_KIDS = re.compile(r"\b(kids|boys|girls) (quiet|hush|shush|be quiet|stop it|settle down)\b")
# Someone who speaks of a child, or for the lead: a grown-up, whatever else the classifier hears.
_A_PARENT = re.compile(
    _SOMEONE_ELSE.pattern
    + r"|\b((ive|i have|weve|we have|i got|we got|ive got|weve got) (a|two|three|the) (toddler|baby|newborn|"
    r"kid|kids|little one|little ones)|(my|our) (toddler|baby|newborn|kid|kids|son|daughter|little one)s?)\b"
    # Taking a message is what a grown-up answering for the lead offers.
    r"|\b(take|took|leave|give (her|him|them)|pass along) (a|the) message\b|\bmay i (ask|tell (her|him))\b"
    # "I'm twenty four and my dad keeps saying...": a grown-up's own age.
    r"|\b(im|i am) (eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|1[89]|[2-9]\d)\b"
)
_CHILD = re.compile(
    _CHILD_ITSELF.pattern + r"|"
    r"\b(my )?(mom|dad|mum|mother|father|parents)s? (is|isnt|s|not|cant|went|are|arent|at|in the|busy|working|"
    r"sleeping|says|said|told)\b(?! (an |a )?(licensed |real estate )?(agent|realtor|realter|broker)\b)"
)


def _pattern_acts(u: Utterance) -> frozenset[str]:
    """Return the acts the patterns find; agents.acts weighs them with the classifier's view."""
    text = u.text
    checks = {
        "opt_out": bool(_OPT_OUT.search(text)) or _dont_call(text),
        "wrong_number": bool(_WRONG_NUMBER.search(text) or _NOT_THEIR_NUMBER.search(text)),
        "not_the_lead_available": bool(_SOMEONE_ELSE.search(text)),
        "not_interested": bool(_NOT_INTERESTED.search(text)),
        "how_got_number": bool(_HOW_GOT_NUMBER.search(text) or _WHICH_INQUIRY.search(text)),
        "call_later": bool(_CALL_LATER.search(text)),
        "email_me": bool(_EMAIL_ME.search(text)),
        "ask_cost": bool(_COMMISSION.search(text) or _COST.search(text)),
        "ask_robot": bool(_ROBOT.search(text)),
        "ask_who": bool(_WHO.search(text)),
        "ask_purpose": bool(_PURPOSE.search(text)),
        "ask_repeat": _asks_repeat(u),
        "wants_meeting": bool(_WANTS_MEETING.search(text)),
        "declines_meeting": bool(_DECLINES_MEETING.search(text) or _MEETING_REFUSED.search(text)),
        "goodbye": bool(_GOODBYE.search(text)),
        "child": bool(_CHILD.search(text)),
        "ask_scam": bool(_SCAM.search(text)),
        "non_english": bool(_SPANISH.search(text) or _FOREIGN_SCRIPT.search(u.raw)),
        "greeting": bool(_HELLO.match(text)),
        "hold_on": bool(_HOLD_ON.search(text)),
        "ask_home_value": bool(_HOME_VALUE_ASK.search(text)),
    }
    return frozenset(act for act, hit in checks.items() if hit)


_ASKED_OF_US = re.compile(r"\b(would|do|can|could) you (say|think|tell|guess|give)\b")
_ASKED_BACK = re.compile(
    r"\b(you tell me|you tell us|(can|could) you tell me|youre the expert|thats what im asking)\W*$"
)
_MEETING_CUE = re.compile(
    r"\b(agent|agents|realtor|realter|broker|someone|somebody|person|people|human|dana|meet|meeting|sit down|"
    r"come (by|over|out|look)|stop by|appointment|appt|consult\w*|valuation|apprais\w*|visit|walk ?through|"
    r"look at|see (the|it|our|my)|talk (to|with) (a|an|one|your|the|him|her|them)|set (it |something |that )?up|"
    r"book|schedule|zoom|video|call with|slot|today|tomorrow|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|morning|afternoon|evening|noon|next week|\d)\b"
)
# "What would you say it's worth?", "can you tell me what my place would go for": asked of us, not told.
_HOME_VALUE_ASK = re.compile(
    r"\b(what|how much) (do you think |would you say |would you |can you |could you |you think |)"
    r"(is |s |)(my |our |the |this )?(house|home|place|property|condo|townhouse|it|its|ours|mine) "
    r"(is |would |could |might |will |)(be |)(worth|go for|sell for|get|fetch|bring in|appraise for)\b"
    r"|\b(can|could|would) you (tell|give) (me|us) (\w+ ){0,4}(worth|value|go for|sell for)\b"
    # "You can't even give me a ballpark?"
    r"|\b(give|tell) (me|us) (even )?(a |an )?(ballpark|rough number|rough idea|estimate|figure)\b"
)


_ALREADY_SOLD = re.compile(
    r"\b(already|just|recently) (sold|closed on|closed the sale|closed)\b"
    r"|\b(house|home|place|condo|property|it|its) (is|was|got|has been|been) (already |just )?(sold|under contract)\b"
    r"|\b(we|i) (\w+ )?sold (it|the house|the home|the place|our (house|home|place)|my (house|home|place))\b"
)
_BUYS_NEXT = re.compile(r"\b(buy|buying|looking for|need (a|an|another)|new place|next place|bought)\b")


def _sells_themselves_only(text: str) -> bool:
    """Return whether the lead sells without an agent and turns nothing down ("no thanks", "don't need you")."""
    return bool(_SELLS_THEMSELVES.search(text)) and not (_REFUSED_BESIDE.search(text) or _WANTS_NO_AGENT.search(text))


# "Call" as in name ("don't call me ma'am", "stop calling it a house"), and "off" the speaker, not the list.
_NAMING = re.compile(
    r"\b(take|taking|get|getting|took) (me|you|it) off (the )?(speaker|speakerphone|speaker phone|hold|mute)\b|"
    r"\b(call|calling|called) (it|this|this place|the (house|home|place)) (a|an) "
    r"(house|home|condo|mansion|shack|starter|dump)\b"
    r"|\b(call|calling|called) (me|him|her|us) by (my|his|her|the|that|your|our) \w+"
    # "Stop calling me sir" can be an opt-out said to a "sir"; it names only with the name or the reason beside it.
    r"|\b(call|calling|called) (me|him|her|us) (maam|madam|sir|miss|missus|mister|mr|mrs|ms|honey|sweetie|dear|"
    r"hun|buddy|pal|bud|boss|chief)\b(?= (its|it is|im|i am|my name|my names|the name|call me|were|we are|i go by)\b)"
    # "Don't call me jane, nobody calls me that, it's janie", "please don't call me ma'am, it makes me feel old": a
    # name or a title turned down, with what the lead would rather be called, or why, close behind.
    r"|\b(call|calling) (me|him|her|us) (?!(again|anymore|any|ever|back|no|here|at|on|this|about|after|before|till|"
    r"until|during|in|every|all|so|like|at)\b)\w+( \w+)?\b(?=.{0,40}\b((nobody|no one|everybody|everyone) calls? "
    r"(me|him|her|us)|call (me|him|her|us) \w+|i go by|(my|his|her|the) names?|makes (me|him|her) feel|i prefer)\b)"
)
# Another person's number, another company's calls or another channel: "remove my wife", "stop calling my
# husband's phone", "the other realtors won't stop calling", "tell your lender guy to stop emailing me".
_SOMEONE_ELSES = re.compile(
    # "Stop calling my mother" is said for the lead as often as about someone else, and is obeyed.
    r"\b(remove|take|drop|delete) "
    r"(my (wife|husband|ex|son|daughter|mom|mother|dad|father|partner|roommate|brother|sister|kids?|wifes|husbands|"
    r"moms|dads|sons|daughters|exs))\b(?! (and|too|as well|also|both)\b)"
    r"|\b(other|those|these|all the|all those|spam|warranty|solar|car warranty) (\w+ )?(realtors|realters|agents|"
    r"companies|people|guys|investors|wholesalers|lenders|places|callers|telemarketers|robocallers|scammers)\b.{0,30}"
    r"\b(wont|will not|keep|dont|never|cant) (stop |quit )?(calling|texting|emailing|bugging|leave (me|us) alone)"
    r"|\b(tell|have|get) (your|the|that) (\w+ )?(guy|lady|lender|agent|person|office|company) to stop\b"
    r"|\b(emails?|mailers?|newsletters?|flyers?|postcards?)\b.{0,20}\b(too much|way too many|too many)\b"
    r"|\bstop (emailing|mailing|sending (me )?(emails|mail|flyers|postcards|mailers))\b"
    r"|\bunsubscribe (me )?from (the |your |those |these )?(emails?|mailers?|newsletters?|mailing list)\b"
    # "I keep telling him to quit calling me", "my son told me never to answer these calls": words said to someone
    # else (never to "you" or "them", who may be us), and calls that are someone else's ("stop calling the bank").
    r"|\b(telling|told|tell|tells|said to|asked|asking|warned|warn) (him|her|my \w+|me|myself) (to |not to |never to )?"
    r"((stop|quit|cease) (calling|phoning|ringing|texting|bugging)|(never |not )?(talk|answer|pick up|respond))"
    r"( to| back)?( (me|us|these \w+|them|him|her|calls))?\b"
    r"|\b(stop|quit) (calling|phoning|ringing) (the|that) (bank|lender|insurance|doctors?|dentist|school|irs|"
    r"cable company|credit card company|gas company|phone company)\b"
    # "Ugh I thought you were the solar people, I keep telling them to quit calling": the calls of whoever the lead
    # took us for.
    r"|\bthought (you were|this was|it was|you was) (the|those|one of (the|those)|that|a|an|some) \w+.*$"
)


# "If I said stop calling, would you?", "how do people get off these lists?", "I'm not gonna tell you to quit
# calling": the opt-out's words, wondered about or held back, not said.
_ABOUT_OPTING_OUT = re.compile(
    r"\bif (i|we) (ever )?(said|say|did say|told|asked)\b"
    # "If I want y'all I'll call you myself" wants nothing of the list; "if I wanted off, how would I" does.
    r"|\bif (i|we) (ever )?(wanted|want) (to )?(be |get |go )?(removed|taken off|off|out|stop|unsubscribe\w*|opt)\b"
    r"|\bdoes (saying|telling|asking)\b"
    r"|\bhow (do|does|would|can|could) (people|somebody|someone|anyone|anybody|one|folks) (ever )?"
    r"(get|be|stay|go) off\b"
    r"|\bwhat (would|do|does|should) (i|we|somebody|someone|people) (have to|need to|got to|gotta)? ?(say|do)\b"
    r"|\b(not gonna|not going to|wont|im not|not) (tell|ask|asking|telling) (you|yall|you guys) (to )?(stop|quit|not)\b"
)


_COST_OF_MEETING = re.compile(
    r"\b(cost|costs|charge|charges|pay|free|fee|fees)\b(?: \w+){0,4}? (to|for) (talk|talking|meet|meeting|speak|"
    r"speaking|sit down|chat)\b(?: (to|with) (\w+ ){0,3}?(agent|agents|realtor|someone|somebody|her|him|them|dana))?"
)
# "So if I say stop you'll stop calling, right? Okay, stop": the question answered, then the opt-out said.
_SAID_AFTER_ALL = re.compile(
    r"\b(ok|okay|so|then|well|alright|fine|good|great)( then)? (stop|stop it|stop calling|do it|take me off|"
    r"remove me)( (then|now|please|thanks))?$"
)


_STOP_WORDS = re.compile(r"\b(stop|quit|cease)\b( (calling|phoning|ringing|contacting))?|\boff\b")


def _wonders_about_opting_out(text: str) -> bool:
    """Whether the opt-out's words are only inside a question or a hypothetical about opting out ("if I said stop
    calling, would you?", "how do people get off these lists?"), with nothing outside it asking us to stop."""
    m = _ABOUT_OPTING_OUT.search(text)
    if not m or _SAID_AFTER_ALL.search(text):
        return False
    after = text[m.end() :]
    cut = _CLAUSE_BREAK.search(after)
    clause = after[: cut.start()] if cut else after
    inner = [x.end() for x in (_OPT_OUT.search(clause), _STOP_WORDS.search(clause)) if x]
    end = m.end() + (max(inner) if inner else 0)
    rest = text[: m.start()] + " " + text[end:]
    return not (_OPT_OUT.search(rest) or _dont_call(rest))


# Another call on the lead's phone: "my other line's ringing", "I gotta take this call", "got a call coming in".
_ANOTHER_CALL = re.compile(
    r"\b((my )?(other|another) (line|call|phone)s?( is)?( ringing| beeping| going off| coming in)?|"
    r"(gotta|got to|have to|need to|needa|i'?ll) (take|grab|answer|get) (this|that|it)( call| one)?|"
    r"(got|have|getting) (another|a|an incoming) call( coming in)?|(phone|line) (is |s )?(ringing|beeping))\b"
)
# How someone takes calls at all: "I don't answer calls", "mom doesn't really do phone calls anymore".
_PHONE_HABIT = re.compile(
    r"\b(i|im|we|she|he|they|mom|dad|mother|father|grandma|grandpa)( really| just)? (dont|doesnt|do not|does not|never|"
    r"cant|can not|wont) (really |usually |ever )?(do|answer|take|pick up|like|hear) (the )?(phone calls|calls|phone)"
    r"( (anymore|any more|much|well|very well))?\b"
)


_RATHER_THAN_WRITTEN = re.compile(
    r"\b(rather|prefer|sooner)\b.{0,40}\bthan (do |get |deal with |use |go back and forth (over|by|on) )?(an? )?"
    r"(e ?mails?|emailing|texts?|texting|text messages?)\b"
)
# An address said out loud, wherever it comes: "r dot garcia 61 at hotmail dot com".
_SPELLED_EMAIL = re.compile(r"\b(at|@) \w+( \w+)? (dot|\.) (com|net|org|edu|us|co|io)\b|\w@\w")
_OTHER_CHANNEL = re.compile(r"\b(text\w*|e ?mail\w*|message\w*)\b")


def _phone_habit_only(text: str) -> bool:
    """Whether the line's only words about calls say how someone takes calls at all ("I don't answer calls, send a
    text": another way to reach them is no word against being reached)."""
    return bool(_PHONE_HABIT.search(text)) and not _contact_beside(text, _PHONE_HABIT, _OTHER_CHANNEL)


def _contact_beside(text: str, *spans: re.Pattern[str]) -> bool:
    """Whether the line still says a word about calls, numbers or lists with what `spans` match taken out."""
    for span in spans:
        text = span.sub(" ", text)
    return bool(_ABOUT_CONTACT.search(text))


def _opts_out_beside(text: str, span: re.Pattern[str]) -> bool:
    """Whether the line still asks for no more calls with what `span` matches taken out."""
    rest = span.sub(" ", text)
    return bool(_OPT_OUT.search(rest) or _dont_call(rest))


# Asking whether the caller is someone the lead knows: "is this dana, the lady from the open house?".
_IS_IT_YOU = re.compile(
    r"^((oh|um|uh|wait|hi|hello|hey|yeah|sorry|ok|okay) )*(is this|is that|are you|this is|you are|youre) "
    r"(\w+ ){0,2}(the (lady|guy|woman|man|gal|agent|realtor|broker|one|person|people)|from|with)\b"
)
# A line cut off mid-sentence, on a word that promises more.
_TRAILS_OFF = re.compile(r"\b(but|so|and|because|cause|though|although|if|like)\W*$")
# A request the lead takes back in the same breath.
_TAKEN_BACK = re.compile(
    r"\b(never ?mind|nvm|on second thought|scratch that|forget i said (that|it))\b(?!.*\b(never ?mind|nvm)\b)"
)


def _ask_about_opting_out(result: Understanding) -> None:
    """Turn an opt-out heard on a guess into one the agent asks about ("take you off our list?")."""
    result.opt_out, result.opt_out_unsure = False, True
    result.acts = [act if act != "opt_out" else "opt_out_unsure" for act in result.acts]


def _objections(
    u: Utterance, result: Understanding, *, pending: str | None, stage: str, refused_meeting: bool = False
) -> None:
    text, acts = u.text, set(result.acts)
    found: list[str] = []
    # "Nah" to "are you working with an agent?" answers it; it turns nobody down.
    bare_answer = result.answer is not None and len(u.words) <= 2 and pending in SLOT_NAMES
    averse = _NO_MACHINES.search(text)
    if pending == "has_agent" and _sells_themselves_only(text) and not _SAVES_FEES.search(text):
        # "Nope, doing it ourselves, for sale by owner" answers "are you working with an agent?": no agent, and no
        # refusal of anything (docs/labelling.md, rule 3). Saving the fee an agent costs turns agents down.
        result.acts = [act for act in result.acts if act != "not_interested"]
        acts.discard("not_interested")
    elif (("not_interested" in acts and not bare_answer) or _no_need(text) or averse) and not result.opt_out:
        found.append("not_interested")
        if averse and not (_REFUSED_BESIDE.search(text) or "goodbye" in acts or _NO_NEED.search(text)):
            # "Is this an AI? I don't talk to bots" with no "no thanks": agents.graph says once that a person
            # can take over, and the lead decides.
            found.append("no_machines")
        if _sells_themselves_only(text):
            # "We're gonna sell it ourselves" with no "no thanks": a no to agents, which agents.graph may
            # answer once with what an agent offers a seller on their own.
            found.append("sells_themselves")
    sold = _ALREADY_SOLD.search(text) and not _BUYS_NEXT.search(text) and not _REFUSED_BESIDE.search(text)
    if sold and not result.opt_out:
        # "Actually we already sold the house last month": nothing left to sell, and maybe a home to buy next,
        # which agents.graph asks about before taking it as a no. "Sold, so not interested" is a no.
        found = [*dict.fromkeys([*found, "not_interested", "already_sold"])]
    in_touch = _THEY_WILL_CALL.search(text) or _WILL_REACH_OUT.search(text)
    questioning = stage not in {"scheduling", "callback", "email"}
    if in_touch and questioning and not result.opt_out and "call_later" not in acts:
        # "No, I'll look up Bayside myself and call if I want": the lead will be in touch, if ever. A side named
        # beside it ("selling in the spring, we'll reach out") keeps the questions going (understand()).
        found = [*dict.fromkeys([*found, "not_interested"])]
    if refused_meeting and not acts & {"text_me", "email_me"}:
        # "No meeting yet, too early, but thanks": the meeting is turned down before it is offered, and what the
        # lead has told us about the move still stands (agents.graph closes as it would at the offer). "I don't
        # wanna meet anybody, just text me" asks for the texts instead.
        found.append("meeting_refused")
    if "how_got_number" in acts:
        found.append("how_got_number")
    if _COMMISSION.search(text):
        found.append("commission")
    if "call_later" in acts and not result.opt_out:
        found.append("call_later")
    if "email_me" in acts:
        found.append("email_me")
    result.objections = found


# How a meeting would happen: the lead asks it as a question, or offers the choice ("in person or by phone?").
_MEETING_FORMAT = re.compile(
    r"\b(in person|over the phone|by phone|on the phone|phone call|zoom|video( call| chat)?|facetime|virtual(ly)?|"
    r"(come|coming) (to|out to|over to) (my|the|our) (house|place|home)|at (your|the|their) office)\b"
)


_WHO_FOR = re.compile(
    r"\bwho (are|were|r) (you|ya|yall) (looking|asking|calling|trying to reach|trying to get) (for)?\b"
    r"|\bwho (do|did) you (want|need)( to (talk|speak) (to|with))?\W*$|\bwho(s| is) (this|the call|it) for\b"
)
_HOLD_OFF = re.compile(r"\bhold(ing)? off\b")
_FOR_A_MINUTE = re.compile(r"\bfor (a|one) (quick |little )?(sec|second|minute|min|bit)\b")


def _answers_then_goes_away(u: Utterance, answer: Slot) -> bool:
    """Whether the line answers first, then asks the agent to wait: "probably summer, hold on, my other line"."""
    hold = _HOLD_ON.search(u.text)
    at = u.text.find(str(answer.evidence))
    return hold is not None and 0 <= at < hold.start() and bool(_ENDS_AWAY.search(u.text))


# What takes the lead away for a moment, said last: "...hold on, my other line is ringing", with no answer after it.
_ENDS_AWAY = re.compile(
    r"\b(hold on|hang on|one sec(ond)?|just a (sec|second|minute|moment)|give me a (sec|second|minute)|"
    r"bear with me)\b(?!.*\b(\d+|buying|selling|both|yes|yeah|no|nope|months?|years?|weeks?|spring|summer|fall|"
    r"winter|thats (it|right)|correct)\b)"
)
_KEEPS = re.compile(r"\b(hold|hang|holding|hanging) on to\b")
# "Hang on my other line is beeping", "don't go anywhere I gotta get the door", "shut up a sec my boss is talking".
_HOLD_ON = re.compile(
    r"\b(hold|hang) on\b(?! to\b)|\b(hold|wait|give me|gimme|just) (a|one) (sec|second|minute|moment|min)\b"
    r"|\bone (sec|second|moment)\b|\bbear with me\b|\b(dont|do not) (hang up|go anywhere)\b"
    r"|\b(shut up|quiet|quit talking|stop talking|be quiet|hush|stop|pause|wait) (for )?(a|one|just a) "
    r"(sec|second|minute|moment)\b"
)
_ASKS_FOR_ONE = re.compile(
    r"\b(set|hook|match|connect|put) (me|us) (up )?(up with|with|in touch with|to) (an? |one of your |your |some )?"
    r"(agent|agents|realtor|realtors|broker|somebody|someone|one)\b"
    r"|\b(can|could) (you )?(get|find|recommend|give) (me|us) (an? |one of your )?(agent|realtor|broker)\b"
)
_IT_IS_ME = re.compile(
    r"^(\w+ )?(this is (she|he|me)\b|this is (her|him)\W*$|(she|he) speaking\b|speaking\W*$|thats me\b|"
    r"you got (her|him|me)\W*$)"
)
_WITHHELD = re.compile(
    r"\b(not|never|wont|dont|aint) (be )?(giving|give|telling|tell|sharing|share|handing over) (you |out |over )?"
    r"(my|our|any|no) (\w+ )?(social|ssn|social security|bank|banking|credit|card|account|password|pin|"
    r"personal|financial|date of birth|birthday)\b"
)
# Declining to share the answer ("I'd rather not say", "that's private", "you don't need to know that"): no slot is
# read from it, and the question is put aside (agents.graph).
_DECLINES = re.compile(
    r"\b(rather not say|prefer not|not telling|none of (your|ya) business|(you|u) (dont|do not) need to know|"
    r"(thats|that is|its|it is) (kind of |kinda |a bit |pretty )?(private|personal)|"
    r"(dont|do not) (really )?(feel like|want to|wanna) (get|getting|go|going) into)\b"
    r"|^(um |uh |i )?pass$"
    # "I'm not comfortable giving money information to a computer", "I'll go over that with dana in person".
    r"|\b(not comfortable|uncomfortable|dont feel comfortable|rather not|dont want to|not gonna) "
    r"(\w+ )?(giving|give|sharing|share|saying|say|discussing|discuss|talking about|get into|getting into)\b"
    # "I'm not giving out any info over the phone": nothing of any question.
    r"|\b(not|never|wont|dont|aint) (be )?(giving|give|sharing|share|handing) (out |you |over )?(any |my |that |this )?"
    r"(info|information|details|numbers)\b"
    r"|\b(ill|i will|id rather|wed rather|well|we will) (go over|discuss|talk about|get into|cover) (\w+ ){0,4}"
    r"(with (her|him|them|dana|the agent|your agent|an agent|someone)|in person)\b"
)
# An answer the lead doesn't know, or won't give.
UNSURE = re.compile(
    r"\b(dont know|not sure|no idea|no clue|(wouldnt|would not|dont|do not) have (the )?(faintest|slightest|first|"
    r"foggiest) (idea|clue)|(havent|have not) (got )?a clue|beats me|who knows|"
    r"(couldnt|could not|cant|can not|cannot) (really )?tell you|your guess is as good as mine|"
    # "We talked about it but he'd have to decide": the answer is someone else's to give.
    r"(hed|shed|theyd|he would|she would|they would|youd|you would) (have|need) to (decide|say|ask (him|her|them))|"
    r"(thats|its|that is|it is) (really )?(his|her|their|my (husbands|wifes|partners)) "
    r"(call|department|decision|thing)|"
    r"(havent|have not|didnt|did not) (really |yet )?(figured|worked|thought) (it |that |the numbers |about that )?"
    r"(out|through|about)?|(havent|have not) (really )?(looked|checked|decided))\b"
    # "Whatever someone'll pay for it": the market's figure, which the lead doesn't know either.
    r"|\bwhat ?ever (\w+ ){0,3}(pay|paying|give|go for|get|bear|bears|worth|offer)\b"
    r"|" + _DECLINES.pattern
)
_RECORDED_ASK = re.compile(
    r"\b(is|are|will) (this|the|our) (phone )?(call|conversation|line) (being |gonna be |going to be )?"
    r"(recorded|taped|monitored)\b"
    r"|\b(is|will) (this|it|that) (being |be |gonna be )?(recorded|taped)\b"
    r"|\bare (you|yall|you guys) (recording|taping) (this|me|us|the call|our|it)\b"
    r"|\b(do|are) you (guys )?record(ing)? (these|the|your|this|my|our) calls?\b"
)


def _asks(u: Utterance, result: Understanding) -> None:
    acts = set(result.acts)
    instead = acts & {"text_me", "email_me"}
    if _MEETING_FORMAT.search(u.text) and (result.question or re.search(r"\bor\b", u.text)) and not instead:
        # "Can you text me, I'm terrible on the phone" asks for a text, not how the meeting would be held.
        result.acts.append("ask_meeting_format")
    recorded = _RECORDED_ASK.search(u.text)
    for ask in ("robot", "who", "purpose"):
        # "Is this call being recorded?" asks about the recording; "is this a recording?" asks about the caller.
        if f"ask_{ask}" in acts and not (
            recorded and ask == "robot" and not _ROBOT.search(_RECORDED_ASK.sub(" ", u.text))
        ):
            result.asks.append(ask)
    if "ask_whom" in acts:
        result.asks.append("whom")
    if recorded:
        result.asks.append("recorded")
        result.question = True
    if "ask_repeat" in acts and not result.asks:
        result.asks.append("repeat")


# --- slots -----------------------------------------------------------------------------------------------------------


# "Buying? In this economy? Haha no, we're selling", "a billion dollars, kidding, like five forty": a joke,
# then the answer in earnest.
_JOKE_TAKEN_BACK = re.compile(r"\b(haha\w*|ha ha|ha|lol|lmao|just kidding|kidding|jk)\b(?: (?:no|nah|but))?")


def _in_earnest(u: Utterance) -> Utterance:
    """Return the part of the line after a joke the lead takes back, or the whole line."""
    jokes = list(_JOKE_TAKEN_BACK.finditer(u.text))
    rest = u.text[jokes[-1].end() :].strip() if jokes else ""
    return Utterance(rest) if len(rest.split()) >= 2 else u


# "Selling, wait no, I rent, I'm buying", "yes we have a realtor, well, had, it lapsed, so no", "I'd say a year, she
# says six months, ok six months": the lead corrects what they just said, or repeats whoever corrects them.
_CORRECTED = re.compile(
    r"\b(wait no|no wait|actually no|no actually|well no|no sorry|scratch that|thats not right|thats wrong|i mean|"
    r"well had|"
    r"(she|he|they|my (wife|husband|son|daughter|partner)) (says|said|is saying))\b"
)
_CORRECTABLE = ("intent", "timeline", "price", "financing", "has_agent")
_SELF_CORRECTION = re.compile(r"\b(wait no|no wait|actually|scratch that|i mean|sorry|thats not right|thats wrong)\b")
_OTHER_VOICE = re.compile(
    r"\b(she|he|they|my (wife|husband|partner|son|daughter)|the (wife|husband)) (says|said|thinks|figures|is saying)\b"
)


def _slots(u: Utterance, result: Understanding, *, pending: str | None, now: dt.datetime, address_on_file: str) -> None:
    u = _in_earnest(u)
    for reader in _SLOT_READERS.values():
        reader(u, result, pending=pending, now=now)
    _agent(u, result, pending=pending)
    _corrections(u, result, pending=pending, now=now)
    _address(u, result, pending=pending, address_on_file=address_on_file)
    _learned_slots(u, result, pending=pending)


def _corrections(u: Utterance, result: Understanding, *, pending: str | None, now: dt.datetime) -> None:
    """Let what the lead says after correcting themselves stand over what the whole line gave."""
    marks = list(_CORRECTED.finditer(u.text))
    rest = u.text[marks[-1].end() :].strip() if marks else ""
    if len(rest.split()) < 2:
        return
    tail, later = Utterance(rest), Understanding(text=rest, answer=yes_no(rest))
    if later.answer is not None and pending in _CORRECTABLE:
        result.answer = later.answer
    for reader in (_intent, _timeline, _price, _financing):
        reader(tail, later, pending=pending, now=now)
    _agent(tail, later, pending=pending)
    two_views = _OTHER_VOICE.search(marks[-1].group(0)) and not _SELF_CORRECTION.search(u.text)
    said = result.slots.get("price")
    if two_views and "price" in later.slots and said is not None and said.value != later.slots["price"].value:
        # "Four fifty? He says five. Somewhere in there": two people's figures for one home make a range.
        ends = [v for price in (said.value, later.slots["price"].value) for v in price.values()]
        later.slots["price"] = Slot("price", {"min": min(ends), "max": max(ends)}, f"{said.evidence} ... {rest}")
    result.slots.update({name: later.slots[name] for name in _CORRECTABLE if name in later.slots})


_HEDGED = re.compile(
    r"\b(not really|i dont think so|probably not|not so much|not too|kind of not|"
    r"(dont|do not) really (want|wanna|feel like|care to))\b"
)
_NOT_THE_TIMING = re.compile(r"\b(not|isnt|aint) (about )?(the |a )?timing\b")
_TIMING = re.compile(r"\b(timing|right time|wrong time|not now|right now|not yet|later|few months|next year)\b")


# "Not moving at all", "we ain't selling any time soon": no move, said in so many words.
_NO_MOVE_AT_ALL = re.compile(
    r"\b(not|aint|arent|never|no plans? (of|on)) (\w+ )?(moving|selling|buying) (at all|anytime soon|any time soon|"
    r"ever|anywhere)\b|\bhard pass\b"
    # "Moving's not really in the cards right now".
    r"|\b(moving|selling|buying|a move|a sale)(s| is| s)? (not|isnt|aint) (really )?in the cards\b"
)
# "We'd like to move eventually, it's just not the right time", "the timing's off for us": no to now, said as such.
# "Not a good time to talk" is the call's moment (call_later), not the move's.
_NOT_THE_TIME = re.compile(
    r"\b((its|it is|it s|just|nows|now is|now isnt|this isnt|this is) (just |really |simply )?not the right time|"
    r"(the )?timing (is|s|isnt|is not) (just )?(off|wrong|bad|not right|not there)|bad timing)\b"
    r"(?! to (talk|chat|call|reach|get into))"
)


def says_not_the_time(text: str) -> bool:
    """Whether a no says, in so many words, that it is only the timing: there is no need to ask which it is."""
    return bool(_NOT_THE_TIME.search(normalize(text)))


def about_timing(text: str) -> bool:
    """Whether a no is about when ("just not the right time", "not yet") rather than about moving at all."""
    return bool(_TIMING.search(normalize(text)))


def no_left_open(text: str) -> bool:
    """Whether a "not interested" leaves the door open and is worth one question: about timing ("not right now")
    or hedged ("not really interested"). A plain no is taken at its word."""
    t = normalize(text)
    return bool((_TIMING.search(t) and not _NOT_THE_TIMING.search(t)) or _HEDGED.search(t))


def months_to_call_back(text: str, *, now: dt.datetime) -> Slot | None:
    """Read "call me in the spring", "try me again in a couple months" as the time to call back, in months.

    The words that ask for the call are what keep such a time out of the move's timeline; here they are
    what the time is about.
    """
    return read_slot(_CALL_ASKED.sub(" ", text), "timeline", now=now)


def read_slot(text: str, name: str, *, now: dt.datetime) -> Slot | None:
    """Read one slot from a line as the answer to that slot's question, by the patterns alone.

    A line said after its question was let go ("ok fair enough, maybe like six hundred then") is read again
    as that question's answer; the patterns suffice, and the classifiers would cost a full reading per
    question left open.
    """
    u = _heard(text)
    result = Understanding(text=u.text, answer=yes_no(u.text))
    if name == "has_agent":
        _agent(u, result, pending=name)
    elif reader := _SLOT_READERS.get(name):
        reader(u, result, pending=name, now=now)
    return result.slots.get(name)


# Words that agree to talk and say nothing else: "yeah sure i have a minute go ahead".
_ACCEPTANCE = frozenset(
    {
        "yes", "yeah", "yep", "yup", "sure", "ok", "okay", "alright", "right", "go", "ahead", "i", "have", "got", "a",
        "minute", "sec", "second", "shoot", "fine", "no", "nope", "nah", "of", "course", "absolutely", "definitely",
        "whats", "up", "hi", "hello", "mhm", "mhmm", "huh", "yea", "ya", "correct", "exactly",
    }
)  # fmt: skip


# "No hablo mucho inglés", "my english not so good": a lead with some English, who may be glad to go on in it.
_SOME_ENGLISH = re.compile(
    r"\b(no hablo mucho|hablo (un )?poco|un poco de|un poquito|poquito|a little|little bit|not much|not so much)"
    r"( de)? (ingles|english)\b"
    r"|\bmy english (is )?(not|no|isnt) (so |very |too )?(good|perfect|great|the best)\b"
    r"|\benglish (not|no) (so |very )?(good|perfect|great)\b"
)


# "My english is not very good but is okay, we can speak english slowly": the question is answered already.
_ENGLISH_WILL_DO = re.compile(
    r"\b(but )?(is|its|english is|english|in english is) (ok|okay|fine|good|alright)\b(?! (with|for) )"
    r"|\b(we|i) can (speak|talk|do|go on in|use|try) (in )?english\b"
)


def speaks_some_english(text: str) -> bool:
    """Whether the line, in whatever language, says the speaker has some English."""
    return bool(_SOME_ENGLISH.search(Utterance(text).text))


def names_a_side_only(text: str) -> bool:
    """Whether the line only names a side, as a correction does: "uh no selling", "sorry we're buying"."""
    words = set(Utterance(text).words) - _FILLERS - {"no", "sorry", "actually", "were", "im", "we", "are", "i", "am"}
    return bool(words) and words <= {"selling", "buying", "sell", "buy", "sellers", "buyers", "seller", "buyer"}


def _says_not_their_number(text: str) -> bool:
    return bool(_WRONG_NUMBER.search(text) or _NOT_THEIR_NUMBER.search(text) or _NOT_HER_PHONE.search(text))


# "This isn't her phone anymore", "not his number no more".
_NOT_HER_PHONE = re.compile(r"\b(isnt|is not|not|aint) (her|his|their|jane s|janes) (phone|number|cell)\b")


_NO_TIME_TO_GIVE = re.compile(
    r"\b(dont know|do not know|no idea|not sure|no clue|who knows|hard to say|couldnt tell you|cant say|"
    r"depends|varies|all over the place|whenever)\b"
)
_SOME_OTHER_TIME = re.compile(r"\b(later|another time|some other time|sometime|some time|again)\b")


def no_time_to_give(text: str) -> bool:
    """Whether the answer to "when would be a better time?" says there is no telling ("she's got a weird schedule,
    I don't know")."""
    return bool(_NO_TIME_TO_GIVE.search(normalize(text)))


def some_other_time(text: str) -> bool:
    """Whether the line puts the call off to an unnamed later ("try her later", "some other time")."""
    return bool(_SOME_OTHER_TIME.search(normalize(text)))


def refuses_outright(text: str) -> bool:
    """Whether the line says no in so many words ("not interested", "we just bought"), not only in its tone."""
    u = Utterance(text)
    return bool(_NOT_INTERESTED.search(u.text) or _no_need(u.text))


def goes_ahead(text: str) -> bool:
    """Whether the line only tells the agent to go on: "oh ok yeah I've got a minute", "sure go ahead"."""
    words = Utterance(text).words
    hedges = {"oh", "right", "ok", "huh", "guess", "suppose", "well", "so", "think", "then", "really", "actually"}
    only_acceptance = all(w in _FILLERS or w in _ACCEPTANCE or w in hedges for w in words)
    said_go_on = bool({"minute", "ahead", "shoot", "sec", "second", "sure", "go"} & set(words))
    if words and only_acceptance and said_go_on:
        return True
    # "Bayside, ok, um sure go ahead": a name echoed back, then leave to go on.
    others = [w for w in words if w not in _FILLERS and w not in _ACCEPTANCE and w not in hedges]
    return len(others) <= 2 and bool(_GO_AHEAD.search(" ".join(words)))


def _denies_a_side(u: Utterance) -> bool:
    """Whether the line says the lead is not buying or not selling: the model knows the words, not the "not"."""
    sides = [*_SELL.finditer(u.text), *_BUY.finditer(u.text)]
    return any(u.negated(m.start()) for m in sides) or bool(_SIDE_GIVEN_UP.search(u.text))


# "We're done buying, we just want to sell", "I stopped thinking about buying for now".
_SIDE_GIVEN_UP = re.compile(
    r"\b(done|finished|through|quit|stopped|gave up( on)?|given up( on)?|over) (with )?(thinking about |looking at |"
    r"looking into |trying to )?(buying|selling|buy|sell)\b|\b(buying|selling) (is |s )?(off the table|on hold)\b"
)


# A reason the lead names in its own word ("we wanna upgrade"), which no model's guess overrules. The readings of
# _MOTIVATION start from these.
_NAMED_REASON_WORDS = {
    "upgrade": r"upgrad\w*|up ?siz\w*|(need|needs|needing|want|wanting) (more|extra) (space|room)(?! for)|"
    r"(too|so|way too|much too) small",
    # "Too many stairs for my knees", "we want something all on one level": a home the body can live in.
    "downsizing": r"down ?siz\w*|(too many|the|no more|cant do (the )?|all (the|those)) stairs|"
    r"(one|single)( |-)(level|story|floor)",
    # "We're retiring up to tahoe": where they go names the move, however much "retiring" sounds like downsizing.
    "relocation": r"relocat\w*|job transfer|transferr?ed|"
    r"(retir\w*|heading|headed) ((down|up|over|back|out) )?to (?!a |an |some|something|smaller|bigger|less)\w+",
    "investment": r"invest\w*|rental property|income property",
    "estate": r"inherit\w*|(mom|moms|dad|mother|father|parents?|grandma|grandmother|grandpa|grandfather|aunt|uncle) "
    r"(just |recently )?passed( away| on)?",
    "first_home": r"first (homes?|houses?|place)",
    "growing_family": r"pregnant|baby|babys|babies|(kid|child|twins) on the way|"
    r"(our |my )?(second|third|fourth|fifth|2nd|3rd|4th|5th|number (two|three|four)) (one )?on the way|"
    r"now that (we|i) (have|got|ve got) (a |an |\w+ )?"
    r"(kids?|children|twins|little ones)",
    "financial": r"divorc\w*|foreclos\w*|cant afford|cheaper|more affordable|cut (costs|expenses)|"
    r"cash(ing)? out(?! of)",
}
_NAMED_REASON = {reason: re.compile(rf"\b({words})\b") for reason, words in _NAMED_REASON_WORDS.items()}


# Acts that make a turn about the call itself, not an answer to the question asked.
_ABOUT_THE_TURN = frozenset({"call_later", "hold_on", "ask_repeat", "text_me", "email_me", "opt_out"})


_RENTAL_LIVED_IN = re.compile(
    r"\b(live|living|were|im|we are|i am|staying|still|currently|now|stuck) in (a|the|our|my) rental\b"
)


def _lives_in_a_rental(text: str) -> bool:
    return bool(_RENTAL_LIVED_IN.search(text)) and not _MOTIVATION_RE["investment"].search(text)


# Words that say who would sell or buy for the lead, without which no line volunteers whether they have an agent.
_SOMEONE_TO_REPRESENT = re.compile(
    r"\b(agents?|realtors?|realters?|real tor|relator|brokers?|real estate|remax|re max|keller|coldwell|century 21|"
    r"compass|redfin|exp|listing|listed|by owner|fsbo|ourselves|myself|our own|anybody|anyone|somebody|someone|"
    r"nobody|no one|represent\w*|signed|contract|a guy|a gal|a lady|a friend|cousin|sister|brother|uncle|aunt|"
    r"in law|neighbor|friend|(have|had|got|need|use|using|hire|hired|want) (one|another))\b"
)


# "Both of us", "you both": the word counting people, not naming the two sides of a move.
_BOTH_PEOPLE = re.compile(r"\bboth (of )?(us|them|you|yall|em)\b|\b(us|them|you) both\b")


# Someone else buying or selling: the landlord, the owner, the neighbours.
_OTHERS_MOVE = re.compile(
    r"\b(landlords?|owners?|neighbou?rs?|sellers?|builders?|(my|our|his|her) (mom|dad|parents|mother|father|sister|"
    r"brother|friend|friends|boss|roommate))( is| are|s)? (\w+ )?(selling|buying|listing|sold|bought|listed)\b"
)
# The people a family grows by.
_FAMILY_WORDS = re.compile(
    r"\b(kids?|kiddos?|child|children|baby|babies|babys|twins|pregnant|expecting|due|family|families|son|sons|"
    r"daughter|daughters|grandkids?|grandchildren|grandson|granddaughter|mom|moms|mother|mothers|dad|dads|father|"
    r"fathers|parents?|in laws?|mother in law|father in law|nephew|niece|stepkids?|little ones?|bedroom|bedrooms|"
    r"room|space|nursery|toddler|newborn|teenagers?|boys|girls|grandma|grandpa)\b"
)


# Words a side of a move is said in, misheard ones included ("by", "cell", "sale").
_SIDE_WORDS = re.compile(
    r"\b(buy\w*|by|bye|bought|sell\w*|sold|cell|sale|sail\w*|list\w*|market|purchas\w*|look\w*|find|found|shop\w*|"
    r"filling|seling|selin|buyin|mov\w*|relocat\w*|downsiz\w*|upsiz\w*|upgrad\w*|house|houses|home|homes|place|"
    r"condo|townhouse|property|"
    r"apartment|rent\w*|lease|own\w*|invest\w*|flip\w*|both|mortgage|pre ?approv\w*|loan|lender|cash|offers?|"
    r"zillow|redfin|realtor|agent|get out|out of here|first|bigger|smaller|space|room|yard|neighborhood|move in)\b"
)


# What a first home is said in: renting now, never having owned, a first place or one of their own.
_FIRST_HOME_WORDS = re.compile(
    r"\b(rent\w*|lease|landlord|apartment|never owned|(first|1st) (time|homes?|houses?|places?|one|condos?)|"
    r"own (place|home|house)|place of (my|our) own|starter|roommates?|parents (house|place)|move out)\b"
)


def _learned_slots(u: Utterance, result: Understanding, *, pending: str | None) -> None:
    """Fill what the patterns missed, and overrule them where they are weakest, from agents.slotmodel."""
    if result.opt_out or all(w in _FILLERS for w in u.words):
        return
    contentless = all(w in _FILLERS or w in _ACCEPTANCE for w in u.words) or result.goes_ahead
    for name, guess in slot_model().guesses(u.text, pending=pending).items():
        if guess.value is None or (name == "intent" and (_denies_a_side(u) or _SIDES_QUESTIONED.search(u.text))):
            continue
        if name == "intent" and "not_interested" in result.objections:
            # "Nah I'm not interested" to "buying or selling?" sounds like an answer only to a model that must choose.
            continue
        if name == "has_agent" and _OURS_TO_CALL.search(u.text) and pending != name:
            # Asking for one of our agents says nothing of having one of their own.
            continue
        if name == "intent" and not _SIDE_WORDS.search(u.text):
            # "Oh bayside, my sister used them a few years back", "nah not really": no word of homes, buying or
            # selling, so no side to guess, whatever the model makes of the question it answers.
            continue
        if name == "intent" and pending == name and result.answer is True:
            # "Ok ok, I'd prefer a real person, but ok go" to "buying, selling or both?": a yes to an either-or
            # question names no side, however much its letters resemble one.
            continue
        if name not in result.slots and (_DECLINES.search(u.text) or set(result.acts) & _ABOUT_THE_TURN):
            # "I'd rather not get into that" to the financing question resembles "not yet" to a model, and "I
            # don't wanna meet anybody, just text me some listings" resembles "just looking": neither answers.
            continue
        if contentless and (pending != name or name != "has_agent"):
            # "Yeah" or "sure I have a minute" to "buying or selling?" is likely "buy" only because of the question;
            # "no" to "do you have a minute?" says nothing of an agent. Only "no" to "do you have an agent?" does.
            continue
        if (
            name == "intent"
            and guess.value == "both"
            and _BOTH_PEOPLE.search(u.text)
            and not (_BOTH.search(u.text) or _BOTH_WORD.search(u.text))
        ):
            continue  # "You'd have to talk to both of us": the word, counting people.
        if name == "intent" and _OTHERS_MOVE.search(u.text) and not _OWN_PLAN.search(u.text):
            # "Our landlord is selling the place so we have to get out": someone else's sale, and the lead's move.
            continue
        if name == "intent" and UNSURE.search(u.text) and len(u.words) <= 4:
            # "Not sure" to "buying, selling, or both?" names no side, whatever the model makes of the question.
            continue
        if name == "intent" and set(result.acts) & _ABOUT_THE_CALL:
            # "I didn't ask for any realtor, where'd you get my info?" asks about the call; a side is named in words
            # the patterns read ("where'd you get my number, we're selling next year"), not guessed from its likeness.
            continue
        if name == "has_agent" and UNSURE.search(u.text) and not _SOMEONE_TO_REPRESENT.search(u.text):
            # "Huh ok. Yeah, no idea then", said to the agent question right after the valuation answer: the lead
            # is still on the price, and "yeah" names nobody.
            continue
        if name == "has_agent" and pending != name and not _SOMEONE_TO_REPRESENT.search(u.text):
            # "Not really, no" to "buying or selling?" resembles "no" to the agent question, and names nobody.
            continue
        if name == "motivation" and guess.value == "first_home" and not _FIRST_HOME_WORDS.search(u.text):
            continue  # "Buying, well no, selling first": the order of two moves, no first home.
        if name == "motivation" and guess.value == "investment" and _lives_in_a_rental(u.text):
            continue  # "We're in a rental, month to month": where the lead lives, not a home bought to let.
        if name == "motivation" and guess.value == "growing_family" and not _FAMILY_WORDS.search(u.text):
            # "Moving in with my boyfriend": two people setting up house, which the model likens to a family growing;
            # with no child, parent or family in the words, it is a reason of its own.
            guess = dataclasses.replace(guess, value="other")
        found = result.slots.get(name)
        # "What do you think my house is worth?" to "why are you moving?" asks back; it answers nothing.
        # "We'll need a loan" to the same question answers another one, which the patterns already read.
        answering = (
            pending == name
            and not result.asks
            and not any(a.startswith("ask_") for a in result.acts)
            and not set(result.slots) - {name}
        )
        if found is None:
            if not answering and guess.value == "curious" and "ask_home_value" in result.acts:
                continue  # "What do you think my house is worth?" asks for a figure; it gives no reason to move.
            threshold = FILL_ASKED if answering else FILL_VOLUNTEERED
            # A reason the model cannot place is worth keeping only as the answer to "why are you moving?".
            if guess.probability >= threshold and (guess.value != "other" or answering):
                result.slots[name] = Slot(name=name, value=guess.value, evidence=u.text, source="model")
        elif found.value != guess.value and guess.value != "other" and guess.probability >= OVERRULE.get(name, 2.0):
            named = _NAMED_REASON.get(str(found.value))
            if name == "motivation" and named is not None and named.search(u.text):
                continue  # "We wanna upgrade": a reason the lead names in its own word stands.
            result.slots[name] = Slot(name=name, value=guess.value, evidence=found.evidence)


def _put(result: Understanding, name: str, value: Any, evidence: str) -> None:
    if name not in result.slots and evidence:
        result.slots[name] = Slot(name=name, value=value, evidence=evidence)


_SELL = re.compile(
    r"\b(sell|selling|sel|(get|have|want) (it|the \w+|our \w+|my \w+) sold|"
    r"(cell|sail|sailing|sale|filling|celling|ceiling|sealing|cellin|sellin) (my|our|the) (house|home|place|condo)|"
    r"listing|estate sale|for (sale|sell) by owner|fsbo|(its|were|we are|it is|were already|its already) listed|"
    r"(wanna|want to|want it to|need to|need it to|has to|have to) be sold|"
    r"(get|getting|have|having) (it|the \w+|our \w+|my \w+) (listed|on the market)|"
    r"(unload|unloading|offload|offloading|get rid of|getting rid of|part with|parting with) "
    r"(the|our|my|this|that) \w+|"
    r"(im|were|i am|we are|as) (a |the )?sellers?|"
    r"list (it|our|my|the)|sale of (my|our|the)|"
    r"(put|putting|get|getting|throw|throwing) (it|the \w+|our \w+|my \w+|the place)( \w+)? (up )?on the market|"
    r"what (my|our) (house|home|place) is worth|whats (my|our) (house|home|place) worth|"
    r"how much (my|our) (house|home|place) is worth|cash offer)\b"
)
_BUY = re.compile(
    # "Sell the house and by something bigger": "by" where a purchase is expected.
    r"\b(buy|buying|bye a|by a (house|home|place|condo)|(?<=and )by (something|another|a|one)|purchase|purchasing|"
    r"looking for a (house|home|place|condo|property|bigger place|new place)|house hunting|home shopping|"
    r"first time (home )?buyer|our first (home|house|place)|(im|were|i am|we are|as) (a |the )?buyers?|list of buyers|"
    r"(looking for|looking at|find|get|pick up|grab|add|want) (an |a |another |one more |some )?"
    r"(investment|rental|income) (property|properties|place|house|home|unit)s?|"
    r"(pick up|get|grab|add) (a |another |one more )?(rental|duplex|fourplex))\b"
)
_BOTH = re.compile(
    r"\b(buy|buying|purchase) and (sell|selling)\b|\b(sell|selling) and (buy|buying|purchase)\b"
    r"|\b(sell|selling|sailing|list|listing|put \w+ \w+ on the market) .{0,40}\b(and|then) "
    r"(buy|buying|get|getting|find|finding|purchase|look for|looking for|move into|moving into)\b"
)
# "You'd have to talk to both of us" counts people, not sides.
_BOTH_WORD = re.compile(
    r"(?<!us )(?<!them )(?<!you )\b(both|a bit of both|kind of both|both actually)\b(?! (of )?(us|them|you|yall|em)\b)"
)


# Said in answer to "buying or selling?", these name a side that elsewhere they would not.
_INTENT_ANSWER_SELL = re.compile(r"\bsellers?\b")
_INTENT_ANSWER_BUY = re.compile(r"\b(buyers?|(just|only) (\w+ )?(looking|browsing)|shopping around)\b")
# "are houses selling fast", "people are buying again": the market moving, not the lead.
_OTHERS = re.compile(
    r"\b(houses|homes|things|places|properties|people|everyone|everybody|folks|prices|they|stuff|landlord|landlords|"
    r"owner|owners|neighbors|neighbours|neighbor|neighbour|seller|sellers|builder|builders)( are| is|s)?"
    # "Are people even buying right now?"
    r"( even| really| still| actually)?$"
)


_MARKET_QUESTION = re.compile(r"\b(good|smart|bad|right|best|great|wise) time to$")


def _others_do(text: str, start: int) -> bool:
    """Return whether the verb at `start` has the market or other people as its subject, or asks about the market."""
    before = " ".join(text[:start].split()[-2:])
    return bool(_OTHERS.search(before) or _MARKET_QUESTION.search(before))


# "We go to open houses for fun, we're not interested in buying or selling": out of the market altogether.
_NEITHER_SIDE = re.compile(r"\b(not|never|no|dont|arent|wont)\b(?: \w+){0,3} (buying or selling|selling or buying)\b")
_NAME_ONLY = re.compile(
    r"^((hi|hello|hey|yeah|yes|um|uh|oh|hiya|yello) )*((this is|its|it is) \w+|\w+ (speaking|here))"
    r"( (speaking|here|hello|hi|yes|yeah|yep|thats me))?$"
)
# How likely the classifier must find an opt-out, with no pattern, to stand beside a refusal said in so many words.
_OPT_OUT_SURE = 0.8
# Words about being called or reached at all; an opt-out the classifier hears in a line without any is a guess.
_ABOUT_CONTACT = re.compile(
    r"\b(call\w*|ring\w*|rang|phone\w*|dial\w*|contact\w*|number|numbers|list|lists|reach\w*|bother\w*|hear|"
    r"again|anymore|more|ever|never|text\w*|alone|lose|harass\w*|spam\w*|robo\w*|pester\w*|hassl\w*|bug|bugging|"
    r"mail\w*|email\w*|message\w*|voicemail\w*|line|system|database|records|info|information|details|off|last|"
    r"stop|quit|cease|enough|unsubscribe|block\w*|report\w*|sue|lawyer|attorney|complaint|fcc|ftc|dnc|registry|"
    r"rotation|remove\w*|delete\w*|eras\w*|wipe\w*|scrub\w*|purge\w*|forget|taken out|take (me|us) out|"
    r"go away|done with (you|yall|you guys|you people|these calls|this call|your calls))\b"
)
# Words that want the calls to go on, said beside an opt-out's words.
_WANTS_CALLS = re.compile(
    r"\bgo ahead\b(?! (and )?(take|remove|put|delete|stop|hang|block|lose|scratch|erase|unsubscribe|scrub|wipe|purge|"
    r"get rid|drop|cross|strike))"
    r"|\b(so|ok|okay|but|alright|sure|anyway|anyways) go on\b"
    r"|\b(id|i would) (rather|prefer) (you )?(just )?(call|phone)\b"
    # "I'm not saying stop, I'm just asking": the lead says in so many words that this is no opt-out.
    r"|\bnot (saying|asking (you )?to) (stop|quit|take me off|remove)\b"
    r"|\bkeep (me|us) (posted|in the loop|updated|informed)\b"
    # "I don't really want calls about it" wants none.
    r"|(?<!dont )(?<!doesnt )(?<!didnt )(?<!not )(?<!never )"
    r"\b(still|very|really|definitely|actually) "
    r"(interested|want (a |the |to )?(call|calls|talk|hear|sell|buy|meet|move))\b"
    r"|\b(you|you guys|yall|you all|your company) (are|re|seem|seem to be) (fine|ok|okay|alright|all right)\b"
    r"|\byoure (fine|ok|okay)\b|\b(whatever|anyway|ok|okay|alright|fine) (im|i am) (here|listening)\b"
    # "Stop stop, you lost me, can you say that again": stop talking, not calling.
    r"|\bstop\b(?! (calling|call|ringing|phoning|contacting|texting))"
    r".{0,24}\b(?<!wont )(?<!not gonna )(?<!not going to )(?<!dont make me )"
    r"(say (that|it) again|repeat (that|it)|lost me|cant hear|didnt (catch|get) that)\b"
    r"|\b(dont|do not) (take|remove|put|delete) (me|us|my number|my name)\b"
    r"|\bcall (my|the|our) (work|cell|other|home|office|house|land ?line|husbands|wifes|new|mobile) "
    r"(number|phone|line|instead)\b"
    r"|\bput (me|us) on the (\w+ )?(buyer|buyers|seller|sellers|buying|selling|other|right|new) (list|one)\b"
    # "Stop calling, why would I say that, no no I have a minute, go on"; "get off the mailing list but calls are fine".
    r"|\b(i|we) (do )?(have|got) (a|one) (quick )?(minute|min|sec|second)\b(?! (to|for) (tell|say|ask))"
    r"|\bcalls? (are|is|would be|were) (fine|ok|okay|good|alright|all right)\b"
)
_NEVER = re.compile(
    r"((well|um|uh|honestly|how about|try) )*(never|never ever|not ever|dont|do not|please dont|dont bother|no time)"
    r"( (again|thanks|thank you|please|bye|goodbye|man|ok|okay|thats when|works for me))*"
)
_ABOUT_THE_CALL = frozenset({"ask_robot", "ask_who", "ask_scam", "how_got_number", "ask_purpose"})
# What makes a question about the call a complaint that wants the calls to end: "why do you keep calling me".
# How often we call counts: the corpora's writers label such complaints opt-outs, and one missed costs more than
# a call ended on a grumble.
_COMPLAINT = re.compile(
    r"\b(keep|keeps|kept|again|always|every (day|week|time|night|morning)|\w+ times|so many|constantly|all the time|"
    r"enough|harass\w*|bother\w*|leave (me|us) alone|sick of|tired of|no more|last time|never(?! heard)|dont want|"
    r"do not want|"
    r"remove|unsubscribe|stop(?! (who|whats|what|how|where|wait|hold on|hang on|is this|are you|did you|do you)\b)|off|"
    r"erase|delete|scrub|wipe|block|report|lose (my|this) number)\b"
)


# How often we call, said as a complaint: "three times this week", "the fifth call today". ("You keep calling" comes
# with an opt-out far more often than without.)
_CALLED_OFTEN = re.compile(
    r"\b(?:(?:called|calling|calls|call|rang|ringing|rings|ring|rung)(?: me| us| here| this number| this phone)?"
    r"(?: like| about)? "
    r"(?:\w+ )?times(?: (?:a|this|per|every|in a|today)(?: (?:day|week|month|morning))?)?|"
    r"\w+ times (?:a|this|per|every|today)(?: (?:day|week|month|morning))?|"
    r"(?:second|third|fourth|fifth|sixth|seventh|tenth|twentieth|hundredth|millionth) "
    r"(?:one|call|time)(?: (?:this|today)(?: (?:day|week|month|morning))?)?|"
    r"\w+ (?:calls|of these|of you) (?:a|per|every|this) (?:day|week)|"
    r"every (?:single )?(?:day|week)|"
    r"(?:call|calls|calling|ring|ringing) (?:me |us |people )?(?:forever|nonstop|non stop|constantly|all the time))\b"
)


def _asks_to_stop(text: str) -> bool:
    return bool(_OPT_OUT.search(text) or _dont_call(text))


# "Not interested in buying or selling": the negation reaches both sides of the "or".
_NEGATED_PAIR = re.compile(r"\b(not|never|no|dont|arent|werent|wont)\b(?: \w+){0,3} (or|nor|and) $")


def _their_own(u: Utterance, start: int) -> bool:
    """Whether the buying or selling at `start` is the lead's own plan: not negated, not someone else's."""
    negated = u.negated(start) or _NEGATED_PAIR.search(" ".join(u.text[:start].split()[-6:]) + " ")
    return not negated and not _others_do(u.text, start)


def _intent(u: Utterance, result: Understanding, *, pending: str | None, now: dt.datetime) -> None:
    text = u.text
    both = _BOTH.search(text)
    if both and not u.negated(both.start()):
        _put(result, "intent", "both", both.group(0))
        return
    if pending == "intent" and (word := _BOTH_WORD.search(text)):
        _put(result, "intent", "both", word.group(0))
        return
    given_up = [m.span() for m in (*_SIDE_GIVEN_UP.finditer(text), *_SIDES_QUESTIONED.finditer(text))]

    def kept(m: re.Match[str]) -> bool:
        return _their_own(u, m.start()) and not any(start <= m.start() < end for start, end in given_up)

    sell = next((m for m in _SELL.finditer(text) if kept(m)), None)
    buy = next((m for m in _BUY.finditer(text) if kept(m)), None)
    if pending == "intent" and not (sell or buy) and not _denies_a_side(u):
        # "Just browsing" is a buyer's answer, unless the line says "I'm not buying anything" too.
        sell = next((m for m in _INTENT_ANSWER_SELL.finditer(text) if kept(m)), None)
        buy = next((m for m in _INTENT_ANSWER_BUY.finditer(text) if kept(m)), None)
    if not (sell or buy) and (later := _NOT_YET_SIDE.search(text)):
        # "I am not selling in this market, not with rates like this": a seller, only not yet.
        _put(result, "intent", "sell" if later.group(1).startswith("sell") else "buy", later.group(0))
        return
    if sell and buy:
        start, end = min(sell.start(), buy.start()), max(sell.end(), buy.end())
        _put(result, "intent", "both", text[start:end])
    elif sell:
        _put(result, "intent", "sell", sell.group(0))
    elif buy:
        _put(result, "intent", "buy", buy.group(0))


# "Why do you wanna know if I'm buying or selling?": the sides are what the lead asks about, not an answer.
_SIDES_QUESTIONED = re.compile(
    r"\b(why|how come|does it matter|what does it matter|whats it matter|what difference does it make|who cares|"
    r"why do you care|none of your business)\b(?: \w+){0,6}? (?:if|whether) (?:\w+ ){0,3}?"
    r"(?:buy|buying|sell|selling)(?: or (?:buy|buying|sell|selling|both|not))?\b"
)
_NOT_YET_SIDE = re.compile(
    r"\bnot (selling|buying|gonna sell|gonna buy|going to sell|going to buy) (\w+ )?(in this market|with rates|"
    r"right now|yet|until|till|this year|at these prices|with prices)"
)


_QTY = {"a": 1, "an": 1, "another": 1, "one": 1, "a couple of": 2, "a couple": 2, "couple of": 2, "couple": 2}
_QTY.update({"a few": 3, "few": 3, "several": 4})
_UNIT_MONTHS = {"day": 1 / 30, "week": 0.25, "month": 1.0, "year": 12.0}
_TL_SPAN = re.compile(
    r"\b(\d+|a couple of|a couple|couple of|couple|a few|few|several|another|a|an)(?: (?:to|or) (\d+))?"
    r" (day|week|month|year)s?\b"
)
_TL_ON_THE_MARKET = re.compile(r"\b(sat on|sitting on|been on the market|on the market for|listed for)\b(?: \w+){0,3}$")
# "Two three a year", "ten of these calls a day": how often, said before the unit.
_HOW_OFTEN = re.compile(
    r"\b(\d+|once|twice|times)( of (these|them|those))?( (calls|texts|emails|messages|voicemails|robocalls))?\s*$"
)
_TL_UNIT_ALONE = re.compile(r"(?:(?:uh|um|like|about|maybe|a|one|1|within a|in a) )*(week|month|year)")
_TL_UNIT_OR_MORE = re.compile(r"\b(?:a|an|1|next) (day|week|month|year) or ([2-9])\b(?! (?:day|week|month|year))")
# "Lived here for ten years" is behind them; "not for a couple years" is ahead.
_TL_PAST = re.compile(
    r"\b((lived|been|owned|had|living|here|there|it|rented|renting|sat|sitting) for|past|last|ago|old|been here|"
    r"been there|lived here|lived there|owned it|going on|sat on|sitting on|sat)\b"
)
_TL_HEDGES = frozenset(
    {"like", "about", "around", "almost", "over", "nearly", "maybe", "roughly", "probably", "um", "uh"}
)
_TL_SO_FAR = re.compile(r"\b(been|lived|owned|rented|had|living|renting|owning|ive|weve|have|has)\b")
_TL_ASAP = re.compile(
    # "This month is crazy", "this month we're still renting": the month the lead is living, not the move's.
    r"\b(asap|a s a p|(as )?soon as (humanly )?(possible|we can|i can)|right away|immediately|urgent|"
    # "Called me three times this month" counts our calls.
    r"(?<!times )(?<!twice )(?<!once )(?<!calls )this month(?! (is|s|has been|was|been)\b)"
    r"(?!(?: \w+){0,3} (still|just|only)\b)|"
    r"like yesterday|(as )?(fast|quick|quickly) as (possible|we can|i can)|(gets it done|get it done|done) fastest|"
    r"next month(?! or (two|2|three|3))|within the month|already looking|ready now|ready to go)\b"
    # "right now" is a timeline only when it is about the move itself: "right now we rent" or "my lender
    # said right now" only says when the lead is talking.
    r"|\b(move|moving|sell|selling|sell it|buy|buying|list|listing|ready|go|get going)\b(?: \w+){0,2} right now\b"
)
# "Is it a good time to sell right now?": the lead asks about the market's moment, not about their own move.
_ASKING_ABOUT = re.compile(
    r"\b(is it|is now|is this|should (i|we)|would it|do you think|good time|bad time|smart to|wise to|a good idea)\b"
)


def _asks_about(text: str, match: re.Match[str]) -> bool:
    return bool(_ASKING_ABOUT.search(" ".join(text[: match.end()].split()[-9:])))


_SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
_TL_SEASON = re.compile(
    r"\b(?:(next|this|by|in the|in|the|early|late|around) )?(spring|summer|fall|autumn|winter)(?: ?time)?\b"
)
_MONTH_NAMES = "january|february|march|april|may|june|july|august|september|october|november|december"
_TL_MONTH_OF_NEXT_YEAR = re.compile(
    rf"\bnext year\b(?: (?:sometime|some time|probably|maybe|like|around|in|about|i (?:think|guess)|um|uh)){{0,4}} "
    rf"(?P<a>{_MONTH_NAMES})\b|\b(?P<b>{_MONTH_NAMES}) (?:of )?next year\b"
)
_TL_SEASON_OF_NEXT_YEAR = re.compile(r"\b(spring|summer|fall|autumn|winter)(?: ?time)? (?:of )?next year\b")
# English month names from the C locale, which Django never changes.
_MONTH_NUM = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_TL_MONTH = re.compile(
    r"\b(?:in|by|around|after|before|early|late|end of|beginning of|come|next|until|till|til|this coming) "
    r"(january|february|march|april|may|june|july|august|september|october|november|december)\b"
)
# Deadlines people name by the calendar they live by rather than by month.
_HOLIDAY_MONTH = {
    "thanksgiving": 11, "christmas": 12, "xmas": 12, "the holidays": 12, "new year": 1, "new years": 1,
    "easter": 4, "memorial day": 5, "fourth of july": 7, "july fourth": 7, "4th of july": 7,
    "independence day": 7, "labor day": 9, "halloween": 10, "school starts": 8, "the school year": 8,
    "school year starts": 8, "school is out": 6, "school gets out": 6, "the end of the school year": 6,
    "school lets out": 6, "school ends": 6, "the kids finish school": 6, "school's out": 6, "schools out": 6,
    "school years done": 6, "school year is done": 6, "school years over": 6, "school year is over": 6,
    "school year ends": 6, "school is done": 6, "school gets done": 6,
    "summer break": 6, "spring break": 3, "valentines day": 2, "valentines": 2, "tax season": 4, "tax time": 4,
    "mothers day": 5, "fathers day": 6, "st patricks day": 3, "saint patricks day": 3, "graduation": 6,
}  # fmt: skip
# Holidays late enough in their month that the weeks after them fall in the next one.
_LATE_IN_MONTH = frozenset(
    {"thanksgiving", "christmas", "xmas", "the holidays", "easter", "memorial day", "halloween", "valentines day",
     "valentines", "tax season", "tax time", "st patricks day", "saint patricks day"}
)  # fmt: skip
_TL_HOLIDAY = re.compile(
    r"\b(by|before|around|after|for|in time for|until|til|till|ahead of|near|right after|past|when|once) "
    r"(?:the next |next |the )?(" + "|".join(sorted(_HOLIDAY_MONTH, key=len, reverse=True)) + r")\b"
)
# Answering "when?", a month or a holiday said alone is the answer: "august probably", "labor day".
# "May" is a month only where it can't be the verb: "may or june", "uh may", "may i guess".
_TL_MONTH_ALONE = re.compile(
    r"\b(january|february|march|april|june|july|august|september|october|november|december|"
    r"may(?= or | and | probably| maybe| sometime| i guess| i think| would| works|$)|(?<=uh )may|"
    r"(?<=um )may)\b"
)
_TL_HOLIDAY_ALONE = re.compile(r"\b(" + "|".join(sorted(_HOLIDAY_MONTH, key=len, reverse=True)) + r")\b")
# Dated from today: "next year" said in December is a year out, "early next year" a couple of months.
_TL_YEAR = re.compile(
    r"\b((?<!not )this year|end of (the )?year|by christmas|before the holidays|"
    r"(early|end of|late|middle of|mid|beginning of|start of|the start of|the beginning of) next year|next year|"
    r"(after|past) the first of the year|first of the year)\b"
)
_TL_UNSURE = re.compile(
    r"\b(not sure|no idea|dont know|dont really know|no rush|no (real |set |particular )?(timeline|time ?frame)|"
    r"(not|never) in (a|any|some|that much of a) ((big|real|huge|particular|great) )?(rush|hurry)|"
    r"in no (rush|hurry)|no (big|real|huge|particular|great) (rush|hurry)|"
    r"someday|eventually|depends on|depends (if|whether)|hinges on|contingent on|hard to say|well see|"
    r"down the road|just looking|just browsing|in the future|"
    r"at some point|whenever|no hurry|no set time|no (real )?time ?line|no (real |set |firm )?plans( yet)?|"
    # "Could be next week, could be next year": every date said is a maybe.
    r"could be (\w+ ){1,3}could be|"
    # "When the market's right", "once rates come down", "not for a while": a condition or a vague wait, no date.
    r"(when|once|if) (the )?(market|rates|prices|price|time|timing)s?( is| s| are| re)? "
    r"(right|better|good|ready|lower|down|drop|drops|come down|comes down|go down|goes down)|"
    r"not for (a|quite a) (while|bit)|(a|quite a) (ways|while) (off|out|yet))\b"
)


def _months_until(now: dt.datetime, month: int, *, next_year: bool = False) -> int:
    months = (month - now.month) % 12
    if next_year and months == 0:
        months = 12
    return max(months, 1)


# "he passed in march", "we took it off the market in the spring": a date of something done, not a plan.
_PAST_EVENT = re.compile(
    r"\b(passed|passed away|died|bought|sold|took|closed|lost|moved in|started|retired|was|happened|ago|last|"
    r"got|had|did|went|listed|signed|approved|preapproved|applied|refinanced|finished|met|talked|spoke|"
    r"visited|renovated|remodeled|inherited|married|divorced|pulled|withdrew|relisted|fired|hired|expired|lapsed|"
    r"ended|quit|switched|dropped|backed out|laid off|let go)\b"
)


_CLAUSE_WORDS = frozenset({"and", "but", "so", "then", "now", "because", "cause", "though"})
# Where the clause a hypothetical about opting out opens ends: what follows is said for itself ("if I wanted a
# realtor I'd call one, so take me off your list").
_CLAUSE_BREAK = re.compile(
    r"\b(" + "|".join(sorted(_CLAUSE_WORDS | {"just", "anyway", "okay", "ok", "i said"})) + r")\b"
)


def _ahead(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """Return the first match of a date pattern that is not the date of something already done."""
    return next(
        (
            m
            for m in pattern.finditer(text)
            if not _done_before(_clause_before(text, m.start()))
            and not text[: m.start()].endswith("last ")
            # "Call me after new year's and we'll see": when to call, not when to move.
            and not _CALL_ASKED.search(_clause_before(text, m.start(), words=4))
        ),
        None,
    )


_CALL_ASKED = re.compile(r"\b(call|ring|try|reach|phone|contact) (me|us|back)\b|\bcheck (back )?in\b|\bfollow up\b")
# "Once the kitchen's finished, february": a deed still to come, however past its verb sounds.
_NOT_YET = re.compile(
    r"\b(once|as soon as|soon as|until|till|til|thinking|thinkin|planning|plannin|hoping|figuring|figured|aiming)\b"
)


def _done_before(clause: str) -> bool:
    return bool(_PAST_EVENT.search(clause)) and not _NOT_YET.search(clause)


def _clause_before(text: str, start: int, *, words: int = 5) -> str:
    """Return up to `words` words before `start`, from the start of their clause ("..., and now we plan to")."""
    before = text[:start].split()[-words:]
    cut = max((i + 1 for i, word in enumerate(before) if word in _CLAUSE_WORDS), default=0)
    return " ".join(before[cut:])


def _year_months(now: dt.datetime, said: str) -> int:
    """Return the months until the part of a year that `said` names ("next year", "early next year", ...)."""
    january = _months_until(now, 1, next_year=True)
    if "first of the year" in said:
        # Just after the first of the year is still January.
        return january
    if "early" in said or "beginning" in said or "start" in said:
        return january + 1
    if "mid" in said:
        return january + 5
    if "next" in said:
        # The whole of next year, or its end: a year out either way for the broker's follow-up.
        return max(january + 11, 12) if "end" in said or "late" in said else 12
    return _months_until(now, 12)


_TL_CORRECTION = re.compile(r"\b(actually|i mean|wait|more like|or rather|scratch that|no|sorry)\b")


_TL_CORRECTED_BARE = re.compile(
    r"(?:\s+\w+){0,6}?\s+(?:no wait|wait|actually|i mean|or rather|scratch that|but|no|sorry)\b(?:\s+\w+){0,5}?\s+"
    r"(?:(?:more like|like|probably|maybe|about|its|make it|make that|no)\s+)?(?P<qty>\d{1,2})\b"
    r"(?!\s*(?:\d|am|pm|oclock|percent|k\b|of\b|(?!tops\b)\w+s\b))"
)


def _timeline(u: Utterance, result: Understanding, *, pending: str | None, now: dt.datetime) -> None:
    head, mark, rest = u.raw.rpartition("?")
    if mark and head.strip() and rest.strip():
        # "What's normal, like a few months? Yeah, probably spring": the lead asked, then answered themselves.
        _timeline(Utterance(rest), result, pending=pending, now=now)
        if "timeline" in result.slots:
            return
    num = u.num_text
    if pending == "timeline" and (m := _TL_UNIT_ALONE.fullmatch(num)):
        # "Month", said to "what kind of timeline?": a month.
        _put(result, "timeline", max(1, round(_UNIT_MONTHS[m.group(1)])), m.group(1))
        return
    if (m := _TL_UNIT_OR_MORE.search(num)) and not _TL_PAST.search(" ".join(num[: m.start()].split()[-2:])):
        # "A year or two" is a year and a half; "in the next month or two" rounds up to two.
        months = max(1, round((1 + int(m.group(2))) / 2 * _UNIT_MONTHS[m.group(1)]))
        _put(result, "timeline", months, u.quote_num(m.start(), m.end()))
        return
    spans = []
    for match in _TL_SPAN.finditer(num):
        before = num[: match.start()].split()[-2:]
        after = num[match.end() :].split()[:1]
        if _TL_PAST.search(" ".join(before)) or after == ["ago"] or after == ["old"]:
            continue
        if _TL_ON_THE_MARKET.search(" ".join(num[: match.start()].split()[-5:])):
            continue  # "The last realtor sat on my house eight months": how long it took, not when.
        plain = [w for w in num[: match.start()].split() if w not in _TL_HEDGES]
        if plain[-1:] == ["for"] and _TL_SO_FAR.search(" ".join(plain[-10:])):
            continue  # "We've been renting this tiny place for like six years": how long so far, not when.
        if len(plain) >= 2 and plain[-2] == "been" and plain[-1].endswith("ing"):
            continue  # "It's been sitting like six weeks with zero offers": so far, too.
        qty_word = match.group(1)
        if qty_word in {"a", "an"} and _HOW_OFTEN.search(num[: match.start()]):
            continue  # "I pick up rentals, like two three a year": how often, not when.
        qty = float(qty_word) if qty_word.isdigit() else float(_QTY[qty_word])
        start = match.start()
        if qty_word in {"a", "an"} and num[: match.start()].split()[-1:] == ["half"]:
            qty, start = 0.5, num.rindex("half", 0, match.start())  # "about half a year"
        if re.match(r"\s+and a half\b", num[match.end() :]):
            qty += 0.5  # "a year and a half"
        months = round(qty * _UNIT_MONTHS[match.group(3)])
        if 0 <= months <= 120:
            spans.append((match, months, start))
    vague = len(spans) == 1 and spans[0][0].group(1) in _VAGUE_QTY
    if vague and (named := _named_after_vague(u, pending=pending, now=now)):
        # "In the next few months, like by april": the month says which few.
        _put(result, "timeline", *named)
        return
    if spans:
        # "In three months, wait, actually more like a year": the lead corrected themselves.
        first, last = spans[0], spans[-1]
        corrected = len(spans) > 1 and _TL_CORRECTION.search(num[first[0].end() : last[0].start()])
        match, months, start = last if corrected else first
        end = match.end()
        bare = _TL_CORRECTED_BARE.match(num, end)
        if bare and len(spans) == 1:
            # "Four months, no wait, my wife says more like six": the corrected figure keeps the unit.
            qty = float(bare.group("qty"))
            months = round(qty * _UNIT_MONTHS[match.group(3)])
            end = bare.end()
        _put(result, "timeline", max(months, 1), u.quote_num(start, end))
        return
    text = u.text
    asap = _TL_ASAP.search(text)
    found = _calendar_timeline(text, pending=pending, now=now)
    if asap is None and found is None and pending == "timeline" and not _PAST_EVENT.search(text):
        # "Yesterday honestly haha" to "what timeline?": as soon as it can be.
        asap = _YESTERDAY.search(text)
    if found and asap and 0 <= text.find(found[1]) < asap.start():
        # "Probate wraps up in march and we'd list it right away": right away from then.
        asap = None
    if asap and not u.negated(asap.start()) and not _others_do(text, asap.start()) and not _asks_about(text, asap):
        _put(result, "timeline", 1, asap.group(0))
    elif found:
        _put(result, "timeline", *found)
    elif m := _TL_WITHIN_YEAR.search(text):
        # "I don't know, like within the year": a hedge around a figure still gives the figure.
        _put(result, "timeline", 12, m.group(0))
    elif (m := _TL_UNSURE.search(text)) and (pending == "timeline" or re.search(r"looking|browsing", m.group(0))):
        _put(result, "timeline", "unsure", m.group(0))


_YESTERDAY = re.compile(r"\byesterday\b")
_VAGUE_QTY = frozenset({"a couple of", "a couple", "couple of", "couple", "a few", "few", "several"})
_NARROWED = re.compile(
    r" (or so )?(like|say|so|maybe|probably|hopefully|i think|i guess)? ?(by|in|around|before|like)\b"
)
_VAGUE_SPAN = re.compile(r"\b(couple|few|several) (of )?(days|weeks|months|years)\b")


def _named_after_vague(u: Utterance, *, pending: str | None, now: dt.datetime) -> tuple[int, str] | None:
    """Return the calendar time named after "a few months" and its words, if the lead named one."""
    vague = _VAGUE_SPAN.search(u.text)
    if vague is None or not _NARROWED.match(u.text, vague.end()):
        return None  # "Next couple months, our lease is up february first": two answers, the first one stands.
    return _calendar_timeline(u.text[vague.end() :], pending=pending, now=now)


_NOT_BEFORE = re.compile(r"\bnot (before|until|till|til)\b")
_TL_WITHIN_YEAR = re.compile(r"\b(within|in) (the|a|the next|the coming) (year|twelve months)\b")


# "After the holidays, but then my sister said wait till spring": the lead's later word stands.
_REVISED = re.compile(
    r"\b(but then|but now|but actually|actually|no wait|scratch that|i mean|or rather|on second thought|"
    r"(but )?realistically|(but )?more likely|(but )?probably more like|"
    r"but after that|after that|so (like|maybe|probably|around|about))\b"
)


def _calendar_timeline(text: str, *, pending: str | None, now: dt.datetime) -> tuple[int, str] | None:
    """Return the months to a move named by the calendar (a holiday, a season, a month) and its words."""
    revisions = list(_REVISED.finditer(text))
    if revisions and (later := _calendar_timeline(text[revisions[-1].end() :], pending=pending, now=now)):
        return later
    # "Not before the holidays" is after them.
    text = _NOT_BEFORE.sub("after", text)
    if m := _ahead(_TL_HOLIDAY, text):
        month = _HOLIDAY_MONTH[m.group(2)]
        # After a holiday late in its month is the month after; just after the new year is still January.
        after = m.group(1) in {"after", "right after", "past"}
        past_it = int(after and m.group(2) in _LATE_IN_MONTH)
        if month == 1 and m.group(1) in {"by", "before", "in time for", "until", "til", "till", "ahead of"}:
            month = 12  # "Before the new year" is by the end of this one.
        months = _months_until(now, month) + past_it
        if now.month - 1 + months < 12 and re.match(r"\s*(of |in )?next year\b", text[m.end() :]):
            months += 12  # "By christmas next year", said in december: not this one.
        later = _calendar_timeline(text[m.end() :], pending=None, now=now) if after else None
        if later is not None and later[0] > months:
            # "Not before the holidays, the grandchildren are coming, so maybe in the spring": the holiday is
            # the earliest it could be; the time named after it is when.
            return later
        return months, m.group(0)
    if m := _ahead(_TL_SEASON_OF_NEXT_YEAR, text):
        # "By summer next year" is next summer, not just next year.
        return _months_until(now, _SEASONS[m.group(1)], next_year=True), m.group(0)
    if m := _ahead(_TL_MONTH_OF_NEXT_YEAR, text):
        # "Next year sometime, like april": the month says when in it.
        month = _MONTH_NUM[m.group("a") or m.group("b")]
        return _months_until(now, month) + 12 * (month > now.month), m.group(0)
    if m := _ahead(_TL_YEAR, text):
        return _year_months(now, m.group(0)), m.group(0)
    if m := _ahead(_TL_SEASON, text):
        return _months_until(now, _SEASONS[m.group(2)], next_year=m.group(1) == "next"), m.group(0)
    if m := _ahead(_TL_MONTH, text):
        # "Before march" is counted to march, as "by march" is: the month is the deadline the lead names.
        return _months_until(now, _MONTH_NUM[m.group(1)]), m.group(0)
    if pending == "timeline" and (m := _ahead(_TL_HOLIDAY_ALONE, text)):
        return _months_until(now, _HOLIDAY_MONTH[m.group(1)]), m.group(0)
    if pending == "timeline" and (m := _ahead(_TL_MONTH_ALONE, text)):
        return _months_until(now, _MONTH_NUM[m.group(1)]), m.group(0)
    return None


_MONEY_WORDS = re.compile(r"\b(dollars|thousand|grand|million|mil|k|1000000|1000)\b")
_PRICE_WORDS = re.compile(
    r"\b(worth|price|priced|budget|range|afford|spend|value|appraised|appraisal|go for|sell for|pay|paid|paying|"
    r"cost|costs|around|max|maximum|tops|guess|guessing|appraisals|estimate|estimated|figures|happy with|settle for|"
    r"hoping for|hoping to get|get for it|zillow|zestimate|redfin)\b|\bget (\w+ ){1,3}for it\b"
    # "We'll list in the spring, probably for like eight fifty", "looking at like five fifty to six".
    r"|\blist(ed|ing)? (it |the house |the place |our place |ours )?(\w+ ){0,4}for\b"
    r"|\blooking (at|in) (the )?(like |about |around |maybe |roughly )?(one|two|three|four|five|six|seven|eight|nine)\b"
    # "Three hundred to three fifty": a range of hundreds is said of homes and little else.
    r"|\b(one|two|three|four|five|six|seven|eight|nine) (hundred|fifty|twenty five|seventy five)( thousand)? "
    r"(to|or|through) (one|two|three|four|for|five|six|seven|eight|nine)\b"
)
# "Something under four hundred", "looking under three fifty": a ceiling says it is a price, whatever was asked.
_BOUNDED_FIGURE = re.compile(
    r"\b(under|below|up to|less than|no more than|at most|nothing over|not over)\s+(like |about |around |maybe )?"
    r"([1-9]\d\d|[1-9] [1-9]\d)\b(?! (days|years|months|weeks|miles|feet|square|sq|people|times|percent))"
)
_MONEY = re.compile(
    r"(?P<half>\bhalf (?:a |of a )?(?:1000000|million|mil)\b)"
    r"|(?P<mil>\b\d+(?:\.\d+)? ?(?:1000000|million|mil|m)\b)"
    r"|(?P<milpt>\b(?:a|1) (?:1000000|million|mil) [1-9]\b(?! (?:1000|thousand|k|grand|hundred)))"
    r"|(?P<amil>\b(?:a|1) (?:1000000|million|mil)\b)"
    r"|(?P<k>\b\d+(?:\.\d+)? ?(?:1000|thousand|k|grand)\b)"
    r"|(?P<dollars>\b\d+ dollars\b)"
    r"|(?P<fraction>\b\d (?:and a (?:half|quarter)|and three quarters)\b)"
    r"|(?P<colloquial>\b[1-9] (?:[1-9]0|[1-9][1-9])\b)"
    r"|(?P<full>\b\d{5,8}\b)"
    r"|(?P<hundreds>\b[1-9]\d{2}\b)"
    r"|(?P<small>\b\d(?:\.\d+)?\b)"
)


_FRACTIONS = {"a half": 0.5, "a quarter": 0.25, "three quarters": 0.75}
# "Low sevens", "high sixes", "mid fives": a band of hundreds of thousands.
# The digit view may turn "sevens" into 7; "low seven hundred" is a figure, not a band.
_BAND = re.compile(
    r"\b(low|lower|mid|middle|high|upper) ([2-9](?=00s?\b|\b)|twos|threes|fours|fives|sixes|sevens|eights|nines)"
    r"(?:00s?)?\b"
    r"(?! ?(?:\d|hundred|thousand|k\b|grand))"
)
# "In the three hundreds" (agents.text writes it "the 300s"): the whole band.
_BAND_WHOLE = re.compile(r"\b(the) ([2-9](?=00s\b)|twos|fours|fives|sixes|sevens|eights|nines)(?:00s)?\b")
_BAND_DIGIT = {"twos": 2, "threes": 3, "fours": 4, "fives": 5, "sixes": 6, "sevens": 7, "eights": 8, "nines": 9}
_BAND_DIGIT.update({str(d): d for d in range(2, 10)})
_BAND_PART = {
    "low": (0, 50),
    "lower": (0, 50),
    "mid": (25, 75),
    "middle": (25, 75),
    "high": (50, 100),
    "upper": (50, 100),
    "the": (0, 100),
}


def _money_value(kind: str, token: str) -> float | None:
    number = re.findall(r"\d+(?:\.\d+)?", token)
    first = float(number[0]) if number else 0.0
    if kind == "fraction":
        # "Eight and a half", "six and a quarter": tenths of a million below three, hundreds of thousands above.
        return (first + _FRACTIONS[token.split(" and ", 1)[1]]) * (1_000_000 if first < 3 else 100_000)
    values: dict[str, float | None] = {
        "half": 500_000,
        "mil": first * 1_000_000,
        "amil": 1_000_000,
        # "a million two" is 1.2 million.
        "milpt": 1_000_000 + float(number[-1]) * 100_000 if number else None,
        "k": first * 1_000,
        "dollars": first,
        "colloquial": (float(number[0]) * 100 + float(number[1])) * 1_000 if len(number) == 2 else None,
        # "A million two", as the words become 1000002, is 1.2 million: nobody prices a home to the dollar.
        "full": first + (first % 1_000_000) * 99_999 if first >= 1_000_000 and 0 < first % 1_000_000 < 10 else first,
        "hundreds": first * 1_000,
        "small": None,
    }
    return values[kind]


def _price(u: Utterance, result: Understanding, *, pending: str | None, now: dt.datetime) -> None:
    num = u.num_text
    explicit = bool(_MONEY_WORDS.search(u.text) or _MONEY_WORDS.search(num) or re.search(r"\b\d{5,}\b", num))
    # "Maybe one point four to one point seven", said to another of the qualifying questions, is the price
    # ahead of its question: nothing else in a call about a home is counted in tenths like that.
    millions = pending in _QUALIFYING and bool(re.search(r"\b\d{1,2}\.\d\b", num))
    band = (_BAND.search(num) or _BAND_WHOLE.search(num)) if pending != "timeline" else None
    bounded = _BOUNDED_FIGURE.search(num)
    if not (explicit or pending == "price" or millions or band or bounded or _PRICE_WORDS.search(u.text)):
        return
    found: list[tuple[float | None, int, int, str]] = []
    bare = [float(d) for d in re.findall(r"(?<![\d.])\d{1,2}\.\d+\b", num)]
    # One unit for a whole answer: "two point eight to three point two" is two ranges of millions.
    tenths = 1_000_000 if not bare or min(bare) < 3 else 100_000
    for match in _MONEY.finditer(num):
        kind = match.lastgroup or "small"
        if kind in {"colloquial", "hundreds", "fraction"} and not (
            pending == "price" or bounded or _PRICE_WORDS.search(u.text)
        ):
            continue
        if _COUNTED.match(num[match.end() :]) or _COUNTED_SPAN.match(num[match.end() :]):
            continue
        value = _money_value(kind, match.group(0))
        if value is None and "." in match.group(0) and (pending == "price" or millions or _PRICE_WORDS.search(u.text)):
            # "Around one point two", asked what a home is worth: nobody prices a home at $1.20. Tenths of a
            # million from three up would be a price few leads name that way; "four point five" is 450,000.
            value = float(match.group(0)) * tenths
        found.append((value, match.start(), match.end(), kind))
    # "Monday at two", "call me tomorrow at four", said to the price question: an hour, not two million.
    clock = [m.span(g) for m in _CLOCK_TIME.finditer(num) for g in ("day_hour", "hour") if m.group(g)]
    found = [item for item in found if not any(start <= item[1] < end for start, end in clock)]
    if re.search(r"\b(1000000|million|mil|m)\b", num):
        # "North of a million. One one, one two?": with millions in the air, two digits are a million and tenths.
        for m in _MILLION_SHORTHAND.finditer(num):
            found = [item for item in found if not m.start() <= item[1] < m.end()]
            found.append(((int(m.group(1)) + int(m.group(2)) / 10) * 1_000_000, m.start(), m.end(), "milshort"))
        found.sort(key=lambda item: item[1])
    if pending == "price":
        found = _bare_digits_priced(num, found)
    found = [_digit_beside_a_figure(num, item, found) for item in found]
    if band:
        # "High fours" is 450,000 to 500,000; the four inside it is no figure of its own.
        found = [item for item in found if not band.start() <= item[1] < band.end()]
        base = _BAND_DIGIT[band.group(2)] * 100_000
        low_part, high_part = _BAND_PART[band.group(1)]
        found += [
            (base + low_part * 1_000, band.start(), band.end(), "band"),
            (base + high_part * 1_000, band.start(), band.end(), "band"),
        ]
        found.sort(key=lambda item: item[1])
    # "Eight hundred thousand, wait no, six fifty to seven fifty": the figure after the correction stands.
    corrected = [m.end() for m in _PRICE_CORRECTION.finditer(num)]
    two_views = _OTHER_VOICE.search(num) and not _SELF_CORRECTION.search(num)
    if corrected and any(start >= corrected[-1] for _, start, _, _ in found) and not two_views:
        found = [item for item in found if item[1] >= corrected[-1]]
    told = [item for item in found if item[0] is not None and _told_as_reference(num, item[1], item[2])]
    if len(found) > 1 and (own := [item for item in found if item not in told]):
        # "Our neighbour got eight seventy, so I'd say nine hundred"; "five fifty, four fifty's what we paid":
        # another home's price, or what the lead once paid, is the reason for their figure, not the figure.
        found = own
    elif len(found) == 1 and told and _paid_or_owed(num, found[0][1], found[0][2]):
        # "We paid 210 for it in 2012", "we still owe like 180": what the home cost or owes, not its worth
        # (docs/labelling.md); a neighbour's sale said alone may still be the lead's own guess.
        return
    elif len(told) > 1 and _ADOPTED.search(num[told[-1][2] :]):
        # "We paid eighty thousand in 1979, the woman next door sold hers for a million one, so maybe around
        # that": the last figure is the one the lead takes as their own.
        found = [told[-1]]
    if pending == "price":
        # "Seven hundred to eight hundred, I mean we saw one for eight twenty, so seven to eight": the digits left
        # once the correction and the other home's price are set aside.
        found = _bare_digits_priced(num, found)
    values = _scale_ranges(num, found)
    if any(v >= 20_000 for v, _, _ in values):
        # "Seven hundred to eight hundred ... so seven to eight": the short restatement is no figure of its own.
        values = [item for item in values if item[0] >= 20_000]
    if not values:
        return
    if len(values) >= 3 and (bound := _PRICE_BOUND.search(num[max(0, values[0][1] - 24) : values[0][1]])):
        # "Under a million, like seven to nine hundred": the range inside the bound is the answer.
        first, rest = values[0][0], [v for v, _, _ in values[1:]]
        if all(v <= first for v in rest) if bound.group("cap") else all(v >= first for v in rest):
            values = values[1:]
    low, high = min(v for v, _, _ in values), max(v for v, _, _ in values)
    if not 20_000 <= low <= high <= 50_000_000:
        return
    start, end = min(s for _, s, _ in values), max(e for _, _, e in values)
    price: dict[str, int] = {"min": int(low), "max": int(high)}
    if low == high and (bound := _PRICE_BOUND.search(num[max(0, start - 24) : start])):
        # "Under four hundred" caps the range and says nothing of its floor; "at least 300" the reverse, unless
        # it is what the lead does not want: "not interested in anything over five hundred".
        refused = _REFUSED_BOUND.search(num[max(0, start - 48) : start])
        price = {"max": int(high)} if bool(bound.group("cap")) != bool(refused) else {"min": int(low)}
        start = max(0, start - 24) + bound.start()
    elif low == high and (after := _PRICE_BOUND_AFTER.match(num[end:])):
        price = {"max": int(high)} if after.group("cap") else {"min": int(low)}
        end += after.end()
    elif low == high and (spread := _GIVE_OR_TAKE.match(num[end:])):
        # "Half a mil, give or take fifty": the figure and how far either way.
        give = float(spread.group(2)) * (1_000 if float(spread.group(2)) < 1_000 else 1)
        price = {"min": int(low - give), "max": int(high + give)}
        end += spread.end()
    _put(result, "price", price, u.quote_num(start, end))


_ADOPTED = re.compile(
    r"\b(around|about|near|close to|similar to|like|somewhere near) (that|there|the same)\b|\bthe same\b"
)
_MILLION_SHORTHAND = re.compile(
    r"(?<![\d.])\b([1-3]) ([0-9])\b(?!\.\d)(?! ?(?:\d\d|1000000|million|mil|1000|thousand|k|grand|hundred)\b)"
)
_GIVE_OR_TAKE = re.compile(
    r"\s*(?:or so )?(give or take|plus or minus|more or less|either way) (?:a |like |about )?(\d+)\b"
)


_CLOCK_TIME = re.compile(
    r"\b(?:today|tonight|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday|morning|afternoon|"
    r"evening|weekend)\b(?: \w+){0,3}? (?:at|around|about|by|after|before|say) (?:like |about |around |maybe )?"
    r"(?P<day_hour>\d{1,2}(?: \d{2})?)\b"
    r"|\b(?P<hour>\d{1,2}(?: \d{2})?) ?(?:oclock|o clock|in the (?:morning|afternoon|evening)|tonight)\b"
)
# A number before these counts something ("two mortgages", "three dogs"): it is no price.
_COUNTED = re.compile(
    r"\s*(day|week|month|year|percent|%|bed|bath|kid|am|pm|acre|mile|hour|minute|time|call|people|person|car|stor|"
    r"room|floor|mortgage|loan|house|home|propert|unit|dog|cat|job|offer|showing)"
)
# "Three or four months", "two to three bedrooms": the first number counts what the second does.
_COUNTED_SPAN = re.compile(r"\s*(or|to|and|-)\s*\d+(\.\d+)?" + _COUNTED.pattern)


def _digit_beside_a_figure(
    num: str, item: tuple[float | None, int, int, str], found: list[tuple[float | None, int, int, str]]
) -> tuple[float | None, int, int, str]:
    """Read "seven, seven and a quarter" or "six fifty or seven" as a range: the lone digit counts in the unit of
    the figure said beside it, hundreds of thousands, when the two are within a hundred thousand of each other."""
    value, start, end, kind = item
    if kind != "small" or value is not None or not re.fullmatch(r"[2-9]", num[start:end]):
        return item
    if re.match(r" (and change|something|somethin|odd|plus|hundred something)\b", num[end:]):
        return item  # "Six and change. Six twenty, six thirty": a rough figure the exact ones then pin down.
    digit = int(num[start:end]) * 100_000
    for other, o_start, o_end, _ in found:
        near = 0 <= o_start - end <= 24 or 0 <= start - o_end <= 24
        if other is not None and near and abs(other - digit) <= 100_000:
            return (float(digit), start, end, kind)
    return item


_PRICE_CORRECTION = re.compile(
    r"\b(wait no|no wait|i mean|scratch that|sorry|correction|make that|or rather|rather|let me rephrase|"
    r"actually no|no actually|well actually|i meant|more like|no)\b"
)
# The qualifying questions other than the timeline, whose answers are never counted in tenths.
_QUALIFYING = frozenset({"intent", "motivation", "financing", "has_agent"})
_PRICE_BOUND = re.compile(
    r"\b(?:(?P<cap>under|below|less than|no more than|not more than|up to|at most|max(?:imum)?|tops|top|"
    r"no higher than|(?:nothing|not|none|no where|nowhere) (?:over|above|more than|higher than|past)|"
    r"cap(?:ped)? at|south of|(?:dont|do not|wont|not|never) (?:wanna |want to |going to |"
    r"gonna |)(?:go|going|spend|pay) (?:over|above|more than|past))|(?P<floor>at least|over|above|more than|"
    r"minimum|min|no less than|starting at|upwards of|north of))\s+(?:like\s+|about\s+|around\s+|maybe\s+)?"
    r"(?:a\s+)?$"
)


_REFUSED_BOUND = re.compile(
    r"\b(not interested in|dont want|do not want|wont (look at|pay|go)|not (looking at|paying|going)|"
    r"no way (we|i) (pay|go|spend)|cant (go|do|pay|spend)|cannot (go|do|pay|spend)|cant afford)\b(?: \w+)?(?: \w+)? $"
)
_PRICE_BOUND_AFTER = re.compile(
    r"\s*(?:dollars\s+)?(?:ish\s+|or so\s+)?(?:(?P<cap>tops|max|maximum|at most|or less|or under|at the most)|"
    r"(?P<floor>or more|plus|minimum|at least|or above|and up))\b"
)


_REFERENCE_BEFORE = re.compile(
    r"\b(neighbou?rs?|next door|down the (street|road|block)|across the street|comps?|comparables?|"
    r"(house|place|one|home)s? (on|next|across|down|around)|similar (ones?|homes?|houses?|places?))\b"
    r"(?: \w+){0,6} (got|went for|went|sold for|sold at|sold (hers|his|theirs|it|ours) for|sold|listed (at|for)|listed|"
    r"asked|asking|are going for)"
    r" (?:for |at )?(?:like |about |around |maybe |almost |over |just |only )?(?:a )?$"
    # "We saw one for eight twenty but that was a stretch": a home seen, not the range the lead wants.
    r"|\b(saw|seen|looked at|found|toured|liked|loved|fell for) (one|1|a house|a place|a home|a condo|a listing|"
    r"something)(?: \w+){0,4} (for|at|listed at|going for|priced at) (?:like |about |around |maybe )?$"
)
# What the lead paid, or still owes on the mortgage, explains the figure they give; it is not that figure.
_PAID_BEFORE = re.compile(
    r"\b(paid|bought (it|the house|the place|this place|ours|in)? ?(for|at)|purchased (it )?(for|at)|"
    # "We bought it in ninety eight for like a hundred and twenty".
    r"(bought|purchased|got) (it|the house|the place|this place|ours) (back )?in (\d+|\w+)( \w+)? (for|at)|"
    r"(still )?owed?|balance is|(zillow|zestimate|redfin|trulia|internet|online( \w+)?|website|app|assessor|"
    r"county|tax assessment|tax bill|assessment)s? "
    r"(says|said|has it at|has us at|has it|shows|gave|gives|valued it at)|"
    # A listing price that didn't sell, or what a lender would allow, beside the figure the lead means.
    r"listed (it )?(at|for)|had it (listed )?(at|for)|(pre ?approved|approved|qualified) (for|up to|to))"
    r" (?:like |about |around |only |just |maybe )?(?:a )?$"
)
_REFERENCE_AFTER = re.compile(
    r"\s*(?:is |was |s |thats )?(what (we|i) paid|(when|back when) (we|i) (bought|got) it|last year|back in|"
    r"(a few |some |\d+ )?years? ago|but (im|were|i am|we are|i|we) (not|dont|wont) (\w+ )?(spend|spending|pay|paying) "
    r"(that|all that|that much)|but (that|it) (was|is|s|would be) (a (bit of a )?stretch|too (much|high|rich)|out of "
    r"(our|my) (range|budget|league)))\b"
)


_LISTED_OR_ESTIMATED = re.compile(
    r"\b(listed|had it|approved|qualified|zillow|zestimate|redfin|trulia|online|website|app)\b"
)


def _paid_or_owed(num: str, start: int, end: int) -> bool:
    """Return whether the figure at num[start:end] is what the lead paid for the home or owes on it."""
    before = num[max(0, start - 80) : start]
    listed = _LISTED_OR_ESTIMATED.search(before)
    return not listed and bool(_PAID_BEFORE.search(before) or _REFERENCE_AFTER.match(num[end:]))


def _bare_digits_priced(
    num: str, found: list[tuple[float | None, int, int, str]]
) -> list[tuple[float | None, int, int, str]]:
    """Read "under five", "five to six" as a price when no other figure was said: hundreds of thousands from
    three up, millions below. "One" is too often "the new one" to count."""
    bare = [item for item in found if item[3] == "small" and re.fullmatch(r"[2-9]", num[item[1] : item[2]])]
    if not bare or any(value is not None for value, _, _, _ in found):
        return found
    return [(int(num[s:e]) * (1_000_000 if int(num[s:e]) < 3 else 100_000), s, e, k) for _, s, e, k in bare]


def _told_as_reference(num: str, start: int, end: int) -> bool:
    """Return whether the figure at num[start:end] is another home's price or the lead's past purchase price."""
    before = num[max(0, start - 80) : start]
    return bool(_REFERENCE_BEFORE.search(before) or _PAID_BEFORE.search(before) or _REFERENCE_AFTER.match(num[end:]))


def _scale_ranges(num: str, found: list[tuple[float | None, int, int, str]]) -> list[tuple[float, int, int]]:
    """Give "3 to 400000" and "1 to 1.5 million" the magnitude of the range's upper end."""
    out: list[tuple[float, int, int]] = []
    for i, (value, start, end, kind) in enumerate(found):
        nxt = found[i + 1] if i + 1 < len(found) else None
        joined = nxt is not None and re.fullmatch(r"\s*(to|and|or|through|dash|-)\s*", num[end : nxt[1]])
        fits = value is not None and nxt is not None and nxt[0] is not None and nxt[0] / 10 < value <= nxt[0]
        # A shorthand figure ("five fifty") is whole already: it may only grow into the upper end's millions.
        shrinks = kind == "colloquial" and value is not None and nxt is not None and value > (nxt[0] or 0) / 10
        rescale = kind in {"small", "hundreds", "colloquial", "k"} and not fits and not shrinks
        if nxt is not None and joined and nxt[0] and rescale:
            upper = nxt[0]
            raw = float(re.findall(r"\d+(?:\.\d+)?", num[start:end])[0])
            for scale in (1_000_000, 100_000, 10_000, 1_000):
                if upper / 10 < raw * scale <= upper:
                    value = raw * scale
                    break
        prev = out[-1] if out else None
        after = prev is not None and re.fullmatch(
            r"\s*(?:ish\s+)?(to|or|or maybe|maybe|through|dash|-)\s*", num[prev[2] : start]
        )
        if value is None and kind == "small" and prev is not None and after and prev[0] >= 1_000_000:
            # "1.4 million maybe 1.5": the second figure is in the first one's millions.
            raw = float(re.findall(r"\d+(?:\.\d+)?", num[start:end])[0])
            value = raw * 1_000_000 if prev[0] / 2 <= raw * 1_000_000 <= prev[0] * 2 else None
        elif value is None and kind == "small" and prev is not None and after and 100_000 <= prev[0] < 1_000_000:
            # "Three fifty to four", "four fifty maybe five": the second figure is in hundreds of thousands too.
            raw = float(re.findall(r"\d+(?:\.\d+)?", num[start:end])[0])
            value = raw * 100_000 if prev[0] < raw * 100_000 <= prev[0] * 2 else None
        if value:
            out.append((value, start, end))
    return out


_PREAPPROVED = re.compile(
    r"\b(pre ?approved|preapproved|pre ?approve|pre ?approval|preapproval|pre ?qualified|prequalified|"
    r"pre ?proved|already approved|got approved|approved for|have (a |our )?(loan|mortgage) lined up|"
    r"have financing|financing (is )?(set|ready|lined up|in place)|(approval|pre ?approval|commitment) letter|"
    r"got (the|a|our) letter|green ?light|(lender|bank|loan officer|credit union) (already )?"
    r"(approved|cleared|okayed|ok d|signed off on) (us|me)|qualified for)\b"
)
# A loan named beside cash: "half cash half loan", "cash from the sale plus a mortgage" still needs the loan.
_LOAN_TOO = re.compile(r"\b(loan|mortgage|morgage|mortage|financ\w*)\b")
_CASH = re.compile(
    r"\b(all cash|paying cash|pay cash|cash buyer|in cash|with cash|cash purchase|paying in full|"
    # "We're paying outright", "no mortgage needed, we've got the money": cash, said without the word.
    r"(pay|paying|pays|buy|buying|buy it|paid) (for it )?out ?right|no (mortgage|loan|financing) (needed|necessary)|"
    r"(dont|wont|do not|will not) (need|be needing) (a |any )?(mortgage|loan|financing))\b"
)
_NEEDS_FINANCING = re.compile(
    r"\b(need (a |to get a |to get )?(loan|mortgage|morgage|mortage|financing|lender)|"
    r"(be|been|probably|were|well|we will|gonna be|going to be) financ(e|ing)( it)?|"
    r"(have|has|need|needs|gotta|got) to (finance|borrow)|"
    r"waiting (to hear back|on (the |our |a )?(approval|lender|bank|pre ?approval|loan))|"
    r"(apply|applying) for (a |the )?(loan|mortgage)|"
    r"(get|getting|take out|taking out) (a )?(loan|mortgage|morgage|mortage)|"
    r"talk(ing|ed)? to a (lender|bank|loan officer)|"
    r"working on (it|financing|getting|(the |our |a )?(loan|mortgage|pre ?approval))|havent (talked|been|gotten|got)|"
    r"(plus|and) (a |the )?(loan|mortgage|morgage|mortage)|"
    r"getting pre ?approved|get pre ?approved|not (yet )?pre ?approved|still need to)\b"
)


# "Cash out the equity" is a reason to sell; "pay cash out of the sale" is still cash.
_CASH_OUT = re.compile(r"\bcash(ing)? out\b(?! of)")


def _needs_financing(u: Utterance) -> re.Match[str] | None:
    needs = _NEEDS_FINANCING.search(u.text)
    approved = _PREAPPROVED.search(u.text)
    if needs and needs.group(0).startswith(("plus", "and")) and approved and not u.negated(approved.start()):
        return None  # "pre-approved, and a loan officer lined up": the loan is the approved one
    if needs and needs.group(0).startswith("talk") and approved and not u.negated(approved.start()):
        return None  # "talked to a lender and got the letter": the talk is how they were approved
    return needs


# "We haven't done the actual pre approval thing yet", "we will be pre approved soon": an approval still to come.
_NO_THEN_CASH = re.compile(r"\W*(no|nope|nah)\s*[,.!;]+\s*(\w+\s+){0,3}cash\b")
_APPROVAL_TO_COME = re.compile(
    r"\b(havent|have not|hasnt|didnt|not yet|still need to|still have to|need to|gotta|will be|going to|gonna|"
    r"about to|planning to|working on|could|would|should|might)\b(?: \w+){0,4} (pre ?)?approv\w*"
)


def _financing(u: Utterance, result: Understanding, *, pending: str | None, now: dt.datetime) -> None:
    head, mark, rest = u.raw.rpartition("?")
    if pending == "financing" and mark and head.strip() and rest.strip():
        # "What do you mean pre approved? Like for a loan? No, we gotta get one": the lead asked, then answered.
        tail = Utterance(rest)
        answered = Understanding(text=tail.text, answer=yes_no(tail.text))
        _financing(tail, answered, pending=pending, now=now)
        if "financing" in answered.slots:
            result.slots["financing"] = answered.slots["financing"]
            return
    text = u.text
    cash = _CASH.search(text) or (re.search(r"\bcash\b", text) if pending == "financing" else None)
    if cash and u.negated(cash.start()) and _NO_THEN_CASH.match(u.raw):
        # "No, cash": the no answers "pre-approved?"; the cash is how they pay.
        _put(result, "financing", "cash", cash.group(0))
        return
    loan = _LOAN_TOO.search(text)
    if cash and loan and not u.negated(loan.start()) and not u.negated(cash.start()) and not _PREAPPROVED.search(text):
        _put(result, "financing", "needs_financing", _widen(text, min(cash.start(), loan.start()), loan.end()))
    elif (m := cash) and not _CASH_OUT.search(text) and not u.negated(m.start()):
        # Asked "pre-approved or paying cash?", a bare "cash" is the answer.
        _put(result, "financing", "cash", m.group(0))
    elif (m := _needs_financing(u)) or (
        (m := _PREAPPROVED.search(text)) and (u.negated(m.start()) or _APPROVAL_TO_COME.search(text))
    ):
        _put(result, "financing", "needs_financing", _widen(text, m.start(), m.end()))
    elif m := _PREAPPROVED.search(text):
        _put(result, "financing", "preapproved", m.group(0))
    elif pending == "financing" and result.answer is not None:
        _put(result, "financing", "preapproved" if result.answer else "needs_financing", _answer_words(text))


_MOTIVATION = {
    "relocation": r"transfer\w*|new job|"
    r"(?<!lost my )(?<!lost his )(?<!lost her )(?<!lost our )job (in|out|offer)|"
    r"for (my|our|his|her|the) (wifes |husbands |partners )?"
    r"(new )?(job|work)|"
    r"moving ((down|up|over|back|out) )?(to|out of|for work|across|back)|"
    # "I retire in the spring and go back to my country".
    r"(go|going|head|heading|get|getting|move|off) back (to|home)\b|"
    r"closer to (the |my |our )?(work|family|kids|grandkids|grandchildren|daughter|son|parents|mom|dad|job)|"
    r"closer to (my|our)|(work|job|company|employer) (is )?(moving|transferring|relocating)|moving (me|us)|"
    r"(be|live|living|move|moving|get|stay)( (up|down|over|back|out))? (near|nearer|closer to|next to) "
    r"(my|our|her|his|the|their) "
    r"(family|kids|sister|brother|mom|mother|dad|father|parents|daughter|son|grandkids|grandchildren|in laws)|"
    r"got a job|move (out )?near the (coast|beach|mountains|lake|water)|"
    # Selling here to buy in another town: "we gotta sell here and buy up in sacramento".
    r"(sell|selling) (\w+ ){0,3}(and|then|to) (buy|buying|move|moving|get something) (up|down|over|out|back) "
    r"(in|to|near) (?!the (suburbs|city|country)\b)\w+|"
    # A seller who has bought their next home elsewhere: "we already bought a place in scottsdale".
    r"(already|just|we|i|weve|ive) (already |just )?(bought|found|closed on) ((a |our )?(new )?"
    r"(place|house|home|condo|townhouse|ranch|cabin) )?(out |up |down |over )?"
    r"in (?!\d|the (nineties|eighties|seventies)\b)\w+|"
    # "The closing on our new place in phoenix is in january": the next home, elsewhere.
    r"(our|my|the) new (place|house|home|condo|townhouse|job) (out |up |down |over )?in (?!\d)"
    r"(?!(the|a|an|a few|two|three|next|this|january|february|march|april|may|june|july|august|september|october|"
    r"november|december|spring|summer|fall|autumn|winter)\b)\w+",
    "downsizing": r"empty nest\w*|kids (moved out|left|are gone)|smaller (place|house|home)|"
    r"too big|something smaller|(big|huge|large) (house|place|home) (and )?into (a|an|something) \w+|"
    r"into (a |an )?(condo|townhouse|townhome|apartment|one story|single story)|"
    r"(im|were|we are|i am|we|i|just|getting|about to|both|finally|husband|wife) "
    r"(\w+ )?retir\w*|"
    r"retirement|too much house|"
    # "Can't do the yard work no more at my age": upkeep the body can no longer manage.
    r"yard ?work|at (my|our) age|(?<!she )(?<!he )(?<!they )(cant|can not|cannot|couldnt) "
    r"(keep up with|manage|handle|do) (the |all the )?"
    r"(yard|stairs|house|upkeep|maintenance|garden)|too much (to keep up|upkeep|to maintain|maintenance)",
    "growing_family": r"kids are (growing|getting bigger)|another (kid|baby)|growing family|"
    # "We're outgrowing it, we need more bedrooms": rooms to sleep in are for people.
    r"(need|needs|needing) (more|another|an extra|extra) bedrooms?|"
    r"(kid|child|baby|one|twins|little one) on the way|"
    r"(were|im|we are|i am|shes|she is|wifes|my wife is|girlfriends|my girlfriend is) due (in|this|next|any|around|on)|"
    r"(second|third|fourth|fifth|2nd|3rd|4th) (kid|child|baby)s?|"
    r"twins|"
    r"family(s| is) (getting bigger|growing)|expecting|(one|another) more (one |baby |kid )?(is )?coming|"
    r"(twins|kid|child) (is |are )?coming|(my|our|his|her) (mom|dad|mother|father|parents|mother in law|"
    r"father in law|in laws)s? (is |are )?moving in|another bedroom|more (room|space) for (the )?kids|"
    r"(moving|move|coming to live|gonna live|going to live|come live) (in )?with us|"
    r"outgr[eo]w\w* .{0,30}\b(kids|children|family)|(kids|children|family) .{0,30}\boutgr[eo]w\w*",
    # "We're keeping our condo as a rental and want something bigger": the home they leave, not the one they buy.
    # "We're in a rental, month to month" is where the lead lives now, not what they buy.
    "investment": r"(?<!as a )(?<!into a )(?<!live in a )(?<!living in a )(?<!were in a )(?<!im in a )"
    r"(?<!staying in a )(?<!still in a )(?<!currently in a )(?<!now in a )(?<!stuck in a )rental|"
    r"rent (it |them |that |this |one |those |the (place|house|home|unit|units|condo|other one) )?out|flip|"
    r"park (some |our |my )?money|cash flow|cashflow|"
    r"passive income|in vestment|cap rates?|rental income|1031|ten thirty one exchange|return on (my|our|the) money",
    # "You're breaking up" is the phone line, not the marriage.
    "financial": r"splitting up|separat(ed|ing)|laid off|lost (my|his|her|our) jobs?|"
    r"(im|were|hes|shes|been|is|are) out of work|"
    r"(?<!youre )(?<!your )(?<!you are )(?<!its )(?<!is )(?<!bit )(?<!kinda )(?<!of )(?<!keep )(?<!really )breaking up|"
    r"money (thing|reasons?|is tight|s tight|issues?|problems?|troubles?)|cost of living|"
    # "Rates are crazy" is the market; "our rate went up" is the lead's own bill.
    r"(hoa|fees|taxes|insurance|bills|(our|my) (rate|rates)) (are|is|went|keep|have|has|just) (\w+ )?"
    r"(killing|eating|up|crazy|through the roof|too high|too much|insane|doubled|tripled)|"
    r"afford the|payments|financial|cut (back|our costs)|save (money|some money)|"
    r"(somewhere|something|someplace|place|area) less expensive|"
    r"need (the |some )?(cash|money)|cash(ing)? out(?! of)|equity|behind on|"
    r"(cant|couldnt|struggling to) (keep up|make) "
    r"(with )?(the )?(mortgage|payments|payment)|keep up with the (mortgage|payments)",
    "upgrade": r"siz(e|ing) up|outgr[eo]w\w*|nicer|better (neighborhood|schools|area)|"
    r"school district|bigger yard|pool|"
    r"(a )?yard(?! ?work)|bigger (place|house|home)|more (room|space)|need space|somewhere bigger|"
    r"something (newer|nicer|bigger)|"
    r"falling apart|outdated|fixer|too small( now)?( for us)?|"
    r"(place|house|home|apartment|condo|townhouse) is (getting |way |much )?(too|so) small",
    "first_home": r"(tired|sick) of (paying )?(rent|renting)|throwing (money|it) away on rent|"
    r"stop renting|done renting|our lease|my lease|renting now|"
    r"always rented|never owned|(our|my) own (place|home|house)",
    "estate": r"passed away|(?<!real )(?<!real)estate|(my|our|his|her) (late )?"
    r"(parents|moms|dads|mothers|fathers|grandmas|grandpas|grandparents|aunts|uncles) (old )?(house|home|place)",
    "curious": r"curious|just (kind of |kinda |sort of )?(looking|browsing)|testing the waters|"
    r"(see|seeing|know|knowing|find out|finding out|check|checking) what "
    r"(its|it is|ours is|(my|our) (house|home|place) is|the (house|home|place) is) worth|"
    r"just wondering|whats out there|just looking|just browsing",
    # "I'm moving in with my partner": two households becoming one, a reason of its own.
    "other": r"mov(e|ing) in (together|with (my|our|her|his) (partner|boyfriend|girlfriend|fiance|fiancee|"
    r"significant other))",
}
_MOTIVATION_RE = {
    k: re.compile(rf"\b({_NAMED_REASON_WORDS[k] + '|' if k in _NAMED_REASON_WORDS else ''}{v})\b")
    for k, v in _MOTIVATION.items()
}
_CONTENT_STOP = _FILLERS | {"i", "we", "the", "a", "to", "it", "is", "its", "just", "yeah", "yes", "no", "you", "know"}


def _motivation(u: Utterance, result: Understanding, *, pending: str | None, now: dt.datetime) -> None:
    text = u.text
    for category, pattern in _MOTIVATION_RE.items():
        m = pattern.search(text)
        if m and not u.negated(m.start(), window=2):
            _put(result, "motivation", category, _widen(text, m.start(), m.end()))
            return
    content = [w for w in u.words if w not in _CONTENT_STOP]
    unsure = re.search(r"\b(no reason|nothing really)\b", text) or UNSURE.search(text)
    # "I'm working, call me back", "you're breaking up": the turn is about the call, not the reason for the move.
    about_the_call = result.opt_out or set(result.acts) & _ABOUT_THE_TURN
    # "Maybe four fifty" to "why are you moving?" answers another question, one the readers may not place.
    figures = re.search(r"\d\.\d|\d{3,}", u.num_text) or _MONEY_WORDS.search(u.num_text)
    answered = not result.question and not result.slots and not unsure and not figures and not about_the_call
    if pending == "motivation" and result.answer is None and len(content) >= 2 and answered:
        _put(result, "motivation", "other", text)


_AGENT_WORDS = r"(an |a |our |my )?(own )?(agent|realtor|broker|real estate agent|realtor already|agent already)"
_HAS_AGENT = re.compile(
    rf"\b(i|we) (already )?(have|got|ve got|are working with|re working with|m working with|work with|use|signed with)"
    rf" {_AGENT_WORDS}\b"
    r"|\balready (have|got|working with|signed with) (an |a )?(agent|realtor|broker)\b"
    # "My dad's a broker", "my brother in law is a licensed agent": family who do it for a living.
    r"|\bmy (sister|brother|cousin|friend|best friend|buddy|wife|husband|son|daughter|uncle|aunt|mom|dad|neighbor|"
    r"mother|father|niece|nephew|grandson|granddaughter|partner|fiance|fiancee|boyfriend|girlfriend|boss)( in law)?"
    r"(s| is| was) (an |a )?(licensed |real estate )?(agent|realtor|realter|broker)\b"
    # "My grandson does real estate", "my daughter's in real estate, she'll handle it".
    r"|\bmy (sister|brother|cousin|friend|best friend|buddy|wife|husband|son|daughter|uncle|aunt|mom|dad|neighbor|"
    r"mother|father|niece|nephew|grandson|granddaughter|partner|fiance|fiancee|boyfriend|girlfriend)( in law)?"
    r"(s| is| was)? (does|do|did|is in|works in|sells|selling) real estate\b"
    # "We're doing it through redfin": a brokerage by name is an agent.
    r"|\b(through|with|using|via|signed with|listed with) (redfin|compass|keller williams|kw|remax|re max|century 21|"
    r"coldwell banker|berkshire hathaway|sothebys|exp realty|a brokerage|a discount broker)\b"
    r"|\b(going|gonna go|sticking|staying|stick|stay|go) with (the|our|my|an|a) (own )?(agent|realtor|broker|guy|gal|"
    r"lady) (who|that|we|i|from)\b"
    # "We're listed at five ninety nine" says at what, not with whom.
    r"|\b(its|were|we are|it is) (already )?listed\b(?! (at|for|on|since|in)\b)|\bwe have someone\b"
    r"|\b(im|i am) (actually |also )?(a |an )?(licensed )?(agent|realtor|broker)( myself)?\b|\bloyal to (my|our)\b"
    r"|\b(my|our) (agent|realtor|broker) (is|has|handles|says|said|will)\b"
    r"|\b(already )?(listed|signed) with\b|\balready (have|got) (someone|somebody|a listing agent|a guy)\b"
    r"|\b(i|we) (have|got) a (guy|gal|lady|person) for (that|this|it)\b"
)
_NO_AGENT = re.compile(
    r"\b(no|dont have an?|not working with an?|without an?) (agent|realtor|broker)\b"
    # "We're already listed, we're doing it ourselves, for sale by owner": listed, by nobody's agent.
    r"|\b(doing|do|selling|sell|listing|list|listed|listed it|sold) (it |the house |the home |our house |the place )?"
    r"(ourselves|myself|on (our|my) own|by ourselves|by myself)\b|\b(for (sale|sell) )?by owner\b|\bfsbo\b"
    r"|\bnot working with (anyone|anybody|someone)\b|\bno one yet\b|\bnobody yet\b|\bhavent (picked|chosen|found)\b"
    r"|\b(never|not ever|havent ever) (had|used|hired|needed) (one|an agent|a realtor|a broker)\b"
    # "Talking to a few but haven't signed with anybody": shopping for an agent is having none.
    r"|\b(havent|have not|didnt|did not|not) (signed|gone|committed|hired) (with |on with )?(anyone|anybody|any|one|"
    r"an agent|a realtor|nobody)\b|\b(interviewing|shopping for|looking for|talking to a few|talked to a few) "
    r"(agents|realtors|brokers|a few)\b"
    r"|\b(fired|dropped|let go of|stopped (working with|using)|quit (working with|using)|parted ways with) "
    r"(our|my|the|him|her|them)\b"
    r"|\b(agent|realtor|realter|broker) (retired|quit|passed away|moved away)\b(?! (calling|phoning|ringing|bothering))"
    r"|\b(done|finished|through) with (my|our|the|that) (old |last |previous )?(agent|realtor|realter|broker)\b"
    # "My dad's a realtor but he's retired and lives in florida": family in the trade who won't be doing it.
    r"|\b(hes|shes|theyre|he is|she is|they are) (\w+ )?(retired|not licensed|not active|out of state|not local)\b"
    r"|\bretired (agent|realtor|realter|broker)\b"
    r"|\bdont have (one|anyone|anybody|nobody)( anymore| now| yet)?\b"
    # "We had a realtor, it lapsed in october": an agreement that ended binds nobody.
    r"|\b(contract|listing|agreement|it|that) (has |had |just )?(lapsed|expired|ran out|ended)\b"
    # "My cousin's a realtor but I'm not using her": someone they know, not someone they work with.
    r"|\b(not|never|wont be|arent|werent) (using|working with|going with|hiring) (him|her|them|that \w+|my \w+)\b"
)


def _agent(u: Utterance, result: Understanding, *, pending: str | None) -> None:
    text = u.text
    if m := _NO_AGENT.search(text):
        _put(result, "has_agent", False, m.group(0))
    elif (m := _HAS_AGENT.search(text)) and not u.negated(m.start(), window=1):
        _put(result, "has_agent", True, m.group(0))
    elif (
        pending == "has_agent"
        and result.answer is not None
        and not _ACKNOWLEDGES.match(text)
        and not UNSURE.search(text)
    ):
        _put(result, "has_agent", result.answer, _answer_words(text))


# "Oh ok, I'd guess around six hundred" or "great, thank you, bye" acknowledges what was said; it says nothing
# of an agent of their own.
_ACKNOWLEDGES = re.compile(
    r"^((oh|um|uh|well|huh|hm|hmm|ah) )*(ok|okay|alright|all right|fine|i see|got it|gotcha|great|perfect|cool|"
    r"sounds good|thanks|thank you)\b"
)


_STREET = (
    r"street|st|avenue|ave|road|rd|drive|dr|lane|ln|court|ct|boulevard|blvd|way|place|pl|circle|cir|terrace|"
    r"parkway|pkwy|highway|hwy|trail|loop|square|sq|alley|row|crescent"
)
_ADDRESS = re.compile(
    rf"\b(\d{{1,6}}) ((?:[a-z0-9]+ ){{0,3}}?)({_STREET})\b(?! (?:feet|foot|ft|footage|meters))"
    r"(?: (?:apartment|apt|unit|number) (\w+))?"
)


# Words no street is named with: "baby number three's on the way" names no street called "On The Way".
_NOT_STREET_NAMES = frozenset(
    {"on", "in", "the", "a", "an", "to", "by", "for", "of", "at", "and", "or", "is", "its", "was", "my", "our",
     "your", "this", "that", "from", "with", "more", "years", "months", "weeks", "days", "kids", "bedrooms", "but",
     "thats", "if", "so", "way", "too", "it", "we", "i", "im", "were", "be", "all", "just", "like"}
)  # fmt: skip


def parse_address(u: Utterance) -> tuple[str, str] | None:
    """Return (address as written, the lead's words) for "forty two maple avenue" and the like."""
    m = next((m for m in _ADDRESS.finditer(u.num_text) if not set(m.group(2).split()) & _NOT_STREET_NAMES), None)
    if not m:
        return None
    words = f"{m.group(1)} {m.group(2)}{m.group(3)}"
    address = " ".join(w.capitalize() for w in words.split())
    if m.group(4):
        address += f" Apt {m.group(4).upper()}"
    return address, u.quote_num(m.start(), m.end())


def _address(u: Utterance, result: Understanding, *, pending: str | None, address_on_file: str) -> None:
    found = parse_address(u)
    if found is not None:
        address, evidence = found
        confirmed = bool(address_on_file) and _same_address(address, address_on_file)
        _put(result, "address", {"address": address, "confirmed": confirmed, "corrected": not confirmed}, evidence)
    elif pending == "address" and result.answer is True and address_on_file:
        _put(
            result,
            "address",
            {"address": address_on_file, "confirmed": True, "corrected": False},
            _answer_words(u.text),
        )


def _same_address(a: str, b: str) -> bool:
    return Utterance(a).num_text.split()[:2] == Utterance(b).num_text.split()[:2]


def _widen(text: str, start: int, end: int, *, words: int = 2) -> str:
    """Return the match plus a couple of words either side, so the evidence reads as a phrase."""
    before = text[:start].split()[-words:]
    after = text[end:].split()[:words]
    return " ".join([*before, text[start:end].strip(), *after]).strip()


def _answer_words(text: str) -> str:
    words = text.split()
    return " ".join(words[:6])


# --- email addresses -------------------------------------------------------------------------------------------------

_SPOKEN_EMAIL = re.compile(r"((?:[a-z0-9]+ ){0,16}[a-z0-9]+) at ([a-z0-9]+(?: dot [a-z]+)+)\b")
_EMAIL_JOINERS = {"dot": ".", "underscore": "_", "dash": "-"}
_EMAIL_LEADIN = frozenset(
    {"its", "is", "my", "email", "address", "me", "sure", "yeah", "yes", "at", "it", "send", "to", "thats", "use"}
)


def _email_local(words: list[str]) -> list[str]:
    """Return the words spelling the part before "at": "its j dot parker 88" -> j dot parker 88.

    Read back from "at": spelled parts are joined by dot, underscore or dash, and at most two plain
    words run together ("john smith"); a lead-in word ("its", "email") or a third plain word ends it.
    """
    out: list[str] = []
    run = 0
    spelling = False
    for word in reversed(words):
        if word in _EMAIL_JOINERS:
            out.append(word)
            run, spelling = 0, False
            continue
        # "J a n e o r t i z": a name spelled letter by letter is one word.
        letter = len(word) == 1 and word.isalpha()
        spelled_out = spelling and sum(1 for w in out[-3:] if len(w) == 1) >= 3
        if word in _EMAIL_LEADIN or word in _FILLERS or (run >= 2 and not (letter and spelling)):
            break
        if spelled_out and not letter:
            break  # "Jane Ortiz, j a n e o r t i z": the spelling is the address, the name before it was said.
        out.append(word)
        run += not (letter and spelling)
        spelling = letter
    while out and out[-1] in _EMAIL_JOINERS:
        out.pop()
    return out[::-1]


def parse_email(text: str) -> str | None:
    """Return the address in "john dot smith at gmail dot com" or "john@gmail.com", if it is valid."""
    direct = re.search(r"[a-z0-9._+-]+@[a-z0-9-]+(\.[a-z0-9-]+)+", text)
    if direct:
        candidate = direct.group(0)
    else:
        m = _SPOKEN_EMAIL.search(text)
        if not m:
            return None
        local = "".join(_EMAIL_JOINERS.get(w, w) for w in _email_local(m.group(1).split()))
        if not local:
            return None
        candidate = f"{local}@{m.group(2).replace(' dot ', '.')}"
    try:
        validate_email(candidate)
    except ValidationError:
        return None
    return candidate


# --- checking what an LLM extracted ----------------------------------------------------------------------------------


def slot_from_llm(item: dict[str, Any], *, utterance: str, now: dt.datetime) -> Slot | None:
    """Return the LLM's slot if it holds up, else None.

    It holds up when its evidence is a quote of what the lead said in that
    utterance and its value is a valid value for the slot that the evidence
    supports (a price needs a number in the evidence, an address its house number).
    """
    name, value, evidence = str(item.get("name", "")), str(item.get("value", "")).strip(), str(item.get("evidence", ""))
    if name not in SLOT_NAMES or not value or not quote_in(evidence, [utterance]):
        return None
    # A small model quotes the whole answer as evidence for anything; the quote must at least be about the slot.
    if not _LLM_CUES[name].search(Utterance(evidence).num_text):
        return None
    parsed = _llm_value(name, value.lower(), Utterance(evidence), now)
    if parsed is None:
        return None
    return Slot(name=name, value=parsed, evidence=Utterance(evidence).text, source="llm")


_LLM_CUES = {
    "intent": re.compile(r"\b(buy|sell|purchas|list|market|move|moving|get|find|looking|house|home|place|condo|both)"),
    "timeline": re.compile(
        r"\d|\b(month|year|week|spring|summer|fall|autumn|winter|soon|now|later|school|holiday|christmas|after|before|"
        r"by|until|when|asap|january|february|march|april|may|june|july|august|september|october|november|december)"
    ),
    "motivation": re.compile(r"\w{3,}"),
    "price": re.compile(r"\d|half|million|grand|thousand"),
    "financing": re.compile(r"\b(loan|mortgage|lender|bank|cash|approv|financ|qualif|credit|pay)"),
    "has_agent": re.compile(r"\b(agent|realtor|broker|someone|somebody|anyone|anybody|nobody|no one|does that|in law)"),
    "address": re.compile(r"\d"),
}


def _llm_value(name: str, value: str, evidence: Utterance, now: dt.datetime) -> Any:
    if name == "intent":
        return value if value in {"buy", "sell", "both"} else None
    if name == "financing":
        return value if value in FINANCING else None
    if name == "motivation":
        return value if value in MOTIVATIONS else "other"
    if name == "has_agent":
        return {"yes": True, "true": True, "no": False, "false": False}.get(value)
    if name == "timeline":
        slot = understand(value, pending="timeline", now=now).slots.get("timeline")
        return slot.value if slot is not None else None
    if name == "price":
        slot = understand(value, pending="price", now=now).slots.get("price")
        grounded = re.search(r"\d|half|million|grand|thousand", evidence.num_text)
        return slot.value if slot is not None and grounded else None
    found = parse_address(Utterance(value))
    if found is None or found[0].split()[0] not in evidence.num_text.split():
        return None
    return {"address": found[0], "confirmed": False, "corrected": True}


_SLOT_READERS = {
    "intent": _intent, "timeline": _timeline, "price": _price, "financing": _financing, "motivation": _motivation,
}  # fmt: skip
