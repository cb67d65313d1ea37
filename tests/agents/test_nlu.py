"""Deterministic understanding of speech-to-text style input."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agents.nlu import parse_email, slot_from_llm, understand, yes_no
from agents.text import Utterance, quote_in

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles"))


def _u(text: str, pending: str | None = None, stage: str = "qualifying", address: str = "12 Oak Street") -> Any:
    return understand(text, pending=pending, stage=stage, now=NOW, address_on_file=address)


@pytest.mark.parametrize(
    "text",
    [
        "stop calling me",
        "please take me off your list",
        "dont ever call this number again",
        "remove my number",
        "put me on the do not call list",
        "im on the do not call list",
        "unsubscribe",
        "lose my number",
        "quit bothering me",
        "uh just leave me alone",
        "not interested stop calling",
        "we have an agent were not interested please do not call",
    ],
)
def test_it_hears_every_way_of_asking_to_stop(text: str) -> None:
    assert _u(text).opt_out is True


@pytest.mark.parametrize(
    "text", ["dont call me before noon", "can you stop by the house", "we stopped looking at listings", "call me back"]
)
def test_it_does_not_mistake_these_for_an_opt_out(text: str) -> None:
    assert _u(text).opt_out is False


@pytest.mark.parametrize(
    ("text", "objection"),
    [
        ("not interested", "not_interested"),
        ("nah were not planning to move", "not_interested"),
        ("how did you get my number", "how_got_number"),
        ("wait where did you get my info", "how_got_number"),
        ("your commission is too high", "commission"),
        ("we already have an agent", "has_agent"),
        ("my sister is a realtor", "has_agent"),
        ("call me later", "call_later"),
        ("im driving right now", "call_later"),
        ("just email me", "email_me"),
        ("can you send me some info", "email_me"),
        ("i dont talk to bots", "not_interested"),
        ("sorry i dont deal with robots", "not_interested"),
    ],
)
def test_it_recognises_each_objection(text: str, objection: str) -> None:
    assert objection in _u(text).objections


@pytest.mark.parametrize("text", ["get lost and dont call back", "never call me back", "do not call back here"])
def test_a_refused_call_back_is_no_request_for_one(text: str) -> None:
    assert "call_later" not in _u(text).objections


def test_a_plain_no_to_the_opening_question_is_a_no_and_not_yet_a_call_later() -> None:
    # Whether "no" means later is the conversation's call (agents.graph), not what the lead said.
    u = _u("nope", pending="permission", stage="opening")

    assert (u.answer, u.objections) == (False, [])


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("is that like in person or over the phone", True),
        ("would they come to the house or is it a zoom", True),
        ("tuesday at two on the phone is fine", False),
    ],
)
def test_it_hears_a_question_about_how_the_meeting_happens(text: str, asks: bool) -> None:
    assert ("ask_meeting_format" in _u(text, pending="which_slot", stage="scheduling").acts) is asks


@pytest.mark.parametrize("text", ["we're gonna sell", "selling right away, we already bought our next place"])
def test_naming_the_side_taken_is_no_refusal(text: str) -> None:
    u = _u(text, pending="intent")

    assert (u.slots["intent"].value, u.objections) == ("sell", [])


@pytest.mark.parametrize("text", ["we're not selling", "no im not selling never was"])
def test_a_denied_side_fills_no_intent(text: str) -> None:
    assert "intent" not in _u(text, pending="intent").slots


@pytest.mark.parametrize(
    "text",
    [
        "is this a robot",
        "am i talking to a real person",
        "are you a real person",
        "is this automated",
        "are you ai",
        # Hedged, as a statement, or as a request for a person.
        "um are you like some kind of chatbot",
        "thats a recorded message isnt it",
        "are you even alive",
        "could i speak with an actual human",
    ],
)
def test_it_hears_the_robot_question(text: str) -> None:
    assert _u(text).asks == ["robot"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yeah", True),
        ("um yep", True),
        ("uh huh", True),
        ("correct", True),
        ("sure thing", True),
        ("nope", False),
        ("nah", False),
        ("not yet", False),
        ("uh no", False),
        ("maybe", None),
        ("i have no idea", None),
    ],
)
def test_it_reads_yes_and_no_after_fillers(text: str, expected: bool | None) -> None:
    assert yes_no(text) is expected


@pytest.mark.parametrize(
    ("text", "pending", "slot", "value", "evidence"),
    [
        ("were thinking about selling", None, "intent", "sell", "selling"),
        ("we want to by a house", None, "intent", "buy", "by a house"),
        ("both", "intent", "intent", "both", "both"),
        ("sell our place and buy something smaller", None, "intent", "both", "sell our place and buy"),
        ("were not selling were buying", None, "intent", "buy", "buying"),
        ("in like three months", None, "timeline", 3, "three months"),
        ("a year or two", None, "timeline", 18, "a year or two"),
        ("in the spring", None, "timeline", 4, "in the spring"),
        ("asap", None, "timeline", 1, "asap"),
        ("not sure", "timeline", "timeline", "unsure", "not sure"),
        ("maybe six fifty", "price", "price", {"min": 650000, "max": 650000}, "six fifty"),
        ("half a million", None, "price", {"min": 500000, "max": 500000}, "half a million"),
        ("between four and five hundred thousand", None, "price", {"min": 400000, "max": 500000}, None),
        ("one point two million", None, "price", {"min": 1200000, "max": 1200000}, "one point two million"),
        ("$450,000", None, "price", {"min": 450000, "max": 450000}, "450000 dollars"),
        ("under a million like seven to nine hundred k", "price", "price", {"min": 700000, "max": 900000}, None),
        ("over five hundred maybe five fifty to six hundred", "price", "price", {"min": 550000, "max": 600000}, None),
        ("we got pre approved", None, "financing", "preapproved", "pre approved"),
        ("pre approve", None, "financing", "preapproved", "pre approve"),
        ("were paying cash", None, "financing", "cash", "paying cash"),
        ("not pre approved yet", None, "financing", "needs_financing", None),
        ("yeah", "financing", "financing", "preapproved", "yeah"),
        ("my job is transferring me to austin", None, "motivation", "relocation", None),
        ("we have a baby on the way", None, "motivation", "growing_family", None),
        ("the kids moved out", None, "motivation", "downsizing", None),
        ("just curious what its worth", None, "motivation", "curious", None),
        ("nope", "has_agent", "has_agent", False, "nope"),
        ("we dont have an agent", None, "has_agent", False, "dont have an agent"),
        (
            "yeah thats right",
            "address",
            "address",
            {"address": "12 Oak Street", "confirmed": True, "corrected": False},
            "yeah thats right",
        ),
        (
            "no its forty two maple avenue",
            "address",
            "address",
            {"address": "42 Maple Avenue", "confirmed": False, "corrected": True},
            "forty two maple avenue",
        ),
    ],
)
def test_it_extracts_slots_with_the_leads_own_words(
    text: str, pending: str | None, slot: str, value: Any, evidence: str | None
) -> None:
    found = _u(text, pending).slots[slot]

    assert found.value == value
    assert quote_in(found.evidence, [text])
    if evidence is not None:
        assert found.evidence == evidence


def test_it_takes_an_answer_to_a_different_question_than_the_one_asked() -> None:
    result = _u("well were pre approved for about five hundred k", pending="timeline")

    assert set(result.slots) == {"financing", "price"}
    assert "timeline" not in result.slots


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("weve lived here for twenty years", "timeline"),
        ("three kids and a dog", None),
        ("four bedrooms", None),
        ("yeah", None),
    ],
)
def test_it_does_not_invent_slots(text: str, pending: str | None) -> None:
    assert _u(text, pending).slots == {}


@pytest.mark.parametrize(
    ("spoken", "email"),
    [
        ("its john dot smith at gmail dot com", "john.smith@gmail.com"),
        ("sure jane doe at yahoo dot com", "janedoe@yahoo.com"),
        ("send it to mike@example.org", "mike@example.org"),
        ("its at gmail", None),
    ],
)
def test_it_reads_a_spoken_email_address(spoken: str, email: str | None) -> None:
    assert parse_email(spoken) == email


def test_it_maps_every_digit_back_to_the_words_the_lead_said() -> None:
    u = Utterance("uh about four hundred fifty thousand maybe")
    start = u.num_text.index("450000")

    assert u.num_text == "uh about 450000 maybe"
    assert u.quote_num(start, start + 6) == "four hundred fifty thousand"


@pytest.mark.parametrize(
    ("item", "kept"),
    [
        ({"name": "timeline", "value": "6 months", "evidence": "after the kids finish school"}, True),
        ({"name": "timeline", "value": "6 months", "evidence": "by june"}, False),
        ({"name": "has_agent", "value": "no", "evidence": "after the kids finish school"}, False),
        ({"name": "intent", "value": "rent", "evidence": "after the kids finish school"}, False),
        ({"name": "price", "value": "500000", "evidence": "after the kids finish school"}, False),
        ({"name": "made_up", "value": "x", "evidence": "after"}, False),
    ],
)
def test_it_keeps_an_llm_slot_only_when_the_leads_words_support_it(item: dict[str, str], kept: bool) -> None:
    slot = slot_from_llm(item, utterance="uh after the kids finish school", now=NOW)

    assert (slot is not None) is kept
    if slot is not None:
        assert slot.source == "llm"


@pytest.mark.parametrize(
    "text",
    [
        "Could someone come and look at it next week?",
        "Hit someone come and look at it next week.",  # Whisper lost "Could" on the phone line
        "Can an agent stop by on Saturday?",
        "I'd like someone to come out and see the place.",
    ],
)
def test_it_hears_a_request_for_a_visit(text: str) -> None:
    assert _u(text).wants_meeting


@pytest.mark.parametrize(
    "text", ["seriously this is the last call i want", "id appreciate it if this was the last call i get from you guys"]
)
def test_the_last_call_is_an_opt_out(text: str) -> None:
    assert _u(text, pending="permission", stage="opening").opt_out


def test_a_no_to_the_opening_says_nothing_about_an_agent() -> None:
    assert "has_agent" not in _u("no", pending="permission", stage="opening").slots


def test_not_interested_in_a_kind_of_home_turns_nobody_down() -> None:
    u = _u("were not interested in condos just single family", pending="intent")

    assert "not_interested" not in u.objections and "not_interested" not in u.acts


@pytest.mark.parametrize(
    ("text", "expected"),
    [("thats us", True), ("you got it thats the place", True), ("that's my old place we moved", False)],
)
def test_a_reply_with_no_yes_or_no_word_still_confirms_or_denies_the_address(text: str, expected: bool) -> None:
    result = _u(text, pending="address")
    assert result.answer is expected
    assert ("address" in result.slots) is expected


def test_an_address_said_back_is_the_address_not_a_yes_or_no() -> None:
    result = _u("twelve oak street", pending="address")
    assert result.answer is None
    assert result.slots["address"].value["confirmed"] is True


@pytest.mark.parametrize(
    ("text", "answer"), [("thats my house yeah", True), ("thats not my house yeah", None), ("actually no", False)]
)
def test_a_short_reply_that_ends_with_its_answer_is_read_unless_it_negates(text: str, answer: bool | None) -> None:
    assert yes_no(text) is answer


@pytest.mark.parametrize(
    ("text", "price"),
    [("nothing above three twenty five", {"max": 325000}), ("not above four hundred", {"max": 400000})],
)
def test_nothing_above_a_figure_caps_the_price(text: str, price: dict[str, int]) -> None:
    assert _u(text, pending="price").slots["price"].value == price


def test_not_this_year_is_no_timeline_of_this_year() -> None:
    assert _u("not this year obviously but spring twenty twenty seven", pending="timeline").slots["timeline"].value >= 3


@pytest.mark.parametrize(
    ("text", "financing"),
    [
        ("we talked to a lender and got the letter", "preapproved"),
        ("my loan officer already gave us the green light", "preapproved"),
        ("half cash half loan probably", "needs_financing"),
        ("cash from the sale plus a small mortgage", "needs_financing"),
        ("cash no loan needed", "cash"),
    ],
)
def test_it_reads_financing_said_without_the_usual_words(text: str, financing: str) -> None:
    assert _u(text, pending="financing").slots["financing"].value == financing


def test_asking_which_open_house_asks_how_we_got_the_number() -> None:
    assert "how_got_number" in _u("which open house was this", pending="intent").objections


def test_no_thanks_on_the_way_out_turns_the_call_down() -> None:
    result = _u("huh thats kinda weird, no thanks bye", pending="intent")
    assert {"goodbye", "not_interested"} <= set(result.acts)


def test_a_phrase_after_a_number_is_no_street() -> None:
    result = _u("we're selling, baby number three's on the way", pending="permission", address="")
    assert "address" not in result.slots


def test_a_time_picked_from_the_offer_answers_it_and_asks_for_no_new_meeting() -> None:
    result = _u("lunchtime thursday works best", pending="which_slot", stage="scheduling")
    assert result.wants_meeting is False
    assert result.when is not None and not result.when.is_empty()


@pytest.mark.parametrize(
    "text",
    [
        "i don't remember giving anybody my number",
        "is this from the open house on sunday on elm",
        "did i sign something at some point",
        "uh was that the realtor dot com thing",
    ],
)
def test_asking_which_inquiry_the_call_follows_asks_how_we_got_the_number(text: str) -> None:
    assert "how_got_number" in _u(text, pending="permission").objections


@pytest.mark.parametrize(
    ("text", "acts"),
    [
        ("this is her daughter my mom's not available", {"not_the_lead_available"}),
        ("you want david he sold us the place and moved to arizona", {"wrong_number"}),
        ("thanks for calling have a good one", {"goodbye"}),
    ],
)
def test_who_answered_and_how_they_leave(text: str, acts: set[str]) -> None:
    result = _u(text, pending="permission")
    assert acts <= set(result.acts) | ({"wrong_number"} if result.wrong_number else set())
    assert "child" not in result.acts


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("as soon as freaking possible", 1),
        ("not til like a year and a half from now", 18),
        ("i dont know like within the year", 12),
    ],
)
def test_timelines_said_with_swearing_halves_and_hedges(text: str, months: int) -> None:
    assert _u(text, pending="timeline").slots["timeline"].value == months


def test_a_far_off_timeline_at_the_opening_is_no_refusal() -> None:
    result = _u("yeah but were not doing anything for a couple years probably", pending="permission")
    assert "not_interested" not in result.objections
    assert result.slots["timeline"].value == 24


def test_yes_real_quick_while_driving_gives_the_minute() -> None:
    result = _u("yeah real quick im driving", pending="permission")
    assert result.answer is True
    assert "call_later" not in result.objections


def test_a_value_told_is_no_question_about_it() -> None:
    result = _u("we think ours would go for around nine hundred", pending="motivation")
    assert "ask_home_value" not in result.acts
    assert result.slots["price"].value == {"min": 900000, "max": 900000}


@pytest.mark.parametrize(
    ("text", "pending", "expected"),
    [
        ("my wife wants to be near her sister in san diego", "motivation", ("motivation", "relocation")),
        ("are you guys local or some call center", "permission", ("asks", "who")),
        ("alo", "permission", ("acts", "greeting")),
    ],
)
def test_more_ways_of_saying_it(text: str, pending: str, expected: tuple[str, str]) -> None:
    result = _u(text, pending=pending)
    field, value = expected
    if field == "motivation":
        assert result.slots["motivation"].value == value
    else:
        assert value in getattr(result, field)


def test_misheard_days_hours_and_sums_are_read_as_meant() -> None:
    when = _u("next toosday at too", pending="which_slot", stage="scheduling").when
    assert when is not None and when.hour == 14 and when.day is not None and when.day.weekday() == 1
    assert _u("under three fitty", pending="price").slots["price"].value == {"max": 350000}
    assert _u("a sap", pending="timeline").slots["timeline"].value == 1


@pytest.mark.parametrize(
    ("text", "later"), [("hey yeah i'm on my lunch", False), ("im on my lunch break call me back later", True)]
)
def test_on_my_lunch_gives_the_minute_unless_it_asks_for_later(text: str, later: bool) -> None:
    assert ("call_later" in _u(text, pending="permission").objections) is later


def test_a_relative_in_real_estate_not_hired_is_no_agent() -> None:
    result = _u("my cousin's a realtor but i'm not using her", pending="has_agent")
    assert result.slots["has_agent"].value is False
    assert "has_agent" not in result.objections


def test_a_bound_after_ish_still_bounds() -> None:
    assert _u("three hundred thousand ish tops", pending="price").slots["price"].value == {"max": 300000}


def test_a_reason_that_sounds_like_a_no_answers_the_reason_question() -> None:
    assert "not_interested" not in _u("we bought another place already", pending="motivation").objections


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("were moving closer to family", False),  # "we're", as speech-to-text fuses it
        ("were upsizing", False),
        ("have to sell this one first", False),
        ("was thinking spring", False),
        ("were you the ones who called last week", True),
        ("have you got anything under five hundred", True),
        ("has she sold many in our area", True),
        ("was there a fee for that", True),
    ],
)
def test_were_was_and_have_open_a_question_only_before_whom_it_asks_about(text: str, question: bool) -> None:
    assert _u(text, pending="motivation").question is question


@pytest.mark.parametrize(
    "text",
    [
        "no this is his son dads at work call him saturday",
        "this is his wife he wont be back till thursday try then",
        "hmm ill think about it call me again in a month",
        "im not sure maybe check in next month",
        "can this wait till tomorrow",
        "i need to talk to my wife first can i call you back",
    ],
)
def test_it_hears_a_later_call_asked_for_in_many_words(text: str) -> None:
    assert "call_later" in _u(text, pending="permission").acts


@pytest.mark.parametrize(
    "text",
    ["if i meet with her am i like locked into anything", "whats even the point of meeting? what would she tell me"],
)
def test_a_question_about_the_offered_meeting_is_asked_not_a_no(text: str) -> None:
    nlu = _u(text, pending="which_slot", stage="scheduling")

    assert not nlu.declines_meeting and "ask_next_steps" in nlu.acts


def test_someone_who_owns_the_home_too_and_offers_to_talk_is_talked_to() -> None:
    nlu = _u("janes in the shower. this is her wife sam we own the place together so you can talk to me", "permission")

    assert "not_the_lead_available" not in nlu.acts and nlu.answer is True
    assert "not_the_lead_available" in _u("this is her wife, shes at work", "permission").acts


@pytest.mark.parametrize(
    ("text", "day", "hour", "minute"),
    [
        ("fourteen hundred tomorrow", 25, 14, 0),
        ("sixteen thirty on friday", 27, 16, 30),
        ("eleven today fine", 24, 11, 0),
        ("half eleven on friday if she can", 27, 11, 30),
        ("friday afternoon, two?", 27, 14, 0),
        ("how about whens day at nine", 25, 9, 0),
    ],
)
def test_it_reads_the_clock_however_it_is_said(text: str, day: int, hour: int, minute: int) -> None:
    when = _u(text, pending="which_slot", stage="scheduling").when

    assert (when.day.day, when.hour, when.minute) == (day, hour, minute)


def test_a_rent_in_hundreds_is_no_clock_time() -> None:
    assert _u("we pay fourteen hundred a month in rent", pending="which_slot", stage="scheduling").when.hour is None


@pytest.mark.parametrize(
    ("text", "pending", "slot", "value"),
    [
        ("selling. wait no. sorry, i rent, i'm not selling anything, i'm buying", "intent", "intent", "buy"),
        ("i'd say a year. she says six months. ok six months", "timeline", "timeline", 6),
        ("asap. well, no, actually that's not right, more like june", "timeline", "timeline", 7),
        ("yes we have a realtor. well, had. it lapsed in october, so no", "has_agent", "has_agent", False),
    ],
)
def test_what_the_lead_corrects_gives_way_to_the_correction(text: str, pending: str, slot: str, value: Any) -> None:
    assert _u(text, pending=pending).slots[slot].value == value


def test_not_interested_in_buying_or_selling_turns_the_call_down() -> None:
    result = _u("we go to open houses for fun, we're not interested in buying or selling", pending="intent")
    assert "not_interested" in result.objections


@pytest.mark.parametrize("text", ["no and if dana calls me five times i'm gonna lose it", "we have two cars and a dog"])
def test_a_count_of_things_is_no_price(text: str) -> None:
    assert "price" not in _u(text, pending="price").slots


def test_a_second_hundreds_starts_a_second_figure() -> None:
    assert _u("four hundred, four hundred fifty maybe", pending="price").slots["price"].value == {
        "min": 400000,
        "max": 450000,
    }


@pytest.mark.parametrize(
    ("text", "day", "hour", "minute"),
    [
        ("mornings are bad, anytime after pickup tomorrow? i'm home by three fifteen so like three thirty", 25, 15, 30),
        ("i'm traveling the rest of this week. monday at ten?", 30, 10, 0),
    ],
)
def test_the_time_named_outranks_the_times_ruled_out(text: str, day: int, hour: int, minute: int) -> None:
    when = _u(text, pending="which_slot", stage="scheduling").when

    assert (when.day.day, when.hour, when.minute) == (day, hour, minute)
    assert when.earliest_hour is None and when.not_after is None


@pytest.mark.parametrize(
    ("text", "choice"), [("whichever's sooner", 0), ("the first one, i'll put it on the calendar", 0)]
)
def test_a_pick_of_the_offered_times_is_no_date(text: str, choice: int) -> None:
    when = _u(text, pending="which_slot", stage="scheduling").when

    assert when.choice == choice and when.day is None


def test_a_name_alone_is_no_child() -> None:
    assert "child" not in _u("hello this is emma", pending="permission", stage="opening").acts
    assert "child" in _u("hi this is emma i'm seven", pending="permission", stage="opening").acts


def test_a_question_about_the_call_is_asked_about_not_taken_as_an_opt_out() -> None:
    result = _u("is this a robot calling me", pending="permission", stage="opening")
    assert not result.opt_out and result.opt_out_unsure
    assert _u("who is this, stop calling me", pending="permission", stage="opening").opt_out


def test_the_present_morning_is_no_meeting_time() -> None:
    result = _u("buying. wait, no. selling. my head's not on straight this morning", pending="intent")
    assert not result.wants_meeting
    assert result.slots["intent"].value == "sell"


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ("uh six fifty, seven, somewhere around there", {"min": 650000, "max": 700000}),
        ("five, five and a half maybe", {"min": 500000, "max": 550000}),
        ("about four hundred give or take twenty five", {"min": 375000, "max": 425000}),
        ("over a million for sure. one three, one four", {"min": 1300000, "max": 1400000}),
        ("my husband says nine hundred, i think eight fifty", {"min": 850000, "max": 900000}),
        ("it was listed at seven ninety and sat, so now like seven forty", {"min": 740000, "max": 740000}),
        ("one million, three hundred thousand", {"min": 1300000, "max": 1300000}),
    ],
)
def test_prices_said_in_pieces_read_as_one_answer(text: str, price: dict[str, int]) -> None:
    assert _u(text, pending="price").slots["price"].value == price


def test_selling_it_themselves_up_front_is_marked_apart_from_a_plain_no() -> None:
    up_front = _u("nah we're gonna list it ourselves this time", pending="permission", stage="opening")
    assert {"not_interested", "sells_themselves"} <= set(up_front.objections)
    refused = _u("we're selling it on our own so no thanks", pending="permission", stage="opening")
    assert "not_interested" in refused.objections and "sells_themselves" not in refused.objections


def test_a_month_after_something_still_to_be_done_is_the_timeline() -> None:
    assert _u("as soon as the roof is finished, so april", pending="timeline").slots["timeline"].value == 5
    assert "timeline" not in _u("we finished the roof in april", pending="motivation").slots


def test_a_number_after_a_day_counts_people_not_hours_when_it_says_so() -> None:
    assert _u("friday 2 kids in tow", pending="which_slot", stage="scheduling").when.hour is None


@pytest.mark.parametrize(
    ("text", "motivation"),
    [
        ("moving back near our kids in tucson", "relocation"),
        ("we just closed on a house in reno so this one has to go", "relocation"),
        ("we'll keep the townhouse as a rental, we need more room", "upgrade"),
        ("honestly i'd just like to know what our place is worth", "curious"),
    ],
)
def test_the_reason_for_the_move_is_the_leads_own(text: str, motivation: str) -> None:
    assert _u(text, pending="motivation").slots["motivation"].value == motivation


def test_the_market_rates_are_no_reason_of_the_leads() -> None:
    assert "motivation" not in _u("rates are nuts right now so maybe next year", pending="timeline").slots


def test_a_time_the_lead_is_busy_at_is_not_the_time_to_meet() -> None:
    when = _u(
        "ok the first one. no wait, i've got a meeting at eleven, the wednesday one", "which_slot", "scheduling"
    ).when

    assert when.hour is None and when.day == dt.date(2026, 11, 25)
    assert _u("i have work till five so six", "which_slot", "scheduling").when.hour == 18


def test_a_week_from_a_day_is_seven_days_on() -> None:
    assert _u("can we do a week from friday at two", "which_slot", "scheduling").when.day == dt.date(2026, 12, 4)


@pytest.mark.parametrize(
    ("text", "refuses"),
    [
        ("sure but i'm not looking to be pressured into anything", False),
        ("we wanted to sell but honestly it's just not happening this year", True),
        ("selling, but we're gonna do it ourselves, don't need a realtor", True),
    ],
)
def test_what_turns_the_call_down_and_what_only_sets_terms(text: str, refuses: bool) -> None:
    assert ("not_interested" in _u(text, pending="intent").objections) is refuses


def test_the_last_sentence_can_be_the_answer() -> None:
    assert _u("oh boy. we get calls all day. nope", pending="permission", stage="opening").answer is False


@pytest.mark.parametrize(
    ("text", "robot"),
    [
        ("is this call being recorded", False),
        ("are you recording this", False),
        ("is this recorded or are you a bot", True),
    ],
)
def test_a_question_about_the_recording_is_its_own(text: str, robot: bool) -> None:
    nlu = _u(text, pending="timeline")

    assert "recorded" in nlu.asks
    assert ("robot" in nlu.asks) is robot


def test_asking_whom_we_want_is_no_wrong_number() -> None:
    nlu = _u("wait who are you looking for", pending="permission", stage="opening")

    assert nlu.wrong_number is False
    assert "whom" in nlu.asks


@pytest.mark.parametrize("text", ["hello you are computer no", "this is bayside right"])
def test_a_tag_after_a_question_about_the_caller_answers_nothing(text: str) -> None:
    assert yes_no(text) is None


@pytest.mark.parametrize(
    ("text", "decides"),
    [
        ("is this an ai? i dont talk to bots", False),
        ("i dont wanna talk to a computer", False),
        ("i dont talk to bots, bye", True),
        ("no thanks i dont talk to robots", True),
    ],
)
def test_refusing_a_machine_is_a_no_only_when_the_lead_also_says_one(text: str, decides: bool) -> None:
    nlu = _u(text, pending="permission", stage="opening")

    assert "not_interested" in nlu.objections
    assert ("no_machines" not in nlu.objections) is decides


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ("up to about a million two", {"max": 1_200_000}),
        (
            "the online thing says six eighty but thats way too low its worth eight hundred easy",
            {"min": 800_000, "max": 800_000},
        ),
        (
            "we paid eighty thousand for it in nineteen seventy nine but the woman next door sold hers for a million "
            "one last year so maybe around that",
            {"min": 1_100_000, "max": 1_100_000},
        ),
    ],
)
def test_a_price_beside_other_figures_is_the_one_the_lead_means(text: str, price: dict[str, int]) -> None:
    nlu = _u(text, pending="price")

    assert nlu.slots["price"].value == price
    assert "address" not in nlu.slots


def test_not_before_a_holiday_gives_way_to_the_time_named_after_it() -> None:
    nlu = _u("oh not before the holidays the grandkids are coming so maybe in the spring", pending="timeline")

    assert nlu.slots["timeline"].value == 4


@pytest.mark.parametrize("text", ["okay go", "hmm okay ill answer a couple but im not giving you my social"])
def test_a_yes_to_buying_or_selling_names_no_side(text: str) -> None:
    nlu = _u(text, pending="intent")

    assert "intent" not in nlu.slots
    assert "not_interested" not in nlu.objections


@pytest.mark.parametrize(
    "text",
    [
        "my son in law is a realter hes handling it no need to call us anymore",
        "we went with a remax agent so theres no need to keep phoning",
        "actually dont bother id prefer not to get calls like this",
        "are you the ones who keep calling at dinner? cut it out",
        "look were happy here and id rather you folks not call again",
    ],
)
def test_an_opt_out_said_without_stop_or_remove_is_heard(text: str) -> None:
    assert _u(text, pending="permission", stage="opening").opt_out is True


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ("somewhere in the high threes", {"min": 350_000, "max": 400_000}),
        ("high fours", {"min": 450_000, "max": 500_000}),
        ("low three hundreds", {"min": 300_000, "max": 350_000}),
    ],
)
def test_a_band_is_its_range_alone(text: str, price: dict[str, int]) -> None:
    assert _u(text, pending="price").slots["price"].value == price


@pytest.mark.parametrize(
    ("text", "pending", "ceiling"),
    [
        ("buying, something under four hundred", "intent", 400_000),
        ("yeah sure, just so you know were looking under three fifty", None, 350_000),
    ],
)
def test_a_ceiling_said_early_is_a_price(text: str, pending: str | None, ceiling: int) -> None:
    assert _u(text, pending=pending).slots["price"].value == {"max": ceiling}


@pytest.mark.parametrize(
    ("text", "financing"),
    [
        ("no, cash", "cash"),
        ("right now were with a lender, waiting to hear back", "needs_financing"),
        ("what do you mean pre approved? like for a loan? no we gotta get one", "needs_financing"),
        ("the bank said we could probably get approved for four hundred but we havent applied", "needs_financing"),
    ],
)
def test_financing_read_from_the_answer_itself(text: str, financing: str) -> None:
    assert _u(text, pending="financing").slots["financing"].value == financing


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("when school lets out", 7),
        ("oh gosh uh we was thinkin maybe the spring time", 4),
        ("probate wraps up in march and wed list it right away", 4),
        ("after the baby comes shes due in february so like april maybe", 5),
        ("like yesterday lol", 1),
    ],
)
def test_a_timeline_said_around_other_times(text: str, months: int) -> None:
    assert _u(text, pending="timeline").slots["timeline"].value == months


def test_a_season_gone_by_is_no_timeline() -> None:
    assert "timeline" not in _u("we were thinking about moving last spring but", pending="timeline").slots


@pytest.mark.parametrize(
    ("text", "has_agent"),
    [("right now no", False), ("weve been talking to a few but havent signed with anybody", False)],
)
def test_shopping_for_an_agent_is_having_none(text: str, has_agent: bool) -> None:
    assert _u(text, pending="has_agent").slots["has_agent"].value is has_agent


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("jane? oh shes my roommate, shes not here", False),
        ("oh jane? she was my roommate she moved out a while ago. this isnt her phone anymore", True),
    ],
)
def test_someone_who_says_the_lead_is_out_is_at_the_leads_number(text: str, wrong: bool) -> None:
    assert _u(text, pending="permission", stage="opening").wrong_number is wrong


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("want somewhere to park some money honestly", "investment"),
        ("well my dad cant live alone anymore so hes moving in with us", "growing_family"),
    ],
)
def test_reasons_said_in_other_words(text: str, reason: str) -> None:
    assert _u(text, pending="motivation").slots["motivation"].value == reason


@pytest.mark.parametrize(
    "text", ["can you set me up with an agent", "no we dont have one can you connect me with somebody"]
)
def test_asking_for_one_of_our_agents_is_no_agent_of_their_own(text: str) -> None:
    nlu = _u(text, pending="has_agent")

    assert "has_agent" not in nlu.objections
    assert nlu.wants_meeting is True


def test_holding_off_turns_the_meeting_down_and_asks_for_no_wait() -> None:
    nlu = _u("lets hold off on that", pending="which_slot", stage="scheduling")

    assert "hold_on" not in nlu.acts
    assert nlu.declines_meeting is True


def test_saying_goodbye_to_a_place_is_no_goodbye() -> None:
    assert "goodbye" not in _u("were saying goodbye to this neighborhood, my job moved us", pending="motivation").acts


@pytest.mark.parametrize("text", ["this is she", "speaking"])
def test_the_lead_saying_it_is_them_is_not_someone_else(text: str) -> None:
    assert "not_the_lead_available" not in _u(text, pending="permission", stage="opening").acts


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("where did you even find me, i want my info erased from whatever list that was", "permission"),
        ("no me llamen mas por favor", "permission"),
        ("deje de llamarme", "permission"),
        ("i just dont want phone calls about any of it ok", "intent"),
        ("we changed our minds so this might as well be the last call", "timeline"),
        ("how do i get off your call list", None),
        ("please no more calls after this, just email", "email"),
        ("i dont want any calls at all", None),
    ],
)
def test_it_hears_an_opt_out_said_in_other_words(text: str, pending: str | None) -> None:
    assert _u(text, pending).opt_out is True


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("no calls during dinner please, after seven is fine", "permission"),
        ("i dont want calls while im at work, try me at six", "permission"),
        ("selling, but our last agent never called us back once", "intent"),
    ],
)
def test_when_not_to_call_and_someone_elses_calls_are_no_opt_out(text: str, pending: str | None) -> None:
    assert _u(text, pending).opt_out is False


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("my moms a realtor so shes handling it", "permission"),
        ("my son in law is a licensed agent", "has_agent"),
        ("were listing it through redfin", "has_agent"),
        ("my husbands a gent actually", "has_agent"),
        ("yeah my cousin, she did our last house", "has_agent"),
    ],
)
def test_a_relative_or_a_brokerage_doing_it_is_an_agent_of_their_own(text: str, pending: str) -> None:
    result = _u(text, pending)
    assert result.slots["has_agent"].value is True
    assert "has_agent_objection" in result.acts


@pytest.mark.parametrize(
    "text",
    ["my dads a realtor but hes retired down in arizona", "we finished with our old realtor last spring"],
)
def test_a_retired_relative_or_a_past_agent_is_no_agent(text: str) -> None:
    assert _u(text, "has_agent").slots["has_agent"].value is False


def test_a_bare_yes_to_the_agent_question_only_answers_it() -> None:
    result = _u("yes we do", "has_agent")
    assert result.slots["has_agent"].value is True
    assert "has_agent_objection" not in result.acts


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("hang on my other line is going", "motivation"),
        ("give me a second someone's knocking", "timeline"),
        ("dont go anywhere i gotta grab the door", None),
        ("quiet a sec my boss is talking", None),
    ],
)
def test_it_hears_a_request_to_wait(text: str, pending: str | None) -> None:
    result = _u(text, pending)
    assert "hold_on" in result.acts
    assert pending not in result.slots


def test_holding_on_to_something_is_no_request_to_wait() -> None:
    assert "hold_on" not in _u("we wanna hang on to it a while longer", "timeline").acts


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("enough questions, when can i meet the agent", "price"),
        ("id rather just sit down with the agent about money", "price"),
        ("i wanna talk to a real agent not a computer", "financing"),
    ],
)
def test_asking_for_the_agent_in_so_many_words_asks_for_a_meeting(text: str, pending: str) -> None:
    assert _u(text, pending).wants_meeting is True


def test_a_question_about_talking_to_the_agent_asks_no_meeting() -> None:
    assert _u("maybe five fifty, does it cost me anything to talk to your agent", "price").wants_meeting is False


def test_a_pick_the_lead_turns_down_is_not_the_pick() -> None:
    result = _u("i dont need the second one, the first one is good", "which_slot", stage="scheduling")
    assert result.when is not None and result.when.choice == 0


@pytest.mark.parametrize("text", ["oh just sailing, not buying", "uh yeah sailing the house in spring"])
def test_sailing_is_selling(text: str) -> None:
    assert _u(text, "intent").slots["intent"].value == "sell"


@pytest.mark.parametrize(
    "text", ["hmm i dont remember ever signing up with you guys", "huh i never filled out anything like that"]
)
def test_not_remembering_the_inquiry_asks_where_we_got_the_number_and_opts_out_of_nothing(text: str) -> None:
    result = _u(text, "intent")
    assert "how_got_number" in result.objections
    assert result.opt_out is False


def test_a_dare_to_say_its_human_is_the_ai_question() -> None:
    assert "robot" in _u("come on admit youre a real person", "intent").asks


def test_a_time_for_the_agent_said_before_any_offer_asks_for_the_meeting() -> None:
    assert _u("im at work till five could she do six", "address").wants_meeting is True


@pytest.mark.parametrize(
    "text", ["nope were doing it ourselves", "uh no we're gonna list it by owner this spring", "no fsbo for now"]
)
def test_selling_without_an_agent_answers_the_agent_question_and_turns_nothing_down(text: str) -> None:
    result = _u(text, "has_agent")
    assert result.slots["has_agent"].value is False
    assert "not_interested" not in result.objections
    assert "not_interested" not in result.acts


def test_selling_without_an_agent_to_save_the_fee_turns_agents_down() -> None:
    assert "not_interested" in _u("no were selling it ourselves and save the commission", "has_agent").objections


@pytest.mark.parametrize("text", ["maybe two or three months", "three to four months out"])
def test_a_span_of_months_is_no_price(text: str) -> None:
    assert "price" not in _u(text, "price").slots


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("id rather not say", "financing"),
        ("thats kinda personal", "motivation"),
        ("you dont need to know that", "price"),
        ("i dont wanna get into all that honestly", "financing"),
    ],
)
def test_declining_a_question_fills_no_slot_and_turns_nothing_down(text: str, pending: str) -> None:
    result = _u(text, pending)
    assert pending not in result.slots
    assert "not_interested" not in result.objections


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("i already asked you people to remove me", "permission"),
        ("why do you guys still keep calling this number", None),
        ("never", "callback_time"),
        ("um never thank you", "callback_time"),
    ],
)
def test_an_opt_out_said_as_an_ignored_request_or_never(text: str, pending: str | None) -> None:
    stage = "callback" if pending == "callback_time" else "qualifying"
    assert _u(text, pending, stage=stage).opt_out is True


@pytest.mark.parametrize(
    "text",
    [
        "my husband told them to stop calling but you guys are fine",
        "dont take me off im still interested just busy",
        "dont call this one call my cell number instead",
    ],
)
def test_opt_out_words_beside_a_wish_to_go_on_are_checked_not_obeyed(text: str) -> None:
    result = _u(text, "permission")
    assert result.opt_out is False
    assert result.opt_out_unsure is True


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("nah we changed our minds", "timeline"),
        ("we decided to stay put", "motivation"),
        ("house is already sold sorry", "price"),
        ("we're not moving anymore", "intent"),
    ],
)
def test_a_reason_that_settles_it_turns_the_call_down(text: str, pending: str) -> None:
    assert "not_interested" in _u(text, pending).objections


def test_having_sold_and_looking_to_buy_is_no_refusal() -> None:
    assert "not_interested" not in _u("we already sold and now we're looking for a condo", "intent").objections


@pytest.mark.parametrize(("text", "pending"), [("i just rent here i dont own it", "permission"), ("i only rent", None)])
def test_renting_the_home_is_no_wrong_number(text: str, pending: str | None) -> None:
    assert _u(text, pending).wrong_number is False


def test_a_time_asked_of_our_agent_is_a_meeting_not_a_later_call() -> None:
    result = _u("could she maybe do friday at ten before my shift", "motivation")
    assert result.wants_meeting is True
    assert "call_later" not in result.objections
    assert "not_the_lead_available" not in result.acts


@pytest.mark.parametrize("text", ["um we just sold it actually", "the house is already under contract"])
def test_a_home_already_sold_is_asked_about_before_it_is_a_no(text: str) -> None:
    objections = _u(text, "permission").objections
    assert "already_sold" in objections


def test_a_home_sold_and_a_refusal_is_a_no() -> None:
    objections = _u("we sold the house so no thanks", "permission").objections
    assert "not_interested" in objections
    assert "already_sold" not in objections


@pytest.mark.parametrize("text", ["so i'll wait and see on prices", "rates have been nuts lately"])
def test_a_remark_about_the_market_asks_nothing(text: str) -> None:
    assert not {"market", "rates"} & set(_u(text, "timeline").asks)


@pytest.mark.parametrize("text", ["alo", "hola", "hello hello"])
def test_a_lone_hello_is_only_a_greeting(text: str) -> None:
    assert _u(text, "permission").acts == ["greeting"]


@pytest.mark.parametrize(
    ("text", "pending"),
    [("nah ill just google you guys and call if we want", "timeline"), ("well get in touch when were ready", "intent")],
)
def test_saying_they_will_be_in_touch_if_ever_turns_the_call_down(text: str, pending: str) -> None:
    assert "not_interested" in _u(text, pending).objections


def test_saying_they_will_call_back_later_asks_for_a_later_call() -> None:
    objections = _u("ill call you back when im off work", "timeline").objections
    assert "call_later" in objections
    assert "not_interested" not in objections


@pytest.mark.parametrize(
    "text",
    [
        "neither works and honestly i dont know when would",
        "no monday no tuesday",
        "im gonna have to say no to the meeting for now",
        "i cant commit to a meeting right now",
    ],
)
def test_every_offered_time_turned_down_declines_the_meeting(text: str) -> None:
    assert _u(text, "which_slot", stage="scheduling").declines_meeting is True


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("spring maybe, but after this i dont wanna hear from yall again", "timeline"),
        ("look i never want to hear from bayside again", None),
        ("ill pass, and i really dont want another call", None),
        ("you can call back when hell freezes over", "callback_time"),
    ],
)
def test_no_more_contact_in_any_words_is_an_opt_out(text: str, pending: str | None) -> None:
    assert _u(text, pending).opt_out is True


@pytest.mark.parametrize(
    "text",
    [
        "dont call me maam its linda, yeah i got a sec",
        "stop calling me sir im a woman lol but go ahead",
        "stop calling it a house its a condo",
        "take me off speaker",
    ],
)
def test_call_as_in_name_or_off_the_speaker_is_no_opt_out(text: str) -> None:
    understood = _u(text, "permission", stage="opening")
    assert understood.opt_out is False
    assert understood.opt_out_unsure is False


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("remove my wife from whatever youve got, its just me and im buying", "intent"),
        ("the other realtors wont stop calling me since i filled out that form, anyway were buying", "intent"),
        ("cash. and tell your lender guy to stop emailing me", "financing"),
    ],
)
def test_someone_elses_number_or_calls_is_no_opt_out_of_ours(text: str, pending: str) -> None:
    assert _u(text, pending).opt_out is False


def test_a_request_for_the_leads_own_calls_to_stop_said_by_someone_else_is_obeyed() -> None:
    assert _u("this is dana's son she asked me to tell you guys to stop calling her", None).opt_out is True


def test_never_having_heard_of_us_is_asked_about_not_obeyed() -> None:
    text = "never heard of you guys how'd you get my number is this some kind of scam"
    understood = _u(text, "permission", "opening")
    assert understood.opt_out is False


@pytest.mark.parametrize(
    "text", ["nah no meeting yet too early but thanks", "i dont need a meeting or anything", "no appointment needed"]
)
def test_a_meeting_turned_down_before_it_is_offered(text: str) -> None:
    assert "meeting_refused" in _u(text, "motivation").objections


@pytest.mark.parametrize(
    "text",
    [
        "im not in a meeting right now go ahead",
        "i have no meeting till three so sure",
        "i dont wanna meet anybody just text me some listings",
    ],
)
def test_the_leads_own_meetings_or_a_text_instead_turn_no_meeting_down(text: str) -> None:
    assert "meeting_refused" not in _u(text, "motivation").objections


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("about half a year", 6),
        ("buying but not until next september", 10),
        ("next year sometime like april", 5),
        ("next year like december", 13),
        ("ideally before school starts but realistically probably around june", 7),
    ],
)
def test_timelines_said_in_halves_refined_or_revised(text: str, months: int) -> None:
    assert _u(text, "timeline").slots["timeline"].value == months


def test_a_buyers_answer_does_not_stand_beside_a_denial() -> None:
    assert "intent" not in _u("honestly im just browsing zillow for fun im not buying anything", "intent").slots


def test_a_bare_mhm_names_no_agent() -> None:
    understood = _u("mhm yes", "address")
    assert "has_agent" not in understood.objections
    assert "has_agent" not in understood.slots


def test_taking_a_message_is_no_child() -> None:
    understood = _u("my moms not home can i take a message", "permission", stage="opening")
    assert "child" not in understood.acts
    assert "not_the_lead_available" in understood.acts


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("probably summer, hold on my other line is ringing", True),
        ("hang on let me ask my husband he says summer", False),
    ],
)
def test_an_answer_then_hold_on_waits_and_hold_on_then_an_answer_does_not(text: str, held: bool) -> None:
    understood = _u(text, "timeline")
    assert understood.slots["timeline"].value == 7
    assert ("hold_on" in understood.acts) is held


@pytest.mark.parametrize(
    "text", ["this month is crazy for me i havent thought about it", "this month were still renting, no plan past that"]
)
def test_the_month_the_lead_is_living_is_no_timeline(text: str) -> None:
    timeline = _u(text, "timeline").slots.get("timeline")
    assert timeline is None or timeline.value != 1


def test_a_request_taken_back_gives_way_to_what_follows() -> None:
    text = "um can you email me the details actually nevermind i have a minute were selling in like two months"
    understood = _u(text, "permission", stage="opening")
    assert "email_me" not in understood.objections
    assert understood.slots["intent"].value == "sell"
    assert understood.slots["timeline"].value == 2


def test_an_opt_out_taken_back_is_asked_about() -> None:
    understood = _u("stop calling me, actually never mind, go ahead whats this about", "permission", stage="opening")
    assert understood.opt_out is False
    assert understood.opt_out_unsure is True


def test_selling_here_to_buy_in_another_town_is_a_relocation() -> None:
    assert _u("both we gotta sell here and buy up in sacramento", "intent").slots["motivation"].value == "relocation"


@pytest.mark.parametrize(
    ("text", "opt_out"),
    [
        ("i have told you people, take me of the list", True),
        ("no need to call my wife, i make the decisions around here", False),
        ("no more calls today please, try me tomorrow", False),
    ],
)
def test_no_more_calls_to_whom_and_when(text: str, opt_out: bool) -> None:
    assert _u(text, "permission", stage="opening").opt_out is opt_out


@pytest.mark.parametrize(
    "text", ["we paid 210 for it in 2012", "we still owe like 180 on the mortgage", "paid 400 three years ago"]
)
def test_what_the_home_cost_or_owes_is_no_price(text: str) -> None:
    assert "price" not in _u(text, "price").slots


def test_a_past_listing_price_is_still_a_price() -> None:
    assert _u("we listed it at 600 last year", "price").slots["price"].value == {"min": 600000, "max": 600000}


@pytest.mark.parametrize(
    "text",
    [
        "honestly i just want off your list",
        "yeah we were gonna sell but whatever im opting out",
        "wed like to be off the call list please",
    ],
)
def test_wanting_off_the_list_and_opting_out_are_opt_outs(text: str) -> None:
    assert _u(text, "permission", stage="opening").opt_out


@pytest.mark.parametrize(
    "text",
    [
        "i keep telling my brother to quit calling me at work anyway sure go ahead",
        "my wife told me never to answer these calls but alright what is it",
        "oh i thought you were the bank i told them to stop calling the bank sorry yes",
    ],
)
def test_words_said_to_someone_else_are_not_taken_as_an_opt_out(text: str) -> None:
    assert not _u(text, "permission", stage="opening").opt_out


def test_an_opt_out_said_to_us_in_reported_words_still_counts() -> None:
    assert _u("i told you last week to stop calling me", "permission", stage="opening").opt_out


def test_an_opt_out_alone_turns_nothing_else_down() -> None:
    nlu = _u("we were gonna buy but you know what dont call me anymore", "timeline")
    assert nlu.opt_out and "not_interested" not in nlu.acts


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("not for another year and a half", 18),
        ("sometime before chris miss", 1),
        ("like feb ruary", 3),
        ("in the next couple months, like by february", 3),
    ],
)
def test_timelines_said_loosely_or_misheard(text: str, months: int) -> None:
    nlu = _u(text, "timeline")
    assert nlu.slots["timeline"].value == months
    assert "not_interested" not in nlu.acts


@pytest.mark.parametrize("text", ["we are in no hurry", "not in a big rush honestly"])
def test_no_hurry_is_an_unsure_timeline(text: str) -> None:
    assert _u(text, "timeline").slots["timeline"].value == "unsure"


def test_yesterday_to_the_timeline_question_is_as_soon_as_possible() -> None:
    assert _u("uh yesterday lol", "timeline").slots["timeline"].value == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("my hips cant do the stairs anymore", "downsizing"),
        ("we want a single story place", "downsizing"),
        ("we bought a house in boise already", "relocation"),
        ("we need room, our second one on the way", "growing_family"),
    ],
)
def test_reasons_told_by_what_happened(text: str, reason: str) -> None:
    assert _u(text, "motivation").slots["motivation"].value == reason


@pytest.mark.parametrize("text", ["gonna pay for it outright", "we wont need a mortgage", "no loan necessary"])
def test_cash_said_without_the_word(text: str) -> None:
    assert _u(text, "financing").slots["financing"].value == "cash"


@pytest.mark.parametrize(("text", "value"), [("four twenty five thousand", 425000), ("about six fifty k", 650000)])
def test_hundreds_of_thousands_said_short(text: str, value: int) -> None:
    assert _u(text, "price").slots["price"].value == {"min": value, "max": value}


def test_a_side_given_up_is_no_side() -> None:
    assert _u("were through with selling we just want to buy now", "intent").slots["intent"].value == "buy"


@pytest.mark.parametrize(
    "text", ["no idea, you tell me", "maybe five hundred, could you tell me", "what would you say it would go for"]
)
def test_asking_us_what_the_home_is_worth(text: str) -> None:
    assert "ask_home_value" in _u(text, "price").acts


def test_one_channel_named_is_the_one_asked_for() -> None:
    acts = _u("just send me a text with the details", "permission", stage="opening").acts
    assert "text_me" in acts and "email_me" not in acts


def test_a_bad_line_and_a_call_back_asks_for_the_call_not_a_repeat() -> None:
    acts = _u("you keep cutting out, call me back later", "permission", stage="opening").acts
    assert "call_later" in acts and "ask_repeat" not in acts


def test_someone_else_answering_says_nothing_of_the_leads_move() -> None:
    nlu = _u("shes out having the baby, call her next week", "permission", stage="opening")
    assert "not_the_lead_available" in nlu.acts and "call_later" in nlu.acts
    assert "motivation" not in nlu.slots


def test_a_home_seen_is_no_price_and_the_range_restated_stands() -> None:
    nlu = _u(
        "something in the six hundred to seven hundred range, i mean we saw one for seven forty but meh, "
        "so six to seven",
        "price",
    )
    assert nlu.slots["price"].value == {"min": 600000, "max": 700000}


def test_for_before_tens_in_a_range_is_four() -> None:
    assert _u("three hundred to for twenty", "price").slots["price"].value == {"min": 300000, "max": 420000}


def test_to_by_before_a_side_is_to_buy() -> None:
    assert _u("were trying to by, not sell", "intent").slots["intent"].value == "buy"


@pytest.mark.parametrize(
    "text",
    [
        "monday at two",
        "yeah lets set something up wednesday at two thirty",
        "can you call me tomorrow at four",
        "uh friday around three in the afternoon",
        "how about thursday at like ten oclock",
    ],
)
def test_a_time_said_to_the_price_question_is_no_price(text: str) -> None:
    assert "price" not in _u(text, pending="price").slots


@pytest.mark.parametrize(
    ("text", "value"),
    [("we are at like four fifty", 450000), ("four fifty maybe. can we meet tuesday at two", 450000)],
)
def test_a_price_beside_a_time_is_still_a_price(text: str, value: int) -> None:
    assert _u(text, pending="price").slots["price"].value["min"] == value


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("why do you wanna know if im buying or selling", "intent"),
        ("are people even buying right now", "timeline"),
        ("does it matter whether were buying or selling", "intent"),
    ],
)
def test_a_question_that_names_the_sides_takes_neither(text: str, pending: str) -> None:
    assert "intent" not in _u(text, pending=pending).slots


@pytest.mark.parametrize(
    ("text", "side"), [("selling why do you ask", "sell"), ("were buying is that a problem", "buy")]
)
def test_a_side_said_before_a_question_still_counts(text: str, side: str) -> None:
    assert _u(text, pending="intent").slots["intent"].value == side


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("um within like three months were in a rental thats month to month", "timeline"),
        ("we live in a rental right now", "motivation"),
        ("were renting a place in the meantime", "timeline"),
    ],
)
def test_living_in_a_rental_is_no_investment(text: str, pending: str) -> None:
    slot = _u(text, pending=pending).slots.get("motivation")
    assert slot is None or slot.value != "investment"


@pytest.mark.parametrize("text", ["we want to buy a rental property", "its gonna be a rental for us"])
def test_buying_a_rental_is_an_investment(text: str) -> None:
    assert _u(text, pending="motivation").slots["motivation"].value == "investment"


@pytest.mark.parametrize(
    "text", ["you guys have called me like three times this week", "thats the fourth call today from you people"]
)
def test_a_complaint_about_how_often_we_call_is_asked_about_not_obeyed(text: str) -> None:
    nlu = _u(text, pending="permission", stage="opening")
    assert nlu.opt_out is False
    assert nlu.opt_out_unsure is True


def test_a_complaint_about_how_often_we_call_beside_a_question_gets_the_question_answered() -> None:
    nlu = _u("is this a scam you people ring me ten times a week", pending="permission", stage="opening")
    assert nlu.opt_out is False
    assert "ask_scam" in nlu.acts


@pytest.mark.parametrize(
    "text",
    [
        "you called three times this week stop calling",
        "this is the fifth time take me off",
        "you keep calling and i keep hanging up take the hint",
        "why do you keep calling me this has gotta end",
        "ten calls a week and i never asked for any of them so dont call again",
    ],
)
def test_a_complaint_with_a_request_is_still_an_opt_out(text: str) -> None:
    assert _u(text, pending="permission", stage="opening").opt_out is True


@pytest.mark.parametrize(
    "text",
    [
        "you know what just quit dialing me",
        "stop ringing this phone",
        "quit phoning here",
        "i dont wanna get any more calls about it",
        "id rather not receive more calls thanks",
        "can you guys not call me about this",
        "just forget this number exists",
    ],
)
def test_opt_outs_said_with_other_words_for_calling(text: str) -> None:
    assert _u(text, pending="permission", stage="opening").opt_out is True


@pytest.mark.parametrize("text", ["call me back when pigs fly", "how about never", "uh the twelfth of never"])
def test_never_said_with_a_smirk_to_when_to_call_back_is_an_opt_out(text: str) -> None:
    assert _u(text, pending="callback_time", stage="callback").opt_out is True


@pytest.mark.parametrize(
    "text",
    [
        "if i said stop calling would you actually stop",
        "how does somebody get off these call lists anyway just wondering",
        "what would i have to say to get you guys to quit calling",
        "does telling you to stop calling cover my husbands phone too",
        "im not gonna tell you to stop calling but im not ready yet",
    ],
)
def test_asking_how_opting_out_works_is_not_opting_out(text: str) -> None:
    assert _u(text, pending="permission", stage="opening").opt_out is False


@pytest.mark.parametrize(
    "text",
    [
        "oh good youre not the solar people those guys never stop calling me anyway go ahead",
        "sorry i thought you were spam the warranty people wont leave me alone",
    ],
)
def test_other_callers_who_wont_stop_are_not_us(text: str) -> None:
    assert _u(text, pending="permission", stage="opening").opt_out is False


@pytest.mark.parametrize(
    "text",
    [
        "my brother in law is a realtor hes got it covered so we dont need anybody",
        "we signed with someone at compass so were fine thanks",
    ],
)
def test_an_agent_and_no_need_of_us_are_two_acts(text: str) -> None:
    nlu = _u(text, pending="has_agent")
    assert "has_agent" in nlu.objections
    assert "not_interested" in nlu.acts


def test_wanting_no_part_of_it_turns_the_call_down() -> None:
    assert "not_interested" in _u("nah i want no part of this stuff", pending="permission", stage="opening").acts


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("probably by christmas next year", 13),
        ("before halloween next year", 11),
        ("when the school years done", 7),
        ("uh once the school year is over i guess", 7),
    ],
)
def test_holidays_of_next_year_and_the_school_year_ending(text: str, months: int) -> None:
    assert _u(text, pending="timeline").slots["timeline"].value == months


@pytest.mark.parametrize(
    "text", ["it kinda hinges on whether the job comes through", "all depends whether his transfer happens"]
)
def test_a_move_hanging_on_something_is_an_unsure_timeline(text: str) -> None:
    assert _u(text, pending="timeline").slots["timeline"].value == "unsure"


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("nope not anymore we fired him back in october", "has_agent"),
        ("no our listing expired in september", "has_agent"),
    ],
)
def test_a_month_something_ended_in_is_no_timeline(text: str, pending: str) -> None:
    assert "timeline" not in _u(text, pending=pending).slots


def test_a_time_to_call_back_is_no_timeline() -> None:
    nlu = _u("i really dont know yet just call me after new years and well see", pending="timeline")
    assert nlu.slots["timeline"].value == "unsure"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("my husband got laid off so we have to", "financial"),
        ("i lost my job in the spring and cant keep the place", "financial"),
    ],
)
def test_a_lost_job_is_a_financial_reason(text: str, reason: str) -> None:
    assert _u(text, pending="motivation").slots["motivation"].value == reason


def test_no_more_calls_about_it_is_an_opt_out() -> None:
    assert _u("its not for me and id rather not get any more calls about it", pending="permission").opt_out is True


def test_an_opt_out_passed_on_from_family_then_go_on_is_asked_about() -> None:
    nlu = _u("my son keeps saying to tell you people to leave me alone but ok go on", pending="permission")
    assert nlu.opt_out is False and nlu.opt_out_unsure is True


def test_asking_what_a_meeting_costs_asks_for_no_meeting() -> None:
    nlu = _u("maybe five fifty is it free to talk to one of your agents", pending="price")
    assert "ask_cost" in nlu.acts
    assert not nlu.wants_meeting


def test_a_meeting_asked_for_beside_its_cost_is_still_asked_for() -> None:
    assert _u("can somebody come out and look at it does that cost anything", pending="price").wants_meeting


def test_times_put_off_are_not_asked_about_as_an_opt_out() -> None:
    nlu = _u("id have to check with my husband he makes those calls so not right now", "which_slot", "scheduling")
    assert not nlu.opt_out and not nlu.opt_out_unsure


@pytest.mark.parametrize(
    ("text", "pending", "price"),
    [
        ("were moving to denver so well list in the spring probably for like eight fifty", "intent", (850000, 850000)),
        (
            "buying and selling pre approved looking at like five fifty to six maybe in two months",
            "intent",
            (550000, 600000),
        ),
        ("three hundred to three fifty", "motivation", (300000, 350000)),
    ],
)
def test_a_price_said_ahead_of_its_question(text: str, pending: str, price: tuple[int, int]) -> None:
    value = _u(text, pending=pending).slots["price"].value
    assert (value["min"], value["max"]) == price


@pytest.mark.parametrize(
    ("text", "pending"),
    [("were looking at like three months", "timeline"), ("maybe two to three years", "timeline")],
)
def test_counted_spans_are_still_no_price(text: str, pending: str) -> None:
    assert "price" not in _u(text, pending=pending).slots


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("nah i dont want to do this", "permission"),
        ("no i dont have time and i dont want to", "permission"),
        ("i told you guys no already", "permission"),
        ("were not doing any of this", "financing"),
        ("no no me interesa gracias", "permission"),
    ],
)
def test_refusals_in_other_words(text: str, pending: str) -> None:
    assert "not_interested" in _u(text, pending=pending).acts


def test_an_agent_named_then_so_no_is_two_acts() -> None:
    nlu = _u("were listed with remax so no", pending="has_agent")
    assert "has_agent" in nlu.objections and "not_interested" in nlu.acts


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("i dont want to say", "price"),
        ("we dont need one were paying cash", "financing"),
        # Wanting no agent is how the lead means to buy; the meeting is still theirs to turn down.
        ("no and i kinda dont want one honestly", "has_agent"),
    ],
)
def test_a_question_declined_is_no_refusal(text: str, pending: str) -> None:
    assert "not_interested" not in _u(text, pending=pending).acts


@pytest.mark.parametrize(
    "text",
    [
        "if i wanted a realtor id call one so take me off your list",
        "if we ever want to sell well call you dont call us again",
        "if i said it once i said it a hundred times quit calling this number",
        "what do i have to do to get you people to stop calling me just take me off",
    ],
)
def test_an_opt_out_said_beside_a_hypothetical_is_still_an_opt_out(text: str) -> None:
    assert _u(text, pending="permission", stage="opening").opt_out is True


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ("somewhere between for and for twenty", {"min": 400000, "max": 420000}),
        ("to fifty to three hundred i think", {"min": 250000, "max": 300000}),
        ("ate hundred k maybe", {"min": 800000, "max": 800000}),
        ("probably in the five hundreds", {"min": 500000, "max": 600000}),
        ("the low seven hundreds", {"min": 700000, "max": 750000}),
    ],
)
def test_figures_misheard_as_other_words_are_still_figures(text: str, price: dict[str, int]) -> None:
    assert _u(text, "price").slots["price"].value == price


def test_a_ceiling_said_for_someone_else_stays_a_ceiling() -> None:
    nlu = _u("hang on babe what was our number... ok she says up to seven twenty", "price")
    assert nlu.slots["price"].value == {"max": 720000}


@pytest.mark.parametrize(
    "text",
    [
        "we might sell in the fall but i really dont want calls about it",
        "um i dont really want calls from you guys",
    ],
)
def test_not_really_wanting_calls_is_an_opt_out(text: str) -> None:
    assert _u(text, "timeline").opt_out is True


@pytest.mark.parametrize(
    "text",
    [
        "do you guys call every week now? im not saying stop im just asking",
        "the other place wouldnt leave me alone so dont be like them, anyway go on",
        "my neighbor says you people call nonstop once you have the number, is that true",
        "no more flyers please, id rather you just call",
    ],
)
def test_talk_of_calls_that_asks_for_more_is_no_opt_out(text: str) -> None:
    assert _u(text, None).opt_out is False


@pytest.mark.parametrize("text", ["no thanks, bye", "nah im good, no meeting", "were good thanks though"])
def test_turning_down_the_times_offered_is_no_refusal_of_the_call(text: str) -> None:
    nlu = _u(text, "which_slot", stage="scheduling")
    assert nlu.declines_meeting is True
    assert "not_interested" not in nlu.acts


def test_turning_down_everything_at_the_offer_is_still_a_refusal() -> None:
    nlu = _u("no thanks were not interested in any of this", "which_slot", stage="scheduling")
    assert "not_interested" in nlu.acts


@pytest.mark.parametrize(
    "text", ["when the markets right i guess", "once rates come down", "oh not for a while", "quite a ways off"]
)
def test_a_condition_or_a_vague_wait_is_an_unsure_timeline(text: str) -> None:
    assert _u(text, "timeline").slots["timeline"].value == "unsure"


def test_before_a_month_counts_to_that_month() -> None:
    assert _u("before april, thats when the twins are due", "timeline").slots["timeline"].value == 5


@pytest.mark.parametrize("text", ["eh not really", "nah not really"])
def test_neither_side_said_softly_is_a_refusal_worth_a_question(text: str) -> None:
    nlu = _u(text, "intent")
    assert "not_interested" in nlu.objections and "intent" not in nlu.slots


def test_a_no_to_another_question_says_nothing_of_an_agent() -> None:
    assert "has_agent" not in _u("not really, no", "intent").slots


def test_someone_who_knows_the_lead_is_no_wrong_number() -> None:
    assert "wrong_number" not in _u("i dunno man i dont keep track of him", "reach_time").acts


def test_a_minute_given_is_no_hold_on() -> None:
    assert "hold_on" not in _u("yeah for a sec", "permission", stage="opening").acts


def test_a_no_about_the_calls_themselves_turns_the_call_down() -> None:
    nlu = _u("oh great another one. we get like ten of these a day. no", "permission", stage="opening")
    assert "not_interested" in nlu.objections and "call_later" not in nlu.objections


def test_not_sure_names_no_side() -> None:
    assert "intent" not in _u("um not sure", "intent").slots


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("can you put me in touch with somebody who does condos", True),
        ("put us down for a walk through", True),
        ("is there anybody who can come look at the roof first", True),
        ("our neighbor put us in touch with you guys i think", False),
    ],
)
def test_asking_to_be_put_in_touch_is_asking_to_meet(text: str, wanted: bool) -> None:
    assert ("wants_meeting" in _u(text, None).acts) is wanted


def test_a_time_asked_about_is_no_time_picked() -> None:
    nlu = _u("sorry did you say nine or eleven", "which_slot", stage="scheduling")
    assert "ask_repeat" in nlu.acts and nlu.when is None


@pytest.mark.parametrize(
    "text",
    [
        "who gave you my number, actually forget you ever had it",
        "honestly id rather just not be contacted at all",
        "whatever list this is i want out of it",
        "what id really like is for these calls to stop",
        "consider me unreachable",
        "i dont want to talk to you people ever again",
    ],
)
def test_no_more_contact_said_in_yet_more_words_is_an_opt_out(text: str) -> None:
    assert _u(text, None).opt_out is True


@pytest.mark.parametrize(
    "text",
    [
        "the last outfit wouldnt quit calling but you guys seem fine, go ahead",
        "my sister said to tell you to stop calling her, but im actually interested",
        "stop stop you lost me say that again",
        "you called yesterday too right? whatever im listening",
        "nope dont want it dont want any of it were done here",
    ],
)
def test_words_near_an_opt_out_that_ask_for_none_are_not_obeyed(text: str) -> None:
    assert _u(text, None).opt_out is False


def test_both_of_us_counts_people_not_sides() -> None:
    assert "intent" not in _u("youd have to talk to both of us", "intent").slots


def test_not_knowing_is_no_agent() -> None:
    assert "has_agent" not in _u("huh ok. yeah no idea then", "has_agent").slots


def test_not_wanting_to_talk_to_the_agent_asks_for_no_meeting() -> None:
    assert "wants_meeting" not in _u("no i dont want to talk to dana", "which_slot", stage="scheduling").acts


def test_a_bare_no_to_the_times_offered_turns_down_those_times_only() -> None:
    nlu = _u("nope", "which_slot", stage="scheduling")
    assert "declines_meeting" not in nlu.acts and nlu.answer is False


def test_where_to_try_someone_is_when_to_call() -> None:
    assert "call_later" in _u("hes home tonight, try around seven", "intent").objections


def test_asking_for_a_ballpark_asks_what_the_home_is_worth() -> None:
    assert "ask_home_value" in _u("you cant even give me a ballpark", "timeline").acts


def test_an_opt_out_turned_into_a_question_is_not_dropped_for_the_answer_beside_it() -> None:
    # Heard by the classifier alone, in words it has no pattern for, beside a turned-down meeting: still asked about.
    nlu = _u("nothing personal but i want to be taken out of the rotation", "which_slot", stage="scheduling")
    assert nlu.opt_out or nlu.opt_out_unsure


@pytest.mark.parametrize(
    "text",
    [
        "wait how do you have this number i want it deleted",
        "go ahead and scrub all my information please",
        "uh take me offer list thanks",
        "i want out of your calling list today",
    ],
)
def test_the_number_wanted_gone_in_other_words_is_an_opt_out(text: str) -> None:
    assert _u(text, "permission", stage="opening").opt_out is True


@pytest.mark.parametrize(
    "text",
    [
        "dont call me betty nobody calls me that its liz",
        "please dont call me sir it makes me feel ancient",
        "i want out of this town the winters are brutal",
        "dont call this line in the morning afternoons are fine",
    ],
)
def test_a_name_a_place_or_an_hour_turned_down_is_no_opt_out(text: str) -> None:
    nlu = _u(text, "motivation")
    assert nlu.opt_out is False and "opt_out" not in nlu.acts


@pytest.mark.parametrize(
    "text",
    [
        "stop, wait, who is this again",
        "youll need to speak up hon i cant hear too well these days",
        "oh i thought you were the roofing guys i keep telling them to quit calling, anyway what is it",
        "quit calling, ha, no no i do have a minute, go ahead",
        "and take me off the postcard mailing list but calls are ok",
    ],
)
def test_opt_out_words_beside_signs_of_something_else_are_asked_about_not_obeyed(text: str) -> None:
    nlu = _u(text, "permission", stage="opening")
    assert nlu.opt_out is False


def test_who_answers_our_questions_is_the_lead_whoever_they_mention() -> None:
    assert "not_the_lead_available" not in _u("dad passed in june and left me the place", "motivation").acts
    assert (
        "not_the_lead_available"
        not in _u("could she come by friday at ten and see the house", "which_slot", stage="scheduling").acts
    )


@pytest.mark.parametrize(
    ("text", "months"),
    [("ate months or so", 8), ("sicks months tops", 6)],
)
def test_a_count_of_months_misheard_is_still_counted(text: str, months: int) -> None:
    assert _u(text, "timeline").slots["timeline"].value == months


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ("too point two million", {"min": 2_200_000, "max": 2_200_000}),
        ("won point four", {"min": 1_400_000, "max": 1_400_000}),
        ("county has it at four ten but its worth five at least", {"min": 500_000}),
    ],
)
def test_figures_misheard_or_beside_an_official_estimate(text: str, price: dict[str, int]) -> None:
    got = _u(text, "price").slots["price"].value
    assert all(got[k] == v for k, v in price.items())


def test_a_year_said_as_oh_nine_is_no_price() -> None:
    assert "price" not in _u("we got it for two eighty back in oh six, no clue now", "price").slots


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("the yard work is too much at my age", "downsizing"),
        ("were heading back home to ohio", "relocation"),
        ("its all about cap rates for me", "investment"),
        ("my wife is due in april", "growing_family"),
    ],
)
def test_reasons_in_yet_more_words(text: str, reason: str) -> None:
    assert _u(text, "motivation").slots["motivation"].value == reason


def test_a_relative_in_the_trade_is_an_agent_and_real_estate_is_no_estate() -> None:
    nlu = _u("my nephew does real estate so hes got it", None)
    assert nlu.slots["has_agent"].value is True and "motivation" not in nlu.slots


@pytest.mark.parametrize("text", ["no real time line honestly", "no set plans yet"])
def test_no_plans_is_an_unsure_timeline(text: str) -> None:
    assert _u(text, "timeline").slots["timeline"].value == "unsure"


def test_the_lead_saying_who_they_are_is_no_wrong_number() -> None:
    assert "wrong_number" not in _u("this is maria, yes", "permission", stage="opening").acts


def test_a_no_at_the_end_answers_whatever_came_before_it() -> None:
    nlu = _u("my uncle used to sell houses but hes retired so no", "has_agent")
    assert nlu.answer is False and nlu.slots["has_agent"].value is False


def test_how_often_we_call_is_no_timeline() -> None:
    assert "timeline" not in _u("i get like six of these calls a week", "permission", stage="opening").slots


def test_someone_elses_sale_names_no_side_of_the_leads() -> None:
    assert "intent" not in _u("the owner is selling the building so we gotta find a place", "motivation").slots


def test_two_people_moving_in_together_is_no_growing_family() -> None:
    assert _u("moving in with my girlfriend", "motivation").slots["motivation"].value != "growing_family"


def test_not_moving_said_with_a_shrug_turns_the_call_down() -> None:
    assert "not_interested" in _u("im really not moving, never mind", "motivation").acts


@pytest.mark.parametrize(
    "text",
    [
        "we were thinking of listing but we changed our minds",
        "honestly theres no move happening",
        "we already sold the place last month, so we're fine",
    ],
)
def test_a_move_given_up_or_already_made_turns_the_call_down(text: str) -> None:
    assert "not_interested" in _u(text, "timeline").objections


def test_a_home_already_sold_on_the_way_to_buying_is_no_refusal() -> None:
    nlu = _u("we already sold our house so now were looking to buy", "motivation")
    assert "not_interested" not in nlu.objections


def test_a_place_bought_to_rent_out_is_an_investment() -> None:
    assert _u("we want a duplex so we can rent the other unit out", "motivation").slots["motivation"].value == (
        "investment"
    )


@pytest.mark.parametrize(
    "text",
    ["we do want to sell at some point, the timing is just off right now", "i mean its not the right time for us"],
)
def test_a_no_to_now_in_so_many_words_turns_the_call_down(text: str) -> None:
    assert "not_interested" in _u(text, "price").objections


def test_a_bad_time_named_beside_a_timeline_is_no_refusal() -> None:
    nlu = _u("probably the fall, bad timing right now with the holidays", "timeline")
    assert "not_interested" not in nlu.objections and nlu.slots["timeline"].value


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("and dont you ever ring here again", "price"),
        ("you neednt bother calling anymore", "timeline"),
        ("just delete us okay", "address"),
        ("ree move my numbah please", "permission"),
        ("i want all my details erased", "has_agent"),
        ("i told you stop calling me, i wont say it again", "permission"),
        ("un subscribe", "permission"),
    ],
)
def test_opt_outs_in_words_and_mishearings_the_patterns_did_not_know(text: str, pending: str) -> None:
    assert _u(text, pending, stage="opening" if pending == "permission" else "qualifying").opt_out


@pytest.mark.parametrize(
    "text",
    ["shoot my other phone is ringing i gotta grab it, bye", "hang on i got another call coming in, gotta take it bye"],
)
def test_another_call_on_the_leads_phone_is_no_opt_out(text: str) -> None:
    nlu = _u(text, "price")
    assert not nlu.opt_out and "goodbye" in nlu.acts


def test_how_someone_takes_calls_at_all_is_asked_about_not_obeyed() -> None:
    nlu = _u("this is his son, dad doesnt really take phone calls anymore", "permission", stage="opening")
    assert not nlu.opt_out


def test_calls_counted_this_month_are_no_timeline() -> None:
    nlu = _u("you people rang me like four times this month", "intent")
    assert "timeline" not in nlu.slots and (nlu.opt_out or nlu.opt_out_unsure)


def test_asking_whether_the_caller_is_someone_they_met_is_no_wrong_number() -> None:
    nlu = _u("wait is this the guy from the open house on sunday", "permission", stage="opening")
    assert not nlu.wrong_number and "wrong_number" not in nlu.acts


@pytest.mark.parametrize(
    "text", ["im not allowed to talk on the phone with strangers", "are you a talking robot like on my cartoon"]
)
def test_a_child_gives_itself_away_by_its_rules_and_its_world(text: str) -> None:
    assert "child" in _u(text, "permission", stage="opening").acts


def test_a_grown_up_who_says_their_age_is_no_child() -> None:
    assert "child" not in _u("im thirty one and my mom keeps telling me to stop renting", "motivation").acts


def test_an_actual_human_asked_about_mid_answer_is_the_ai_question() -> None:
    assert "robot" in _u("we got a new job in denver, wait am i speaking with a real human", "motivation").asks


def test_a_time_given_when_asked_for_one_answers_it_and_asks_for_no_other_call() -> None:
    nlu = _u("try me monday at four ok bye", "callback_time", stage="callback")
    assert "call_later" not in nlu.acts and "call_later" not in nlu.objections


def test_what_was_paid_in_a_named_year_is_not_the_price() -> None:
    nlu = _u("we got it back in oh five for two ten, now its worth maybe four fifty", "price")
    assert nlu.slots["price"].value == {"min": 450000, "max": 450000}


def test_the_next_home_bought_elsewhere_is_relocation() -> None:
    assert _u("our new house in reno closes in february", "timeline").slots["motivation"].value == "relocation"


@pytest.mark.parametrize("text", ["hard pass", "honestly we dont need your services"])
def test_the_service_turned_down_in_slang_or_plainly_is_a_refusal(text: str) -> None:
    assert "not_interested" in _u(text, "permission", stage="opening").objections


def test_not_moving_at_all_is_a_no_whatever_story_comes_with_it() -> None:
    nlu = _u("nope we aint moving at all, we just like looking at other peoples bathrooms", "none")
    assert "not_interested" in nlu.objections


def test_no_side_is_guessed_from_a_line_without_a_word_of_it() -> None:
    assert "intent" not in _u("oh bayside, my cousin used you guys once", "intent").slots


def test_a_list_that_is_not_for_calls_is_no_opt_out() -> None:
    assert not _u("i dont want to be on the buyers list, put me on the sellers one", "intent").opt_out


def test_not_wanting_to_be_on_any_call_list_is_an_opt_out() -> None:
    assert _u("i just wanted a price, i dont want to be on any call list", "motivation").opt_out
