"""Simulated leads: persona scripts as data, and the registry that maps phone numbers to them.

A persona is a list of steps the lead performs in order once the media stream
starts. Each step is a one-key object (plus options) in JSON:

    {"say": "Yes, speaking."}                         speak a line (Piper), then go on
    {"say": "...", "if_heard": ["robot", "AI"]}       only if the agent's last turn had one of these words
    {"say": "...", "unless_heard": ["AI"]}            only if it had none of them
    {"say": "Look, I really don't...", "cut_after_s": 1.2}   hang up mid-sentence after 1.2 s
    {"listen": 15}                                    wait (up to 15 s) for the agent to speak and finish
    {"silence": 4}                                    stay silent for 4 s (line silence is still streamed)
    {"barge_in": "Sorry, who is this?", "after_s": 1} talk over the agent 1 s after it starts speaking
    {"dtmf": "1"}                                     press a key
    {"beep": 0.5}                                     a voicemail beep (1 kHz) of 0.5 s
    {"record": 30, "end_silence_s": 3}                a voicemail box recording: listen until the agent
                                                      has spoken and then been silent 3 s, at most 30 s;
                                                      it records on through a <Play> that replaces the stream
    {"hang_up": true}                                 end the call

When the steps run out without a hang-up the lead stays on the line, silent,
until the agent ends the call or `max_call_s` passes.

Built-in personas and the phone numbers that select them live in
personas.json next to this module, so the demo (issue 5) can reuse them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

PERSONAS_FILE = Path(__file__).with_name("personas.json")

StepKind = Literal["say", "listen", "silence", "barge_in", "dtmf", "beep", "record", "hang_up"]
Pickup = Literal["answer", "busy", "no-answer", "failed"]
AnsweredBy = Literal["human", "machine_end_beep"]

_STEP_KINDS: tuple[StepKind, ...] = ("say", "listen", "silence", "barge_in", "dtmf", "beep", "record", "hang_up")
_STEP_OPTIONS = {"if_heard", "unless_heard", "cut_after_s", "after_s", "end_silence_s"}
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class PersonaError(ValueError):
    """A persona definition is malformed; the message names the persona and step."""


@dataclass(frozen=True)
class Step:
    """One thing the lead does."""

    kind: StepKind
    text: str = ""
    seconds: float = 0.0
    if_heard: tuple[str, ...] = ()
    unless_heard: tuple[str, ...] = ()
    cut_after_s: float | None = None
    after_s: float = 1.0
    end_silence_s: float = 3.0

    def applies(self, heard: str) -> bool:
        """Return whether a conditional step should run, given the agent's last turn."""
        words = heard.lower()
        if self.if_heard and not any(k.lower() in words for k in self.if_heard):
            return False
        return not any(k.lower() in words for k in self.unless_heard)


@dataclass(frozen=True)
class Persona:
    """A simulated lead: how the phone is answered and what is said on it.

    Args:
        name: registry key, e.g. "interested_seller".
        steps: the script, run in order once the media stream starts.
        pickup: "answer", or how an unanswered call ends ("busy", "no-answer", "failed").
        answered_by: what async answering-machine detection reports.
        ring_s: seconds of ringing before the lead picks up (or gives up for no-answer).
        amd_after_s: seconds after answering when AMD reports a human.
        turn_end_s: silence after agent speech that makes the lead consider the agent done.
        max_call_s: the lead hangs up after this long on the line whatever happens.
    """

    name: str
    steps: tuple[Step, ...]
    description: str = ""
    pickup: Pickup = "answer"
    answered_by: AnsweredBy = "human"
    ring_s: float = 2.0
    amd_after_s: float = 2.2
    turn_end_s: float = 0.8
    max_call_s: float = 180.0

    def lines(self) -> list[str]:
        """Return every line the lead may speak, to synthesize them before the call is answered."""
        return [s.text for s in self.steps if s.kind in ("say", "barge_in")]


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PersonaError(f"{where}: expected a number of seconds >= 0, got {value!r}")
    return float(value)


