"""Persona data, the number registry, and the emulator's G.711 codec."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from emulator import audio
from emulator.persona import PersonaError, persona_from_dict, registry_load, step_from_dict
from emulator.server import EmulatorServer

ACCOUNT = "AC0123456789abcdef0123456789abcdef"


def test_it_loads_every_built_in_persona() -> None:
    registry = registry_load()
    expected = {
        "interested_seller", "buyer", "not_interested", "opt_out", "robot_question", "voicemail",
        "books_time", "interrupter", "hangs_up_mid_sentence", "silent", "busy", "no_answer", "wrong_number",
        "spouse_answers", "spanish_only", "opt_out_after_pause", "proposes_time_early", "call_back_tomorrow",
        "text_me", "who_then_seller", "cost_question_buyer", "goodbye_early",
    }  # fmt: skip
    assert set(registry.personas) == expected
    assert set(registry.numbers.values()) == expected
    assert registry.get("voicemail").answered_by == "machine_end_beep"
    assert registry.get("busy").pickup == "busy"
    assert any(s.kind == "barge_in" for s in registry.get("interrupter").steps)
    assert any(s.cut_after_s for s in registry.get("hangs_up_mid_sentence").steps)


def test_it_routes_numbers_to_personas_and_others_to_the_default(settings: Any) -> None:
    registry = registry_load()
    assert registry.for_number("+14155550106").name == "voicemail"
    assert registry.for_number("+14155550104").name == "opt_out"
    assert registry.for_number("+12125550000").name == "interested_seller"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT, "token"
    settings.EMULATOR_DEFAULT_PERSONA = "buyer"
    assert EmulatorServer().registry.for_number("+12125550000").name == "buyer"


def test_it_refuses_an_unknown_default_persona(settings: Any) -> None:
    with pytest.raises(PersonaError, match="'nobody' is not one of"):
        registry_load(default="nobody")


def test_it_refuses_to_start_without_credentials(settings: Any) -> None:
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "", ""
    with pytest.raises(ValueError, match="TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"):
        EmulatorServer()


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"sing": "la"}, "needs exactly one of"),
        ({"say": "hi", "listen": 3}, "needs exactly one of"),
        ({"say": "  "}, "needs the words"),
        ({"say": "hi", "volume": 3}, "unknown keys"),
        ({"silence": -1}, "seconds >= 0"),
        ({"dtmf": "12"}, "one key"),
        ({"hang_up": "now"}, "hang_up"),
        ({"say": "hi", "if_heard": "robot"}, "list of words"),
        ("say hello", "a step is an object"),
    ],
)
def test_it_explains_a_malformed_step(step: Any, message: str) -> None:
    with pytest.raises(PersonaError, match=message):
        step_from_dict(step, "step 1")


def test_it_explains_a_malformed_persona() -> None:
    with pytest.raises(PersonaError, match="pickup must be"):
        persona_from_dict("x", {"pickup": "maybe", "steps": []})
    with pytest.raises(PersonaError, match="unknown keys"):
        persona_from_dict("x", {"stepz": []})
    with pytest.raises(PersonaError, match=r"persona 'x' step 2"):
        persona_from_dict("x", {"steps": [{"listen": 3}, {"say": ""}]})


def test_it_checks_conditions_against_what_the_agent_said() -> None:
    step = step_from_dict({"say": "Okay.", "if_heard": ["AI", "assistant"]})
    assert step.applies("I'm an AI assistant with Bayside Realty")
    assert not step.applies("Hi, this is Alex")
    assert not step_from_dict({"say": "Robot!", "unless_heard": ["assistant"]}).applies("an AI assistant")


def test_its_mu_law_is_bit_exact_with_g711_reference() -> None:
    samples = np.arange(-32768, 32768, dtype=np.int16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")  # removed in Python 3.13; present on our 3.11
        assert audio.ulaw_encode(samples) == audioop.lin2ulaw(samples.tobytes(), 2)
        codes = bytes(range(256))
        assert audio.ulaw_decode(codes).tobytes() == audioop.ulaw2lin(codes, 2)
    assert audio.ulaw_encode(np.zeros(160, dtype=np.int16)) == audio.SILENCE_FRAME


def test_it_frames_audio_in_20_ms_and_pads_with_line_silence() -> None:
    chunks = audio.frames(b"\x00" * 400)
    assert [len(c) for c in chunks] == [160, 160, 160]
    assert chunks[-1] == b"\x00" * 80 + b"\xff" * 80


def test_its_command_refuses_an_unknown_persona(settings: Any) -> None:
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT, "token"
    with pytest.raises(CommandError, match="'nobody' is not one of"):
        call_command("twilio_emulator", "--default-persona", "nobody")
