"""Whisper is prompted with the call's vocabulary, on the short-window path and faster-whisper's own."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from emulator import audio
from tests.factories import BrokerFactory, CallFactory, CampaignFactory, LeadFactory
from voice import engines
from voice.session import _stt_vocabulary
from voice.speech import DOMAIN_VOCABULARY, LocalWhisperSTTService, stt_prompt

# The lead names the agent's colleague; untold, Whisper spells her the common way.
LINE = "Can Jaclyn call me back about the listing?"
NAMES = ["Jaclyn"]


def _spoken(text: str) -> np.ndarray:
    """Return `text` as the pipeline's STT gets it: Piper, over the 8 kHz mu-law line, resampled to 16 kHz."""
    pcm = audio.ulaw_decode(audio.synthesize(text).value)
    return audio.resample(pcm, audio.LINE_RATE, audio.WHISPER_RATE).astype(np.float32) / 32768.0


def test_it_builds_the_prompt_as_faster_whisper_does() -> None:
    model = engines.whisper_model()
    tokenizer = engines._tokenizer(model)
    prompt = stt_prompt(["Bayside Realty", "Alex"])

    tokens = engines.decoder_prompt(model, prompt)

    assert tokens[0] == tokenizer.sot_prev
    assert tokens[1:-2] == tokenizer.encode(" " + prompt)
    # faster-whisper's own layout for initial_prompt, without timestamps.
    assert tokens == model.get_prompt(tokenizer, tokenizer.encode(" " + prompt), without_timestamps=True)
    assert engines.decoder_prompt(model, "") == [*tokenizer.sot_sequence, tokenizer.no_timestamps]


def test_it_spells_a_name_the_way_the_prompt_does() -> None:
    samples = _spoken(LINE)

    assert "Jaclyn" not in engines.transcribe(samples)
    assert "Jaclyn" in engines.transcribe(samples, prompt=stt_prompt(NAMES))


# Different sentences: the same one said over and over compresses so well that faster-whisper's
# compression-ratio check falls back to sampling at a temperature, and the words then vary run to run.
LONG_SPEECH = (
    LINE,
    "We are thinking about selling the house sometime in the spring.",
    "The kitchen was redone two years ago and the roof is new.",
    "My husband works downtown, so we want a shorter commute.",
    "We would probably look at something with three bedrooms.",
    "Tuesday afternoons are usually the best time for us.",
    "Thanks so much, and have a good day.",
)


def test_it_prompts_faster_whispers_path_for_long_speech() -> None:
    pause = np.zeros(engines.WHISPER_RATE * 2, dtype=np.float32)
    # Longer than the short window: faster-whisper's own transcribe() gets the prompt as initial_prompt.
    samples = np.concatenate([part for line in LONG_SPEECH for part in (_spoken(line), pause)])
    assert len(samples) / engines.WHISPER_RATE > engines.SHORT_WINDOW_MAX_SECS

    assert "Jaclyn" in engines.transcribe(samples, prompt=stt_prompt(NAMES))


def test_it_hears_silence_as_nothing_even_with_a_prompt() -> None:
    silence = np.zeros(engines.WHISPER_RATE * 2, dtype=np.float32)

    assert engines.transcribe(silence, prompt=stt_prompt(["Bayside Realty", "Alex", "Dana Whitfield"])) == ""


def test_it_keeps_the_first_pass_of_a_decode_that_says_the_line_again() -> None:
    assert engines._without_repeats("Who is this? Who is this? Who is") == "Who is this?"
    restated = "We want to sell. I said we want to sell."
    assert engines._without_repeats(restated) == restated
    assert engines._without_repeats("No. No.") == "No. No."


def test_it_prompts_with_the_calls_names_then_the_domain_words(settings: Any) -> None:
    settings.WHISPER_PROMPT = True

    stt = LocalWhisperSTTService(vocabulary=["Bayside Realty", "Alex", "", "Alex", "Dana Whitfield"])

    assert stt.prompt == f"Bayside Realty, Alex, Dana Whitfield. {DOMAIN_VOCABULARY}"
    assert LocalWhisperSTTService().prompt == DOMAIN_VOCABULARY


def test_it_leaves_whisper_unprompted_when_the_setting_is_off(settings: Any) -> None:
    settings.WHISPER_PROMPT = False

    assert LocalWhisperSTTService(vocabulary=["Bayside Realty"]).prompt == ""


@pytest.mark.django_db
def test_it_takes_the_vocabulary_from_the_calls_campaign_brokers_and_lead() -> None:
    BrokerFactory(name="Dana Whitfield")
    BrokerFactory(name="Gone Broker", is_active=False)
    call = CallFactory(
        campaign=CampaignFactory(business_name="Harbor Homes", agent_name="Jordan"),
        lead=LeadFactory(first_name="Siobhan", last_name="Okafor"),
    )

    assert _stt_vocabulary(call.pk) == ["Harbor Homes", "Jordan", "Dana Whitfield", "Siobhan", "Okafor"]
