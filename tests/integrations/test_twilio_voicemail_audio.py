"""The voicemail message Twilio's <Play> fetches: 8 kHz WAV behind a signed per-call URL, synthesized once per text."""

from __future__ import annotations

import io
import wave
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest
from django.core.cache import cache
from django.test import Client

from calls import voicemail as voicemail_link
from calls.voicemail import voicemail_token_issue, voicemail_url
from tests.factories import CallFactory
from voice import voicemail
from voice.stream_tokens import stream_token_issue
from voice.voicemail import call_voicemail_message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache(settings: Any) -> None:
    settings.PUBLIC_BASE_URL = "https://agent.example.com"
    cache.clear()


def test_the_message_names_the_business_the_callback_number_and_how_to_opt_out() -> None:
    call = CallFactory(
        lead__first_name="Dana", campaign__business_name="Bayside Realty", campaign__callback_number="+14155550100"
    )

    text = call_voicemail_message(call_id=call.pk)

    assert text == (
        "Hi, Dana, this is Alex, an AI assistant calling for Bayside Realty. "
        "I'm calling to see if you're thinking about buying or selling a home. "
        "Please call us back at 415-555-0100. "
        "If you'd rather not get these calls, call that number and say stop, and we'll take you off our list."
    )
    assert call_voicemail_message(call_id=call.pk + 1000) is None


def test_it_serves_the_message_as_short_8khz_mono_wav(client: Client) -> None:
    call = CallFactory()
    path = voicemail_url(call_id=call.pk).removeprefix("https://agent.example.com")

    response = client.get(path)

    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(response.content)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        seconds = wav.getnframes() / 8000
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)
    assert 10 < seconds < 20  # short enough for any voicemail box
    assert np.sqrt(np.mean(samples**2)) > 500  # speech, not silence


@pytest.mark.parametrize("token", ["garbage", "other-call", "expired", "wrong-salt"])
def test_it_refuses_a_bad_token_with_403(client: Client, monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    call, other = CallFactory(), CallFactory()
    if token == "other-call":
        token = voicemail_token_issue(call_id=other.pk)
    elif token == "expired":
        token = voicemail_token_issue(call_id=call.pk)
        monkeypatch.setattr(voicemail_link, "TOKEN_MAX_AGE_S", -1)
    elif token == "wrong-salt":
        token = stream_token_issue(call_id=call.pk)  # a media-stream token is no key to the audio

    with patch.object(voicemail, "_render", autospec=True) as render:
        response = client.get(f"/twilio/voicemail/{call.pk}/{token}.wav")

    assert response.status_code == 403
    render.assert_not_called()


def test_it_synthesizes_each_message_once(client: Client) -> None:
    first, second = CallFactory(lead__first_name="Sam"), CallFactory(lead__first_name="Sam")

    with patch.object(voicemail, "_render", autospec=True, side_effect=voicemail._render) as render:
        bodies = [
            client.get(voicemail_url(call_id=call.pk).removeprefix("https://agent.example.com")).content
            for call in (first, first, second)
        ]

    # One campaign each but the same words, so one synthesis serves all three fetches.
    assert render.call_count == 1
    assert bodies[0] == bodies[1] == bodies[2]


def test_it_answers_404_for_a_call_that_is_gone(client: Client) -> None:
    call = CallFactory()
    path = voicemail_url(call_id=call.pk).removeprefix("https://agent.example.com")
    call.delete()

    assert client.get(path).status_code == 404
