"""The compliance lines are always spoken: whatever the names, the opening discloses and offers the opt-out."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents import prompts
from agents.brain import Conversation
from agents.context import AgentContext
from leads.names import spoken_label_problem
from tests.agents.contexts import agent_context

DISCLOSURE = "an AI assistant calling for"
OPT_OUT = "say stop calling"


def _context(**overrides: Any) -> AgentContext:
    return agent_context(**{"business_name": "Bay Homes", **overrides})


def _opening(**overrides: Any) -> str:
    return async_to_sync(Conversation(context=_context(**overrides)).opening)().text


def _opt_out_reply(**overrides: Any) -> str:
    async def run() -> str:
        conversation = Conversation(context=_context(**overrides))
        await conversation.opening()
        return (await conversation.respond("please take me off your list")).text

    return async_to_sync(run)()


@pytest.mark.parametrize(
    ("first_name", "greeting"),
    [
        ("O'Brien", "Hi O'Brien, this is Alex"),
        ("Jane #2", "Hi Jane, this is Alex"),
        ("[Unknown]", "Hi, this is Alex"),
        ("Bob_Smith", "Hi Bob Smith, this is Alex"),
        ("N/A", "Hi, this is Alex"),
        ("Sam (cell)", "Hi Sam, this is Alex"),
        ("O'Brien #2", "Hi O'Brien, this is Alex"),
        ("MARY", "Hi Mary, this is Alex"),
        ("-", "Hi, this is Alex"),
    ],
)
def test_it_discloses_and_speaks_a_clean_name_whatever_the_crm_sent(first_name: str, greeting: str) -> None:
    text = _opening(lead_first_name=first_name)

    assert text.startswith(greeting)
    assert f"{DISCLOSURE} Bay Homes" in text
    assert OPT_OUT in text
    assert prompts.SAFE_FALLBACK not in text


def test_a_business_name_saved_before_the_checks_is_spoken_without_its_symbols() -> None:
    text = _opening(business_name="Compass #1 Team")

    assert f"{DISCLOSURE} Compass 1 Team" in text
    assert OPT_OUT in text


def test_a_business_name_that_reads_like_a_boast_is_still_named_in_the_disclosure() -> None:
    text = _opening(business_name="Top Rated Number One Realty")

    assert f"{DISCLOSURE} Top Rated Number One Realty" in text


def test_an_opening_the_guard_refuses_falls_back_to_the_fixed_disclosure_and_logs_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="agents.graph"):
        text = _opening(call_purpose="because we guarantee top dollar for your home")

    assert text == prompts.OPENING_FIXED
    assert "AI assistant" in text and OPT_OUT in text
    assert any("promise" in str(getattr(r, "violations", "")) for r in caplog.records)


def test_the_fixed_lines_pass_the_guard_on_their_own() -> None:
    from agents.guardrails import GuardFacts, check_reply

    for text in (prompts.OPENING_FIXED, prompts.OPT_OUT_CONFIRM_FIXED, prompts.WHO_FIXED, prompts.ROBOT_FIXED):
        assert check_reply(text, GuardFacts()).ok, text


def test_the_recording_notice_survives_a_fallback() -> None:
    text = _opening(call_purpose="to get you the highest price", announce_recording=True)

    assert prompts.RECORDING_NOTICE.strip() in text
    assert OPT_OUT in text


def test_the_opt_out_confirmation_names_the_business_whatever_the_lead_is_called() -> None:
    text = _opt_out_reply(lead_first_name="[Unknown] #3", business_name="Compass #1 Team")

    assert "off our call list" in text
    assert "Compass 1 Team won't call you again" in text


# --- properties: any names the campaign form accepts --------------------------------------------------------------

_label_chars = st.characters(codec="latin-1", categories=["L", "Nd", "Zs"], include_characters="&'.,-")
business_names = st.text(_label_chars, min_size=1, max_size=60).filter(
    lambda s: not spoken_label_problem(s, field="business_name")
)
agent_names = st.text(_label_chars, min_size=1, max_size=20).filter(
    lambda s: not spoken_label_problem(s, field="agent_name")
)
lead_names = st.text(max_size=40)


def _spoken(label: str) -> str:
    return " ".join(label.split())


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(first_name=lead_names, business_name=business_names, agent_name=agent_names)
def test_every_opening_discloses_names_the_business_and_offers_the_opt_out(
    first_name: str, business_name: str, agent_name: str
) -> None:
    text = _opening(lead_first_name=first_name, business_name=business_name, agent_name=agent_name)

    assert prompts.SAFE_FALLBACK not in text
    assert "AI assistant" in text and OPT_OUT in text
    assert f"{DISCLOSURE} {_spoken(business_name)}." in text or text == prompts.OPENING_FIXED
    assert text != prompts.OPENING_FIXED, "accepted names must never need the fixed disclosure"


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(first_name=lead_names, business_name=business_names, agent_name=agent_names)
def test_every_voicemail_discloses_names_the_business_and_says_how_to_opt_out(
    first_name: str, business_name: str, agent_name: str
) -> None:
    text = prompts.voicemail_message(
        agent_name=agent_name,
        business_name=business_name,
        call_purpose="to see if you're thinking about buying or selling a home",
        callback_number="+14155550199",
        first_name=first_name,
    )

    assert f"{DISCLOSURE} {_spoken(business_name)}." in text
    assert "call us back at 415-555-0199" in text
    assert "say stop" in text


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(first_name=lead_names, business_name=business_names)
def test_every_opt_out_confirmation_names_the_business(first_name: str, business_name: str) -> None:
    text = _opt_out_reply(lead_first_name=first_name, business_name=business_name)

    assert prompts.SAFE_FALLBACK not in text
    assert f"{_spoken(business_name)} won't call you again" in text


@pytest.mark.parametrize("name", ["Compass #1 Team", "RE/MAX*", "🏠 Homes", "中文地产", "<b>Realty</b>", "a " * 12])
def test_the_campaign_refuses_a_business_name_that_cannot_be_spoken(name: str) -> None:
    from calls.models import Campaign

    campaign = Campaign(name="Spring", business_name=name, callback_number="+14155550199")

    with pytest.raises(ValidationError) as caught:
        campaign.clean_fields(exclude=[f.name for f in Campaign._meta.fields if f.name != "business_name"])

    assert "business_name" in caught.value.message_dict


@pytest.mark.parametrize("name", ["Keller Williams Realty", "Smith & Sons, Inc.", "Century 21", "José's Homes"])
def test_the_campaign_accepts_real_business_names(name: str) -> None:
    assert spoken_label_problem(name, field="business_name") == ""
