"""What a call does when answering-machine detection hears a machine: leave the campaign's message, or hang up.

AMD callbacks are signed like Twilio's; the REST requests go to a local server
replaying recorded Twilio responses, so each test checks the exact payload sent.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from calls.models import Call, Campaign
from calls.services import call_answered_by_apply, call_machine_answered
from calls.voicemail import voicemail_token_call_id
from integrations.twilio.client import signature_compute
from tests.conftest import FIXTURES
from tests.factories import CallFactory
from tests.twilio_replay import ACCOUNT, TwilioReplay, twilio_replay_server
from voice.tasks import call_machine_handle

PUBLIC = "https://agent.example.com"
SID = "CA5f8e2b1c9d0a4e3f8b7c6d5e4f3a2b1c"
UPDATE_PATH = f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{SID}.json"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager_celery(monkeypatch: pytest.MonkeyPatch) -> None:
    # The AMD view hands its work to a Celery task; run it in this process even
    # when REDIS_URL configures a broker (the CI run on PostgreSQL and Redis).
    from reautomation.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


@pytest.fixture
def twilio(settings: Any) -> Iterator[TwilioReplay]:
    with twilio_replay_server(settings) as server:
        settings.PUBLIC_BASE_URL = PUBLIC
        yield server


def live_call(action: str = Campaign.VoicemailAction.LEAVE_MESSAGE) -> Call:
    call: Call = CallFactory(
        status=Call.Status.IN_PROGRESS, twilio_sid=SID, campaign__voicemail_action=action, lead__first_name="Dana"
    )
    return call


def post_amd(client: Client, call: Call, answered_by: str) -> int:
    data = {**json.loads((FIXTURES / "twilio" / "amd_machine_end_beep.json").read_text()), "AnsweredBy": answered_by}
    path = f"/twilio/amd/?call={call.pk}"
    signature = signature_compute(url=PUBLIC + path, params={k: [v] for k, v in data.items()})
    return int(client.post(path, data, HTTP_X_TWILIO_SIGNATURE=signature).status_code)


def test_it_leaves_the_message_once_however_often_amd_reports_the_machine(
    client: Client, twilio: TwilioReplay, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    call = live_call()
    twilio.responses.append((200, "rest_call_update_twiml_200.json"))

    with django_capture_on_commit_callbacks(execute=True):
        statuses = [post_amd(client, call, "machine_end_beep") for _ in range(2)]
        statuses.append(post_amd(client, call, "machine_end_silence"))

    assert statuses == [204, 204, 204]
    [request] = twilio.requests
    assert request["path"] == UPDATE_PATH
    [twiml] = request["form"].pop("Twiml")
    assert request["form"] == {}
    match = re.fullmatch(
        r'<\?xml version="1.0" encoding="UTF-8"\?><Response><Play>(?P<url>[^<]+)</Play><Hangup /></Response>', twiml
    )
    assert match, twiml
    url = urlsplit(match["url"])
    assert f"{url.scheme}://{url.netloc}" == PUBLIC
    token = re.fullmatch(rf"/twilio/voicemail/{call.pk}/(?P<token>[^/]+)\.wav", url.path)
    assert token and voicemail_token_call_id(token=token["token"]) == call.pk
    call.refresh_from_db()
    assert (call.answered_by, call.outcome) == (Call.AnsweredBy.MACHINE, Call.Outcome.VOICEMAIL)
    assert call.summary.startswith("An answering machine picked up. Left this message: Hi, Dana, this is Alex")
    assert "415-555-0100" in call.summary and "say stop" in call.summary


def test_it_hangs_up_on_a_machine_when_the_campaign_says_so(
    client: Client, twilio: TwilioReplay, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    call = live_call(Campaign.VoicemailAction.HANG_UP)
    twilio.responses.append((200, "rest_call_update_completed_200.json"))

    with django_capture_on_commit_callbacks(execute=True):
        assert post_amd(client, call, "machine_end_beep") == 204

    [request] = twilio.requests
    assert (request["path"], request["form"]) == (UPDATE_PATH, {"Status": ["completed"]})
    call.refresh_from_db()
    assert call.outcome == Call.Outcome.VOICEMAIL
    assert call.summary == "An answering machine picked up. The campaign hangs up on machines, so no message was left."


def test_it_enqueues_nothing_for_a_human_or_a_call_that_is_not_live(
    client: Client, twilio: TwilioReplay, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    human, ended = live_call(), CallFactory(status=Call.Status.COMPLETED, twilio_sid="CA" + "1" * 32)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert post_amd(client, human, "human") == 204
        assert post_amd(client, human, "machine_end_beep") == 204  # a late "machine" does not undo "human"
        assert post_amd(client, ended, "machine_end_beep") == 204

    assert callbacks == [] and twilio.requests == []
    human.refresh_from_db()
    ended.refresh_from_db()
    assert (human.answered_by, human.outcome) == (Call.AnsweredBy.HUMAN, Call.Outcome.NONE)
    # The finished call is still recorded as a voicemail; there is just nothing left to do on it.
    assert (ended.answered_by, ended.outcome) == (Call.AnsweredBy.MACHINE, Call.Outcome.VOICEMAIL)


def test_only_the_callback_that_records_the_machine_gets_it_back() -> None:
    call = live_call()

    answers = [call_answered_by_apply(call_id=call.pk, answered_by=a) for a in ("unknown", "machine_end_beep", "human")]

    # "unknown" is no answer yet; the machine is recorded once; a later "human" changes nothing.
    assert answers == [Call.AnsweredBy.UNKNOWN, Call.AnsweredBy.MACHINE, ""]
    assert call_answered_by_apply(call_id=call.pk, answered_by="machine_end_beep") == ""


@pytest.mark.parametrize("action", [Campaign.VoicemailAction.LEAVE_MESSAGE, Campaign.VoicemailAction.HANG_UP])
def test_it_decides_from_the_campaign_and_acts_after_the_commit(
    django_capture_on_commit_callbacks: Callable[..., Any], action: str
) -> None:
    call = live_call(action)
    Call.objects.filter(pk=call.pk).update(answered_by=Call.AnsweredBy.MACHINE)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert call_machine_answered(call_id=call.pk) == action

    assert len(callbacks) == 1


def test_it_logs_and_gives_up_when_twilio_refuses_the_update(
    twilio: TwilioReplay, caplog: pytest.LogCaptureFixture
) -> None:
    call = live_call()
    Call.objects.filter(pk=call.pk).update(answered_by=Call.AnsweredBy.MACHINE, outcome=Call.Outcome.VOICEMAIL)
    twilio.responses.append((400, "rest_error_21220_400.json"))

    with caplog.at_level(logging.WARNING, logger="voice.tasks"):
        call_machine_handle(call.pk, Campaign.VoicemailAction.LEAVE_MESSAGE)

    assert len(twilio.requests) == 1  # no retry: a second request could leave a second message
    [record] = [r for r in caplog.records if r.name == "voice.tasks"]
    assert "Cannot redirect" in record.error  # type: ignore[attr-defined]
    call.refresh_from_db()
    assert (call.outcome, call.summary) == (Call.Outcome.VOICEMAIL, "")
