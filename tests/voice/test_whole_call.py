"""Whole calls, the way production runs them: the Twilio emulator dials through our webhooks into daphne,
opens the media stream, and a Piper-voiced persona talks with the real pipeline (VAD, Smart Turn,
Whisper, the agent brain, Piper). Nothing is replaced; the assertions are on the database afterwards.

These are the suite's representative calls (about a minute each); the full persona set is in
benchmarks/voice_latency.py.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agents.models import Appointment, WorkingHours
from calls.models import Call, TranscriptTurn
from common.readiness import media_worker_ready_exists
from emulator import audio
from emulator.server import EmulatedCall, emulator_in_thread
from integrations.twilio.client import OutboundCall, call_create
from leads.models import DoNotCall, Lead
from tests.factories import BrokerFactory, CallFactory, ConsentFactory, WorkingHoursFactory
from tests.voice.settle import recorded_call_settled

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
CALLER = "+14155550100"
STAGES = ("vad_stop_ms", "stt_ms", "brain_first_text_ms", "tts_first_audio_ms", "latency_ms")


def _call_with(persona: str, base_url: str, settings: Any, port: int) -> tuple[Call, EmulatedCall]:
    audio.warm_up()
    call = CallFactory(lead__state="CA", lead__first_name="Dana", campaign__business_name="Bayside Realty")
    ConsentFactory(lead=call.lead)
    with emulator_in_thread(port=port) as emulator:
        emulator.server.assign(call.lead.phone, persona)
        settings.TWILIO_API_BASE_URL = emulator.server.base_url
        sid = call_create(
            OutboundCall.to_our_webhooks(call_id=call.pk, to=call.lead.phone, from_=CALLER, base_url=base_url)
        )
        emulated = emulator.run(emulator.server.wait_call(sid, timeout=240))
    return recorded_call_settled(call.pk), emulated


def _transcript(call: Call) -> str:
    return "\n".join(f"{t.speaker}: {t.text}" for t in call.turns.order_by("index"))


def test_the_live_app_reports_ready_before_it_is_used(live_app: str) -> None:
    # live_app returns once daphne says so; a call placed now is greeted by warm models.
    with urllib.request.urlopen(f"{live_app}/healthz", timeout=10) as response:
        status, body = response.status, json.loads(response.read())

    assert status == 200, body
    assert body["checks"]["models"] == {"ok": True, "detail": "warm", "latency_ms": 0.0}
    # And the dialer, in another process, can see that a media worker is ready.
    assert media_worker_ready_exists()


def test_it_books_an_appointment_in_a_whole_voice_call(live_app: str, settings: Any, emulator_port: int) -> None:
    broker = BrokerFactory(timezone="America/Los_Angeles")
    for weekday in WorkingHours.Weekday.values:
        WorkingHoursFactory(broker=broker, weekday=weekday, start=dt.time(9), end=dt.time(17))

    call, emulated = _call_with("books_time", live_app, settings, emulator_port)

    transcript = _transcript(call)
    assert (call.status, emulated.status) == (Call.Status.COMPLETED, "completed"), transcript
    appointments = list(Appointment.objects.filter(lead=call.lead))
    assert len(appointments) == 1, transcript
    [appointment] = appointments
    local = appointment.start.astimezone(ZoneInfo("America/Los_Angeles"))
    # "Could an agent come over next week to see it? ... Tuesday at ten in the morning works for me."
    assert (local.strftime("%A"), local.hour, appointment.broker) == ("Tuesday", 10, broker), transcript
    lead = Lead.objects.get(pk=call.lead_id)
    assert lead.intent == "sell" and lead.status == Lead.Status.APPOINTMENT, transcript
    # Whisper heard the persona's Piper voice over the 8 kHz line.
    assert "condo" in transcript.lower() and "tuesday" in transcript.lower()
    # Every answered turn has its latency breakdown, stage by stage in order.
    timed = [t for t in call.turns.filter(speaker=TranscriptTurn.Speaker.AGENT) if t.latency_ms is not None]
    assert len(timed) >= 3, transcript
    for turn in timed:
        stages = [getattr(turn, stage) for stage in STAGES]
        assert None not in stages and stages == sorted(stages), (turn.text, stages)
    assert call.recording.name.endswith(".wav")


def test_it_honours_a_stop_request_within_one_turn_in_a_whole_voice_call(
    live_app: str, settings: Any, emulator_port: int
) -> None:
    call, emulated = _call_with("opt_out", live_app, settings, emulator_port)

    transcript = _transcript(call)
    assert DoNotCall.objects.filter(phone=call.lead.phone).exists(), transcript
    assert call.outcome == Call.Outcome.OPTED_OUT, transcript
    agent_lines = list(call.turns.filter(speaker=TranscriptTurn.Speaker.AGENT).values_list("text", flat=True))
    # The opening, then the confirmation, and nothing after it.
    assert len(agent_lines) == 2 and "won't call you again" in agent_lines[-1], transcript
    # We hung up through Twilio's REST API after the goodbye was heard, not the lead.
    assert [e["status"] for e in emulated.timeline.find("rest_update")] == ["completed"]
    assert emulated.timeline.find("mark_echoed"), "hang-up came before Twilio confirmed the goodbye was played"
