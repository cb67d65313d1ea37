"""A whole voice call past its per-call cost limit: priced while it runs, wrapped up politely, hung up by us.

The Twilio emulator dials through our webhooks into daphne and a Piper-voiced
persona talks with the real pipeline, as in test_whole_call.py; the app prices
the call every second here instead of every ten.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from billing.models import CostEntry
from calls.models import Call, TranscriptTurn
from emulator import audio
from emulator.server import emulator_in_thread
from integrations.twilio.client import OutboundCall, call_create
from tests.factories import BudgetFactory, CallFactory, ConsentFactory
from tests.voice.settle import recorded_call_settled

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WRAP_UP = (
    "I'm sorry, I have to wrap up our call here. Bayside Realty will follow up with you, "
    "and you can always reach the team at 415-555-0100. Thanks so much for your time, Dana. Goodbye."
)


@pytest.fixture
def fast_meter(monkeypatch: pytest.MonkeyPatch) -> None:
    # Read by the daphne process live_app starts, so it must be set before live_app.
    monkeypatch.setenv("BILLING_METER_INTERVAL_S", "1")


def test_it_wraps_up_a_whole_call_that_reaches_its_per_call_limit(
    fast_meter: None, live_app: str, settings: Any, emulator_port: int
) -> None:
    audio.warm_up()
    call = CallFactory(lead__state="CA", lead__first_name="Dana", campaign__business_name="Bayside Realty")
    ConsentFactory(lead=call.lead)
    # The first started minute of telephony ($0.014) is already past it.
    BudgetFactory(campaign=call.campaign, per_call_limit_usd=Decimal("0.01"))
    with emulator_in_thread(port=emulator_port) as emulator:
        emulator.server.assign(call.lead.phone, "interested_seller")
        settings.TWILIO_API_BASE_URL = emulator.server.base_url
        sid = call_create(
            OutboundCall.to_our_webhooks(call_id=call.pk, to=call.lead.phone, from_="+14155550100", base_url=live_app)
        )
        emulated = emulator.run(emulator.server.wait_call(sid, timeout=240))
    call = recorded_call_settled(call.pk)

    agent_lines = list(call.turns.filter(speaker=TranscriptTurn.Speaker.AGENT).values_list("text", flat=True))
    transcript = "\n".join(agent_lines)
    assert call.status == Call.Status.COMPLETED, transcript
    # The opening, perhaps one answer, then the goodbye, and nothing after it.
    assert agent_lines[-1].endswith(WRAP_UP), transcript
    assert len(agent_lines) <= 3, transcript
    # We hung up, after Twilio confirmed the goodbye had played.
    assert [e["status"] for e in emulated.timeline.find("rest_update")] == ["completed"]
    assert emulated.timeline.find("mark_echoed")
    # Priced while it ran and once more at the end, telephony on Twilio's duration per started minute.
    ledger = dict(CostEntry.objects.filter(call=call).values_list("component", "quantity"))
    assert {"telephony", "llm", "recording"} <= set(ledger), ledger
    assert call.duration_seconds is not None
    assert ledger["telephony"] == Decimal(-(-call.duration_seconds // 60))
