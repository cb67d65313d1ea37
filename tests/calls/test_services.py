"""Call services under concurrent writers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from calls.models import Call
from calls.services import call_recording_save, call_status_apply
from tests.factories import CallFactory


@pytest.mark.django_db
def test_it_saves_a_recording_without_undoing_a_status_that_landed_meanwhile(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    call = CallFactory(status=Call.Status.IN_PROGRESS)
    original_get = Call.objects.get

    def get_then_complete(*args: Any, **kwargs: Any) -> Call:
        loaded = original_get(*args, **kwargs)
        # Twilio's final callback is applied between our read and our write.
        call_status_apply(call_id=call.pk, status=Call.Status.COMPLETED, duration_seconds=30)
        return loaded

    monkeypatch.setattr(Call.objects, "get", get_then_complete)
    call_recording_save(call_id=call.pk, wav=b"RIFF....WAVE")

    call.refresh_from_db()
    assert call.status == Call.Status.COMPLETED and call.ended_at is not None
    assert call.recording.name.startswith("recordings/") and call.recording.name.endswith(".wav")
