from __future__ import annotations

from typing import Any

import time_machine

from voice.stream_tokens import stream_token_call_id, stream_token_issue


def test_it_round_trips_a_call_id() -> None:
    assert stream_token_call_id(token=stream_token_issue(call_id=42)) == 42


def test_it_rejects_a_tampered_token() -> None:
    token = stream_token_issue(call_id=42)
    forged = "43" + token[2:]
    assert stream_token_call_id(token=forged) is None
    assert stream_token_call_id(token="") is None


def test_it_rejects_an_expired_token(settings: Any) -> None:
    settings.STREAM_TOKEN_MAX_AGE_S = 300
    with time_machine.travel("2026-11-24 12:00:00Z", tick=False):
        token = stream_token_issue(call_id=7)
    with time_machine.travel("2026-11-24 12:06:00Z", tick=False):
        assert stream_token_call_id(token=token) is None
    with time_machine.travel("2026-11-24 12:04:00Z", tick=False):
        assert stream_token_call_id(token=token) == 7
