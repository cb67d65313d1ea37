"""A short word said right after the lead's previous words is still heard: its segment gets a lead-in."""

from __future__ import annotations

import re

import numpy as np
import pytest
from pipecat.frames.frames import VADUserStartedSpeakingFrame, VADUserStoppedSpeakingFrame

from emulator import audio
from voice import engines
from voice.speech import LEAD_IN_SECS, LocalWhisperSTTService, lead_in_padding, stt_prompt

RATE = engines.WHISPER_RATE


def _tight(word: str) -> np.ndarray:
    """Return `word` as the line carries it (Piper, 8 kHz mu-law, back to 16 kHz), from its first sound on."""
    pcm = audio.ulaw_decode(audio.synthesize(word).value)
    samples = audio.resample(pcm, audio.LINE_RATE, RATE).astype(np.float32) / 32768.0
    voiced = np.nonzero(np.abs(samples) > 0.02)[0]
    return samples[voiced[0] : voiced[-1]]


def test_a_segment_short_of_lead_in_is_padded_with_quiet_and_a_full_one_is_not() -> None:
    assert lead_in_padding(0, RATE) == bytes(int((LEAD_IN_SECS + 0.3) * RATE) * 2)
    assert lead_in_padding(RATE * 2, RATE) == b""  # the second of the line Pipecat keeps


@pytest.mark.parametrize("word", ["Yes.", "Yeah.", "Yep.", "No.", "Sure.", "Okay.", "Nope."])
def test_whisper_hears_a_short_word_that_starts_its_segment_once_it_has_the_lead_in(word: str) -> None:
    # As in the pipeline: the VAD fired 0.2 s into the word, and nothing of the line came before it.
    lead_in = np.frombuffer(lead_in_padding(RATE // 5 * 2, RATE), dtype=np.int16).astype(np.float32)
    segment = np.concatenate([lead_in, _tight(word), np.zeros(RATE // 2, dtype=np.float32)])

    heard = engines.transcribe(segment, prompt=stt_prompt(["Bayside Realty"]))

    # Whisper may say a lone word twice ("No. No."), which reads the same; without the lead-in it heard
    # nothing, a letter or another word.
    words = re.findall(r"[a-z]+", heard.lower())
    assert words and set(words) == {word.strip(".").lower()}


@pytest.mark.asyncio
async def test_the_service_puts_the_lead_in_before_a_segment_that_began_right_after_another() -> None:
    stt = LocalWhisperSTTService()
    stt._sample_rate = RATE
    stt._audio_buffer_size_1s = RATE * 2
    # A segment has just ended: the buffer holds only the 0.2 s of words the VAD needed to fire.
    words = b"\x01\x00" * (RATE // 5)
    stt._audio_buffer += words
    await stt._handle_user_started_speaking(VADUserStartedSpeakingFrame())
    stt._audio_buffer += words
    await stt._handle_user_stopped_speaking(VADUserStoppedSpeakingFrame())

    segment = stt._segment_queue.get_nowait()

    padding = lead_in_padding(len(words), RATE)
    assert padding and segment.startswith(padding + words + words)
