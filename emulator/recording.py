"""Per-call output of the emulator: both sides' audio as WAV files and the timeline as JSON."""

from __future__ import annotations

import json
import wave
from pathlib import Path
from typing import Any

import numpy as np

from emulator.audio import LINE_RATE, ulaw_decode


def _wav_write(path: Path, pcm: np.ndarray[Any, Any], channels: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(LINE_RATE)
        out.writeframes(pcm.astype("<i2").tobytes())


def call_outputs_write(
    *, folder: Path, lead: bytes, agent: bytes, summary: dict[str, Any], voicemail: bytes = b""
) -> None:
    """Write lead.wav, agent.wav, mix.wav (stereo: lead left, agent right), timeline.json and voicemail.wav.

    Args:
        folder: the call's output folder, created if missing.
        lead: the lead's side as sent on the line (8 kHz mu-law).
        agent: the agent's side as it played to the lead (8 kHz mu-law), on the same clock.
        summary: the call's facts and timeline events.
        voicemail: what an answering-machine persona recorded (8 kHz mu-law); no file when empty.
    """
    folder.mkdir(parents=True, exist_ok=True)
    left, right = ulaw_decode(lead), ulaw_decode(agent)
    _wav_write(folder / "lead.wav", left, 1)
    _wav_write(folder / "agent.wav", right, 1)
    length = max(left.size, right.size)
    mix = np.zeros((length, 2), dtype=np.int16)
    mix[: left.size, 0], mix[: right.size, 1] = left, right
    _wav_write(folder / "mix.wav", mix.reshape(-1), 2)
    if voicemail:
        _wav_write(folder / "voicemail.wav", ulaw_decode(voicemail), 1)
    (folder / "timeline.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
