"""The emulator's REST API driven by the official twilio library, through integrations.twilio.client."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator import audio
from emulator.persona import Persona
from emulator.server import EmulatorServer
from integrations.twilio.client import STATUS_EVENTS, OutboundCall, TwilioError, call_create, call_hangup, rest_client
from tests.conftest import FIXTURES
from tests.voice.emulator_far_end import Agent, FarEnd

pytestmark = pytest.mark.asyncio

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "emulator-test-token"
LEAD = "+14155550199"
CALLER = "+14155550100"


@pytest.fixture(autouse=True)
def _twilio_settings(settings: Any, tmp_path: Path) -> None:
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT, TOKEN
    settings.EMULATOR_OUTPUT_DIR = str(tmp_path / "emulator")
    audio.warm_up()


async def idle(agent: Agent) -> None:
    pass


def outbound(far: FarEnd, to: str = LEAD) -> OutboundCall:
    return OutboundCall(
        to=to,
        from_=CALLER,
        voice_url=far.url("/voice"),
        status_callback_url=far.url("/status"),
        amd_callback_url=far.url("/amd"),
    )


async def raw_post(emulator: EmulatorServer, path: str, form: list[tuple[str, str]], token: str = TOKEN) -> Any:
    url = f"{emulator.base_url}/2010-04-01/Accounts/{ACCOUNT}{path}"
    headers = {"Authorization": aiohttp.encode_basic_auth(ACCOUNT, token)}
    async with aiohttp.ClientSession() as session, session.post(url, data=form, headers=headers) as response:
        return response.status, await response.json()


async def test_it_accepts_what_the_twilio_library_sends_and_hangs_up_through_it(settings: Any) -> None:
    stays_on = Persona(name="stays_on", steps=(), ring_s=0.2, amd_after_s=0.2, max_call_s=30)
    async with EmulatorServer() as emulator, FarEnd(idle) as far:
        emulator.assign(LEAD, stays_on)
        settings.TWILIO_API_BASE_URL = emulator.base_url
        sid = await asyncio.to_thread(call_create, outbound(far))
        call = emulator.calls[sid]
        await call.timeline.wait_for("stream_started", timeout=10)
        fetched = await asyncio.to_thread(lambda: rest_client().calls(sid).fetch())
        assert (fetched.sid, fetched.status, fetched.to, fetched._from) == (sid, "in-progress", LEAD, CALLER)
        await call_hangup(sid=sid)
        await emulator.wait_call(sid, timeout=20)

    assert re.fullmatch(r"CA[0-9a-f]{32}", sid)
    request = call.request
    assert (request.to, request.from_, request.url, request.method) == (LEAD, CALLER, far.url("/voice"), "POST")
    assert request.status_callback_events == frozenset(STATUS_EVENTS)
    assert (request.status_callback, request.status_callback_method) == (far.url("/status"), "POST")
    assert (request.machine_detection, request.async_amd) == ("DetectMessageEnd", True)
    assert (request.amd_callback, request.amd_callback_method) == (far.url("/amd"), "POST")
    # Hung up through the REST API: Twilio stops the stream, closes it, and reports completed.
    assert call.timeline.find("stream_ending")[0]["reason"] == "api"
    assert far.received.messages[-1]["event"] == "stop"
    assert far.received.forms["status"][-1]["CallStatus"] == "completed"
    assert call.status == "completed"


async def test_it_answers_a_create_with_twilios_call_resource() -> None:
    expected = json.loads((FIXTURES / "twilio" / "rest_call_create_201.json").read_text())
    async with EmulatorServer() as emulator:
        emulator.assign(LEAD, Persona(name="never_answers", steps=(), pickup="no-answer", ring_s=30))
        form = [("To", LEAD), ("From", CALLER), ("Url", "http://127.0.0.1:9/voice")]
        status, body = await raw_post(emulator, "/Calls.json", form)
        assert status == 201
        status, updated = await raw_post(emulator, f"/Calls/{body['sid']}.json", [("Status", "canceled")])
        call = await emulator.wait_call(body["sid"], timeout=10)

    assert set(body) == set(expected)
    assert set(body["subresource_uris"]) == set(expected["subresource_uris"])
    assert (body["status"], body["direction"], body["to"], body["from"]) == ("queued", "outbound-api", LEAD, CALLER)
    assert body["to_formatted"] == "(415) 555-0199"
    assert body["uri"] == f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{body['sid']}.json"
    assert status == 200 and updated["sid"] == body["sid"]
    assert call.status == "canceled"
    assert call.timeline.find("webhook_fetched") == []


async def test_it_refuses_a_wrong_auth_token_like_twilio(settings: Any) -> None:
    async with EmulatorServer() as emulator, FarEnd(idle) as far:
        settings.TWILIO_API_BASE_URL = emulator.base_url
        settings.TWILIO_AUTH_TOKEN = "not-the-token"
        with pytest.raises(TwilioError, match="code 20003"):
            await asyncio.to_thread(call_create, outbound(far))
        assert emulator.calls == {}


async def test_it_answers_404_when_hanging_up_an_unknown_call(settings: Any) -> None:
    async with EmulatorServer() as emulator:
        settings.TWILIO_API_BASE_URL = emulator.base_url
        with pytest.raises(TwilioError, match="code 20404"):
            await call_hangup(sid="CA" + "0" * 32)


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ([("From", CALLER), ("Url", "http://127.0.0.1:9/v")], 21201),
        ([("To", "555-0199"), ("From", CALLER), ("Url", "http://127.0.0.1:9/v")], 21211),
        ([("To", LEAD), ("Url", "http://127.0.0.1:9/v")], 21603),
        ([("To", LEAD), ("From", CALLER)], 21205),
        ([("To", LEAD), ("From", CALLER), ("Url", "ftp://example.com/v")], 21205),
        ([("To", LEAD), ("From", CALLER), ("Url", "http://127.0.0.1:9/v"), ("Method", "PUT")], 21209),
        (
            [("To", LEAD), ("From", CALLER), ("Url", "http://127.0.0.1:9/v"), ("StatusCallbackEvent", "exploded")],
            21626,
        ),
    ],
)
async def test_it_rejects_a_bad_create_with_twilios_error_code(form: list[tuple[str, str]], code: int) -> None:
    async with EmulatorServer() as emulator:
        status, body = await raw_post(emulator, "/Calls.json", form)
        assert emulator.calls == {}
    assert (status, body["code"], body["status"]) == (400, code, 400)
    assert body["message"] and body["more_info"].endswith(str(code))


@pytest.mark.parametrize(("pickup", "sip"), [("busy", "486"), ("no-answer", "487")])
async def test_it_reports_an_unanswered_call(settings: Any, pickup: str, sip: str) -> None:
    unanswered = Persona(name=pickup, steps=(), pickup=pickup, ring_s=0.2)  # type: ignore[arg-type]
    async with EmulatorServer() as emulator, FarEnd(idle) as far:
        emulator.assign(LEAD, unanswered)
        settings.TWILIO_API_BASE_URL = emulator.base_url
        sid = await asyncio.to_thread(call_create, outbound(far))
        await emulator.wait_call(sid, timeout=10)

    status = far.received.forms["status"]
    assert [f["CallStatus"] for f in status] == ["initiated", "ringing", pickup]
    assert (status[-1]["CallDuration"], status[-1]["SipResponseCode"]) == ("0", sip)
    assert far.received.forms["voice"] == [] and far.received.forms["amd"] == []


async def test_it_hangs_up_a_call_at_its_time_limit_like_twilio(settings: Any) -> None:
    stays_on = Persona(name="stays_on", steps=(), ring_s=0.2, max_call_s=30)
    async with EmulatorServer() as emulator, FarEnd(idle) as far:
        emulator.assign(LEAD, stays_on)
        settings.TWILIO_API_BASE_URL = emulator.base_url
        sid = await asyncio.to_thread(call_create, OutboundCall(**{**outbound(far).__dict__, "time_limit_s": 1}))
        call = await emulator.wait_call(sid, timeout=20)

    assert call.request.time_limit_s == 1
    assert call.timeline.find("stream_ending")[0]["reason"] == "time_limit"
    assert far.received.messages[-1]["event"] == "stop"
    assert far.received.forms["status"][-1]["CallStatus"] == "completed"
    assert call.status == "completed" and call.duration_s is not None and call.duration_s >= 1


async def test_it_runs_twiml_sent_in_an_update_on_a_live_call(settings: Any) -> None:
    stays_on = Persona(name="stays_on", steps=(), ring_s=0.2, max_call_s=30)
    async with EmulatorServer() as emulator, FarEnd(idle) as far:
        emulator.assign(LEAD, stays_on)
        settings.TWILIO_API_BASE_URL = emulator.base_url
        sid = await asyncio.to_thread(call_create, outbound(far))
        await emulator.calls[sid].timeline.wait_for("stream_started", timeout=10)
        status, _ = await raw_post(emulator, f"/Calls/{sid}.json", [("Twiml", "<Response><Hangup/></Response>")])
        call = await emulator.wait_call(sid, timeout=20)

    assert status == 200
    assert call.timeline.find("stream_ending")[0]["reason"] == "redirect"
    assert [e["verb"] for e in call.timeline.find("twiml_verb")] == ["Connect", "Hangup"]
    assert far.received.messages[-1]["event"] == "stop"
    assert call.status == "completed"
