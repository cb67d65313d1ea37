"""Dialing when Twilio fails on its side: a 5xx answer or a timeout never leads to a second dial of one attempt.

The real twilio client talks to a local server replaying Twilio's responses
(tests/twilio_replay.py); nothing is patched. The claim is released by the
stale-claim sweep, and the lead gets its next attempt after the campaign's delay.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from calls.models import Call, Campaign
from dialer import services as dialer
from dialer.services import DialResult
from integrations.twilio import client as twilio_client
from tests.factories import CampaignFactory, ConsentFactory, LeadFactory
from tests.twilio_replay import TwilioReplay, twilio_replay_server

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("state_rules", "inside_the_window")]

Capture = Callable[..., Any]


@pytest.fixture
def twilio(settings: Any) -> Iterator[TwilioReplay]:
    settings.PUBLIC_BASE_URL = "https://agent.example.com"
    with twilio_replay_server(settings) as server:
        yield server
        if server.hold is not None:
            server.hold.set()


def _one_lead_campaign() -> Campaign:
    campaign = CampaignFactory.create(status=Campaign.Status.ACTIVE, retry_delay_minutes=60, max_attempts=3)
    lead = LeadFactory.create()
    ConsentFactory.create(lead=lead)
    campaign.leads.add(lead)
    return campaign


def _dial_due(capture: Capture) -> list[int]:
    with capture():
        return [call_id for ids in dialer.campaigns_dial_due().values() for call_id in ids]


def _creates(twilio: TwilioReplay) -> int:
    return sum(1 for r in twilio.requests if r["path"].endswith("/Calls.json"))


def _it_releases_the_claim_and_retries_once(capture: Capture, twilio: TwilioReplay, call_id: int) -> None:
    """After an unknown dial outcome: no second dial of the attempt, then one new attempt after the delay."""
    assert dialer.call_dial(call_id=call_id) == DialResult.SKIPPED  # a redelivery of the task
    assert _dial_due(capture) == []  # the lead still has its call open
    assert _creates(twilio) == 1

    later = timezone.now() + dt.timedelta(seconds=settings.DIALER_CLAIM_TIMEOUT_S + 1)
    assert dialer.calls_stale_claims_fail(now=later) == 1
    call = Call.objects.select_related("lead").get(pk=call_id)
    assert (call.status, call.outcome) == (Call.Status.FAILED, Call.Outcome.FAILED)
    assert call.lead.next_attempt_at == call.ended_at + dt.timedelta(minutes=60)
    assert _dial_due(capture) == []  # not before the campaign's retry delay

    twilio.hold = None
    twilio.responses.append((201, "rest_call_create_201.json"))
    with time_machine.travel(call.lead.next_attempt_at + dt.timedelta(seconds=1), tick=True):
        (retry_id,) = _dial_due(capture)
        assert dialer.call_dial(call_id=retry_id) == DialResult.PLACED
    assert Call.objects.get(pk=retry_id).attempt == 2
    assert _creates(twilio) == 2  # one request per attempt


def test_it_never_dials_an_attempt_twice_after_a_twilio_server_error(
    django_capture_on_commit_callbacks: Capture, twilio: TwilioReplay
) -> None:
    _one_lead_campaign()
    twilio.responses.append((500, "rest_error_20500_500.json"))
    (call_id,) = _dial_due(django_capture_on_commit_callbacks)

    # A 5xx does not say whether Twilio placed the call before failing: the row stays claimed.
    assert dialer.call_dial(call_id=call_id) == DialResult.UNKNOWN
    assert Call.objects.get(pk=call_id).status == Call.Status.DIALING

    _it_releases_the_claim_and_retries_once(django_capture_on_commit_callbacks, twilio, call_id)


def test_it_never_dials_an_attempt_twice_after_a_twilio_timeout(
    django_capture_on_commit_callbacks: Capture, twilio: TwilioReplay, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Twilio receives the request and never answers within the client's timeout.
    monkeypatch.setattr(twilio_client, "REQUEST_TIMEOUT_S", 0.5)
    twilio.hold = threading.Event()
    _one_lead_campaign()
    (call_id,) = _dial_due(django_capture_on_commit_callbacks)

    assert dialer.call_dial(call_id=call_id) == DialResult.UNKNOWN
    assert Call.objects.get(pk=call_id).status == Call.Status.DIALING
    twilio.hold.set()

    _it_releases_the_claim_and_retries_once(django_capture_on_commit_callbacks, twilio, call_id)
