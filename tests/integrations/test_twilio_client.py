"""The Twilio client module against a local server replaying Twilio's REST responses."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest

from integrations.twilio.client import (
    CallRecord,
    OutboundCall,
    TwilioError,
    TwilioOutcomeUnknown,
    call_create,
    call_fetch,
    call_hangup,
    rest_client,
)
from tests.conftest import FIXTURES
from tests.twilio_replay import ACCOUNT, TOKEN, TwilioReplay, twilio_replay_server


@pytest.fixture
def twilio_replay(settings: Any) -> Iterator[TwilioReplay]:
    with twilio_replay_server(settings) as server:
        yield server


OUTBOUND = OutboundCall(
    to="+14155550134",
    from_="+14155550100",
    voice_url="https://agent.example.com/twilio/voice/?call=7",
    status_callback_url="https://agent.example.com/twilio/status/?call=7",
    amd_callback_url="https://agent.example.com/twilio/amd/?call=7",
)


def test_it_creates_a_call_with_status_events_and_async_amd(twilio_replay: TwilioReplay) -> None:
    twilio_replay.responses.append((201, "rest_call_create_201.json"))

    sid = call_create(OUTBOUND)

    assert sid == "CA5f8e2b1c9d0a4e3f8b7c6d5e4f3a2b1c"
    (request,) = twilio_replay.requests
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    assert request["auth"] == "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    assert request["form"] == {
        "To": ["+14155550134"],
        "From": ["+14155550100"],
        "Url": ["https://agent.example.com/twilio/voice/?call=7"],
        "Method": ["POST"],
        "StatusCallback": ["https://agent.example.com/twilio/status/?call=7"],
        "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
        "StatusCallbackMethod": ["POST"],
        "MachineDetection": ["DetectMessageEnd"],
        "AsyncAmd": ["true"],
        "AsyncAmdStatusCallback": ["https://agent.example.com/twilio/amd/?call=7"],
        "AsyncAmdStatusCallbackMethod": ["POST"],
        "TimeLimit": ["14400"],
    }


def test_it_turns_a_twilio_rejection_into_a_clear_error(twilio_replay: TwilioReplay) -> None:
    twilio_replay.responses.append((400, "rest_error_21211_400.json"))
    with pytest.raises(TwilioError, match=r"Invalid 'To' Phone Number.*code 21211"):
        call_create(OUTBOUND)


def test_it_calls_a_server_error_an_unknown_outcome_not_a_refusal(twilio_replay: TwilioReplay) -> None:
    twilio_replay.responses.append((500, "rest_error_20500_500.json"))
    with pytest.raises(TwilioOutcomeUnknown, match=r"code 20500"):
        call_create(OUTBOUND)


def test_it_sends_the_time_limit(twilio_replay: TwilioReplay) -> None:
    twilio_replay.responses.append((201, "rest_call_create_201.json"))
    call_create(OutboundCall(**{**OUTBOUND.__dict__, "time_limit_s": 1200}))
    assert twilio_replay.requests[0]["form"]["TimeLimit"] == ["1200"]


def test_it_fetches_what_twilio_says_about_a_call(twilio_replay: TwilioReplay) -> None:
    # GET answers with the call resource, the same body as the update that ended it.
    twilio_replay.responses.append((200, "rest_call_update_completed_200.json"))

    record = call_fetch(sid="CA5f8e2b1c9d0a4e3f8b7c6d5e4f3a2b1c")

    assert record == CallRecord(
        sid="CA5f8e2b1c9d0a4e3f8b7c6d5e4f3a2b1c",
        status="completed",
        duration_seconds=103,
        ended_at=dt.datetime(2026, 11, 24, 17, 4, 2, tzinfo=dt.UTC),
    )
    (request,) = twilio_replay.requests
    assert (request["method"], request["path"]) == (
        "GET",
        f"/2010-04-01/Accounts/{ACCOUNT}/Calls/CA5f8e2b1c9d0a4e3f8b7c6d5e4f3a2b1c.json",
    )


def test_it_turns_a_failed_fetch_into_a_twilio_error(twilio_replay: TwilioReplay, settings: Any) -> None:
    twilio_replay.responses.append((500, "rest_error_20500_500.json"))
    with pytest.raises(TwilioError, match=r"code 20500"):
        call_fetch(sid="CA5f8e2b1c9d0a4e3f8b7c6d5e4f3a2b1c")
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    with pytest.raises(TwilioError, match="could not reach Twilio"):
        call_fetch(sid="CA5f8e2b1c9d0a4e3f8b7c6d5e4f3a2b1c")


def test_it_hangs_up_without_blocking_the_event_loop(twilio_replay: TwilioReplay) -> None:
    twilio_replay.responses.append((200, "rest_call_update_completed_200.json"))

    async def hang_up_while_ticking() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        await call_hangup(sid="CA5f8e2b1c9d0a4e3f8b7c6d5e4f3a2b1c")
        task.cancel()
        return ticks

    ticks = asyncio.run(hang_up_while_ticking())

    (request,) = twilio_replay.requests
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Calls/CA5f8e2b1c9d0a4e3f8b7c6d5e4f3a2b1c.json"
    assert request["form"] == {"Status": ["completed"]}
    # Other coroutines kept running while the request was in flight.
    assert ticks > 1


def test_it_points_the_official_client_at_the_configured_base_url(twilio_replay: TwilioReplay, settings: Any) -> None:
    assert rest_client().api.base_url == settings.TWILIO_API_BASE_URL


def test_fixture_payloads_are_valid_json() -> None:
    for path in (FIXTURES / "twilio").glob("*.json"):
        assert isinstance(json.loads(path.read_text()), dict), path.name


def test_it_addresses_a_call_to_our_webhooks() -> None:
    outbound = OutboundCall.to_our_webhooks(
        call_id=7, to="+14155550134", from_="+14155550100", base_url="https://agent.example.com/"
    )
    assert outbound == OUTBOUND
