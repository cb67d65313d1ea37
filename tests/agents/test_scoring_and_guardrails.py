"""Lead scoring and the reply guardrails."""

from __future__ import annotations

from typing import Any

import pytest

from agents import prompts
from agents.guardrails import GuardFacts, check_reply
from agents.scoring import ScoringRules, score_slots

HOT_SELLER: dict[str, dict[str, Any]] = {
    "intent": {"value": "sell"},
    "timeline": {"value": 2},
    "motivation": {"value": "relocation"},
    "price": {"value": {"min": 650000, "max": 650000}},
    "has_agent": {"value": False},
    "address": {"value": {"address": "12 Oak Street", "confirmed": True}},
}


def test_a_seller_who_answers_everything_well_scores_100_without_a_financing_factor() -> None:
    score = score_slots(HOT_SELLER, ScoringRules())

    assert (score.value, score.bucket) == (100, "hot")
    assert "financing" not in score.factors


def test_a_buyer_is_scored_on_financing_too() -> None:
    buyer = {**HOT_SELLER, "intent": {"value": "buy"}, "financing": {"value": "needs_financing"}}

    score = score_slots(buyer, ScoringRules())

    # Financing weighs 20 of 100 and "needs financing" counts 0.4 of it.
    assert score.value == 88
    assert score.factors["financing"] == 0.4


def test_a_lead_with_an_agent_a_far_timeline_and_no_reason_is_cold() -> None:
    slots = {**HOT_SELLER, "timeline": {"value": 24}, "motivation": {"value": "curious"}, "has_agent": {"value": True}}

    assert score_slots(slots, ScoringRules()).bucket == "cold"


def test_unknown_slots_count_as_zero() -> None:
    assert score_slots({}, ScoringRules()).value == 0


def test_the_weights_and_thresholds_come_from_the_rules() -> None:
    rules = ScoringRules(
        weights={"intent": 1, "timeline": 0, "motivation": 0, "price": 0, "financing": 0, "has_agent": 1, "address": 0},
        hot_threshold=90,
        warm_threshold=60,
    )
    slots: dict[str, dict[str, Any]] = {"intent": {"value": "buy"}, "has_agent": {"value": True}}

    score = score_slots(slots, rules)

    assert (score.value, score.bucket) == (50, "cold")


FACTS = GuardFacts.build(
    texts=["+14155550100", "415-555-0100", "um maybe six fifty", "1 3 0"],
    names=["Alex", "Bayside Realty", "Jane", "Dana Whitfield", "12 Oak Street"],
)


@pytest.mark.parametrize(
    "reply",
    [
        "I'm an AI assistant calling for Bayside Realty.",
        "You can reach the team at 415-555-0100.",
        "So around six fifty? And are you working with an agent?",
        "You're all set. Dana Whitfield will meet with you Tuesday, December 1 at 3 PM, your time.",
    ],
)
def test_it_lets_honest_replies_through(reply: str) -> None:
    assert check_reply(reply, FACTS).violations == ()


@pytest.mark.parametrize(
    ("reply", "violation"),
    [
        ("No, this is not a robot, I'm a real person.", "denies_ai"),
        ("I'm a human, don't worry.", "denies_ai"),
        ("I am not an AI.", "denies_ai"),
        ("We guarantee we'll sell your home in 30 days.", "promise"),
        ("We can get you top dollar.", "promise"),
        ("Your home is worth at least 800 thousand.", "promise"),
        ("Our commission is only 2 percent.", "promise"),
        ("We're the top-rated team in the area.", "company_claim"),
        ("Our agents have sold hundreds of homes.", "company_claim"),
        ("You said you wanted to move in March.", "lead_claim"),
        ("Call us at 555-0199.", "invented_number"),
        ("I can have our agent Mike call you.", "invented_name"),
        ("**Great!** Visit https://example.com", "format"),
    ],
)
def test_it_stops_a_reply_that_breaks_a_rule(reply: str, violation: str) -> None:
    assert violation in check_reply(reply, FACTS).violations


def _fill(template: str) -> str:
    return template.format(
        name=", Jane",
        first_name="Jane",
        agent_name="Alex",
        business_name="Bayside Realty",
        call_purpose="to see if you're thinking about buying or selling a home",
        callback="415-555-0100",
        source="an open house sign-in sheet",
        address="12 Oak Street",
        broker="Dana Whitfield",
        slots="tomorrow at 1 PM or Monday at 3 PM",
        asked="Tuesday at 3 PM",
        when="Tuesday, December 1 at 3 PM",
        email="jane at example dot com",
    )


TEMPLATES = [
    value
    for name, value in vars(prompts).items()
    if name.isupper() and isinstance(value, str) and not name.endswith(("SYSTEM",))
] + [q for pair in prompts.QUESTIONS.values() for q in pair]


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_passes_the_guardrails(template: str) -> None:
    facts = GuardFacts.build(
        texts=["415-555-0100", "1 3 1 3 3", "12 Oak Street"],
        names=["Alex", "Bayside Realty", "Jane", "Dana Whitfield", "12 Oak Street", "open house"],
    )

    assert check_reply(_fill(template), facts).violations == ()


def _slots(**values: Any) -> dict[str, dict[str, Any]]:
    return {name: {"value": value} for name, value in values.items()}


SELLER_ANSWERED = {"intent": "sell", "motivation": "relocation", "price": {"min": 5, "max": 5}, "has_agent": False}


@pytest.mark.parametrize(
    ("case", "slots", "booked", "asked", "bucket"),
    [
        ("answered everything, moving in 2 months", _slots(**SELLER_ANSWERED, timeline=2), False, False, "hot"),
        ("answered everything, moving in 6 months", _slots(**SELLER_ANSWERED, timeline=6), False, False, "warm"),
        ("answered everything, a year out", _slots(**SELLER_ANSWERED, timeline=12), False, False, "cold"),
        ("answered everything, no timeline", _slots(**SELLER_ANSWERED), False, False, "warm"),
        ("booked with nothing else known", {}, True, False, "warm"),
        ("booked, moving in 2 months", _slots(intent="sell", timeline=2), True, False, "hot"),
        ("booked, a year out", _slots(intent="sell", timeline=12), True, False, "warm"),
        ("asked to meet, nothing else known", _slots(intent="buy"), False, True, "warm"),
        ("asked to meet, moving next month", _slots(intent="buy", timeline=1), False, True, "hot"),
        ("just curious, two years out", _slots(intent="sell", timeline=24, motivation="curious"), False, False, "cold"),
        ("only the intent", _slots(intent="buy"), False, False, "cold"),
    ],
    ids=lambda value: value if isinstance(value, str) and " " in value else None,
)
def test_the_bucket_a_broker_sees(
    case: str, slots: dict[str, dict[str, Any]], booked: bool, asked: bool, bucket: str
) -> None:
    score = score_slots(slots, ScoringRules(), booked=booked, asked_to_meet=asked)

    assert score.bucket == bucket, (case, score.value, score.reasons)
    assert score.reasons, "every score says why"


def test_the_reasons_name_each_factor_and_the_ceiling() -> None:
    score = score_slots(_slots(**SELLER_ANSWERED, timeline=6), ScoringRules())

    assert "Timeline: 6 months (18 of 30)" in score.reasons
    assert "Price: $5 (10 of 10)" in score.reasons
    assert "Moving in 6 months: at most warm" in score.reasons
