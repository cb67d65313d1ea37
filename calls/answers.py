"""What the agent answers to the questions leads ask in passing (AnswerTopic), unless the campaign sets its own.

Formatted with the campaign's {business_name} and spoken {callback} number (agents.prompts speaks them).
"""

from __future__ import annotations

# Questions a lead asks in passing, answered before going back to where the call was.
# None quotes a figure the agent could not source: prices, values and rates come from a broker.
ANSWERS = {
    "ask_scam": (
        "That's a fair question. This is a real call from {business_name}, made by an AI assistant. "
        "I'll never ask you for payment or bank details, and you can check with the team at {callback}."
    ),
    "ask_home_value": (
        "I can't put a number on it from here, but one of our agents can meet with you and give you a free "
        "valuation of your home, with no obligation."
    ),
    "ask_rates": (
        "I can't quote interest rates on this call. A lender, or one of our agents, can give you "
        "today's figures for your situation."
    ),
    "ask_market": (
        "I don't have local market figures I can quote on this call, but one of our agents can walk you "
        "through what's happening in your area."
    ),
    "ask_cost": (
        "There's no cost to you for this call or for talking with one of our agents. "
        "Any fees are something you'd go over directly with the agent before signing anything."
    ),
    "ask_next_steps": (
        "After this call, one of our agents can reach out to talk through your plans, with no obligation. "
        "I just have a few quick questions first."
    ),
    "ask_meeting_format": "Whichever suits you: the agent can meet you in person or talk it through over the phone.",
}
