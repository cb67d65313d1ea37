from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Component, PriceItem
from calls.models import Call, Campaign, TranscriptTurn
from tests.factories import CallFactory, CampaignFactory, CostEntryFactory, LeadFactory, TranscriptTurnFactory

SVG = "{http://www.w3.org/2000/svg}"


def at(day: int, hour: int = 10) -> dt.datetime:
    """Return 2026-03-<day> at <hour>:00 in the server's zone (the dashboard's days are in TIME_ZONE)."""
    return timezone.make_aware(dt.datetime(2026, 3, day, hour))


def chart(html: str, name: str) -> ET.Element:
    """Return the parsed <svg data-chart="name"> of a page."""
    found = re.search(rf'<svg class="chart" data-chart="{re.escape(name)}".*?</svg>', html, re.S)
    assert found is not None, f"no {name} chart on the page"
    return ET.fromstring(found.group(0))


def bars(svg: ET.Element) -> dict[str, str]:
    """Return the chart's bars as {data-label: data-value}."""
    return {
        rect.get("data-label", ""): rect.get("data-value", "")
        for rect in svg.iter(f"{SVG}rect")
        if rect.get("data-label")
    }


def cost(call: Call, amount: str, component: str = Component.TELEPHONY) -> None:
    CostEntryFactory(call=call, component=component, amount_usd=Decimal(amount), unit=PriceItem.Unit.MINUTE)


def agent_turn(call: Call, index: int, latency_ms: int, text: str = "Great, thanks for telling me.") -> TranscriptTurn:
    return TranscriptTurnFactory(
        call=call,
        index=index,
        speaker=TranscriptTurn.Speaker.AGENT,
        text=text,
        started_ms=index * 4000,
        latency_ms=latency_ms,
        vad_stop_ms=200,
        stt_ms=latency_ms // 4,
        brain_first_text_ms=latency_ms // 2,
        tts_first_audio_ms=latency_ms - 20,
    )


@dataclass
class CampaignCalls:
    campaign: Campaign
    booked: Call
    qualified: Call
    voicemail: Call
    no_answer: Call
    queued: Call


@pytest.fixture
def campaign_calls(db: None) -> CampaignCalls:
    """A campaign with 5 leads and 4 placed calls over three days, plus one still queued.

    Placed 4; reached 2 (a person answered); qualified 2 (one qualified, one booked);
    booked 1; cost $0.0300 + $0.0200 + $0.0100 = $0.0600.
    """
    campaign = CampaignFactory(name="Spring sellers", status=Campaign.Status.ACTIVE)
    leads = LeadFactory.create_batch(5)
    campaign.leads.add(*leads)
    human = {"answered_by": Call.AnsweredBy.HUMAN, "status": Call.Status.COMPLETED}
    booked = CallFactory(
        campaign=campaign,
        lead=leads[0],
        dialed_at=at(2),
        answered_at=at(2),
        outcome=Call.Outcome.APPOINTMENT,
        score=85,
        duration_seconds=120,
        summary="Selling in spring; booked a valuation.",
        **human,
    )
    qualified = CallFactory(
        campaign=campaign,
        lead=leads[1],
        dialed_at=at(2, 11),
        answered_at=at(2, 11),
        outcome=Call.Outcome.QUALIFIED,
        score=72,
        duration_seconds=90,
        **human,
    )
    voicemail = CallFactory(
        campaign=campaign,
        lead=leads[2],
        dialed_at=at(3),
        answered_at=at(3),
        answered_by=Call.AnsweredBy.MACHINE,
        status=Call.Status.COMPLETED,
        outcome=Call.Outcome.VOICEMAIL,
        score=10,
    )
    no_answer = CallFactory(campaign=campaign, lead=leads[3], dialed_at=at(4), status=Call.Status.NO_ANSWER)
    queued = CallFactory(campaign=campaign, lead=leads[4])
    cost(booked, "0.0280")
    cost(booked, "0.0020", Component.STT)
    cost(qualified, "0.0200")
    cost(voicemail, "0.0100")
    cost(queued, "0.5000")  # never dialed: not in any figure
    agent_turn(booked, 1, 400)
    agent_turn(booked, 3, 600)
    agent_turn(qualified, 1, 800)
    return CampaignCalls(campaign, booked, qualified, voicemail, no_answer, queued)
