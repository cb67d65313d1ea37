"""Slots read by the patterns and by the learned slot model together, as agents.nlu.understand returns them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agents.nlu import understand
from agents.slotmodel import SLOT_CORPUS, VALUES, slot_model

NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles"))


def _value(text: str, slot: str, pending: str | None = None) -> Any:
    found = understand(text, pending=pending, now=NOW, address_on_file="12 Oak Street").slots.get(slot)
    return None if found is None else found.value


def test_every_slot_corpus_line_is_well_formed() -> None:
    for number, line in enumerate(SLOT_CORPUS.read_text(encoding="utf-8").splitlines(), start=1):
        item = json.loads(line)
        assert item["text"] == item["text"].lower(), f"line {number} is not as speech-to-text gives it"
        for slot, value in item["slots"].items():
            if slot in VALUES:
                assert value in VALUES[slot], f"line {number}: {slot}={value!r}"


def test_a_bare_yes_states_an_agent_only_after_the_agent_question() -> None:
    assert _value("yeah", "has_agent", pending="has_agent") is True
    assert _value("yeah", "has_agent", pending="permission") is None
    assert _value("nope", "has_agent", pending="timeline") is None


def test_the_model_knows_no_slot_in_a_line_about_something_else() -> None:
    guesses = slot_model().guesses("what time is it over there", pending="intent")
    assert all(guess.value is None for guess in guesses.values())


@pytest.mark.parametrize(
    ("text", "pending", "months"),
    [
        ("uh probably next year", "timeline", 12),
        ("early next year i think", "timeline", 2),
        ("sometime after the first of the year", "timeline", 1),  # January, said in December
        ("um summertime maybe", "timeline", 6),
        ("i honestly dont know it depends on my job", "timeline", "unsure"),
        # A lead who asks what is usual and then answers: the answer stands, not the figure in the question.
        ("whats normal these days like six months? yeah probably spring", "timeline", 3),
        # A bare figure after a correction keeps the unit of the one it corrects.
        ("in two months actually no three the start date got pushed", "timeline", 3),
        ("four months or so i mean 6 tops", "timeline", 6),
        ("three months actually 2 of us are moving", "timeline", 3),
        ("probably in like for months", "timeline", 4),
        ("by summer next year", "timeline", 6),
        # How long so far, and the date of something done, are no timeline.
        ("weve been renting this tiny place for like six years and we want to buy", "intent", None),
        ("yeah we got preapproved in october", "financing", None),
    ],
)
def test_it_dates_a_timeline_from_today(text: str, pending: str, months: int | str) -> None:
    assert _value(text, "timeline", pending=pending) == months


@pytest.mark.parametrize(
    "text",
    [
        "my dad passed in march and left us the house",
        "we took it off the market in the spring",
        "are houses selling fast right now",
        "is it a good time to sell",
    ],
)
def test_a_date_of_something_done_or_a_market_question_is_no_timeline(text: str) -> None:
    assert _value(text, "timeline") is None


@pytest.mark.parametrize(
    ("text", "pending", "intent"),
    [
        ("are houses selling fast right now", None, None),
        ("people are buying like crazy around here", None, None),
        ("we already sold the old place", "permission", None),
        ("seller", "intent", "sell"),
        ("uh buyers", "intent", "buy"),
        ("we wanna list our place and find a new one", "intent", "both"),
    ],
)
def test_it_reads_the_leads_own_side_not_the_markets(text: str, pending: str | None, intent: str | None) -> None:
    assert _value(text, "intent", pending=pending) == intent


def test_an_agent_the_lead_no_longer_has_is_no_agent() -> None:
    assert _value("our realtor retired last year so nobody now", "has_agent", pending="has_agent") is False
    assert _value("we fired our agent after the deal fell through", "has_agent", pending="has_agent") is False


def test_not_for_a_couple_years_is_ahead_and_lived_here_for_ten_years_is_behind() -> None:
    assert _value("um not for a couple years", "timeline", pending="timeline") == 24
    assert _value("weve lived here for ten years", "timeline", pending="motivation") is None


@pytest.mark.parametrize(
    "text", ["nah its way too early for that", "ill think about it not now", "we'll let you know thanks"]
)
def test_it_hears_an_offered_meeting_turned_down(text: str) -> None:
    assert understand(text, pending="which_slot", stage="scheduling", now=NOW).declines_meeting


@pytest.mark.parametrize(
    ("text", "leaving"),
    [
        ("im about to walk into a meeting can you call later", True),
        ("sorry im driving right now", True),
        ("can you call me later this week", False),
    ],
)
def test_it_hears_a_lead_who_has_to_go_now(text: str, leaving: bool) -> None:
    assert understand(text, pending="permission", stage="opening", now=NOW).leaving is leaving


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("august probably", 8),
        ("uh may or june", 5),
        ("labor day probably", 9),
        ("by valentines day lol", 2),
        ("before the next school year starts", 8),
        ("buying hopefully before the new year", 1),
    ],
)
def test_a_month_or_a_holiday_said_alone_answers_when(text: str, months: int) -> None:
    slot = understand(text, pending="timeline", now=NOW).slots.get("timeline")

    assert slot is not None and slot.value == months


def test_may_the_verb_is_no_month() -> None:
    assert "timeline" not in understand("may i ask who this is", pending="timeline", now=NOW).slots


@pytest.mark.parametrize(
    ("text", "pending", "price"),
    [
        ("somewhere between four fifty and five hundred", "price", {"min": 450000, "max": 500000}),
        ("two hundred and fifty thousand", "price", {"min": 250000, "max": 250000}),
        ("for the new one maybe one point four to one point seven", "motivation", {"min": 1400000, "max": 1700000}),
        ("not interested in anything over five hundred", "price", {"max": 500000}),
        # Tenths said alone: of a million up to about two and a half, of a hundred thousand from three up.
        ("around one point two", "price", {"min": 1200000, "max": 1200000}),
        ("seven and a half maybe seven point five", "price", {"min": 750000, "max": 750000}),
        ("two point eight to three point two", "price", {"min": 2800000, "max": 3200000}),
        # A figure said again after a pause, or a question, does not run on into the next one.
        ("like one point six? one point six to one point seven maybe", "price", {"min": 1600000, "max": 1700000}),
        ("maybe two million? two to two point two", "price", {"min": 2000000, "max": 2200000}),
        # A correction of the price, made while answering the next question.
        (
            "nope no agent. oh sorry i meant six twenty, five eighty's what we paid in 2016",
            "has_agent",
            {"min": 620000, "max": 620000},
        ),
    ],
)
def test_it_reads_the_price_however_it_comes(text: str, pending: str, price: dict[str, int]) -> None:
    slot = understand(text, pending=pending, now=NOW).slots.get("price")

    assert slot is not None and slot.value == price


@pytest.mark.parametrize(
    ("text", "motivation"),
    [
        ("honestly the hoa fees are killing me its a money thing", "financial"),
        ("were just outgrowing this place", "upgrade"),
        ("upsizing", "upgrade"),
        ("were sizing up i guess", "upgrade"),
        ("our condos too small we wanna upgrade to like an actual house", "upgrade"),
        ("its cheaper out there were trying to cut costs", "financial"),
        ("weve got a third kid on the way", "growing_family"),
        ("for the new one maybe one point four to one point seven", None),
        ("um actually what do you think my house is worth", None),
    ],
)
def test_it_reads_the_reason_and_only_a_reason(text: str, motivation: str | None) -> None:
    slot = understand(text, pending="motivation", now=NOW).slots.get("motivation")

    assert (slot.value if slot else None) == motivation


def test_a_bad_line_is_not_a_divorce() -> None:
    u = understand("sorry youre breaking up can you repeat that", pending="permission", now=NOW)

    assert "motivation" not in u.slots


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ("like three fifty to four", {"min": 350_000, "max": 400_000}),
        ("four fifty maybe five", {"min": 450_000, "max": 500_000}),
        ("three fifty ish maybe four", {"min": 350_000, "max": 400_000}),
        ("four hundred maybe 5 bedrooms", {"min": 400_000, "max": 400_000}),
    ],
)
def test_a_second_bare_figure_is_in_the_first_ones_hundreds_of_thousands(text: str, price: dict[str, int]) -> None:
    assert _value(text, "price", pending="price") == price


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ("um maybe five twenty five seventy somewhere there", {"min": 520_000, "max": 570_000}),
        ("i'd guess three forty three sixty", {"min": 340_000, "max": 360_000}),
        ("eight twenty eight hundred twenty thousand i guess", {"min": 820_000, "max": 820_000}),
        ("three hundred grand to four hundo", {"min": 300_000, "max": 400_000}),
    ],
)
def test_shorthand_figures_side_by_side_are_two_figures(text: str, price: dict[str, int]) -> None:
    assert _value(text, "price", pending="price") == price


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ("the house across the street sold for six forty so probably seven hundred", {"min": 700_000, "max": 700_000}),
        ("we paid two ninety back in 2012 and we'd want like five twenty now", {"min": 520_000, "max": 520_000}),
        ("five ten i think, three eighty's what we paid for it", {"min": 510_000, "max": 510_000}),
        ("hoping for four to four fifty", {"min": 400_000, "max": 450_000}),
    ],
)
def test_another_homes_price_or_the_price_once_paid_is_not_the_answer(text: str, price: dict[str, int]) -> None:
    assert _value(text, "price", pending="price") == price


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("maybe four months no wait my wife says more like six", 6),
        ("oh wait actually i said six months but its more like three", 3),
        ("six months but like 3 kids so we need space", 6),
    ],
)
def test_a_corrected_timeline_stands(text: str, months: int) -> None:
    assert _value(text, "timeline", pending="timeline") == months


@pytest.mark.parametrize(
    ("text", "financing"),
    [
        ("we'd use the money from our house plus a loan", "needs_financing"),
        ("were working on the pre approval now", "needs_financing"),
        ("we're pre approved with a mortgage from chase", "preapproved"),
        ("pre approved and a loan officer lined up", "preapproved"),
    ],
)
def test_financing_in_passing(text: str, financing: str) -> None:
    assert _value(text, "financing", pending="financing") == financing
