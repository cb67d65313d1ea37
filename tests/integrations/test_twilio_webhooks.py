"""Twilio webhooks driven by payload fixtures, signed exactly as Twilio signs them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.test import Client

from calls.models import Call
from integrations.twilio.client import signature_compute
from tests.conftest import FIXTURES
from tests.factories import CallFactory
from voice.stream_tokens import stream_token_call_id

PUBLIC = "https://agent.example.com"


@pytest.fixture(autouse=True)
def _twilio_settings(settings: Any) -> None:
    settings.TWILIO_ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
    settings.TWILIO_AUTH_TOKEN = "test-auth-token"
    settings.PUBLIC_BASE_URL = PUBLIC


def _payload(name: str) -> dict[str, str]:
    return dict(json.loads((FIXTURES / "twilio" / f"{name}.json").read_text()))


def _post(client: Client, path: str, data: dict[str, str], *, signature: str | None = None) -> Any:
    if signature is None:
        signature = signature_compute(url=PUBLIC + path, params={k: [v] for k, v in data.items()})
    return client.post(path, data, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.mark.django_db
class TestSignatures:
    def test_it_rejects_a_webhook_without_a_signature(self, client: Client) -> None:
        call = CallFactory()
        response = client.post(f"/twilio/status/?call={call.pk}", _payload("status_ringing"))
        assert response.status_code == 403
        call.refresh_from_db()
        assert call.status == Call.Status.QUEUED

    def test_it_rejects_a_forged_signature(self, client: Client) -> None:
        call = CallFactory()
        response = _post(client, f"/twilio/status/?call={call.pk}", _payload("status_ringing"), signature="Zm9yZ2Vk")
        assert response.status_code == 403

    def test_it_rejects_a_payload_altered_after_signing(self, client: Client) -> None:
        call = CallFactory()
        path = f"/twilio/status/?call={call.pk}"
        data = _payload("status_ringing")
        signature = signature_compute(url=PUBLIC + path, params={k: [v] for k, v in data.items()})
        data["CallStatus"] = "completed"
        assert _post(client, path, data, signature=signature).status_code == 403
        call.refresh_from_db()
        assert call.status == Call.Status.QUEUED

    def test_it_rejects_a_signature_for_another_call(self, client: Client) -> None:
        mine, other = CallFactory(), CallFactory()
        data = _payload("status_ringing")
        signature = signature_compute(
            url=f"{PUBLIC}/twilio/status/?call={other.pk}", params={k: [v] for k, v in data.items()}
        )
        assert _post(client, f"/twilio/status/?call={mine.pk}", data, signature=signature).status_code == 403

    def test_it_rejects_everything_when_no_auth_token_is_configured(self, client: Client, settings: Any) -> None:
        call = CallFactory()
        path = f"/twilio/status/?call={call.pk}"
        data = _payload("status_ringing")
        signature = signature_compute(url=PUBLIC + path, params={k: [v] for k, v in data.items()})
        settings.TWILIO_AUTH_TOKEN = ""
        assert _post(client, path, data, signature=signature).status_code == 403

    def test_it_accepts_only_post(self, client: Client) -> None:
        assert client.get("/twilio/status/?call=1").status_code == 405


@pytest.mark.django_db
class TestStatusCallbacks:
    def test_it_follows_the_lifecycle_to_completed(self, client: Client) -> None:
        call = CallFactory()
        for name in ["status_initiated", "status_ringing", "status_in_progress", "status_completed"]:
            assert _post(client, f"/twilio/status/?call={call.pk}", _payload(name)).status_code == 204
        call.refresh_from_db()
        assert call.status == Call.Status.COMPLETED
        assert call.twilio_sid == _payload("status_completed")["CallSid"]
        assert call.duration_seconds == 103
        assert call.started_at is not None and call.answered_at is not None and call.ended_at is not None

    def test_it_ignores_duplicates_and_late_callbacks(self, client: Client) -> None:
        call = CallFactory()
        path = f"/twilio/status/?call={call.pk}"
        _post(client, path, _payload("status_completed"))
        ended_at = Call.objects.get(pk=call.pk).ended_at
        # Out of order and repeated: none of these may move the call back.
        for name in ["status_ringing", "status_in_progress", "status_completed", "status_initiated"]:
            assert _post(client, path, _payload(name)).status_code == 204
        call.refresh_from_db()
        assert call.status == Call.Status.COMPLETED
        assert call.ended_at == ended_at
        assert call.answered_at is None

    @pytest.mark.parametrize(
        ("fixture", "status"), [("status_busy", Call.Status.BUSY), ("status_no_answer", Call.Status.NO_ANSWER)]
    )
    def test_it_marks_unanswered_calls(self, client: Client, fixture: str, status: str) -> None:
        call = CallFactory()
        _post(client, f"/twilio/status/?call={call.pk}", _payload(fixture))
        call.refresh_from_db()
        assert (call.status, call.outcome, call.duration_seconds) == (status, Call.Outcome.NO_ANSWER, 0)

    def test_it_rejects_an_unknown_status_and_changes_nothing(self, client: Client) -> None:
        call = CallFactory()
        data = {**_payload("status_ringing"), "CallStatus": "exploded"}
        response = _post(client, f"/twilio/status/?call={call.pk}", data)
        assert response.status_code == 400
        assert b"exploded" in response.content
        call.refresh_from_db()
        assert call.status == Call.Status.QUEUED

    def test_it_rejects_a_malformed_call_sid(self, client: Client) -> None:
        call = CallFactory()
        data = {**_payload("status_ringing"), "CallSid": "not-a-sid"}
        response = _post(client, f"/twilio/status/?call={call.pk}", data)
        assert response.status_code == 400
        assert b"CallSid" in response.content

    def test_it_answers_404_for_an_unknown_call(self, client: Client) -> None:
        assert _post(client, "/twilio/status/?call=999999", _payload("status_ringing")).status_code == 404

    def test_it_answers_400_without_a_call_id(self, client: Client) -> None:
        assert _post(client, "/twilio/status/", _payload("status_ringing")).status_code == 400


@pytest.mark.django_db
class TestVoiceWebhook:
    def test_it_connects_the_call_to_the_media_stream_with_a_signed_token(self, client: Client) -> None:
        call = CallFactory()
        response = _post(client, f"/twilio/voice/?call={call.pk}", _payload("voice_answered"))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/xml")
        stream = ET.fromstring(response.content).find("./Connect/Stream")
        assert stream is not None
        assert stream.get("url") == "wss://agent.example.com/twilio/stream/"
        params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
        assert params["call_id"] == str(call.pk)
        assert stream_token_call_id(token=params["token"] or "") == call.pk
        call.refresh_from_db()
        assert call.status == Call.Status.IN_PROGRESS
        assert call.twilio_sid == _payload("voice_answered")["CallSid"]

    def test_it_hangs_up_a_call_that_already_ended(self, client: Client) -> None:
        call = CallFactory(status=Call.Status.COMPLETED)
        response = _post(client, f"/twilio/voice/?call={call.pk}", _payload("voice_answered"))
        assert ET.fromstring(response.content).find("./Hangup") is not None


@pytest.mark.django_db
class TestAnsweringMachineDetection:
    def test_it_records_a_human(self, client: Client) -> None:
        call = CallFactory()
        assert _post(client, f"/twilio/amd/?call={call.pk}", _payload("amd_human")).status_code == 204
        call.refresh_from_db()
        assert call.answered_by == Call.AnsweredBy.HUMAN
        assert call.outcome == Call.Outcome.NONE

    def test_it_records_a_machine_as_voicemail_and_keeps_the_first_answer(self, client: Client) -> None:
        call = CallFactory()
        _post(client, f"/twilio/amd/?call={call.pk}", _payload("amd_machine_end_beep"))
        _post(client, f"/twilio/amd/?call={call.pk}", {**_payload("amd_human"), "AnsweredBy": "unknown"})
        call.refresh_from_db()
        assert (call.answered_by, call.outcome) == (Call.AnsweredBy.MACHINE, Call.Outcome.VOICEMAIL)