def _words(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PersonaError(f"{where}: expected a list of words, got {value!r}")
    return tuple(value)


def step_from_dict(data: Any, where: str = "step") -> Step:
    """Parse one step from its JSON form.

    Raises:
        PersonaError: for an unknown step, a missing or wrong-typed value, or an unknown option.
    """
    if not isinstance(data, dict):
        raise PersonaError(f"{where}: a step is an object like {{'say': 'Hello'}}, got {data!r}")
    kinds = [k for k in data if k in _STEP_KINDS]
    unknown = set(data) - set(_STEP_KINDS) - _STEP_OPTIONS
    if len(kinds) != 1 or unknown:
        raise PersonaError(
            f"{where}: needs exactly one of {', '.join(_STEP_KINDS)}"
            + (f"; unknown keys {sorted(unknown)}" if unknown else f", got {sorted(data)}")
        )
    kind, value = kinds[0], data[kinds[0]]
    options: dict[str, Any] = {}
    if "if_heard" in data:
        options["if_heard"] = _words(data["if_heard"], f"{where}.if_heard")
    if "unless_heard" in data:
        options["unless_heard"] = _words(data["unless_heard"], f"{where}.unless_heard")
    for key in ("cut_after_s", "after_s", "end_silence_s"):
        if key in data:
            options[key] = _number(data[key], f"{where}.{key}")
    if kind in ("say", "barge_in"):
        if not isinstance(value, str) or not value.strip():
            raise PersonaError(f"{where}: {kind} needs the words to speak")
        return Step(kind=kind, text=value.strip(), **options)
    if kind == "dtmf":
        if not isinstance(value, str) or not re.fullmatch(r"[0-9*#]", value):
            raise PersonaError(f"{where}: dtmf takes one key of 0-9, * or #, got {value!r}")
        return Step(kind=kind, text=value, **options)
    if kind == "hang_up":
        if value is not True:
            raise PersonaError(f"{where}: write hang_up as {{'hang_up': true}}")
        return Step(kind=kind, **options)
    return Step(kind=kind, seconds=_number(value, f"{where}.{kind}"), **options)


def persona_from_dict(name: str, data: Any) -> Persona:
    """Parse a persona from its JSON form.

    Raises:
        PersonaError: when any field or step is malformed.
    """
    if not isinstance(data, dict):
        raise PersonaError(f"persona {name!r}: expected an object, got {type(data).__name__}")
    known = {"description", "pickup", "answered_by", "ring_s", "amd_after_s", "turn_end_s", "max_call_s", "steps"}
    if unknown := set(data) - known:
        raise PersonaError(f"persona {name!r}: unknown keys {sorted(unknown)}")
    steps = data.get("steps", [])
    if not isinstance(steps, list):
        raise PersonaError(f"persona {name!r}: steps must be a list")
    pickup = data.get("pickup", "answer")
    if pickup not in ("answer", "busy", "no-answer", "failed"):
        raise PersonaError(f"persona {name!r}: pickup must be answer, busy, no-answer or failed, got {pickup!r}")
    answered_by = data.get("answered_by", "human")
    if answered_by not in ("human", "machine_end_beep"):
        raise PersonaError(f"persona {name!r}: answered_by must be human or machine_end_beep, got {answered_by!r}")
    timing = {
        key: _number(data[key], f"persona {name!r}.{key}")
        for key in ("ring_s", "amd_after_s", "turn_end_s", "max_call_s")
        if key in data
    }
    return Persona(
        name=name,
        description=str(data.get("description", "")),
        pickup=pickup,
        answered_by=answered_by,
        steps=tuple(step_from_dict(s, f"persona {name!r} step {i + 1}") for i, s in enumerate(steps)),
        **timing,
    )


@dataclass
class PersonaRegistry:
    """Personas by name, and which persona answers which phone number."""

    personas: dict[str, Persona]
    numbers: dict[str, str] = field(default_factory=dict)
    default: str = "interested_seller"

    def __post_init__(self) -> None:
        if self.default not in self.personas:
            raise PersonaError(f"default persona {self.default!r} is not one of {sorted(self.personas)}")
        for number, name in self.numbers.items():
            self._check(number, name)

    def _check(self, number: str, name: str) -> None:
        if not _E164.match(number):
            raise PersonaError(f"{number!r} is not an E.164 number like +14155550101")
        if name not in self.personas:
            raise PersonaError(f"number {number} names unknown persona {name!r}; known: {sorted(self.personas)}")

    def get(self, name: str) -> Persona:
        """Return a persona by name.

        Raises:
            PersonaError: for an unknown name.
        """
        try:
            return self.personas[name]
        except KeyError:
            raise PersonaError(f"unknown persona {name!r}; known: {sorted(self.personas)}") from None

    def for_number(self, number: str) -> Persona:
        """Return the persona that answers `number`: its registry entry, else the default persona."""
        return self.personas[self.numbers.get(number, self.default)]

    def assign(self, number: str, persona: Persona | str) -> None:
        """Make `persona` (an object, or a known name) answer calls to `number` from now on."""
        if isinstance(persona, Persona):
            self.personas[persona.name] = persona
            persona = persona.name
        self._check(number, persona)
        self.numbers[number] = persona


def registry_load(path: Path = PERSONAS_FILE, *, default: str | None = None) -> PersonaRegistry:
    """Read personas and their phone numbers from a JSON file (the built-ins by default).

    Raises:
        PersonaError: when the file is not valid JSON or a persona in it is malformed.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PersonaError(f"cannot read personas from {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("personas"), dict):
        raise PersonaError(f"{path}: expected an object with a 'personas' object")
    personas = {name: persona_from_dict(name, spec) for name, spec in data["personas"].items()}
    numbers = data.get("numbers", {})
    if not isinstance(numbers, dict):
        raise PersonaError(f"{path}: 'numbers' must map phone numbers to persona names")
    return PersonaRegistry(
        personas=personas, numbers=dict(numbers), default=default or data.get("default", "interested_seller")
    )
